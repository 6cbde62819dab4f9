import { refusedPeerRoutes } from '@podnet/core';
import { describe, expect, it } from 'vitest';
import { flannelHostGw, hostGwLab } from './flannel-host-gw.js';

describe('flannel host-gw', () => {
  it('on one segment every pod reaches every pod, through the other node\'s eth0 address, at the underlay MTU', () => {
    const sim = hostGwLab(1);
    expect(sim.check()).toEqual({ ok: true, violations: [] });
    expect(sim.traceroute('pod-a', '10.244.3.9').hops.map((h) => h.address)).toEqual(['10.244.1.1', '192.168.1.13', '10.244.3.9']);
    expect(sim.ping('pod-a', '10.244.3.9', { size: 1472 }).ok).toBe(true);
  });

  it('across two segments the routes to and from node-3 are refused, and exactly the pairs between node-3 and the rest break', () => {
    const sim = hostGwLab(2);
    expect(refusedPeerRoutes(sim.state, sim.node('node-2').host).map((r) => `${r.owner}: ${r.error}`)).toEqual(['node-3: Error: Nexthop has invalid gateway.']);
    const v = sim.check();
    const onNode3 = (k: string | undefined) => k === 'default/pod-e' || k === 'default/pod-f';
    expect(v.violations).toHaveLength(16);
    expect(v.violations.every((x) => onNode3(x.where.from) !== onNode3(x.where.to))).toBe(true);
    // node-1 and node-2 still reach each other's pods.
    expect(sim.ping('pod-a', '10.244.2.3').ok).toBe(true);
  });

  it('prints the story', () => {
    const lines = flannelHostGw();
    expect(lines).toContain('  10.244.3.0/24 via 192.168.1.13 dev eth0');
    expect(lines).toContain('  1480 bytes from 10.244.3.9: icmp_seq=1 ttl=62');
    expect(lines).toContain("  node-3's route: Error: Nexthop has invalid gateway. (ENETUNREACH)");
    expect(lines).toContain('  Error adding route to {Ifindex: 2 Dst: 10.244.3.0/24 Src: <nil> Gw: 192.168.2.13 Flags: [] Table: 0 Realm: 0}: network is unreachable');
    expect(lines).toContain('  From 192.168.1.1 icmp_seq=1 Destination Net Unreachable');
    expect(lines.at(-2)).toBe('sim.check(): ok = false, 16 violations; the first:');
  });
});
