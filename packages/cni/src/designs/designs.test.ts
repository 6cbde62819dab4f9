/**
 * The designs beside flannel VXLAN: flannel host-gw, the bridge plugin alone, and the broken designs.
 * Working designs satisfy the three guarantees on generated clusters; each broken design is caught, with
 * an explanation that names the mistake's effect.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createSimulator, describeAction, ipRoute, isPodnetError, refusedPeerRoutes, type CniDesign, type Simulator } from '@podnet/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bridge } from './bridge.js';
import { broken } from './broken.js';
import { flannel, flanneldLog, flannelNetConf } from './flannel.js';
import { hostGwLabSpec, simulatorFromSpec } from '../spec.js';

const reference = (file: string) => JSON.parse(readFileSync(fileURLToPath(new URL(`../__fixtures__/${file}`, import.meta.url)), 'utf8')) as Record<string, unknown>;
/** An object's shape: its keys, nested, with arrays reduced to their first element's shape. */
const shape = (v: unknown): unknown => Array.isArray(v) ? [shape(v[0])] : v !== null && typeof v === 'object'
  ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, shape((v as Record<string, unknown>)[k])])) : typeof v;

/** Two nodes on one segment, two pods each. */
function twoNodes(cni: CniDesign): Simulator {
  return createSimulator({
    podCidr: '10.244.0.0/16', cni,
    nodes: [{ name: 'node-1' }, { name: 'node-2' }],
    pods: [{ name: 'a', node: 'node-1' }, { name: 'b', node: 'node-1' }, { name: 'c', node: 'node-2' }, { name: 'd', node: 'node-2' }],
  });
}

