import { seedLabSpec, simulatorFromSpec } from '@podnet/cni';
import { isPodnetError, type Violation } from '@podnet/core';
import { describe, expect, it } from 'vitest';
import { catchAViolation, FAULT, podAAddresses } from './catch-a-violation.js';

describe('catch a violation', () => {
  it('hears the duplicate address and the broken reachability the moment the change is made', () => {
    const sim = simulatorFromSpec(seedLabSpec());
    const heard: Violation[] = [];
    sim.on('violation', (v) => heard.push(v));
    sim.apply(FAULT);
    const dup = heard.find((v) => v.key === 'unique-ip|' + String(0x0af40203));
    expect(dup?.guarantee).toBe('unique-ip');
    expect(dup?.where).toEqual({ ip: '10.244.2.3' });
    expect(dup?.explanation).toBe('10.244.2.3 is assigned 2 times (pod default/pod-c, pod default/pod-a): every pod needs an IP no other pod or host uses, or packets for it reach the wrong place');
    // pod-c's ping reaches pod-a from 10.244.2.3, an address of pod-a's own now: pod-a drops it as a martian
    // source, as Linux does (fib_validate_source; measured, packages/cli/scripts/own-source-formats.sh).
    expect(heard.find((v) => v.guarantee === 'no-nat' && v.where.from === 'default/pod-c' && v.where.to === 'default/pod-a')?.explanation)
      .toBe('pod default/pod-c cannot reach pod default/pod-a (10.244.1.4): the request ended as martianSource at pod/default/pod-a (martianSource: martian source 10.244.2.3 on eth0: an address of pod/default/pod-a, and eth0 has accept_local 0); node/node-1 routed it by `10.244.1.0/24 dev cni0`');
    expect(new Set(heard.map((v) => v.cause))).toEqual(new Set(['apply addr.add']));
    // The full audit agrees with what the incremental check reported.
    const audit = sim.check();
    expect(audit.ok).toBe(false);
    expect(audit.violations.map((v) => v.key).sort()).toEqual(heard.map((v) => v.key).sort());
    sim.undo();
    expect(sim.check()).toEqual({ ok: true, violations: [] });
    expect(podAAddresses(sim)).toEqual(['10.244.1.4/24']);
  });

  it('refuses the change in throw mode and leaves the state as it was', () => {
    const sim = simulatorFromSpec(seedLabSpec(), { onViolation: 'throw' });
    const before = sim.state;
    let caught: unknown;
    try {
      sim.apply(FAULT);
    } catch (e) {
      caught = e;
    }
    expect(isPodnetError(caught, 'GUARANTEE_VIOLATED')).toBe(true);
    expect(sim.state).toBe(before);
    expect(sim.history()).toEqual(['create']);
    expect(podAAddresses(sim)).toEqual(['10.244.1.4/24']);
  });

  it('prints what a user sees', () => {
    const lines = catchAViolation();
    expect(lines[1]).toBe('  $ kubectl exec pod-a -- ip addr add 10.244.2.3/24 dev eth0');
    expect(lines[2]).toBe("  sim.apply({op: 'addr.add', ns: 'pod/default/pod-a', dev: 'eth0', addr: '10.244.2.3/24'})");
    expect(lines).toContain('  [unique-ip] 10.244.2.3: 10.244.2.3 is assigned 2 times (pod default/pod-c, pod default/pod-a): every pod needs an IP no other pod or host uses, or packets for it reach the wrong place');
    expect(lines).toContain('  the same violations (by key) as the events: true');
    expect(lines).toContain('  pod-a eth0: 10.244.1.4/24; sim.check().ok = true; sim.violations.length = 0');
    expect(lines).toContain('  caught PodnetError GUARANTEE_VIOLATED');
    expect(lines).toContain('  hint:    Read violation.explanation and the trace in violation.trace to see which step broke the guarantee.');
    expect(lines.at(-1)).toBe('  state unchanged: true; pod-a eth0: 10.244.1.4/24; history: ["create"]');
  });
});
