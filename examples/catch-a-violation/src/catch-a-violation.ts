/**
 * Catch a violation: the mistake of typing `ip addr add 10.244.2.3/24 dev eth0` inside pod-a — pod-c's
 * address, on the wrong pod. podnet checks the guarantees after every change, so the violation is heard
 * the moment it happens; a full audit agrees; undo heals the cluster; and with `onViolation: 'throw'`
 * the change is refused and the state stays as it was.
 */
import { seedLabSpec, simulatorFromSpec } from '@podnet/cni';
import { formatIpv4, isPodnetError, type Action, type Simulator, type Violation } from '@podnet/core';

/** The fault: pod-c's IP added to pod-a's eth0. */
export const FAULT: Action = { op: 'addr.add', ns: 'pod/default/pod-a', dev: 'eth0', addr: '10.244.2.3/24' };

/** pod-a's eth0 addresses, as `ip -br addr` would list them. */
export function podAAddresses(sim: Simulator): string[] {
  const eth0 = sim.pod('pod-a').netns?.links['eth0'];
  return eth0 ? eth0.addrs.map((a) => `${formatIpv4(a.ip)}/${a.len}`) : [];
}

function where(v: Violation): string {
  if (v.where.ip !== undefined) return v.where.ip;
  if (v.where.from !== undefined) return `${v.where.from} → ${v.where.to ?? '?'}`;
  return v.where.node ?? '-';
}

function brokenGuarantees(vs: readonly Violation[]): string[] {
  return [...new Set(vs.map((v) => v.guarantee))].sort();
}

/** Applies the fault with the guarantees watched, checks, undoes; then tries it again in throw mode. */
export function catchAViolation(): string[] {
  const out: string[] = [];
  out.push('The mistake: inside pod-a, someone adds pod-c\'s address to eth0.');
  out.push('  $ kubectl exec pod-a -- ip addr add 10.244.2.3/24 dev eth0');
  out.push(`  sim.apply(${JSON.stringify(FAULT).replace(/"(\w+)":/g, '$1: ').replace(/"/g, "'").replace(/,/g, ', ')})`);

  // 1. Listen, then make the change.
  const sim = simulatorFromSpec(seedLabSpec());
  const heard: Violation[] = [];
  sim.on('violation', (v) => heard.push(v));
  sim.apply(FAULT);
  out.push('', `1. sim.on('violation', …) heard ${heard.length} violations, right after the change (cause: "${heard[0]?.cause ?? '-'}"):`);
  for (const v of heard) out.push(`  [${v.guarantee}] ${where(v)}: ${v.explanation}`);

  // 2. A full audit from scratch reaches the same conclusion.
  const audit = sim.check();
  const addr = audit.violations.find((v) => v.guarantee === 'unique-ip' && v.where.ip === '10.244.2.3');
  out.push('', '2. sim.check(), a full audit that probes every pair again, agrees:');
  const keys = (vs: readonly Violation[]) => JSON.stringify(vs.map((v) => v.key).sort());
  out.push(`  ok = ${audit.ok}; ${audit.violations.length} violations; broken guarantees: ${brokenGuarantees(audit.violations).join(', ')}`);
  out.push(`  the same violations (by key) as the events: ${keys(audit.violations) === keys(heard)}`);
  if (addr) out.push(`  ${addr.explanation}`);

  // 3. Undo: back to the state before the change.
  sim.undo();
  const healed = sim.check();
  out.push('', '3. sim.undo() restores the state before the change:');
  out.push(`  pod-a eth0: ${podAAddresses(sim).join(' ')}; sim.check().ok = ${healed.ok}; sim.violations.length = ${sim.violations.length}`);

  // 4. Throw mode: the change is refused, and nothing changes.
  const strict = simulatorFromSpec(seedLabSpec(), { onViolation: 'throw' });
  const before = strict.state;
  out.push('', "4. With simulatorFromSpec(seedLabSpec(), { onViolation: 'throw' }) the same change is refused:");
  try {
    strict.apply(FAULT);
    out.push('  (no error: the change was accepted)');
  } catch (e) {
    if (!isPodnetError(e, 'GUARANTEE_VIOLATED')) throw e;
    const vs = (e.details['violations'] ?? []) as readonly Violation[];
    out.push(`  caught PodnetError ${e.code}`);
    out.push(`  message: ${e.message}`);
    out.push(`  hint:    ${e.hint}`);
    out.push(`  details: ${vs.length} violations, change "${String(e.details['change'])}"`);
  }
  out.push(`  state unchanged: ${strict.state === before}; pod-a eth0: ${podAAddresses(strict).join(' ')}; history: ${JSON.stringify(strict.history())}`);
  return out;
}
