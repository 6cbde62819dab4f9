/**
 * felix's tunnel device loop (route_mgr.go configureTunnelDevice, every 10 s, and at calico-node's start): a
 * vxlan.calico that is gone or incompatible is made again with the other nodes' entries on it; its MTU,
 * address and up state are set back. tunl0 is the ipip module's fallback device: `ip link del tunl0` leaves it.
 */
import { bridgeFdb, formatIpv4, ipNeigh, ipRoute, type Action, type Link, type Simulator } from '@podnet/core';
import { describe, expect, it } from 'vitest';
import { calicoVtepMac } from './designs/calico.js';
import { simulatorFromSpec, type ClusterSpecJson } from './spec.js';

function cluster(encapsulation: 'vxlan' | 'ipip'): Simulator {
  return simulatorFromSpec({
    podCidr: '10.244.0.0/16', cni: { type: 'calico', encapsulation },
    nodes: [{ name: 'node-1' }, { name: 'node-2' }, { name: 'node-3' }],
    pods: [{ name: 'a', node: 'node-1' }, { name: 'b', node: 'node-2' }, { name: 'c', node: 'node-3' }],
  } as ClusterSpecJson);
}
const ipOf = (sim: Simulator, pod: string): string => formatIpv4(sim.pods().find((p) => p.name === pod)!.ip!);
const record = (l: Link | undefined): unknown => {
  if (l === undefined) return undefined;
  const { ifindex: _, ...rest } = l;
  return rest;
};
/** node-1's vxlan.calico record, routes, and the neighbour and FDB entries on the device. */
function tunnelOf(sim: Simulator, dev = 'vxlan.calico'): unknown {
  const on = (lines: string[]): string[] => lines.filter((l) => l.includes(` dev ${dev} `));
  return { dev: record(sim.node('node-1').host.links[dev]), routes: ipRoute(sim.state, 'node/node-1'), neigh: on(ipNeigh(sim.state, 'node/node-1')), fdb: on(bridgeFdb(sim.state, 'node/node-1')) };
}
const NS = 'node/node-1';

describe('calico VXLAN: felix makes vxlan.calico again', () => {
  it('deleted by hand, it is back within 10 s of the clock with every other node\'s route, neighbour and FDB entry', () => {
    const sim = cluster('vxlan');
    const before = tunnelOf(sim);
    sim.apply({ op: 'link.del', ns: NS, name: 'vxlan.calico' });
    expect(sim.ping('a', ipOf(sim, 'b')).ok).toBe(false);
    sim.advance(10_000);
    expect(tunnelOf(sim)).toEqual(before);
    expect(sim.ping('a', ipOf(sim, 'b')).ok).toBe(true);
    expect(sim.ping('c', ipOf(sim, 'a')).ok).toBe(true);
    expect(sim.check().ok).toBe(true);
  });

  it('calico-node\'s restart does it at once', () => {
    const sim = cluster('vxlan');
    const before = tunnelOf(sim);
    sim.apply({ op: 'link.del', ns: NS, name: 'vxlan.calico' });
    sim.restartAgents(['node-1']);
    expect(tunnelOf(sim)).toEqual(before);
    expect(sim.ping('a', ipOf(sim, 'c')).ok).toBe(true);
    expect(sim.check().ok).toBe(true);
  });

  it('one of another VNI or MAC is deleted and made again; another MTU, a stray address and the down state are set back, with the routes', () => {
    const base = cluster('vxlan');
    const before = tunnelOf(base);
    const make = (vni: number, mac: string): Action[] => [
      { op: 'link.del', ns: NS, name: 'vxlan.calico' },
      { op: 'link.add', ns: NS, name: 'vxlan.calico', kind: 'vxlan', mtu: 1450, mac, up: true, vxlan: { vni, local: formatIpv4(base.node('node-1').ip), dstPort: 4789, dev: 'eth0', learning: false } },
    ];
    const faults: readonly (readonly Action[])[] = [
      make(4097, calicoVtepMac('node-1')),
      make(4096, '02:00:00:00:00:01'),
      [{ op: 'link.set', ns: NS, name: 'vxlan.calico', mtu: 1400 }, { op: 'addr.add', ns: NS, dev: 'vxlan.calico', addr: '10.99.0.1/24' }, { op: 'link.set', ns: NS, name: 'vxlan.calico', up: false }],
    ];
    for (const f of faults) {
      const sim = cluster('vxlan');
      sim.apply([...f]);
      expect(sim.ping('a', ipOf(sim, 'b')).ok).toBe(false);
      sim.advance(10_000);
      expect(tunnelOf(sim)).toEqual(before);
      expect(sim.ping('a', ipOf(sim, 'b')).ok).toBe(true);
      expect(sim.check().ok).toBe(true);
    }
  });
});

describe('calico IPIP: tunl0', () => {
  it('`ip link del tunl0` leaves the fallback device as it is (the kernel\'s ip_tunnel_dellink skips it)', () => {
    const sim = cluster('ipip');
    const before = tunnelOf(sim, 'tunl0');
    sim.apply({ op: 'link.del', ns: NS, name: 'tunl0' });
    expect(tunnelOf(sim, 'tunl0')).toEqual(before);
    expect(sim.ping('a', ipOf(sim, 'b')).ok).toBe(true);
  });

  it('down, felix sets it up again within 10 s and BIRD\'s scan puts its routes back', () => {
    const sim = cluster('ipip');
    const before = tunnelOf(sim, 'tunl0');
    sim.apply({ op: 'link.set', ns: NS, name: 'tunl0', up: false });
    expect(sim.ping('a', ipOf(sim, 'b')).ok).toBe(false);
    sim.advance(10_000);
    expect(tunnelOf(sim, 'tunl0')).toEqual(before);
    expect(sim.ping('a', ipOf(sim, 'b')).ok).toBe(true);
    expect(sim.check().ok).toBe(true);
  });
});
