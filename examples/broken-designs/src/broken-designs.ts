/**
 * The four broken designs on one two-node cluster: what `sim.check()` (or, for the MTU, a full-size ping)
 * tells a student, next to the working design it was broken from.
 */
import { broken, flannel } from '@podnet/cni';
import { createSimulator, type CniDesign, type Simulator } from '@podnet/core';

/** Two nodes, two pods on each. */
export function twoNodes(cni: CniDesign): Simulator {
  return createSimulator({
    cni, nodes: [{ name: 'node-1' }, { name: 'node-2' }],
    pods: [{ name: 'a', node: 'node-1' }, { name: 'b', node: 'node-1' }, { name: 'c', node: 'node-2' }, { name: 'd', node: 'node-2' }],
  });
}

/** Each broken design with its working counterpart. */
export const CASES = [
  { mistake: 'masquerade', design: broken.masquerade, working: () => flannel() },
  { mistake: 'overlappingIpam', design: broken.overlappingIpam, working: () => flannel() },
  { mistake: 'missingRoutes', design: broken.missingRoutes, working: () => flannel({ backend: 'host-gw' }) },
  { mistake: 'mtuMismatch', design: broken.mtuMismatch, working: () => flannel() },
] as const;

/** What each case shows, as text. */
export function brokenDesigns(): string[] {
  const out: string[] = [];
  for (const c of CASES) {
    const good = twoNodes(c.working());
    const sim = twoNodes(c.design());
    const v = sim.check();
    out.push(`== broken.${c.mistake}() (from ${good.design.name}: check().ok = ${String(good.check().ok)}) ==`);
    out.push(`check().ok = ${String(v.ok)}, ${v.violations.length} violations`);
    // One violation per guarantee: a state-level one (its key starts with the guarantee) before those
    // found at a hop of some probe.
    for (const g of [...new Set(v.violations.map((x) => x.guarantee))]) {
      const x = v.violations.find((y) => y.key.startsWith(`${g}|`)) ?? v.violations.find((y) => y.guarantee === g)!;
      out.push(`  [${g}] ${x.explanation}`);
    }
    if (c.mistake === 'mtuMismatch') {
      const first = sim.ping('a', '10.244.1.2', { size: 1472 });
      out.push(`ping -M do -s 1472 10.244.1.2 from a: ${first.traces[0]!.disposition}`, `  ${first.lines[1]}`, `  ${sim.ping('a', '10.244.1.2', { size: 1472 }).lines[1]}`);
    }
  }
  return out;
}
