import { createHash } from 'node:crypto';
import {
  applyActions, createSimulator, describeAction, formatIpv4, getNode, icmpEcho, ipRoute, isPodnetError, parseIpv4, shardSize,
  type Action, type Simulator,
} from '@podnet/core';
import { describe, expect, it } from 'vitest';
import { cilium, ciliumIdentity, lxcName } from './cilium.js';
import { flannel } from './flannel.js';

function cluster(routing: 'tunnel' | 'native', segments?: { name: string; cidr: string }[]): Simulator {
  const sim = createSimulator({ podCidr: '10.244.0.0/16', cni: cilium({ routing }), ...(segments ? { underlay: { segments } } : {}) });
  sim.addNode({ name: 'node-1', podCidr: '10.244.1.0/24' });
  sim.addNode({ name: 'node-2', podCidr: '10.244.2.0/24', ...(segments ? { segment: segments[1]!.name } : {}) });
  sim.addPod({ name: 'a', node: 'node-1', ip: '10.244.1.4', labels: { app: 'web' } });
  sim.addPod({ name: 'b', node: 'node-1', ip: '10.244.1.5' });
  sim.addPod({ name: 'c', node: 'node-2', ip: '10.244.2.3' });
  return sim;
}

describe('cilium: what a node and a pod get', () => {
  it('lxc + 12 hex digits of sha256(container id) (connector.Endpoint2IfName)', () => {
    expect(lxcName('abc')).toBe(`lxc${createHash('sha256').update('abc').digest('hex').slice(0, 12)}`);
    const sim = cluster('tunnel');
    const pod = sim.pod('a');
    const dev = sim.node('node-1').host.lxcMap![String(pod.ip)]!.dev!;
    expect(dev).toMatch(/^lxc[0-9a-f]{12}$/);
    expect(sim.node('node-1').host.links[dev]).toMatchObject({ kind: 'veth', peer: { ns: 'pod/default/a', name: 'eth0' } });
  });

  it('pods route everything via the router IP on cilium_host, with the route MTU cilium sets (1450 in tunnel mode)', () => {
    expect(ipRoute(cluster('tunnel').state, 'pod/default/a')).toEqual(['default via 10.244.1.1 dev eth0 mtu 1450', '10.244.1.1 dev eth0 scope link']);
    expect(ipRoute(cluster('native').state, 'pod/default/a')).toEqual(['default via 10.244.1.1 dev eth0 mtu 1500', '10.244.1.1 dev eth0 scope link']);
  });

  it('the host has no route per pod: its pods are reached through cilium_host and the endpoint map', () => {
    const sim = cluster('tunnel');
    const routes = ipRoute(sim.state, 'node/node-1');
    expect(routes).toEqual([
      'default via 192.168.1.1 dev eth0',
      '10.244.0.0/16 via 10.244.1.1 dev cilium_host src 10.244.1.1 mtu 1450',
      '10.244.1.0/24 via 10.244.1.1 dev cilium_host src 10.244.1.1',
      '10.244.1.1 dev cilium_host scope link',
      '192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.11',
    ]);
    const lxc = sim.node('node-1').host.lxcMap!;
    expect(Object.values(lxc).map((e) => [formatIpv4(e.ip), e.host])).toEqual(expect.arrayContaining([['10.244.1.4', false], ['10.244.1.5', false], ['192.168.1.11', true], ['10.244.1.1', true]]));
    expect(ipRoute(cluster('native').state, 'node/node-1')).toContain('10.244.2.0/24 via 192.168.1.12 dev eth0');
  });

  it('the tunnel map is one shared table: a node joining adds one entry, leaving removes it', () => {
    const sim = cluster('tunnel');
    expect(shardSize(sim.state.underlay.tunnelMap!)).toBe(2);
    sim.addNode({ name: 'node-3' });
    expect(shardSize(sim.state.underlay.tunnelMap!)).toBe(3);
    sim.removeNode('node-3');
    expect(shardSize(sim.state.underlay.tunnelMap!)).toBe(2);
  });

  it('identities follow labels: same labels, same identity; it is the VNI of tunnelled traffic', () => {
    expect(ciliumIdentity({ namespace: 'default', labels: { app: 'web' } })).toBe(ciliumIdentity({ namespace: 'default', labels: { app: 'web' } }));
    expect(ciliumIdentity({ namespace: 'default', labels: { app: 'web' } })).not.toBe(ciliumIdentity({ namespace: 'default', labels: { app: 'db' } }));
    const sim = cluster('tunnel');
    const t = sim.send('a', icmpEcho(parseIpv4('10.244.2.3')));
    const encap = t.steps.find((s) => s.kind === 'vxlan-encap')!;
    const outer = encap.ip!;
    expect(outer.payload.kind === 'udp' && outer.payload.dstPort).toBe(8472);
    expect(outer.payload.kind === 'udp' && outer.payload.payload.kind === 'vxlan' && outer.payload.payload.vni).toBe(ciliumIdentity({ namespace: 'default', labels: { app: 'web' } }));
  });
});

