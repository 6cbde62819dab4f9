/**
 * A tunnel whose outer packet routes back through the tunnel device itself: the kernel drops the packet at the
 * device before encapsulating it (udp_tunnel_dst_lookup and ip_tunnel_xmit: a circular route, -ELOOP, counted
 * as a tx error and a collision), and a transmit that nests virtual devices deeper than XMIT_RECURSION_LIMIT
 * (8) is dropped as a dead loop. podnet recursed until the stack overflowed (a RangeError out of `ping`): the
 * kernel oracle found it (seed 3102, broken-overlapping-ipam faulted #27: `ip route prepend default via
 * 10.234.0.0 dev flannel.1 onlink` on a node whose flannel.1 peers are reached by its default route).
 * Measured (kernel 6.18, packages/cli/scripts/tunnel-loop.sh): with `198.51.100.0/24 via 10.9.2.0 dev v1
 * onlink` routing v1's own FDB destination 198.51.100.2 through v1, `ping -c2` through v1 lost both requests
 * with no message, v1 counted `TX errors 2 collsns 2`, and nothing reached the underlay.
 */
import { formatIpv4, hostNsId, type Action, type Simulator } from '@podnet/core';
import { describe, expect, it } from 'vitest';
import { seedLabSpec, simulatorFromSpec } from './spec.js';

const NODE1 = hostNsId('node-1');

/** The seed lab's ping from pod-a to pod-c (node-2) and to pod-e (node-3). */
function pings(sim: Simulator) {
  return { c: sim.ping('pod-a', '10.244.2.3', { count: 1 }), e: sim.ping('pod-a', '10.244.3.2', { count: 1 }) };
}

describe('a tunnel routed through itself', () => {
  it('flannel.1 whose peer\'s underlay address routes through flannel.1: dropped at flannel.1 as a loop, the other peers reached', () => {
    const sim = simulatorFromSpec(seedLabSpec());
    expect(pings(sim).c.ok).toBe(true);
    // node-2's VTEP, 192.168.1.12, now routes through flannel.1 itself (via node-2's VTEP address).
    sim.apply({ op: 'route.add', ns: NODE1, dst: '192.168.1.12/32', via: '10.244.2.0', dev: 'flannel.1', onlink: true });
    const { c, e } = pings(sim);
    expect(c.ok).toBe(false);
    const t = c.traces[0]!;
    expect(t.disposition).toBe('loop');
    const drop = t.steps.find((s) => s.kind === 'drop')!;
    expect([drop.ns, drop.dev]).toEqual([NODE1, 'flannel.1']);
    expect(drop.note).toMatch(/circular route \(ELOOP\)/);
    // Dropped before encapsulation: no outer packet on node-1's eth0, no encapsulation step.
    expect(t.steps.some((s) => s.kind === 'vxlan-encap')).toBe(false);
    expect(t.steps.some((s) => s.ns === NODE1 && s.dev === 'eth0' && s.ip?.payload.kind === 'udp')).toBe(false);
    expect(e.ok).toBe(true);
    expect(sim.traceroute('pod-a', '10.244.2.3', { maxHops: 4 }).hops.map((h) => h.address)).toEqual(['10.244.1.1', null, null, null]);
  });

  it('two VXLAN devices whose outer packets route through each other: a dead loop, dropped after the kernel\'s nesting limit', () => {
    const sim = simulatorFromSpec(seedLabSpec());
    const actions: Action[] = [
      { op: 'link.add', ns: NODE1, name: 'vx2', kind: 'vxlan', up: true, vxlan: { vni: 2, local: '192.168.1.11', dstPort: 4789, dev: 'eth0', learning: false } },
      { op: 'addr.add', ns: NODE1, dev: 'vx2', addr: '10.99.0.1/32' },
      { op: 'neigh.add', ns: NODE1, dev: 'vx2', ip: '10.99.0.2', mac: '02:00:00:00:99:02' },
      { op: 'fdb.add', ns: NODE1, dev: 'vx2', mac: '02:00:00:00:99:02', dst: '198.51.100.2' },
      // flannel.1's outer packets to node-2 go through vx2, whose outer packets go through flannel.1.
      { op: 'route.add', ns: NODE1, dst: '192.168.1.12/32', via: '10.99.0.2', dev: 'vx2', onlink: true },
      { op: 'route.add', ns: NODE1, dst: '198.51.100.2/32', via: '10.244.2.0', dev: 'flannel.1', onlink: true },
    ];
    for (const a of actions) sim.apply(a);
    const { c, e } = pings(sim);
    const t = c.traces[0]!;
    expect(t.disposition).toBe('loop');
    expect(t.steps.find((s) => s.kind === 'drop')!.note).toMatch(/^loop: Dead loop on virtual device (flannel\.1|vx2)/);
    // Seven encapsulations, the kernel's nesting limit less the first device.
    expect(t.steps.filter((s) => s.kind === 'vxlan-encap')).toHaveLength(7);
    expect(e.ok).toBe(true);
    expect(() => sim.check()).not.toThrow();
  });

  it('calico IPIP: tunl0 whose peer routes through tunl0 drops the packet as a loop', () => {
    const sim = simulatorFromSpec({ ...seedLabSpec(), cni: { type: 'calico', encapsulation: 'ipip' } });
    const from = sim.pods().find((p) => p.node === 'node-1')!;
    const to = formatIpv4(sim.pods().find((p) => p.node === 'node-2')!.ip!);
    const node2 = formatIpv4(sim.nodes().find((n) => n.name === 'node-2')!.ip);
    expect(sim.ping(from.key, to, { count: 1 }).ok).toBe(true);
    sim.apply({ op: 'route.add', ns: NODE1, dst: `${node2}/32`, via: node2, dev: 'tunl0', onlink: true });
    const t = sim.ping(from.key, to, { count: 1 }).traces[0]!;
    expect(t.disposition).toBe('loop');
    const drop = t.steps.find((s) => s.kind === 'drop')!;
    expect([drop.ns, drop.dev]).toEqual([NODE1, 'tunl0']);
    expect(t.steps.some((s) => s.kind === 'ipip-encap')).toBe(false);
  });
});
