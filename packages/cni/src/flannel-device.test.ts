/**
 * flanneld starting again on a node whose flannel.1 is gone or not what it makes (pkg/backend/vxlan/device.go
 * ensureLink): it makes the device again as at the node's join, with its address and up, and sets every
 * other lease's ARP, FDB and route again (handleSubnetEvents).
 */
import { bridgeFdb, createSimulator, ipNeigh, ipRoute, type Action, type Link, type Simulator } from '@podnet/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flannel, vtepMac } from './designs/flannel.js';
import { seedLabSpec, simulatorFromSpec } from './spec.js';

const NODES = ['node-1', 'node-2', 'node-3'] as const;
const seed = (): Simulator => simulatorFromSpec(seedLabSpec());
/** A link record without its ifindex (a device made again gets the next one, as the kernel gives it). */
const record = (l: Link | undefined): Omit<Link, 'ifindex'> | undefined => {
  if (l === undefined) return undefined;
  const { ifindex: _, ...rest } = l;
  return rest;
};
/** What a node holds of flannel: flannel.1's record, the node's routes, the neighbours and FDB entries on flannel.1 (not those pings learn). */
function flannelOf(sim: Simulator, node: string): unknown {
  const ns = `node/${node}`;
  const on = (lines: string[]): string[] => lines.filter((l) => l.includes(' dev flannel.1 '));
  return { dev: record(sim.node(node).host.links['flannel.1']), routes: ipRoute(sim.state, ns), neigh: on(ipNeigh(sim.state, ns)), fdb: on(bridgeFdb(sim.state, ns)) };
}
const del = (node = 'node-1'): Action => ({ op: 'link.del', ns: `node/${node}`, name: 'flannel.1' });
const vxlan = (vni: number, dstPort = 8472, node = 'node-1', ip = '192.168.1.11'): Action => ({
  op: 'link.add', ns: `node/${node}`, name: 'flannel.1', kind: 'vxlan', mtu: 1450, vxlan: { vni, local: ip, dstPort, dev: 'eth0', learning: false },
});

