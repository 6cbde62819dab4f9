import { createHash } from 'node:crypto';
import { allRoutes, createSimulator, formatIpv4, ipRoute, isPodnetError, shardValues, type Simulator } from '@podnet/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { simulatorFromSpec, type ClusterSpecJson } from '../spec.js';
import { calico, calicoBgpPeers, calicoBlocks, calicoNodeStatus, calicoVethName, type CalicoOptions } from './calico.js';

const TWO_RACKS = { segments: [{ name: 'rack-a', cidr: '192.168.1.0/24', gateway: '192.168.1.1' }, { name: 'rack-b', cidr: '192.168.2.0/24', gateway: '192.168.2.1' }] };

function cluster(options: CalicoOptions, extra: Partial<ClusterSpecJson> = {}): Simulator {
  return simulatorFromSpec({
    podCidr: '10.244.0.0/16',
    cni: { type: 'calico', ...options },
    nodes: [{ name: 'node-1', ip: '192.168.1.11' }, { name: 'node-2', ip: '192.168.1.12' }],
    pods: [{ name: 'web', node: 'node-1' }, { name: 'db', node: 'node-2' }],
    ...extra,
  });
}

describe('calico per pod (the calico CNI plugin)', () => {
  it('names the host veth cali + the first 11 hex digits of sha1("<namespace>.<pod>")', () => {
    const sha = createHash('sha1').update('default.web').digest('hex');
    expect(calicoVethName('default', 'web')).toBe(`cali${sha.slice(0, 11)}`);
    expect(calicoVethName('kube-system', 'coredns-5d78c9869d-x7k2p')).toHaveLength(15);
  });

  it('wires the pod as the plugin does: <ip>/32, 169.254.1.1 scope link, default via it; host veth ee:ee:ee:ee:ee:ee with proxy_arp and a /32 route', () => {
    const sim = cluster({ encapsulation: 'none' });
    const pod = sim.pod('web');
    const veth = calicoVethName('default', 'web');
    expect(ipRoute(sim.state, 'pod/default/web')).toEqual(['default via 169.254.1.1 dev eth0', '169.254.1.1 dev eth0 scope link']);
    expect(pod.netns!.links['eth0']!.addrs).toEqual([{ ip: pod.ip, len: 32, scope: 'global' }]);
    const host = sim.node('node-1').host;
    expect(host.links[veth]).toMatchObject({ kind: 'veth', mac: 'ee:ee:ee:ee:ee:ee', addrs: [], up: true });
    expect(host.sysctl.proxyArp[veth]).toBe(true);
    expect(ipRoute(sim.state, 'node/node-1')).toContain(`${formatIpv4(pod.ip!)} dev ${veth} scope link`);
    // The pod's first packet resolves 169.254.1.1, which nobody owns: the host veth answers by proxy ARP.
    expect(sim.ping('web', formatIpv4(sim.pod('db').ip!)).ok).toBe(true);
    const gw = Object.values(sim.pod('web').netns!.neigh).find((n) => formatIpv4(n.ip) === '169.254.1.1');
    expect(gw?.mac).toBe('ee:ee:ee:ee:ee:ee');
  });

  it.each([['none', 1500], ['ipip', 1480], ['vxlan', 1450]] as const)('%s: pod MTU %i (underlay MTU minus the encapsulation)', (encapsulation, mtu) => {
    const sim = cluster({ encapsulation });
    expect(sim.pod('web').netns!.links['eth0']!.mtu).toBe(mtu);
    expect(sim.node('node-1').host.links[calicoVethName('default', 'web')]!.mtu).toBe(mtu);
  });

  it('deleting a pod removes its veth and host route; its affine block stays claimed, empty', () => {
    const sim = cluster({ encapsulation: 'none' });
    const ip = formatIpv4(sim.pod('web').ip!);
    sim.deletePod('web');
    expect(sim.node('node-1').host.links[calicoVethName('default', 'web')]).toBeUndefined();
    expect(ipRoute(sim.state, 'node/node-1').some((l) => l.startsWith(`${ip} `))).toBe(false);
    expect(calicoBlocks(sim.state).find((b) => b.affinity === 'node-1')).toMatchObject({ cidr: '10.244.0.0/26', inUse: 0 });
    expect(ipRoute(sim.state, 'node/node-2')).toContain('10.244.0.0/26 via 192.168.1.11 dev eth0 proto bird');
  });
});