describe('cilium: forwarding by the endpoint map', () => {
  it('same node: cil_from_container redirects straight to the other lxc, no route lookup, TTL decremented by the program', () => {
    const sim = cluster('tunnel');
    const t = sim.send('a', icmpEcho(parseIpv4('10.244.1.5')));
    expect(t.disposition).toBe('delivered');
    const req = t.steps.filter((s) => s.packet === 1);
    expect(req.map((s) => s.kind)).toEqual(['send', 'route', 'neighbour', 'veth', 'receive', 'bpf-redirect', 'veth', 'receive', 'deliver']);
    expect(req.find((s) => s.kind === 'bpf-redirect')!.note).toMatch(/^cil_from_container \(bpf_lxc\.o\): cilium_lxc has 10\.244\.1\.5 → redirect to lxc[0-9a-f]{12}, no route lookup; TTL 64 → 63$/);
    expect(req.some((s) => s.kind === 'forward')).toBe(false);
  });

  it('tunnel: encapsulated by the program, decapsulated by cilium_vxlan, delivered by cil_from_overlay (ttl 63, one decrement)', () => {
    const sim = cluster('tunnel');
    const kinds = sim.send('a', icmpEcho(parseIpv4('10.244.2.3'))).steps.filter((s) => s.packet === 1).map((s) => `${s.ns} ${s.kind}`);
    expect(kinds).toContain('node/node-1 vxlan-encap');
    expect(kinds).toContain('node/node-2 vxlan-decap');
    expect(kinds).toContain('node/node-2 bpf-redirect');
    expect(kinds.some((k) => k.endsWith(' forward'))).toBe(false);
    expect(sim.ping('a', '10.244.2.3').lines[1]).toBe('64 bytes from 10.244.2.3: icmp_seq=1 ttl=63');
  });

  it('native: the kernel routes by auto-direct-node-routes, cil_from_netdev delivers on the far side (ttl 62)', () => {
    const sim = cluster('native');
    const steps = sim.send('a', icmpEcho(parseIpv4('10.244.2.3'))).steps.filter((s) => s.packet === 1);
    expect(steps.find((s) => s.kind === 'forward')!.note).toBe('forwards to 10.244.2.3 by 10.244.2.0/24 via 192.168.1.12 dev eth0; TTL 64 → 63');
    expect(steps.find((s) => s.kind === 'bpf-redirect')!.note).toMatch(/^cil_from_netdev \(bpf_host\.o\): cilium_lxc has 10\.244\.2\.3/);
    expect(sim.ping('a', '10.244.2.3').lines[1]).toBe('64 bytes from 10.244.2.3: icmp_seq=1 ttl=62');
  });

  it('traceroute differs from flannel: hops the eBPF datapath handles drop the expired probe without ICMP, so they print *', () => {
    expect(cluster('tunnel').traceroute('a', '10.244.2.3').hops.map((h) => h.address)).toEqual([null, '10.244.2.3']);
    expect(cluster('native').traceroute('a', '10.244.2.3').hops.map((h) => h.address)).toEqual(['10.244.1.1', null, '10.244.2.3']);
    const f = createSimulator({ podCidr: '10.244.0.0/16', cni: flannel() });
    f.addNode({ name: 'node-1', podCidr: '10.244.1.0/24' });
    f.addNode({ name: 'node-2', podCidr: '10.244.2.0/24' });
    f.addPod({ name: 'a', node: 'node-1', ip: '10.244.1.4' });
    f.addPod({ name: 'c', node: 'node-2', ip: '10.244.2.3' });
    expect(f.traceroute('a', '10.244.2.3').hops.map((h) => h.address)).toEqual(['10.244.1.1', '10.244.2.0', '10.244.2.3']);
    const expired = cluster('tunnel').traceroute('a', '10.244.2.3').hops[0]!.trace;
    expect(expired.steps.at(-1)!.note).toMatch(/DROP_TTL_EXCEEDED, and no ICMP time exceeded is sent/);
  });

  it('the pod\'s ARP for its gateway is answered by bpf_lxc\'s ARP responder with the lxc MAC', () => {
    const sim = cluster('tunnel');
    const t = sim.send('a', icmpEcho(parseIpv4('10.244.1.5')));
    const arp = t.steps.find((s) => s.kind === 'arp-reply')!;
    const dev = sim.node('node-1').host.lxcMap![String(parseIpv4('10.244.1.4'))]!.dev!;
    expect(arp.note).toBe(`cil_from_container (bpf_lxc.o) answers ARP: 10.244.1.1 is-at ${sim.node('node-1').host.links[dev]!.mac}`);
  });

  it('the route MTU holds pods to 1450 bytes in tunnel mode (a 1460-byte DF packet fails locally)', () => {
    const sim = cluster('tunnel');
    const t = sim.send('a', icmpEcho(parseIpv4('10.244.2.3'), { size: 1432 }));
    expect(t.disposition).toBe('fragmentationNeeded');
    expect(t.steps.at(-1)!.note).toContain('message too long, mtu=1450');
    expect(sim.send('a', icmpEcho(parseIpv4('10.244.2.3'), { size: 1422 })).disposition).toBe('delivered');
  });

  it('nodes reach their pods through cilium_host and cil_from_host; every guarantee holds', () => {
    for (const routing of ['tunnel', 'native'] as const) {
      const sim = cluster(routing);
      expect(sim.ping('node-1', '10.244.1.4').ok).toBe(true);
      expect(sim.ping('node-2', '10.244.1.4').ok).toBe(true);
      expect(sim.check()).toEqual({ ok: true, violations: [] });
    }
  });

  it('failure modes the guarantees catch: an endpoint missing from the map; native routing across L2 segments', () => {
    const sim = cluster('tunnel');
    sim.apply({ op: 'bpf.map.delete', map: 'cilium_lxc', ns: 'node/node-2', key: '10.244.2.3' });
    expect(sim.violations.length).toBeGreaterThan(0); // the incremental check, right after the change
    expect(sim.ping('a', '10.244.2.3').ok).toBe(false);
    expect(sim.check().ok).toBe(false);
    const lost = cluster('tunnel');
    lost.apply({ op: 'bpf.map.delete', map: 'cilium_tunnel_map', key: '10.244.2.0/24' });
    expect(lost.violations.map((v) => v.guarantee)).toContain('no-nat');
    expect(lost.check().ok).toBe(false);
    const split = cluster('native', [{ name: 'rack-a', cidr: '192.168.1.0/24' }, { name: 'rack-b', cidr: '192.168.2.0/24' }]);
    expect(split.ping('a', '10.244.2.3').ok).toBe(false);
    expect(split.check().violations.some((v) => v.guarantee === 'no-nat')).toBe(true);
    const tunnelled = cluster('tunnel', [{ name: 'rack-a', cidr: '192.168.1.0/24' }, { name: 'rack-b', cidr: '192.168.2.0/24' }]);
    expect(tunnelled.check().ok).toBe(true);
  });

  it('deleting a pod removes its lxc device and its endpoint map entry', () => {
    const sim = cluster('tunnel');
    const dev = sim.node('node-1').host.lxcMap![String(parseIpv4('10.244.1.4'))]!.dev!;
    sim.deletePod('a');
    expect(sim.node('node-1').host.lxcMap![String(parseIpv4('10.244.1.4'))]).toBeUndefined();
    expect(sim.node('node-1').host.links[dev]).toBeUndefined();
  });
});