describe('flanneld at start makes flannel.1 again (ensureLink)', () => {
  it('`ip link del flannel.1` cuts node-1 off the overlay; the agent\'s restart makes the same device again and every lease\'s entries come back', () => {
    const sim = seed();
    const before = flannelOf(sim, 'node-1');
    const others = [flannelOf(sim, 'node-2'), flannelOf(sim, 'node-3')];
    sim.apply(del());
    // The kernel took every route, neighbour and FDB entry through the device along.
    expect(ipRoute(sim.state, 'node/node-1').filter((l) => l.includes('flannel.1'))).toEqual([]);
    expect(ipNeigh(sim.state, 'node/node-1').filter((l) => l.includes('flannel.1'))).toEqual([]);
    expect(bridgeFdb(sim.state, 'node/node-1').filter((l) => l.includes('flannel.1'))).toEqual([]);
    expect(sim.ping('pod-a', '10.244.2.3').ok).toBe(false);
    expect(sim.ping('pod-e', '10.244.1.4').ok).toBe(false);
    sim.restartAgents(['node-1']);
    expect(flannelOf(sim, 'node-1')).toEqual(before);
    expect(sim.node('node-1').host.links['flannel.1']).toMatchObject({ kind: 'vxlan', vni: 1, dstPort: 8472, dev: 'eth0', learning: false, mtu: 1450, up: true });
    expect([flannelOf(sim, 'node-2'), flannelOf(sim, 'node-3')]).toEqual(others);
    expect(sim.ping('pod-a', '10.244.2.3').ok).toBe(true);
    expect(sim.ping('pod-a', '10.244.3.9').ok).toBe(true);
    expect(sim.ping('pod-e', '10.244.1.4').ok).toBe(true);
    expect(sim.check().ok).toBe(true);
  });

  it('a flannel.1 of another VNI, kind, local address or underlay device is deleted and made again; one that differs only in MTU or learning is kept', () => {
    const original = flannelOf(seed(), 'node-1');
    const bad: readonly (readonly Action[])[] = [
      [del(), vxlan(2)],
      [del(), { op: 'link.add', ns: 'node/node-1', name: 'flannel.1', kind: 'bridge' }],
      [del(), vxlan(1, 8472, 'node-1', '192.168.1.99')],
    ];
    for (const faults of bad) {
      const sim = seed();
      sim.apply([...faults]);
      expect(sim.ping('pod-a', '10.244.2.3').ok).toBe(false);
      sim.restartAgents(['node-1']);
      expect(flannelOf(sim, 'node-1')).toEqual(original);
      expect(sim.ping('pod-a', '10.244.2.3').ok).toBe(true);
      expect(sim.check().ok).toBe(true);
    }
    // vxlanLinksIncompat compares neither the MTU nor learning: flanneld keeps such a device, sets it up with its address.
    const sim = seed();
    sim.apply([del(), { ...vxlan(1), mtu: 1400, vxlan: { vni: 1, local: '192.168.1.11', dstPort: 8472, dev: 'eth0', learning: true } } as Action]);
    sim.restartAgents(['node-1']);
    expect(sim.node('node-1').host.links['flannel.1']).toMatchObject({ mtu: 1400, learning: true, up: true });
    expect(sim.node('node-1').host.links['flannel.1']!.addrs.map((a) => a.ip)).toHaveLength(1);
    // Made without a MAC, the device has another one than before: flanneld publishes it in its lease, and the
    // other nodes' ARP and FDB entries follow.
    const mac = sim.node('node-1').host.links['flannel.1']!.mac;
    expect(mac).not.toBe(vtepMac('node-1'));
    expect(ipNeigh(sim.state, 'node/node-2')).toContain(`10.244.1.0 dev flannel.1 lladdr ${mac} PERMANENT`);
    expect(bridgeFdb(sim.state, 'node/node-3')).toContain(`${mac} dev flannel.1 dst 192.168.1.11 self permanent`);
    expect(sim.ping('pod-a', '10.244.2.3').ok).toBe(true);
    expect(sim.ping('pod-e', '10.244.1.5').ok).toBe(true);
    expect(sim.check().ok).toBe(true);
    // Deleted and made again by flanneld, it has the node's MAC again, and so has the lease.
    sim.apply(del());
    sim.restartAgents(['node-1']);
    expect(flannelOf(sim, 'node-1')).toEqual(original);
    expect(ipNeigh(sim.state, 'node/node-2')).toContain(`10.244.1.0 dev flannel.1 lladdr ${vtepMac('node-1')} PERMANENT`);
    expect(sim.check().ok).toBe(true);
  });

  it('the port is compared only when net-conf.json names one: by default (flanneld\'s Port 0) a flannel.1 on 4789 is kept, and node-1 stays cut off', () => {
    for (const port of [undefined, 8472] as const) {
      const sim = createSimulator({ ...seedLabSpec(), cni: flannel(port === undefined ? {} : { port }) } as never);
      sim.apply([del(), vxlan(1, 4789)]);
      sim.restartAgents(['node-1']);
      expect(sim.node('node-1').host.links['flannel.1']!.dstPort).toBe(port === undefined ? 4789 : 8472);
      // Kept, it still gets the leases' routes, neighbours and FDB entries; its packets go to port 4789 where node-2 listens on 8472.
      expect(ipRoute(sim.state, 'node/node-1')).toContain('10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink');
      expect(sim.ping('pod-a', '10.244.2.3').ok).toBe(port !== undefined);
      expect(sim.check().ok).toBe(port !== undefined);
    }
  });

  it('a route in a lease route\'s place is replaced (RouteReplace), a hand-made one and an address\'s prefix route alike (the address stays)', () => {
    const sim = seed();
    const routes = ipRoute(sim.state, 'node/node-1');
    sim.apply([del(), { op: 'route.add', ns: 'node/node-1', dst: '10.244.2.0/24', via: '192.168.1.12', dev: 'eth0' }]);
    sim.restartAgents(['node-1']);
    expect(ipRoute(sim.state, 'node/node-1')).toEqual(routes);
    expect(sim.check().ok).toBe(true);

    const s2 = seed();
    s2.apply([del(), { op: 'addr.add', ns: 'node/node-1', dev: 'eth0', addr: '10.244.3.200/24' }]);
    expect(ipRoute(s2.state, 'node/node-1')).toContain('10.244.3.0/24 dev eth0 proto kernel scope link src 10.244.3.200');
    s2.restartAgents(['node-1']);
    expect(ipRoute(s2.state, 'node/node-1')).toEqual(routes);
    expect(s2.node('node-1').host.links['eth0']!.addrs.map((x) => `${x.ip >>> 24}.${(x.ip >>> 16) & 255}.${(x.ip >>> 8) & 255}.${x.ip & 255}/${x.len}`)).toContain('10.244.3.200/24');
    expect(s2.ping('pod-a', '10.244.3.9').ok).toBe(true);
    expect(s2.ping('pod-a', '10.244.2.3').ok).toBe(true);
  });

  it('with flannel.1 in place, an address\'s prefix route in a lease route\'s place gives way too (RouteReplace)', () => {
    const sim = seed();
    const routes = ipRoute(sim.state, 'node/node-1');
    sim.apply([
      { op: 'route.del', ns: 'node/node-1', dst: '10.244.3.0/24', via: '10.244.3.0', dev: 'flannel.1' },
      { op: 'addr.add', ns: 'node/node-1', dev: 'eth0', addr: '10.244.3.200/24' },
    ]);
    expect(ipRoute(sim.state, 'node/node-1')).toContain('10.244.3.0/24 dev eth0 proto kernel scope link src 10.244.3.200');
    sim.restartAgents(['node-1']);
    expect(ipRoute(sim.state, 'node/node-1')).toEqual(routes);
    expect(sim.node('node-1').host.links['eth0']!.addrs).toHaveLength(2);
    expect(sim.ping('pod-a', '10.244.3.9').ok).toBe(true);
  });

  it('restarted is pure: the same state gives the same actions, and the state is not changed', () => {
    const sim = seed();
    sim.apply([del(), vxlan(7)]);
    const state = sim.state;
    const node = sim.node('node-1');
    const a = sim.design.agentRestarted!(state, node);
    const b = sim.design.agentRestarted!(state, node);
    expect(a.actions).toEqual(b.actions);
    expect(a.actions.slice(0, 4).map((x) => x.op)).toEqual(['link.del', 'link.add', 'addr.add', 'link.set']);
    expect(sim.state).toBe(state);
    expect(sim.node('node-1').host.links['flannel.1']).toMatchObject({ vni: 7 });
  });

  it('property: after any faults on flannel.1 (deleted, made with another VNI, down, address gone, a lease route replaced by hand) on any nodes, restarting every agent gives back every node as it was', () => {
    const fault = fc.record({ node: fc.constantFrom(...NODES), kind: fc.constantFrom('del', 'vni', 'down', 'addr', 'route', 'replace') });
    fc.assert(fc.property(fc.array(fault, { minLength: 1, maxLength: 6 }), (faults) => {
      const sim = seed();
      const before = NODES.map((n) => flannelOf(sim, n));
      for (const f of faults) {
        const host = sim.node(f.node).host;
        const dev = host.links['flannel.1'];
        const ns = `node/${f.node}`;
        const ip = f.node === 'node-1' ? '192.168.1.11' : f.node === 'node-2' ? '192.168.1.12' : '192.168.1.13';
        const actions: Action[] =
          f.kind === 'del' ? (dev ? [del(f.node)] : [])
          : f.kind === 'vni' ? [...(dev ? [del(f.node)] : []), vxlan(42, 8472, f.node, ip)]
          : f.kind === 'down' ? (dev ? [{ op: 'link.set', ns, name: 'flannel.1', up: false }] : [])
          : f.kind === 'addr' ? (dev && dev.addrs.length > 0 ? [{ op: 'addr.del', ns, dev: 'flannel.1', addr: `${dev.addrs[0]!.ip >>> 24}.${(dev.addrs[0]!.ip >>> 16) & 255}.${(dev.addrs[0]!.ip >>> 8) & 255}.${dev.addrs[0]!.ip & 255}/32` }] : [])
          : f.kind === 'replace' ? [{ op: 'route.replace', ns, dst: f.node === 'node-1' ? '10.244.2.0/24' : '10.244.1.0/24', dev: 'eth0' }]
          : ipRoute(sim.state, ns).some((l) => l.startsWith('10.244.9.0/24')) ? [] : [{ op: 'route.add', ns, dst: '10.244.9.0/24', dev: 'eth0' }];
        if (actions.length > 0) sim.apply(actions);
      }
      sim.restartAgents();
      const after = NODES.map((n) => flannelOf(sim, n) as { routes: string[] });
      // The stray route someone added stays (flanneld does not own it); everything else is as it was.
      for (const a of after) a.routes = a.routes.filter((l) => !l.startsWith('10.244.9.0/24'));
      expect(after).toEqual(before);
      expect(sim.ping('pod-a', '10.244.3.9').ok).toBe(true);
      expect(sim.ping('pod-e', '10.244.2.3').ok).toBe(true);
      expect(sim.check().ok).toBe(true);
    }), { numRuns: 40, seed: 20261128 });
  });
});
