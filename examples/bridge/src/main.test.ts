import { formatIpv4 } from '@podnet/core';
import { describe, expect, it } from 'vitest';
import { bridgeExample, cluster } from './bridge.js';

describe('the bridge plugin alone', () => {
  it('keeps the network model on one node', () => {
    const sim = cluster(1);
    expect(sim.ping('pod-1', formatIpv4(sim.pod('pod-2').ip!)).ok).toBe(true);
    expect(sim.check().ok).toBe(true);
  });

  it('breaks it on two nodes: pods on different nodes cannot reach each other, and the audit says where the packet died', () => {
    const sim = cluster(2);
    expect(sim.ping('pod-1', formatIpv4(sim.pod('pod-2').ip!)).ok).toBe(false);
    const v = sim.check();
    expect(v.ok).toBe(false);
    expect(v.violations.every((x) => x.guarantee === 'no-nat')).toBe(true);
    expect(v.violations[0]!.explanation).toMatch(/ended as noRoute at underlay/);
    expect(bridgeExample()).toContain('guarantees: hold');
  });
});
