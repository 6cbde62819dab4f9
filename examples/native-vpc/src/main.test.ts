import { formatIpv4, ipRoute } from '@podnet/core';
import { describe, expect, it } from 'vitest';
import { cluster, nativeVpcExample } from './native-vpc.js';

describe('native VPC routing', () => {
  it.each(['gke', 'azure'] as const)('%s: one cloud route per node, added on join and removed on leave; pods reach each other through the VPC router', (provider) => {
    const sim = cluster(provider);
    expect(ipRoute(sim.state, 'underlay').filter((l) => l.startsWith('10.4.'))).toEqual(['10.4.0.0/24 via 10.0.0.11 dev vpc', '10.4.1.0/24 via 10.0.0.12 dev vpc']);
    const db = formatIpv4(sim.pod('db').ip!);
    expect(sim.traceroute('web', db).hops.map((h) => h.address)).toEqual(['10.4.0.1', '10.0.0.1', '10.0.0.12', db]);
    expect(sim.check().ok).toBe(true);
    sim.removeNode('node-2');
    expect(ipRoute(sim.state, 'underlay').filter((l) => l.startsWith('10.4.'))).toEqual(['10.4.0.0/24 via 10.0.0.11 dev vpc']);
  });

  it('prints both providers', () => {
    expect(nativeVpcExample().filter((l) => l === 'guarantees: hold')).toHaveLength(2);
  });
});