describe('calico-ipam', () => {
  it('encapsulation none: a node claims its first /26 block at its first pod, not when it joins', () => {
    const sim = cluster({ encapsulation: 'none' }, { nodes: [{ name: 'node-1' }, { name: 'node-2' }, { name: 'node-3' }], pods: [{ name: 'a', node: 'node-3' }] });
    expect(calicoBlocks(sim.state)).toEqual([{ cidr: '10.244.0.0/26', affinity: 'node-3', inUse: 1, size: 64 }]);
    expect(formatIpv4(sim.pod('a').ip!)).toBe('10.244.0.0');
    // A pod's address has nothing to do with the Kubernetes node podCIDR (calico ignores it).
    expect(sim.node('node-3').podCidr).not.toBeNull();
  });

  it('IPIP and VXLAN: calico-node claims a block at start for the tunnel device address (the block\'s first)', () => {
    for (const [encapsulation, dev] of [['ipip', 'tunl0'], ['vxlan', 'vxlan.calico']] as const) {
      const sim = cluster({ encapsulation }, { pods: [] });
      expect(sim.node('node-2').host.links[dev]!.addrs.map((a) => `${formatIpv4(a.ip)}/${a.len}`)).toEqual(['10.244.0.64/32']);
      expect(calicoBlocks(sim.state).map((b) => [b.cidr, b.affinity, b.inUse])).toEqual([['10.244.0.0/26', 'node-1', 1], ['10.244.0.64/26', 'node-2', 1]]);
    }
    const vx = cluster({ encapsulation: 'vxlan' }, { pods: [] }).node('node-1').host.links['vxlan.calico']!;
    expect(vx).toMatchObject({ kind: 'vxlan', vni: 4096, dstPort: 4789, mtu: 1450, learning: false });
  });

  it('a full block makes the node claim the next free one, with its own blackhole', () => {
    const pods = Array.from({ length: 5 }, (_, i) => ({ name: `p${i}`, node: 'node-1' }));
    const sim = cluster({ encapsulation: 'none', blockSize: 30 }, { pods });
    expect(calicoBlocks(sim.state).map((b) => [b.cidr, b.affinity, b.inUse])).toEqual([['10.244.0.0/30', 'node-1', 4], ['10.244.0.4/30', 'node-1', 1]]);
    expect(ipRoute(sim.state, 'node/node-1').filter((l) => l.startsWith('blackhole'))).toEqual(['blackhole 10.244.0.0/30 proto bird', 'blackhole 10.244.0.4/30 proto bird']);
    expect(ipRoute(sim.state, 'node/node-2')).toEqual(expect.arrayContaining(['10.244.0.0/30 via 192.168.1.11 dev eth0 proto bird', '10.244.0.4/30 via 192.168.1.11 dev eth0 proto bird']));
  });

  it('an exhausted pool: the node borrows from another node\'s block and advertises a /32 for it', () => {
    // Pool 10.244.0.0/29 in /30 blocks: two blocks. node-1 takes both; node-2 must borrow.
    const sim = simulatorFromSpec({
      podCidr: '10.244.0.0/29', nodeCidrMaskSize: 30, cni: { type: 'calico', encapsulation: 'none', blockSize: 30 },
      nodes: [{ name: 'node-1', ip: '192.168.1.11' }, { name: 'node-2', ip: '192.168.1.12' }],
      pods: [{ name: 'a', node: 'node-1' }, { name: 'b', node: 'node-1' }, { name: 'c', node: 'node-1' }, { name: 'd', node: 'node-1' }, { name: 'e', node: 'node-1' }, { name: 'x', node: 'node-2' }],
    });
    const x = formatIpv4(sim.pod('x').ip!);
    expect(x).toBe('10.244.0.5');
    expect(calicoBlocks(sim.state).map((b) => b.affinity)).toEqual(['node-1', 'node-1']);
    expect(ipRoute(sim.state, 'node/node-1')).toContain(`${x} via 192.168.1.12 dev eth0 proto bird`);
    expect(ipRoute(sim.state, 'node/node-1')).toContain('blackhole 10.244.0.4/30 proto bird');
    expect(sim.ping('a', x).ok).toBe(true);
    expect(sim.check().ok).toBe(true);
    // Deleting the borrowed pod withdraws the /32.
    sim.deletePod('x');
    expect(ipRoute(sim.state, 'node/node-1').some((l) => l.startsWith(`${x} `))).toBe(false);
  });

  it('no free address anywhere: CNI ADD fails with calico-ipam\'s text; strictAffinity refuses to borrow', () => {
    const spec = (strictAffinity: boolean): ClusterSpecJson => ({
      podCidr: '10.244.0.0/29', nodeCidrMaskSize: 30, cni: { type: 'calico', encapsulation: 'none', blockSize: 30, strictAffinity },
      nodes: [{ name: 'node-1' }, { name: 'node-2' }],
      pods: Array.from({ length: 5 }, (_, i) => ({ name: `p${i}`, node: 'node-1' })),
    });
    const sim = simulatorFromSpec(spec(false));
    sim.addPod({ name: 'q0', node: 'node-2' });
    sim.addPod({ name: 'q1', node: 'node-2' });
    sim.addPod({ name: 'q2', node: 'node-2' });
    // The pod waits in ContainerCreating with the kubelet's event text around calico-ipam's error.
    const q3 = sim.addPod({ name: 'q3', node: 'node-2' });
    expect(q3.status.phase).toBe('ContainerCreating');
    expect(q3.status.message).toMatch(/plugin type="calico" name="k8s-pod-network" failed \(add\): failed to request IPv4 addresses: Assigned 0 out of 1 requested IPv4 addresses; No IPs available in pools: \[10\.244\.0\.0\/29\]/);
    expect(q3.ip).toBeNull();
    const strict = simulatorFromSpec(spec(true));
    expect(strict.addPod({ name: 'q0', node: 'node-2' }).status.message).toContain('No more free affine blocks and strict affinity enabled');
  });

  it('a requested address (cni.projectcalico.org/ipAddrs) must lie in the pool; it may come from another node\'s block', () => {
    const sim = cluster({ encapsulation: 'none' });
    expect(() => sim.addPod({ name: 'out', node: 'node-1', ip: '10.99.0.5' })).toThrow('The provided IP address is not in a configured pool');
    const p = sim.addPod({ name: 'pinned', node: 'node-1', ip: '10.244.0.70' });
    expect(formatIpv4(p.ip!)).toBe('10.244.0.70');
    expect(ipRoute(sim.state, 'node/node-2')).toContain('10.244.0.70 via 192.168.1.11 dev eth0 proto bird');
    expect(sim.ping('db', '10.244.0.70').ok).toBe(true);
  });

  it('a removed node gives its empty blocks back; the next node reuses the lowest', () => {
    const sim = cluster({ encapsulation: 'none' }, { pods: [{ name: 'a', node: 'node-1' }, { name: 'b', node: 'node-2' }] });
    sim.deletePod('a');
    sim.removeNode('node-1');
    expect(calicoBlocks(sim.state).map((b) => b.cidr)).toEqual(['10.244.0.64/26']);
    sim.addNode({ name: 'node-3', ip: '192.168.1.13' });
    sim.addPod({ name: 'c', node: 'node-3' });
    expect(formatIpv4(sim.pod('c').ip!)).toBe('10.244.0.0');
  });

  it('its queries refuse a cluster that does not run calico, or a node that does not exist', () => {
    const flannelSim = simulatorFromSpec({ cni: { type: 'flannel' }, nodes: [{ name: 'node-1' }], pods: [] });
    expect(() => calicoBlocks(flannelSim.state)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => calicoBgpPeers(cluster({ encapsulation: 'none' }).state, 'node-9')).toThrow(expect.objectContaining({ code: 'NODE_NOT_FOUND' }));
  });

  it('rejects options calico does not allow, with INVALID_ARGUMENT', () => {
    for (const o of [{ blockSize: 19 }, { blockSize: 33 }, { encapsulation: 'gre' }, { encapsulation: 'none', ipipMode: 'Always' }, { encapsulation: 'vxlan', bgp: {} }] as CalicoOptions[]) {
      expect(() => calico(o), JSON.stringify(o)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });
});

describe('calico routes on a node', () => {
  it('IPIP Always: every other node\'s block via its node IP on tunl0, onlink, proto bird', () => {
    const sim = cluster({ encapsulation: 'ipip' });
    expect(ipRoute(sim.state, 'node/node-1')).toEqual([
      'default via 192.168.1.1 dev eth0',
      'blackhole 10.244.0.0/26 proto bird',
      `10.244.0.1 dev ${calicoVethName('default', 'web')} scope link`,
      '10.244.0.64/26 via 192.168.1.12 dev tunl0 proto bird onlink',
      '192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.11',
    ]);
    const trace = sim.ping('web', '10.244.0.65').traces[0]!;
    expect(trace.steps.some((s) => s.kind === 'ipip-encap')).toBe(true);
  });

  it('IPIP CrossSubnet: a peer in the node\'s subnet gets a plain route, a peer elsewhere a tunl0 route', () => {
    const sim = cluster({ encapsulation: 'ipip', ipipMode: 'CrossSubnet' }, {
      underlay: TWO_RACKS,
      nodes: [{ name: 'node-1', ip: '192.168.1.11', segment: 'rack-a' }, { name: 'node-2', ip: '192.168.1.12', segment: 'rack-a' }, { name: 'node-3', ip: '192.168.2.13', segment: 'rack-b' }],
      pods: [{ name: 'a', node: 'node-1' }, { name: 'b', node: 'node-2' }, { name: 'c', node: 'node-3' }],
    });
    const r = ipRoute(sim.state, 'node/node-1');
    expect(r).toContain('10.244.0.64/26 via 192.168.1.12 dev eth0 proto bird');
    expect(r).toContain('10.244.0.128/26 via 192.168.2.13 dev tunl0 proto bird onlink');
    expect(ipRoute(sim.state, 'node/node-3')).toEqual(expect.arrayContaining(['10.244.0.0/26 via 192.168.1.11 dev tunl0 proto bird onlink', '10.244.0.64/26 via 192.168.1.12 dev tunl0 proto bird onlink']));
    expect(sim.check().ok).toBe(true);
  });

  it('VXLAN: felix\'s route, permanent neighbour and FDB entry per other node', () => {
    const sim = cluster({ encapsulation: 'vxlan' });
    expect(ipRoute(sim.state, 'node/node-1')).toContain('10.244.0.64/26 via 10.244.0.64 dev vxlan.calico proto 80 onlink');
    expect(ipRoute(sim.state, 'node/node-1')).toContain('blackhole 10.244.0.0/26 proto 80');
    const steps = sim.ping('web', '10.244.0.65').traces[0]!.steps;
    expect(steps.some((s) => s.kind === 'vxlan-encap' && /VNI 4096, UDP \d+ → 4789/.test(s.note))).toBe(true);
  });

  it('encapsulation none across two subnets without ToR peering: the next hop resolves to the gateway, which knows no pod route; the guarantees say so', () => {
    const spec = (peerWithUnderlay: boolean): ClusterSpecJson => ({
      podCidr: '10.244.0.0/16', underlay: TWO_RACKS,
      cni: { type: 'calico', encapsulation: 'none', bgp: { peerWithUnderlay } },
      nodes: [{ name: 'node-1', ip: '192.168.1.11', segment: 'rack-a' }, { name: 'node-3', ip: '192.168.2.13', segment: 'rack-b' }],
      pods: [{ name: 'a', node: 'node-1' }, { name: 'c', node: 'node-3' }],
    });
    const sim = simulatorFromSpec(spec(false));
    expect(ipRoute(sim.state, 'node/node-1')).toContain('10.244.0.64/26 via 192.168.1.1 dev eth0 proto bird');
    expect(ipRoute(sim.state, 'underlay').some((l) => l.startsWith('10.244.'))).toBe(false);
    const verdict = sim.check();
    expect(verdict.ok).toBe(false);
    expect(verdict.violations.some((v) => v.guarantee === 'no-nat' && v.where.from === 'default/a' && v.where.to === 'default/c')).toBe(true);
    const tor = simulatorFromSpec(spec(true));
    expect(ipRoute(tor.state, 'underlay')).toEqual(expect.arrayContaining(['10.244.0.0/26 via 192.168.1.11 dev rack-a proto bird', '10.244.0.64/26 via 192.168.2.13 dev rack-b proto bird']));
    expect(tor.check().ok).toBe(true);
  });
});

describe('peer sets with groups (what CrossSubnet and the recursive next hop use)', () => {
  it('a match needs the namespace\'s group; a bad one changes nothing', () => {
    const sim = cluster({ encapsulation: 'none' });
    const before = sim.state;
    expect(() => sim.apply({ op: 'peerset.attach', ns: 'node/node-1', set: 'calico', self: 'node-1', match: 'other' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => sim.apply({ op: 'peerset.attach', ns: 'node/node-1', set: 'calico', self: 'node-1', group: 'rack-a', match: 'both' as 'same' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => sim.apply({ op: 'peerset.attach', ns: 'node/node-1', set: 'calico', self: 'node-1', via: '192.168.1.300' })).toThrow(expect.objectContaining({ code: 'INVALID_IP' }));
    expect(sim.state).toBe(before);
  });

  it('deleting a shared route on one node hides it there only, as ip route del would', () => {
    const sim = cluster({ encapsulation: 'none' });
    sim.apply({ op: 'route.del', ns: 'node/node-1', dst: '10.244.0.64/26' });
    expect(ipRoute(sim.state, 'node/node-1').some((l) => l.startsWith('10.244.0.64/26'))).toBe(false);
    expect(sim.ping('web', formatIpv4(sim.pod('db').ip!)).ok).toBe(false);
    expect(ipRoute(sim.state, 'node/node-2')).toContain('10.244.0.0/26 via 192.168.1.11 dev eth0 proto bird');
  });
});

describe('calico BGP sessions', () => {
  const nodes = [{ name: 'node-1', ip: '192.168.1.11' }, { name: 'node-2', ip: '192.168.1.12' }, { name: 'node-3', ip: '192.168.1.13' }, { name: 'node-4', ip: '192.168.1.14' }];

  it('full mesh: every node peers with every other; route reflectors: clients peer only with the reflectors; the routes are the same', () => {
    const mesh = cluster({ encapsulation: 'ipip' }, { nodes, pods: [] });
    const rr = cluster({ encapsulation: 'ipip', bgp: { routeReflectors: ['node-1'] } }, { nodes, pods: [] });
    expect(calicoBgpPeers(mesh.state, 'node-3').map((p) => [p.address, p.type])).toEqual([['192.168.1.11', 'node-to-node mesh'], ['192.168.1.12', 'node-to-node mesh'], ['192.168.1.14', 'node-to-node mesh']]);
    expect(calicoBgpPeers(rr.state, 'node-3').map((p) => [p.address, p.type])).toEqual([['192.168.1.11', 'global']]);
    expect(calicoBgpPeers(rr.state, 'node-1')).toHaveLength(3);
    for (const n of ['node-1', 'node-2', 'node-3', 'node-4']) expect(ipRoute(rr.state, `node/${n}`)).toEqual(ipRoute(mesh.state, `node/${n}`));
    expect(calicoNodeStatus(mesh.state, 'node-1')).toContain('| 192.168.1.12 | node-to-node mesh | up    | 00:00:00 | Established |');
    expect(calicoNodeStatus(cluster({ encapsulation: 'vxlan' }).state, 'node-1')).toContain('No IPv4 peers found.');
  });
});

describe('calico at scale', () => {
  it('200 nodes store one shared entry each, not 199 routes per node', () => {
    const nodes = Array.from({ length: 200 }, (_, i) => ({ name: `n${i}` }));
    const sim = simulatorFromSpec({ podCidr: '10.0.0.0/12', nodeCidrMaskSize: 24, underlay: { segments: [{ name: 'rack-a', cidr: '192.168.0.0/16', gateway: '192.168.0.1' }] }, cni: { type: 'calico', encapsulation: 'ipip' }, nodes, pods: [{ name: 'a', node: 'n0' }, { name: 'b', node: 'n199' }] });
    let stored = 0;
    for (const n of shardValues(sim.state.nodes)) stored += n.host.routes.length;
    // Each node stores its own blackhole and default route (and a pod route on two nodes): O(N).
    expect(stored).toBeLessThanOrEqual(2 * 200 + 2);
    const set = sim.state.peerSets['calico-ipip']!;
    expect([...shardValues(set.entries)]).toHaveLength(200);
    // Yet every node renders a route to each of the 199 others.
    expect(allRoutes(sim.state, sim.node('n7').host).filter((r) => r.dev === 'tunl0')).toHaveLength(199);
    expect(sim.ping('a', formatIpv4(sim.pod('b').ip!)).ok).toBe(true);
  });
});

describe('calico guarantees on generated clusters (fast-check)', () => {
  type Op = { t: 'add'; pod: number; node: number } | { t: 'del'; pod: number };
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 8, arbitrary: fc.record({ t: fc.constant('add' as const), pod: fc.integer({ min: 0, max: 59 }), node: fc.integer({ min: 0, max: 7 }) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('del' as const), pod: fc.integer({ min: 0, max: 59 }) }) },
  );

  it.each(['none', 'ipip', 'vxlan'] as const)('%s: pods added and deleted, blocks filled and borrowed — every guarantee holds and IPAM accounts for every address', (encapsulation) => {
    const seen = { secondBlock: 0, borrowed: 0 };
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(opArb, { minLength: 1, maxLength: 100, size: 'max' }), (nodeCount, ops) => {
        // A /27 pool in /31 blocks: 16 blocks of 2, so second blocks, borrowing and exhaustion happen often.
        const sim = createSimulator({ podCidr: '10.244.0.0/27', nodeCidrMaskSize: 30, cni: calico({ encapsulation, blockSize: 31 }), checks: 'off' });
        for (let i = 0; i < nodeCount; i++) sim.addNode({ name: `node-${i}` });
        const owner = (ip: number) => calicoBlocks(sim.state).find((b) => {
          const [a, l] = b.cidr.split('/');
          const base = a!.split('.').reduce((x, o) => x * 256 + Number(o), 0);
          return ip >= base && ip < base + 2 ** (32 - Number(l));
        })!.affinity;
        for (const op of ops) {
          try {
            if (op.t === 'add') {
              const p = sim.addPod({ name: `pod-${op.pod}`, node: `node-${op.node % nodeCount}` });
              // An exhausted pool leaves the pod waiting for its sandbox, with calico-ipam's error.
              if (p.status.phase !== 'Running') expect(p.status.message).toContain('No IPs available in pools: [10.244.0.0/27]');
              else if (owner(p.ip!) !== p.node) seen.borrowed++;
            } else sim.deletePod(`pod-${op.pod}`);
          } catch (e) {
            if (!isPodnetError(e)) throw e;
            // Only an exhausted pool or a name clash / missing pod may refuse.
            expect(['CNI_FAILED', 'DUPLICATE_NAME', 'POD_NOT_FOUND']).toContain(e.code);
            if (e.code === 'CNI_FAILED') expect(e.message).toContain('No IPs available in pools: [10.244.0.0/27]');
          }
        }
        const verdict = sim.check();
        expect(verdict.violations).toEqual([]);
        const pods = sim.pods().filter((p) => p.status.phase === 'Running');
        const tunnels = encapsulation === 'none' ? 0 : nodeCount;
        expect(calicoBlocks(sim.state).reduce((s, b) => s + b.inUse, 0)).toBe(pods.length + tunnels);
        expect(new Set(pods.map((p) => p.ip)).size).toBe(pods.length);
        const blocks = calicoBlocks(sim.state);
        if (new Set(blocks.map((b) => b.affinity)).size < blocks.length) seen.secondBlock++;
      }),
      { numRuns: 12, seed: 42 },
    );
    // The generated clusters did exercise what they are meant to (fixed seed: a changed generator shows here).
    expect(seen.borrowed).toBeGreaterThan(0);
    expect(seen.secondBlock).toBeGreaterThan(0);
  });
});

describe('calico-node keeps what it programs as the clock runs (BIRD every 2 s, felix every 90 s)', () => {
  const seed = (encapsulation: 'ipip' | 'none' | 'vxlan') => simulatorFromSpec({
    podCidr: '10.244.0.0/16', cni: { type: 'calico', encapsulation },
    nodes: [{ name: 'node-1' }, { name: 'node-2' }], pods: [{ name: 'a', node: 'node-1' }, { name: 'b', node: 'node-2' }],
  } as ClusterSpecJson);
  const peerRoute = (sim: Simulator) => ipRoute(sim.state, 'node/node-1').find((l) => l.includes(' via ') && !l.startsWith('default'))!;
  const del = (sim: Simulator, line: string) => {
    const [dst] = line.split(' ');
    sim.apply({ op: 'route.del', ns: 'node/node-1', dst: dst!, via: line.match(/via (\S+)/)![1]!, dev: line.match(/dev (\S+)/)![1]!, ...(line.includes('onlink') ? { onlink: true } : {}) });
  };

  it('BIRD installs again within 2 s a peer\'s block route and the node\'s blackhole deleted by hand; felix the workload route within 90 s', () => {
    const sim = seed('ipip');
    const routes = ipRoute(sim.state, 'node/node-1');
    del(sim, peerRoute(sim));
    const hole = routes.find((l) => l.startsWith('blackhole'))!.split(' ')[1]!;
    sim.apply({ op: 'route.del', ns: 'node/node-1', dst: hole, type: 'blackhole' });
    const a = sim.pod('a');
    sim.apply({ op: 'route.del', ns: 'node/node-1', dst: `${formatIpv4(a.ip!)}/32`, dev: calicoVethName('default', 'a') });
    expect(sim.ping('b', formatIpv4(a.ip!)).ok).toBe(false);
    sim.advance(1_999);
    expect(ipRoute(sim.state, 'node/node-1')).not.toContain(routes.find((l) => l.startsWith('blackhole'))!);
    sim.advance(1);
    const missing = () => routes.filter((l) => !ipRoute(sim.state, 'node/node-1').includes(l));
    expect(missing()).toEqual([`${formatIpv4(a.ip!)} dev ${calicoVethName('default', 'a')} scope link`]);
    sim.advance(88_000);
    expect(missing()).toEqual([]);
    expect(sim.ping('b', formatIpv4(a.ip!)).ok).toBe(true);
    expect(sim.check().ok).toBe(true);
  });

  it('with VXLAN (no BIRD) felix puts the peer route back at its 90 s refresh, not at 2 s; a route holding the prefix is left alone', () => {
    const sim = seed('vxlan');
    const line = peerRoute(sim);
    del(sim, line);
    sim.advance(2_000);
    expect(ipRoute(sim.state, 'node/node-1')).not.toContain(line);
    sim.advance(88_000);
    expect(ipRoute(sim.state, 'node/node-1')).toContain(line);
    const other = seed('none');
    const taken = peerRoute(other);
    other.apply({ op: 'route.replace', ns: 'node/node-1', dst: taken.split(' ')[0]!, dev: 'eth0' });
    other.advance(90_000);
    expect(ipRoute(other.state, 'node/node-1')).not.toContain(taken);
  });
});
