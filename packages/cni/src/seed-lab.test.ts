import { createSimulator, icmpEcho, ipRoute, parseIpv4, isPodnetError, type Simulator } from '@podnet/core';
import { describe, expect, it } from 'vitest';
import { flannel } from './designs/flannel.js';
import { seedLabSpec, simulatorFromSpec } from './spec.js';

const seed = (): Simulator => simulatorFromSpec(seedLabSpec());

describe('the DESIGN.md example', () => {
  it('runs as written and prints what it says', () => {
    const sim = createSimulator({ podCidr: '10.244.0.0/16', cni: flannel({ backend: 'vxlan' }) });
    sim.addNode({ name: 'node-1', ip: '192.168.1.11', podCidr: '10.244.1.0/24' });
    sim.addNode({ name: 'node-2', ip: '192.168.1.12', podCidr: '10.244.2.0/24' });
    sim.addPod({ name: 'pod-a', node: 'node-1', ip: '10.244.1.4' });
    sim.addPod({ name: 'pod-c', node: 'node-2', ip: '10.244.2.3' });
    expect(sim.traceroute('pod-a', '10.244.2.3').hops.map((h) => h.address)).toEqual(['10.244.1.1', '10.244.2.0', '10.244.2.3']);
    expect(sim.ping('node-1', '10.244.1.4').ok).toBe(true);
    expect(sim.check()).toEqual({ ok: true, violations: [] });
  });
});