describe('flannel host-gw', () => {
  it('routes every other node\'s subnet via its node IP on eth0; pods get the underlay MTU', () => {
    const sim = simulatorFromSpec(hostGwLabSpec());
    expect(ipRoute(sim.state, 'node/node-1')).toEqual([
      'default via 192.168.1.1 dev eth0',
      '10.244.1.0/24 dev cni0 proto kernel scope link src 10.244.1.1',
      '10.244.2.0/24 via 192.168.1.12 dev eth0',
      '10.244.3.0/24 via 192.168.1.13 dev eth0',
      '192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.11',
    ]);
    expect(sim.pod('pod-a').netns!.links['eth0']!.mtu).toBe(1500);
    expect(sim.node('node-1').host.links['flannel.1']).toBeUndefined();
    expect(sim.traceroute('pod-a', '10.244.3.9').hops.map((h) => h.address)).toEqual(['10.244.1.1', '192.168.1.13', '10.244.3.9']);
    expect(sim.ping('pod-a', '10.244.3.9', { size: 1472 }).ok).toBe(true);
    expect(sim.check()).toEqual({ ok: true, violations: [] });
    expect(flanneldLog(sim.state, 'node-1')).toEqual(['Subnet added: 10.244.2.0/24 via 192.168.1.12', 'Subnet added: 10.244.3.0/24 via 192.168.1.13']);
  });

  it('what flanneld does on a node reads as ip route add, and kube-flannel.yml\'s conflist is the node\'s CNI config', () => {
    const sim = simulatorFromSpec(hostGwLabSpec());
    const r = flannel({ backend: 'host-gw' }).nodeAdded(sim.state, sim.node('node-2'));
    const cmds = r.actions.flatMap((a) => describeAction(a)).map((c) => `[${c.where}] ${c.command}`);
    expect(cmds.slice(0, 3)).toEqual([
      '[node-2] sysctl -w net.ipv4.ip_forward=1',
      '[every node but node-2] ip route replace 10.244.2.0/24 via 192.168.1.12 dev eth0',
      "[node-2] # install every other node's flannel entries (routes, neighbours, FDB) here",
    ]);
    const conf = flannel({ backend: 'host-gw' }).cniConfig!(sim.state, sim.node('node-1'));
    expect(Object.keys(conf)).toEqual(['10-flannel.conflist']);
    expect(JSON.parse(conf['10-flannel.conflist']!)).toEqual(reference('10-flannel.conflist'));
    // net-conf.json: kube-flannel.yml's, with the backend's type.
    expect(JSON.parse(flannelNetConf(sim.state))).toEqual(reference('flannel-net-conf.json'));
    expect(JSON.parse(flannelNetConf(sim.state, { backend: 'host-gw' }))).toEqual({ ...reference('flannel-net-conf.json'), Backend: { Type: 'host-gw' } });
  });

  it('a node on another segment: the routes are refused on both sides, flanneld logs it, the guarantees name the refused route', () => {
    const sim = simulatorFromSpec(hostGwLabSpec({ segments: 2 }));
    expect(refusedPeerRoutes(sim.state, sim.node('node-1').host).map((r) => [r.owner, r.error])).toEqual([['node-3', 'Error: Nexthop has invalid gateway.']]);
    expect(refusedPeerRoutes(sim.state, sim.node('node-3').host).map((r) => r.owner)).toEqual(['node-1', 'node-2']);
    expect(refusedPeerRoutes(sim.state, sim.node('node-2').host).map((r) => r.owner)).toEqual(['node-3']);
    expect(flanneldLog(sim.state, 'node-3')).toEqual([
      'Subnet added: 10.244.1.0/24 via 192.168.1.11',
      'Error adding route to {Ifindex: 2 Dst: 10.244.1.0/24 Src: <nil> Gw: 192.168.1.11 Flags: [] Table: 0 Realm: 0}: network is unreachable',
      'Subnet added: 10.244.2.0/24 via 192.168.1.12',
      'Error adding route to {Ifindex: 2 Dst: 10.244.2.0/24 Src: <nil> Gw: 192.168.1.12 Flags: [] Table: 0 Realm: 0}: network is unreachable',
    ]);
    const v = sim.check();
    // Every pair between a pod of node-3 and a pod of node-1 or node-2, both ways: 2 × 4 × 2.
    expect(v.violations.map((x) => `${x.where.from} > ${x.where.to}`).sort()).toHaveLength(16);
    expect(v.violations.every((x) => x.guarantee === 'no-nat')).toBe(true);
    const ae = v.violations.find((x) => x.where.from === 'default/pod-a' && x.where.to === 'default/pod-e')!;
    expect(ae.explanation).toBe('pod default/pod-a cannot reach pod default/pod-e (10.244.3.2): the request ended as noRoute at underlay (no route to 10.244.3.2 in underlay); '
      + 'node/node-1 has no route for it: flannel\'s `ip route add 10.244.3.0/24 via 192.168.2.13 dev eth0` was refused there (Error: Nexthop has invalid gateway. 192.168.2.13 is not on a connected subnet of eth0)');
  });

  it('nat rules see a flow\'s first packet only: a node pinging another node\'s pod hears the pod, not a masqueraded node', () => {
    const sim = simulatorFromSpec(hostGwLabSpec());
    // The reply leaves node-3 from a pod address to a node address: flanneld's MASQUERADE rule matches it,
    // but it belongs to a flow node-3 saw start the other way (ESTABLISHED), so the kernel does not touch it.
    expect(sim.ping('node-1', '10.244.3.9').lines[1]).toBe('64 bytes from 10.244.3.9: icmp_seq=1 ttl=63');
    // The same for an ICMP error about such a flow (RELATED): traceroute's last hop is the pod.
    expect(sim.traceroute('node-1', '10.244.3.9').hops.map((h) => h.address)).toEqual(['192.168.1.13', '10.244.3.9']);
    // A router without a route answers "net unreachable" even to a TTL-1 probe: routing comes before TTL.
    const two = simulatorFromSpec(hostGwLabSpec({ segments: 2 }));
    expect(two.traceroute('node-1', '10.244.3.9').hops.map((h) => [h.address, h.annotation])).toEqual([['192.168.1.1', '!N']]);
  });

  it('a route that becomes possible is there: flanneld retries every 10 s', () => {
    const sim = simulatorFromSpec(hostGwLabSpec({ segments: 2 }));
    // An operator puts node-1 on rack-b as well (a second address would need a second NIC; a link route does it here).
    sim.apply({ op: 'route.add', ns: 'node/node-1', dst: '192.168.2.0/24', dev: 'eth0' });
    expect(refusedPeerRoutes(sim.state, sim.node('node-1').host)).toEqual([]);
    expect(ipRoute(sim.state, 'node/node-1')).toContain('10.244.3.0/24 via 192.168.2.13 dev eth0');
  });

  it('refuses a backend flannel does not model, with a typed error', () => {
    expect(() => flannel({ backend: 'udp' as 'vxlan' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => hostGwLabSpec({ segments: 3 as 2 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('property: on one segment, random clusters of 1–8 nodes with pods added and deleted keep every guarantee', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 8 }),
      fc.array(fc.record({ add: fc.boolean(), node: fc.nat(7), pod: fc.nat(7) }), { maxLength: 10 }),
      (nodes, ops) => {
        const sim = createSimulator({ cni: flannel({ backend: 'host-gw' }), nodes: Array.from({ length: nodes }, (_, i) => ({ name: `n${i}` })) });
        for (const o of ops) {
          const name = `p${o.pod}`;
          if (o.add && !sim.has(name)) sim.addPod({ name, node: `n${o.node % nodes}` });
          else if (!o.add && sim.has(name)) sim.deletePod(name);
        }
        expect(sim.violations).toEqual([]);
        expect(sim.check().ok).toBe(true);
      },
    ), { numRuns: 15 });
  });
});

describe('flannel host-gw: the incremental verdict equals a full audit, refused routes included', () => {
  it('property: random pod changes and route changes on the two-segment lab', () => {
    type Op = { t: 'add' | 'del'; pod: number; node: number } | { t: 'link-route' | 'unlink-route'; node: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ t: fc.constantFrom('add' as const, 'del' as const), pod: fc.nat(5), node: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ t: fc.constantFrom('link-route' as const, 'unlink-route' as const), node: fc.integer({ min: 1, max: 3 }) }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 8 }), (ops) => {
      const sim = simulatorFromSpec({ ...hostGwLabSpec({ segments: 2 }), pods: [{ name: 'x', node: 'node-1' }, { name: 'y', node: 'node-3' }] });
      for (const o of ops) {
        try {
          if (o.t === 'add') sim.addPod({ name: `p${o.pod}`, node: `node-${o.node}` });
          else if (o.t === 'del') sim.deletePod(`p${o.pod}`);
          else {
            // Put the node on the other segment's subnet too (a link route): its refused routes become possible.
            const dst = o.node === 3 ? '192.168.1.0/24' : '192.168.2.0/24';
            sim.apply(o.t === 'link-route' ? { op: 'route.add', ns: `node/node-${o.node}`, dst, dev: 'eth0' } : { op: 'route.del', ns: `node/node-${o.node}`, dst });
          }
        } catch (e) {
          if (!isPodnetError(e)) throw e;
        }
        const keys = (vs: readonly { key: string }[]) => vs.map((v) => v.key).sort();
        expect(keys(sim.violations)).toEqual(keys(sim.check().violations));
      }
    }), { numRuns: 12 });
  });
});

