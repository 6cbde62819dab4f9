import { formatIpv4, ipRoute } from '@podnet/core';
import { describe, expect, it } from 'vitest';
import { calicoLab, twoRacks } from './calico-lab.js';

describe('calico on two racks', () => {
  it('encapsulation none without ToR peering: the rack-b pods are unreachable from rack-a, and the guarantees say which', () => {
    const sim = twoRacks({ encapsulation: 'none' });
    expect(ipRoute(sim.state, 'node/node-1')).toContain('10.244.0.128/26 via 192.168.1.1 dev eth0 proto bird');
    expect(sim.ping('web', formatIpv4(sim.pod('db').ip!)).ok).toBe(false);
    expect(sim.ping('web', formatIpv4(sim.pod('cache').ip!)).ok).toBe(true);
    const broken = sim.check().violations.map((v) => `${v.where.from} → ${v.where.to}`);
    expect(broken).toContain('default/web → default/db');
    expect(broken.every((b) => /db|queue/.test(b))).toBe(true);
  });

  it('ToR peering or IPIP CrossSubnet repairs it', () => {
    expect(twoRacks({ encapsulation: 'none', bgp: { peerWithUnderlay: true } }).check().ok).toBe(true);
    const ipip = twoRacks({ encapsulation: 'ipip', ipipMode: 'CrossSubnet' });
    expect(ipip.check().ok).toBe(true);
    expect(ipip.traceroute('web', formatIpv4(ipip.pod('db').ip!)).hops.map((h) => h.address)).toEqual(['192.168.1.11', '10.244.0.128', '10.244.0.129']);
  });

  it('prints the three configurations, the blocks and the BGP sessions', () => {
    const out = calicoLab().join('\n');
    expect(out).toContain('guarantees: all hold');
    expect(out).toContain('10.244.0.128/26 affinity node-3 in use 3/64');
    expect(out).toContain('| 192.168.1.11 | node-to-node mesh | up    | 00:00:00 | Established |');
  });
});