describe('the seed lab (flannel VXLAN, three nodes, pods A–F)', () => {
  const endpoints = ['pod-a', 'pod-b', 'pod-c', 'pod-d', 'pod-e', 'pod-f', 'node-1', 'node-2', 'node-3'];
  const ipOf: Record<string, string> = {
    'pod-a': '10.244.1.4', 'pod-b': '10.244.1.5', 'pod-c': '10.244.2.3', 'pod-d': '10.244.2.7', 'pod-e': '10.244.3.2', 'pod-f': '10.244.3.9',
    'node-1': '192.168.1.11', 'node-2': '192.168.1.12', 'node-3': '192.168.1.13',
  };

  it('every endpoint pings every other endpoint', () => {
    const sim = seed();
    for (const a of endpoints) for (const b of endpoints) if (a !== b) expect(sim.ping(a, ipOf[b]!).ok, `${a} → ${b}`).toBe(true);
    expect(sim.violations).toEqual([]);
  });

  it('routes each pod packet through cni0 and the VXLAN tunnel, decrementing TTL once per node', () => {
    const sim = seed();
    expect(sim.ping('pod-a', '10.244.2.3').replies[0]!.ttl).toBe(62);
    // Same node: bridged only, never routed.
    expect(sim.ping('pod-a', '10.244.1.5').replies[0]!.ttl).toBe(64);
    expect(sim.traceroute('pod-a', '10.244.1.5').hops.map((h) => h.address)).toEqual(['10.244.1.5']);
    // A node reaches a remote pod through its own flannel.1 (source 10.244.1.0), one routed hop away.
    expect(sim.traceroute('node-1', '10.244.2.3').hops.map((h) => h.address)).toEqual(['10.244.2.0', '10.244.2.3']);
    expect(sim.traceroute('pod-a', '192.168.1.12').hops.map((h) => h.address)).toEqual(['10.244.1.1', '192.168.1.12']);
  });

  it('traceroute -f starts at that TTL; one out of range is refused and changes nothing', () => {
    const sim = seed();
    const r = sim.traceroute('pod-a', '10.244.2.3', { firstTtl: 2 });
    expect(r.hops.map((h) => [h.ttl, h.address])).toEqual([[2, '10.244.2.0'], [3, '10.244.2.3']]);
    expect(r.lines[1]).toBe(' 2  10.244.2.0');
    const before = sim.state;
    for (const firstTtl of [0, 31, 1.5]) {
      expect(() => sim.traceroute('pod-a', '10.244.2.3', { firstTtl })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      expect(sim.state).toBe(before);
    }
    expect(sim.traceroute('pod-a', '10.244.2.3', { firstTtl: 3, maxHops: 3 }).hops.map((h) => h.ttl)).toEqual([3]);
  });

  it('keeps the sender pod IP as the inner source and tunnels between node IPs on UDP 8472', () => {
    const sim = seed();
    const r = sim.ping('pod-a', '10.244.3.9');
    const encap = r.traces[0]!.steps.find((s) => s.kind === 'vxlan-encap' && s.packet === 1)!;
    expect(encap.ns).toBe('node/node-1');
    const outer = encap.ip!;
    // 84 bytes of inner IP + inner Ethernet 14 + VXLAN 8 + UDP 8 + outer IP 20 (the outer Ethernet is the 50th..64th byte on the wire).
    expect(outer.header.totalLength).toBe(84 + 14 + 8 + 8 + 20);
    expect(outer.payload.kind === 'udp' && outer.payload.dstPort).toBe(8472);
    const decap = r.traces[0]!.steps.find((s) => s.kind === 'vxlan-decap' && s.packet === 1)!;
    expect(decap.ns).toBe('node/node-3');
    const delivered = r.traces[0]!.fates.find((f) => f.packet === 1)!;
    expect(delivered.disposition).toBe('delivered');
    expect(delivered.ns).toBe('pod/default/pod-f');
    expect(delivered.ip!.header.src).toBe(0x0af40104);
  });

  it('renders node and pod routing tables as flannel installs them', () => {
    const sim = seed();
    expect(ipRoute(sim.state, 'node/node-1')).toEqual([
      'default via 192.168.1.1 dev eth0',
      '10.244.1.0/24 dev cni0 proto kernel scope link src 10.244.1.1',
      '10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink',
      '10.244.3.0/24 via 10.244.3.0 dev flannel.1 onlink',
      '192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.11',
    ]);
    expect(ipRoute(sim.state, 'pod/default/pod-a')).toEqual([
      'default via 10.244.1.1 dev eth0',
      '10.244.0.0/16 via 10.244.1.1 dev eth0',
      '10.244.1.0/24 dev eth0 proto kernel scope link src 10.244.1.4',
    ]);
  });

  it('enforces the 1450-byte pod MTU: DF packets above it fail locally, as ping -M do reports', () => {
    const sim = seed();
    expect(sim.ping('pod-a', '10.244.2.3', { size: 1422 }).ok).toBe(true);
    const big = sim.ping('pod-a', '10.244.2.3', { size: 1423 });
    expect(big.ok).toBe(false);
    expect(big.lines).toContain('ping: local error: message too long, mtu=1450');
  });

  it('reports unreachable addresses the way the kernel does', () => {
    const sim = seed();
    // Same subnet: the pod ARPs itself and nobody answers.
    const local = sim.ping('pod-a', '10.244.1.99');
    expect(local.lines).toContain('From 10.244.1.4 icmp_seq=1 Destination Host Unreachable');
    // Another node's subnet: node-2 fails ARP on cni0 and answers from its flannel.1 address.
    const remote = sim.ping('pod-a', '10.244.2.99');
    expect(remote.errors).toEqual([{ seq: 1, from: '10.244.2.0', message: 'Destination Host Unreachable' }]);
  });

  it('time-exceeded comes from the address of the reply route at each hop', () => {
    const sim = seed();
    const t1 = sim.ping('pod-a', '10.244.2.3', { ttl: 1 });
    expect(t1.errors[0]).toEqual({ seq: 1, from: '10.244.1.1', message: 'Time to live exceeded' });
    const t2 = sim.ping('pod-a', '10.244.2.3', { ttl: 2 });
    expect(t2.errors[0]).toEqual({ seq: 1, from: '10.244.2.0', message: 'Time to live exceeded' });
  });

  it('a deleted route to another node sends pod traffic to the underlay router, which has no pod routes', () => {
    const sim = seed();
    sim.apply({ op: 'route.del', ns: 'node/node-1', dst: '10.244.2.0/24' });
    expect(ipRoute(sim.state, 'node/node-1')).not.toContain('10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink');
    const r = sim.ping('pod-a', '10.244.2.3');
    expect(r.ok).toBe(false);
    // The router has no route back to the pod either, so its ICMP net unreachable is never sent: silence.
    expect(r.errors).toEqual([]);
    const routerDrop = r.traces[0]!.fates.find((f) => f.packet === 1)!;
    expect(routerDrop).toMatchObject({ disposition: 'noRoute', ns: 'underlay' });
    // Not even built: icmp_send finds no route back before it makes the error.
    expect(r.traces[0]!.fates.filter((f) => f.role === 'icmp-error')).toEqual([]);
    expect(r.traces[0]!.steps.filter((s) => s.kind === 'icmp-error')).toEqual([]);
    expect(sim.violations.map((v) => v.guarantee)).toContain('no-nat');
    expect(sim.violations.some((v) => v.where.from === 'default/pod-a' && v.where.to === 'default/pod-c')).toBe(true);
    // The full audit agrees with the incremental verdict.
    expect(sim.check().violations.map((v) => v.key)).toEqual(sim.violations.map((v) => v.key));
    sim.undo();
    expect(sim.ping('pod-a', '10.244.2.3').ok).toBe(true);
    expect(sim.violations).toEqual([]);
  });

  it('a node refuses a gateway that is not on a connected subnet (Nexthop has invalid gateway)', () => {
    const sim = seed();
    const before = sim.state;
    let err: unknown;
    try {
      sim.apply({ op: 'route.add', ns: 'node/node-1', dst: '10.99.0.0/24', via: '192.168.2.12', dev: 'eth0' });
    } catch (e) {
      err = e;
    }
    expect(isPodnetError(err, 'INVALID_GATEWAY')).toBe(true);
    expect((err as Error).message).toContain('Nexthop has invalid gateway');
    expect(sim.state).toBe(before);
  });

  it('bringing flannel.1 down flushes its routes, as the kernel does', () => {
    const sim = seed();
    sim.apply({ op: 'link.set', ns: 'node/node-1', name: 'flannel.1', up: false });
    expect(ipRoute(sim.state, 'node/node-1').some((l) => l.includes('flannel.1'))).toBe(false);
    sim.apply({ op: 'link.set', ns: 'node/node-1', name: 'flannel.1', up: true });
    // Up again, but the routes flanneld installed are gone until it re-adds them.
    expect(ipRoute(sim.state, 'node/node-1').some((l) => l.includes('flannel.1'))).toBe(false);
    expect(sim.ping('pod-a', '10.244.3.2').ok).toBe(false);
  });

  it('reports each broken guarantee once per pair, even when request and reply both trip it', () => {
    const sim = seed();
    sim.apply({ op: 'addr.add', ns: 'pod/default/pod-a', dev: 'eth0', addr: '10.244.2.3/24' });
    const keys = sim.check().violations.map((v) => v.key);
    expect(keys.length).toBeGreaterThan(0);
    expect(new Set(keys).size).toBe(keys.length);
    expect(sim.violations.map((v) => v.key)).toEqual(keys);
  });

  it('a masquerading rule on a node is caught at the hop where it rewrites the source', () => {
    const sim = seed();
    // Appended after flanneld's jump to FLANNEL-POSTRTG: that chain RETURNs pod-to-pod traffic to POSTROUTING,
    // whose next rule is this one (measured, pnkr30: tcpdump on the receiver showed the router's address).
    sim.apply({ op: 'rule.append', ns: 'node/node-1', rule: { table: 'nat', chain: 'POSTROUTING', src: '10.244.1.0/24', outIf: 'flannel.1', target: 'MASQUERADE' } });
    const trace = sim.send('pod-a', { kind: 'ipv4', header: { tos: 0, totalLength: 84, id: 1, df: true, ttl: 64, protocol: 1, src: 0, dst: 0x0af40203 }, payload: { kind: 'icmp', type: 8, code: 0, rest: 1, data: { kind: 'raw', length: 56 } } });
    expect(trace.violations.map((v) => v.guarantee)).toEqual(['no-nat']);
    const at = trace.steps[trace.violations[0]!.step!]!;
    expect([at.ns, at.dev]).toEqual(['node/node-1', 'flannel.1']);
    expect(trace.violations[0]!.explanation).toContain('carries source 10.244.1.0');
  });
});

describe('sim.send without recording', () => {
  it('answers what the recorded send answers, without steps, and leaves the same state', () => {
    const pairs: [string, string][] = [['pod-a', '10.244.2.3'], ['node-1', '10.244.1.4'], ['pod-c', '10.244.3.9'], ['pod-a', '10.244.9.9']];
    for (const [from, dst] of pairs) {
      const rec = seed();
      const quiet = seed();
      const hops: unknown[] = [];
      quiet.on('hop', (s) => hops.push(s));
      const a = rec.send(from, icmpEcho(parseIpv4(dst)));
      const b = quiet.send(from, icmpEcho(parseIpv4(dst)), { record: false });
      expect(b.steps).toEqual([]);
      expect(hops).toEqual([]);
      expect(a.steps.length).toBeGreaterThan(0);
      const { steps: _a, ...ra } = a;
      const { steps: _b, ...rb } = b;
      expect(JSON.stringify(rb)).toBe(JSON.stringify(ra));
      expect(JSON.stringify(quiet.state)).toBe(JSON.stringify(rec.state));
    }
  });

  it('refuses options that are not { record: boolean }, and changes nothing', () => {
    const sim = seed();
    const before = sim.state;
    for (const bad of [null, 'no', { record: 'false' }]) {
      let err: unknown;
      try {
        sim.send('pod-a', icmpEcho(parseIpv4('10.244.2.3')), bad as never);
      } catch (e) {
        err = e;
      }
      expect(isPodnetError(err) && err.code).toBe('INVALID_ARGUMENT');
      expect(sim.state).toBe(before);
    }
  });
});

describe('a device named like a member of every object', () => {
  // pod-a gets a veth `constructor` to pod-b and a /32 out eth0 for 10.99.0.77: proxy ARP on `constructor`
  // would answer pod-b's request for it. Off unless set, as for any device.
  const build = (proxyArp: boolean): Simulator => {
    const sim = seed();
    const a = 'pod/default/pod-a';
    const b = 'pod/default/pod-b';
    sim.apply([
      { op: 'link.add', ns: a, name: 'constructor', kind: 'veth', peer: { ns: b, name: 'toString' } },
      { op: 'addr.add', ns: a, dev: 'constructor', addr: '10.99.0.1/24' },
      { op: 'addr.add', ns: b, dev: 'toString', addr: '10.99.0.2/24' },
      { op: 'link.set', ns: a, name: 'constructor', up: true },
      { op: 'link.set', ns: b, name: 'toString', up: true },
      { op: 'route.add', ns: a, dst: '10.99.0.77/32', dev: 'eth0' },
      { op: 'sysctl.set', ns: a, key: 'net.ipv4.ip_forward', value: 1 },
      ...(proxyArp ? [{ op: 'sysctl.set' as const, ns: a, key: 'net.ipv4.conf.constructor.proxy_arp', value: 1 }] : []),
    ]);
    return sim;
  };
  const answered = (sim: Simulator): boolean =>
    sim.send('pod-b', icmpEcho(parseIpv4('10.99.0.77'))).steps.some((s) => s.note.startsWith('proxy ARP'));

  it('has proxy_arp off until it is set', () => {
    expect(answered(build(false))).toBe(false);
    expect(answered(build(true))).toBe(true);
  });
});