describe('bridge (the CNI reference plugin with host-local)', () => {
  it('one node: the pods reach each other and the node reaches them; the config has the reference shape', () => {
    const sim = createSimulator({ cni: bridge(), nodes: [{ name: 'node-1' }], pods: [{ name: 'a', node: 'node-1' }, { name: 'b', node: 'node-1' }] });
    expect(sim.check()).toEqual({ ok: true, violations: [] });
    expect(ipRoute(sim.state, 'pod/default/a')).toEqual(['default via 10.244.0.1 dev eth0', '10.244.0.0/24 dev eth0 proto kernel scope link src 10.244.0.2']);
    const conf = JSON.parse(bridge().cniConfig!(sim.state, sim.node('node-1'))['10-mynet.conf']!) as Record<string, unknown>;
    expect(conf).toMatchObject({ cniVersion: '1.0.0', type: 'bridge', bridge: 'cni0', isGateway: true, ipMasq: false, ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.0.0/24' }]] } });
    // The reference bridge-host-local.conf's shape (keys and types), plus isGateway; one range of one
    // subnet, and no IPAM routes: its `{"dst": "0.0.0.0/0"}` beside isDefaultGateway fails the real
    // plugin's ADD (bridge.test.ts).
    const { routes: _routes, ...refIpam } = (reference('bridge-host-local.conf') as { ipam: Record<string, unknown> }).ipam;
    expect(shape(conf)).toEqual(shape({ ...reference('bridge-host-local.conf'), isGateway: true, ipam: { ...refIpam, ranges: [[{ subnet: '' }]] } }));
    expect(sim.node('node-1').host.sysctl.ipForward).toBe(true);
  });

  it('property: one node with pods added and deleted keeps every guarantee', () => {
    fc.assert(fc.property(fc.array(fc.record({ add: fc.boolean(), pod: fc.nat(6) }), { maxLength: 12 }), fc.boolean(), (ops, ipMasq) => {
      const sim = createSimulator({ cni: bridge({ ipMasq }), nodes: [{ name: 'node-1' }] });
      for (const o of ops) {
        const name = `p${o.pod}`;
        if (o.add && !sim.has(name)) sim.addPod({ name, node: 'node-1' });
        else if (!o.add && sim.has(name)) sim.deletePod(name);
      }
      expect(sim.violations).toEqual([]);
      expect(sim.check().ok).toBe(true);
      // ipMasq: a chain of two rules and POSTROUTING's jump to it per running pod, none left behind by deleted ones.
      expect(sim.node('node-1').host.rules.length).toBe(ipMasq ? 3 * sim.pods().length : 0);
      expect(sim.node('node-1').host.nfChains.length).toBe(ipMasq ? sim.pods().length : 0);
    }), { numRuns: 15 });
  });

  it('two nodes: nothing routes between them, and the guarantees say which pairs cannot talk', () => {
    const sim = twoNodes(bridge());
    const v = sim.check();
    expect(v.ok).toBe(false);
    // a, b on node-1; c, d on node-2: the 8 cross-node pairs, nothing else.
    expect(v.violations.map((x) => `${x.where.from}>${x.where.to}`).sort()).toEqual([
      'default/a>default/c', 'default/a>default/d', 'default/b>default/c', 'default/b>default/d',
      'default/c>default/a', 'default/c>default/b', 'default/d>default/a', 'default/d>default/b',
    ]);
    expect(v.violations[0]!.explanation).toMatch(/^pod default\/a cannot reach pod default\/c \(10\.244\.1\.2\): the request ended as noRoute at underlay \(no route to 10\.244\.1\.2 in underlay\)/);
  });

  it('ipMasq adds per-pod masquerade rules on ADD and removes them on DEL; another bridge name is used', () => {
    const sim = createSimulator({ cni: bridge({ ipMasq: true, bridge: 'mynet0' }), nodes: [{ name: 'node-1' }], pods: [{ name: 'a', node: 'node-1' }] });
    const host = () => sim.node('node-1').host;
    expect(host().links['mynet0']?.kind).toBe('bridge');
    // The pod's own CNI-… chain ACCEPTs its subnet and masquerades the rest; POSTROUTING jumps there for its address.
    expect(host().rules.map((r) => r.target)).toEqual(['ACCEPT', 'MASQUERADE', 'JUMP']);
    // pod → outside is masqueraded to the node's address: the underlay router answers the node, which
    // forwards the reply to the pod (TTL 64 − 1).
    expect(sim.ping('a', '192.168.1.1').lines[1]).toBe('64 bytes from 192.168.1.1: icmp_seq=1 ttl=63');
    expect(sim.ping('a', '192.168.1.1').traces[0]!.steps.some((s) => s.kind === 'nat' && /MASQUERADE: source 10\.244\.0\.2 → 192\.168\.1\.11/.test(s.note))).toBe(true);
    sim.deletePod('a');
    expect(host().rules).toEqual([]);
    expect(() => bridge({ bridge: 'a/b' })).toThrow(expect.objectContaining({ code: 'INVALID_IFNAME' }));
    expect(() => bridge({ mtu: 10 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('broken designs: each is caught, with an explanation a student can act on', () => {
  const working = twoNodes(flannel());
  it('the corresponding working designs keep every guarantee on the same cluster', () => {
    expect(working.check()).toEqual({ ok: true, violations: [] });
    expect(twoNodes(flannel({ backend: 'host-gw' })).check()).toEqual({ ok: true, violations: [] });
  });

  it('masquerade: pod-to-pod across nodes is SNATed to the node\'s flannel.1 address', () => {
    const v = twoNodes(broken.masquerade()).check();
    expect(v.ok).toBe(false);
    expect(v.violations.every((x) => x.guarantee === 'no-nat')).toBe(true);
    const ac = v.violations.find((x) => x.where.from === 'default/a' && x.where.to === 'default/c')!;
    expect(ac.explanation).toBe('a packet from pod IP 10.244.0.2 to pod IP 10.244.1.2 carries source 10.244.0.0 at node/node-1 flannel.1: its source was rewritten (NAT), so the receiver cannot see who sent it');
    // Same-node pairs are bridged, never routed, but bridged frames pass iptables (br_netfilter,
    // net.bridge.bridge-nf-call-iptables = 1 on Kubernetes nodes): the MASQUERADE rewrites them to cni0's
    // address (measured in namespaces: the other pod saw the echo request from 10.244.1.1; docs/kernel-oracle.md).
    const ab = v.violations.find((x) => x.where.from === 'default/a' && x.where.to === 'default/b')!;
    expect(ab.explanation).toBe('a packet from pod IP 10.244.0.2 to pod IP 10.244.0.3 carries source 10.244.0.1 at node/node-1 cni0: its source was rewritten (NAT), so the receiver cannot see who sent it');
  });

  it('overlappingIpam: both nodes hand out 10.244.0.2 and 10.244.0.3 (and both cni0s are 10.244.0.1)', () => {
    const sim = twoNodes(broken.overlappingIpam());
    expect(sim.pods().map((p) => p.ip)).toEqual([0x0af40002, 0x0af40003, 0x0af40002, 0x0af40003]);
    const v = sim.check().violations;
    // The addresses themselves (the probes also report, hop by hop, packets delivered to a duplicate).
    const unique = v.filter((x) => x.key.startsWith('unique-ip|')).map((x) => x.explanation);
    expect(v.some((x) => x.guarantee === 'unique-ip' && /this packet was delivered in pod\/default\/a, which may not be the pod its sender meant/.test(x.explanation))).toBe(true);
    expect(unique).toEqual([
      '10.244.0.1 is assigned 2 times (node/node-1 cni0, node/node-2 cni0): every pod needs an IP no other pod or host uses, or packets for it reach the wrong place',
      '10.244.0.2 is assigned 2 times (pod default/a, pod default/c): every pod needs an IP no other pod or host uses, or packets for it reach the wrong place',
      '10.244.0.3 is assigned 2 times (pod default/b, pod default/d): every pod needs an IP no other pod or host uses, or packets for it reach the wrong place',
    ]);
  });

  it('missingRoutes: every cross-node pair dies at the underlay router, which the node\'s default route led to', () => {
    const sim = twoNodes(broken.missingRoutes());
    expect(ipRoute(sim.state, 'node/node-1')).toEqual([
      'default via 192.168.1.1 dev eth0',
      '10.244.0.0/24 dev cni0 proto kernel scope link src 10.244.0.1',
      '192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.11',
    ]);
    const v = sim.check();
    expect(v.violations).toHaveLength(8);
    expect(v.violations.find((x) => x.where.from === 'default/a' && x.where.to === 'default/c')!.explanation)
      .toBe('pod default/a cannot reach pod default/c (10.244.1.2): the request ended as noRoute at underlay (no route to 10.244.1.2 in underlay); node/node-1 routed it by `default via 192.168.1.1 dev eth0`');
  });

  it('mtuMismatch: the guarantees pass (small probes), a full-size DF packet to another node dies at flannel.1', () => {
    const sim = twoNodes(broken.mtuMismatch());
    expect(sim.pod('a').netns!.links['eth0']!.mtu).toBe(1500);
    expect(sim.node('node-1').host.links['flannel.1']!.mtu).toBe(1450);
    expect(sim.check().ok).toBe(true);
    const first = sim.ping('a', '10.244.1.2', { size: 1472 });
    expect(first.traces[0]!.disposition).toBe('fragmentationNeeded');
    expect(first.lines[1]).toBe('From 10.244.0.1 icmp_seq=1 Frag needed and DF set (mtu = 1450)');
    expect(sim.ping('a', '10.244.1.2', { size: 1472 }).lines[1]).toBe('ping: local error: message too long, mtu=1450');
    // The working design gives pods 1450: the same ping fails before leaving the pod, as it should.
    expect(working.ping('a', '10.244.1.2', { size: 1422 }).ok).toBe(true);
    // Same node: bridged, both ends 1500: fine.
    expect(sim.ping('a', '10.244.0.3', { size: 1472 }).ok).toBe(true);
  });

  it('each is reachable from the JSON spec, and an unknown one is refused', () => {
    for (const mistake of ['masquerade', 'overlappingIpam', 'missingRoutes', 'mtuMismatch'] as const) {
      expect(simulatorFromSpec({ cni: { type: 'broken', mistake }, nodes: [], pods: [] }).design.name).toMatch(/^broken-/);
    }
    try {
      simulatorFromSpec({ cni: { type: 'broken', mistake: 'nope' as 'masquerade' }, nodes: [], pods: [] });
      expect.unreachable();
    } catch (e) {
      expect(isPodnetError(e, 'INVALID_ARGUMENT')).toBe(true);
    }
  });
});