describe('tc.attach / tc.detach / bpf.map.update / bpf.map.delete', () => {
  const sim = cluster('tunnel');
  const ns = 'node/node-1';
  const bad: [string, Action, string][] = [
    ['an unmodelled program', { op: 'tc.attach', ns, dev: 'eth0', direction: 'ingress', obj: 'bpf_xdp.o', sec: 'cil_xdp_entry' }, 'UNSUPPORTED'],
    ['a program in the wrong object', { op: 'tc.attach', ns, dev: 'eth0', direction: 'ingress', obj: 'bpf_lxc.o', sec: 'cil_from_netdev' }, 'INVALID_ARGUMENT'],
    ['an encap device that is not VXLAN', { op: 'tc.attach', ns, dev: 'eth0', direction: 'ingress', obj: 'bpf_host.o', sec: 'cil_from_netdev', encapDev: 'cilium_host' }, 'INVALID_ARGUMENT'],
    ['a missing device', { op: 'tc.attach', ns, dev: 'eth9', direction: 'ingress', obj: 'bpf_host.o', sec: 'cil_from_netdev' }, 'LINK_NOT_FOUND'],
    ['a direction tc does not have', { op: 'tc.attach', ns, dev: 'eth0', direction: 'sideways' as never, obj: 'bpf_host.o', sec: 'cil_from_netdev' }, 'INVALID_ARGUMENT'],
    ['detaching what is not attached', { op: 'tc.detach', ns, dev: 'cilium_vxlan', direction: 'egress' }, 'INVALID_ARGUMENT'],
    ['an identity out of range', { op: 'bpf.map.update', map: 'cilium_lxc', ns, key: '10.244.1.9', value: { dev: 'eth0', mac: '02:00:00:00:00:01', identity: -1 } }, 'INVALID_ARGUMENT'],
    ['an endpoint without device', { op: 'bpf.map.update', map: 'cilium_lxc', ns, key: '10.244.1.9', value: { identity: 300 } }, 'INVALID_ARGUMENT'],
    ['a bad key', { op: 'bpf.map.update', map: 'cilium_lxc', ns, key: '10.244.1', value: { host: true, identity: 1 } }, 'INVALID_IP'],
    ['deleting a missing key', { op: 'bpf.map.delete', map: 'cilium_lxc', ns, key: '10.244.1.99' }, 'MAP_KEY_NOT_FOUND'],
    ['deleting a missing tunnel', { op: 'bpf.map.delete', map: 'cilium_tunnel_map', key: '10.244.8.0/24' }, 'MAP_KEY_NOT_FOUND'],
    ['a route MTU out of range', { op: 'route.add', ns: 'pod/default/a', dst: '10.9.0.0/16', via: '10.244.1.1', dev: 'eth0', mtu: 20 }, 'INVALID_ARGUMENT'],
    ['an unknown map', { op: 'bpf.map.update', map: 'cilium_ipcache' as never, key: '10.244.9.0/24', value: { endpoint: '192.168.1.9', owner: 'x' } } as never, 'UNSUPPORTED'],
  ];
  for (const [what, action, code] of bad) {
    it(`refuses ${what} (${code}) and changes nothing`, () => {
      const before = sim.state;
      let err: unknown;
      try {
        applyActions(before, [{ op: 'bpf.map.update', map: 'cilium_tunnel_map', key: '10.244.9.0/24', value: { endpoint: '192.168.1.9', owner: 'x' } }, action]);
      } catch (e) {
        err = e;
      }
      expect(isPodnetError(err, code as never)).toBe(true);
      expect(sim.state).toBe(before);
      expect(shardSize(before.underlay.tunnelMap!)).toBe(2);
    });
  }

  it('attach, then detach, a program', () => {
    const s1 = applyActions(sim.state, [{ op: 'tc.detach', ns, dev: 'eth0', direction: 'ingress' }]);
    expect(s1 === sim.state).toBe(false);
    const host = (st: typeof s1) => getNode(st, 'node-1').host;
    expect(host(s1).links['eth0']!.tc).toBeUndefined();
    const s2 = applyActions(s1, [{ op: 'tc.attach', ns, dev: 'eth0', direction: 'ingress', obj: 'bpf_host.o', sec: 'cil_from_netdev' }]);
    expect(host(s2).links['eth0']!.tc).toEqual({ ingress: { obj: 'bpf_host.o', sec: 'cil_from_netdev' } });
  });

  it('prints as tc commands and as the maps cilium-dbg lists', () => {
    const lines = (a: Action) => describeAction(a).map((c) => `[${c.where}] ${c.command}`);
    expect(lines({ op: 'tc.attach', ns, dev: 'lxc0123456789ab', direction: 'ingress', obj: 'bpf_lxc.o', sec: 'cil_from_container', encapDev: 'cilium_vxlan' })).toEqual([
      '[node-1] tc qdisc replace dev lxc0123456789ab clsact',
      '[node-1] tc filter replace dev lxc0123456789ab ingress prio 1 handle 1 bpf da obj bpf_lxc.o sec cil_from_container  # compiled with ENCAP_IFINDEX = cilium_vxlan',
    ]);
    expect(lines({ op: 'bpf.map.update', map: 'cilium_lxc', ns, key: '10.244.1.4', value: { dev: 'lxc0123456789ab', mac: '02:00:00:00:00:01', identity: 300 } })).toEqual([
      '[node-1] # cilium_lxc[10.244.1.4] = { ifname lxc0123456789ab, mac 02:00:00:00:00:01, identity 300 }   (cilium-dbg bpf endpoint list)',
    ]);
    expect(lines({ op: 'bpf.map.update', map: 'cilium_tunnel_map', key: '10.244.2.0/24', value: { endpoint: '192.168.1.12', owner: 'node-2' } })).toEqual([
      '[every node] # cilium_tunnel_map[10.244.2.0/24] = 192.168.1.12   (cilium-dbg bpf tunnel list; the map is one for the cluster in podnet)',
    ]);
    expect(lines({ op: 'link.add', ns, name: 'cilium_vxlan', kind: 'vxlan', vxlan: { vni: 0, local: '192.168.1.11', dstPort: 8472, dev: 'eth0', learning: false, external: true } })).toEqual([
      '[node-1] ip link add cilium_vxlan type vxlan external dstport 8472',
    ]);
    expect(lines({ op: 'route.add', ns: 'pod/default/a', dst: 'default', via: '10.244.1.1', dev: 'eth0', mtu: 1450 })).toEqual(['[default/a] ip route add default via 10.244.1.1 dev eth0 mtu 1450']);
  });
});
