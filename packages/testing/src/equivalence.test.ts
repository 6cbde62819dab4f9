/**
 * The checks the levels rest on, held to a full audit after every event of generated sequences — every
 * kind of event, faults and packets included (what traffic teaches ARP and FDB tables is a change too), on
 * designs that route, tunnel and use a cloud fabric:
 * - `every-change`: the simulator's incremental verdict equals `audit` of the same state;
 * - `at-end`: the unique-IP verdict kept after each change (`uniqueCheck`) equals the audit's.
 * Each was seen to fail with the re-audit of global changes (`diffScope(…).global`) switched off, and with
 * it switched off for node joins alone; `every-change` also fails (five designs) when a change of the
 * router's neighbours alone (`routerNeigh`, which the sequences make: a wrong MAC for a node, and back)
 * does not re-probe the pairs whose packets crossed the router.
 *
 * And the fast-path audit (probes decided without recording, transit nodes from the engine's note of the
 * namespaces visited) gives the verdict and memory of an audit that records every probe.
 */
import { awsVpc, broken, calico, cilium, flannel } from '@podnet/cni';
import {
  audit, buildClusterState, cidrContains, createSimulator, diffScope, formatIpv4, icmpEcho, incrementalCheck, isPodnetError, listNodes, locateNs, send, shardGet, shardKeys, shardValues,
  type Action, type CheckRun, type ClusterState, type CniDesign, type NetNs, type Node, type PeerEntry, type Shards,
} from '@podnet/core';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterEventArb, clusterShapeArb, type ClusterEvent, type ShapeOptions } from './events.js';
import { ClusterRun, DesignFailure } from './runner.js';

/**
 * flannel host-gw whose leases all claim the whole pod CIDR (a /16 where each node's /24 belongs): a node
 * that joins can take over the route to pods of nodes it has nothing to do with — a change only a
 * re-check of every pair (the scope of a peer-set change) sees.
 */
function wideLeases(): CniDesign {
  const f = flannel({ backend: 'host-gw' });
  const widen = (a: Action): Action => (a.op === 'peerset.put' ? { ...a, routes: a.routes.map((r) => ({ ...r, dst: r.dst.replace(/\.\d+\.0\/\d+$/, '.0.0/16') })) } : a);
  return { ...f, name: 'flannel-wide-leases', nodeAdded: (s, n) => { const r = f.nodeAdded(s, n); return { ...r, actions: r.actions.map(widen) }; } };
}

/**
 * flannel host-gw where the third node to join, and each after it, drops the lease of the oldest node (a
 * subnet registry that keeps two leases): two nodes that were talking stop when a third joins — a join that
 * breaks pairs it has no endpoint in.
 */
function joinDropsOldestLease(): CniDesign {
  return hostGwJoining('flannel-join-drops-oldest-lease', (actions, others) => (others.length >= 2 ? [...actions, { op: 'peerset.del', set: 'flannel', owner: others[0]!.name }] : [...actions]));
}

/**
 * flannel host-gw where every node but the first to join reaches other nodes' pods through the first (a
 * hub that forwards): pod pairs between two other nodes pass, through a third node — pairs whose transit
 * the fast-path audit takes from the engine's note of namespaces visited.
 */
function hubAndSpoke(): CniDesign {
  // Without flanneld's MASQUERADE rules: FLANNEL-POSTRTG RETURNs only traffic from or to the node's own lease,
  // so it would masquerade what the hub forwards between other nodes' pods, as on a real hub. (flanneld without
  // --ip-masq is no way out: flannel's CNI plugin then has the bridge plugin masquerade the pods' traffic.)
  const masquerade = (a: Action): boolean => a.op === 'rule.append' && a.rule.chain === 'FLANNEL-POSTRTG' && a.rule.target === 'MASQUERADE';
  return flannelJoining('host-gw', 'flannel-hub-and-spoke', (actions, others) => actions.filter((a) => !masquerade(a)).map((a) => (a.op === 'peerset.attach' && others[0] ? { ...a, via: formatIpv4(others[0].ip) } : a)));
}

/**
 * flannel host-gw whose joining node's lease also claims the first pod of the oldest node (a /32 in its
 * entry, more specific than that node's /24): the join takes over pairs it has no endpoint in — what the
 * scope of a join must see through its peer entry's routes (guarantees/scope.ts), not through its owner.
 */
function joinClaimsAPod(): CniDesign {
  return hostGwJoining('flannel-join-claims-a-pod', (actions, others) => {
    const pod = others.flatMap((o) => Object.values(o.pods)).find((p) => p.ip !== null);
    if (!pod) return [...actions];
    return actions.map((a) => (a.op === 'peerset.put' && a.routes[0] ? { ...a, routes: [...a.routes, { ...a.routes[0], dst: `${formatIpv4(pod.ip!)}/32` }] } : a));
  });
}

/**
 * flannel VXLAN whose joining node's entry also answers for the oldest node's VTEP address (flannel.1's
 * .0) with its own MAC, from the third node on: the other nodes' packets for the oldest node's pods go to
 * the newcomer — a join that changes a neighbour lookup of paths it has no endpoint in.
 */
function joinClaimsANeighbour(): CniDesign {
  // From the third node on, so that the pairs it breaks were passing before it joined.
  return flannelJoining('vxlan', 'flannel-join-claims-a-neighbour', (actions, others) => {
    const oldest = others[0];
    if (others.length < 2 || !oldest?.podCidr) return [...actions];
    return actions.map((a) => (a.op === 'peerset.put' && a.neigh[0] ? { ...a, neigh: [...a.neigh, { ip: formatIpv4(oldest.podCidr!.addr), mac: a.neigh[0].mac }] } : a));
  });
}

/**
 * flannel VXLAN whose joining node's entry, from the third node on, also sends the oldest node's flannel.1
 * MAC to the newcomer's VTEP: an FDB entry that changes where the other nodes' frames for the oldest node
 * go — a join reaching paths it has no endpoint in through a MAC.
 */
function joinClaimsAMac(): CniDesign {
  return flannelJoining('vxlan', 'flannel-join-claims-a-mac', (actions, others) => {
    const mac = others[0]?.host.links['flannel.1']?.mac;
    if (others.length < 2 || mac === undefined) return [...actions];
    return actions.map((a) => (a.op === 'peerset.put' && a.fdb[0] ? { ...a, fdb: [{ mac, dst: a.fdb[0].dst }, ...a.fdb] } : a));
  });
}

/**
 * flannel VXLAN whose ADD, from a node's second pod on, also routes the address of the node's first pod through
 * the new pod's veth (`ip route replace <first>/32 dev <veth>` in the host): the node's packets for the first pod go
 * to the newcomer — an addition that reaches pairs of pods that were there, which the scope of a pod's arrival
 * (guarantees/scope.ts arrivedPods) must not take for one that only brought a pod.
 */
function addClaimsAPod(): CniDesign {
  const f = flannel({ backend: 'vxlan' });
  return {
    ...f, name: 'flannel-add-claims-a-pod',
    podAdded: (s, req) => {
      const r = f.podAdded(s, req);
      const first = Object.values(req.node.pods).filter((p) => p.ip !== null && p.key !== req.pod.key).sort((x, y) => x.created - y.created || (x.key < y.key ? -1 : 1))[0];
      const veth = r.actions.find((a) => a.op === 'link.add' && a.kind === 'veth' && a.ns === req.node.host.id);
      if (!('actions' in r) || first === undefined || veth === undefined || veth.op !== 'link.add') return r;
      return { ...r, actions: [...r.actions, { op: 'route.replace', ns: req.node.host.id, dst: `${formatIpv4(first.ip!)}/32`, dev: veth.name }] };
    },
  };
}

/** flannel host-gw whose reaction to a join is edited, given the other nodes, oldest first. */
function hostGwJoining(name: string, edit: (actions: readonly Action[], others: readonly Node[]) => Action[]): CniDesign {
  return flannelJoining('host-gw', name, edit);
}

/** flannel whose reaction to a join is edited, given the other nodes, oldest first. */
function flannelJoining(backend: 'host-gw' | 'vxlan', name: string, edit: (actions: readonly Action[], others: readonly Node[]) => Action[]): CniDesign {
  const f = flannel({ backend });
  return {
    ...f, name,
    nodeAdded: (s, n) => {
      const r = f.nodeAdded(s, n);
      const others = listNodes(s).filter((o) => o.name !== n.name).sort((a, b) => a.created - b.created || (a.name < b.name ? -1 : 1));
      return { ...r, actions: edit(r.actions, others) };
    },
  };
}

const DESIGNS: [string, () => CniDesign, ShapeOptions][] = [
  ['broken: wide leases', wideLeases, { segments: 1 }],
  ['broken: a join drops the oldest lease', joinDropsOldestLease, { segments: 1 }],
  ['broken: a join claims a pod', joinClaimsAPod, { segments: 1 }],
  ['broken: a join claims a neighbour', joinClaimsANeighbour, {}],
  ['broken: a join claims a MAC', joinClaimsAMac, {}],
  ['broken: an ADD claims a pod', addClaimsAPod, {}],
  ['broken: masquerade', broken.masquerade, {}],
  ['broken: overlapping IPAM', broken.overlappingIpam, {}],
  ['broken: missing routes', broken.missingRoutes, { segments: 1 }],
  ['flannel hub and spoke', hubAndSpoke, { segments: 1 }],
  ['flannel vxlan', () => flannel({ backend: 'vxlan' }), {}],
  ['flannel host-gw', () => flannel({ backend: 'host-gw' }), { segments: 1 }],
  ['calico ipip', () => calico({ encapsulation: 'ipip' }), {}],
  ['cilium tunnel', () => cilium({ routing: 'tunnel' }), {}],
  ['aws-vpc m5.large', () => awsVpc({ instanceType: 'm5.large' }), {}],
];

/**
 * A cluster-wide change no node event makes: a node's entry withdrawn from a shared peer set (as when
 * flanneld's lease for it expires). It touches no node, yet every path through a node that includes the
 * set may change: the scope the checker must treat as global.
 */
type LeaseLost = { readonly type: 'leaseLost'; readonly node: number };
/**
 * The underlay router's neighbour entry for a node's address set to a MAC no one has (or put back): a
 * change of the router's neighbours alone, which breaks or mends exactly the paths that cross the router
 * to that node — what the scope of such a change (`routerNeigh`) counts on.
 */
type RouterNeigh = { readonly type: 'routerNeigh'; readonly node: number; readonly wrong: boolean };
/**
 * A pod claims an address of a node's host (`ip addr add <node-2's cni0 address>/32 dev eth0` typed in a
 * pod, a lab fault): the address's owners change, and every probe whose reply goes back to it — a node's
 * probes leave from one of its own addresses — meets two owners at delivery, on a node the change did not
 * touch.
 */
type Claim = { readonly type: 'claim'; readonly pod: number; readonly node: number; readonly addr: number };
type TestEvent = ClusterEvent | LeaseLost | RouterNeigh | Claim;
const eventArb = (): fc.Arbitrary<TestEvent> => fc.oneof(
  { weight: 6, arbitrary: clusterEventArb({ faults: true }) },
  { weight: 2, arbitrary: fc.nat({ max: 15 }).map((node): TestEvent => ({ type: 'leaseLost', node })) },
  { weight: 1, arbitrary: fc.record({ node: fc.nat({ max: 15 }), wrong: fc.boolean() }).map((r): TestEvent => ({ type: 'routerNeigh', ...r })) },
  { weight: 1, arbitrary: fc.record({ pod: fc.nat({ max: 15 }), node: fc.nat({ max: 15 }), addr: fc.nat({ max: 7 }) }).map((r): TestEvent => ({ type: 'claim', ...r })) },
);

/** Plays an event; a broken promise is what faults are for here, so it is noted, not fatal. */
function play(run: ClusterRun, e: TestEvent): void {
  if (e.type === 'claim') {
    const pods = run.sim.pods().filter((p) => p.netns !== null && p.netns.links['eth0'] !== undefined);
    const nodes = run.nodes();
    if (pods.length === 0 || nodes.length === 0) return;
    const pod = pods[e.pod % pods.length]!;
    const host = run.sim.node(nodes[e.node % nodes.length]!).host;
    const addrs = Object.values(host.links).flatMap((l) => l.addrs.filter((a) => a.scope === 'global').map((a) => a.ip));
    if (addrs.length === 0) return;
    try {
      run.sim.apply({ op: 'addr.add', ns: pod.netns!.id, dev: 'eth0', addr: `${formatIpv4(addrs[e.addr % addrs.length]!)}/32` });
    } catch (err) {
      if (!isPodnetError(err)) throw err;
    }
    return;
  }
  if (e.type === 'routerNeigh') {
    const nodes = run.nodes();
    if (nodes.length === 0) return;
    const node = run.sim.node(nodes[e.node % nodes.length]!);
    const eth0 = node.host.links['eth0'];
    if (!eth0) return;
    try {
      run.sim.apply({ op: 'neigh.replace', ns: 'underlay', dev: node.segment, ip: formatIpv4(node.ip), mac: e.wrong ? '02:00:00:00:99:99' : eth0.mac });
    } catch (err) {
      if (!isPodnetError(err)) throw err;
    }
    return;
  }
  if (e.type === 'leaseLost') {
    const set = Object.keys(run.sim.state.peerSets).sort()[0];
    const nodes = run.nodes();
    if (set !== undefined && nodes.length > 0) {
      try {
        run.sim.apply({ op: 'peerset.del', set, owner: nodes[e.node % nodes.length]! });
      } catch (err) {
        if (!isPodnetError(err)) throw err;
      }
    }
    return;
  }
  if (!run.canPlay(e)) return;
  try {
    run.play(e);
  } catch (err) {
    if (!(err instanceof DesignFailure)) throw err;
  }
}

const keys = (vs: readonly { key: string }[]) => vs.map((v) => v.key);

describe('incremental verdicts equal a full audit after every event (faults and packets on)', () => {
  for (const [name, make, shapeOptions] of DESIGNS) {
    it(name, () => {
      let broken = 0;
      fc.assert(fc.property(clusterShapeArb(shapeOptions), fc.integer({ min: 2, max: 3 }), fc.array(eventArb(), { minLength: 4, maxLength: 10 }), (shape, nodes, events) => {
        const exact = new ClusterRun(make(), shape, { maxNodes: 4 });
        const atEnd = new ClusterRun(make(), shape, { maxNodes: 4, checks: 'at-end' });
        // A start with pods on several nodes, so that the random events have pairs to act on; each node
        // gets its pod before the next joins, so that a join can change pairs it has no endpoint in.
        const start: TestEvent[] = [];
        for (let i = 0; i < nodes; i++) start.push({ type: 'addNode', segment: i }, { type: 'addPod', node: i });
        for (const e of [...start, ...events]) {
          play(exact, e);
          play(atEnd, e);
          // The check level changes what is judged, never what happens.
          expect(atEnd.sim.pods().map((p) => `${p.key} ${p.node} ${p.ip} ${p.status.phase}`)).toEqual(exact.sim.pods().map((p) => `${p.key} ${p.node} ${p.ip} ${p.status.phase}`));
          const full = exact.sim.check();
          expect(keys(exact.sim.violations)).toEqual(keys(full.violations));
          expect(keys(atEnd.sim.violations)).toEqual(keys(full.violations.filter((v) => /^unique-ip\|[^|]+$/.test(v.key))));
          if (!full.ok) broken++;
        }
      }), { numRuns: 12, seed: 20261126 });
      // The sequences did break things (faults, packets that taught odd entries), or the property is idle.
      expect(broken).toBeGreaterThan(0);
    }, 300_000);
  }
});

/** A check's memory as plain values: per pair its violation keys, transit nodes, router crossing and stray pod namespaces; the unique-IP keys. */
const memoryOf = (r: CheckRun) => ({
  pairs: [...r.memory.pairs].map(([k, p]) => [k, keys(p.violations), p.transit, p.router ?? false, p.strays ?? []]).sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1)),
  unique: [...r.memory.unique.keys()].sort(),
});

/** Namespaces of the recorded steps that carry no ARP frame, in order of first visit. */
const stepNs = (state: ClusterState, from: string, dst: number): string[] =>
  [...new Set(send(state, from, icmpEcho(dst), { commit: false }).trace.steps.filter((s) => s.frame?.payload.kind !== 'arp').map((s) => s.ns))];

describe('audit that records only failing probes gives the verdict and memory of one that records every probe', () => {
  // Pairs whose packets passed through a third node (a route via another node, a duplicate address):
  // the transit the fast path takes from the engine's note of namespaces visited.
  let transits = 0;
  afterAll(() => expect(transits).toBeGreaterThan(0));
  for (const [name, make, shapeOptions] of DESIGNS) {
    it(name, () => {
      fc.assert(fc.property(clusterShapeArb(shapeOptions), fc.integer({ min: 2, max: 3 }), fc.array(eventArb(), { minLength: 3, maxLength: 8 }), (shape, nodes, events) => {
        const run = new ClusterRun(make(), shape, { maxNodes: 4, checks: 'at-end' });
        const start: TestEvent[] = [];
        for (let i = 0; i < nodes; i++) start.push({ type: 'addNode', segment: i }, { type: 'addPod', node: i });
        for (const e of [...start, ...events]) {
          play(run, e);
          const state = run.sim.state;
          const fast = audit(state);
          const recorded = audit(state, { recordAll: true });
          expect(fast.violations).toEqual(recorded.violations);
          expect(memoryOf(fast)).toEqual(memoryOf(recorded));
          expect(fast.probes).toBe(recorded.probes);
          // The simulator's check() decides passing probes without noting what they crossed: the same verdict.
          expect(run.sim.check()).toEqual({ ok: recorded.ok, violations: recorded.violations });
          transits += [...recorded.memory.pairs.values()].filter((p) => p.transit.length > 0 && p.violations.length === 0).length;
          // The engine's note of the namespaces visited is the recorded steps' namespaces, recorded or not.
          const pods = run.sim.pods().filter((p) => p.ip !== null && p.netns);
          for (const p of pods.slice(0, 2)) for (const q of pods.slice(-2)) {
            const from = `pod/${p.key}`;
            const expected = stepNs(state, from, q.ip!);
            for (const record of [false, true]) expect([...send(state, from, icmpEcho(q.ip!), { commit: false, record, visited: true }).visited!]).toEqual(expected);
          }
        }
      }), { numRuns: 6, seed: 20261127 });
    }, 300_000);
  }
});

describe('pairs that pass through a third node', () => {
  it('are re-probed when that node changes: the transit kept from the fast path', () => {
    const sim = createSimulator({ podCidr: '10.0.0.0/16', underlay: { segments: [{ name: 'seg-1', cidr: '192.168.1.0/24', gateway: '192.168.1.1', mtu: 1500 }] }, cni: hubAndSpoke() });
    for (const n of ['node-1', 'node-2', 'node-3']) sim.addNode({ name: n, segment: 'seg-1' });
    sim.addPod({ name: 'a', node: 'node-2' });
    sim.addPod({ name: 'b', node: 'node-3' });
    expect(sim.violations).toEqual([]);
    // The hub stops forwarding: a and b can no longer reach each other, though neither is on the hub.
    sim.apply({ op: 'sysctl.set', ns: 'node/node-1', key: 'net.ipv4.ip_forward', value: 0 });
    const full = keys(sim.check().violations);
    expect(full).toContain('no-nat|default/a|default/b');
    expect(keys(sim.violations)).toEqual(full);
  });
});

describe('pods taken away', () => {
  /**
   * node-1 runs a and m, node-2 runs b; a reaches b through m (a route of a's via m's address, m forwarding):
   * a→b's probe steps in m's namespace, a pod that is neither of its ends.
   */
  const throughAPod = () => {
    const sim = createSimulator({ podCidr: '10.244.0.0/16', underlay: { segments: [{ name: 'seg-1', cidr: '192.168.1.0/24', gateway: '192.168.1.1', mtu: 1500 }] }, cni: flannel() });
    for (const n of ['node-1', 'node-2']) sim.addNode({ name: n, segment: 'seg-1' });
    const a = sim.addPod({ name: 'a', node: 'node-1' });
    const m = sim.addPod({ name: 'm', node: 'node-1' });
    const b = sim.addPod({ name: 'b', node: 'node-2' });
    sim.addPod({ name: 'c', node: 'node-1' });
    sim.apply({ op: 'sysctl.set', ns: 'pod/default/m', key: 'net.ipv4.ip_forward', value: 1 });
    sim.apply({ op: 'route.add', ns: 'pod/default/a', dst: `${formatIpv4(b.ip!)}/32`, via: formatIpv4(m.ip!), dev: 'eth0' });
    expect(sim.violations).toEqual([]);
    return sim;
  };

  it('re-probe only the pairs whose probes stepped in their namespaces, and the pairs that fail', () => {
    const sim = throughAPod();
    const before = sim.state;
    const memory = audit(before).memory;
    expect(memory.pairs.get('default/a>default/b')?.strays).toEqual(['pod/default/m']);
    // c leaves: no probe stepped in its namespace, none is taken again, and the verdict is the audit's.
    sim.deletePod('c');
    const quiet = incrementalCheck(sim.state, memory, diffScope(before, sim.state));
    expect(quiet.probes).toBe(0);
    expect(keys(quiet.violations)).toEqual(keys(audit(sim.state).violations));
  });

  it('break the pairs that went through them: a→b once m is gone (fails when the pairs that strayed are not re-probed)', () => {
    const sim = throughAPod();
    const before = sim.state;
    sim.deletePod('m');
    // a→b and b→a alone are probed again: the pairs whose probes stepped in m's namespace (b→a's reply too).
    expect(incrementalCheck(sim.state, audit(before).memory, diffScope(before, sim.state)).probes).toBe(2);
    const full = keys(sim.check().violations);
    expect(full).toContain('no-nat|default/a|default/b');
    expect(keys(sim.violations)).toEqual(full);
  });

  it('are an ordinary change when the host keeps something of them: a route to their port', () => {
    const sim = throughAPod();
    const port = Object.values(sim.node('node-1').host.links).find((l) => l.kind === 'veth' && l.peer.ns === 'pod/default/c')!;
    sim.apply({ op: 'route.add', ns: 'node/node-1', dst: '10.99.0.0/24', dev: port.name });
    const before = sim.state;
    sim.deletePod('c');
    // node-1 is touched as a node: its pods a and m are probed again from node-1 (2) and with every other
    // pod, both ways (a↔m, a↔b, m↔b: 6).
    const r = incrementalCheck(sim.state, audit(before).memory, diffScope(before, sim.state));
    expect(r.probes).toBe(8);
    expect(keys(r.violations)).toEqual(keys(audit(sim.state).violations));
  });
});

describe('the shell and the run take shortcuts that change nothing', () => {
  it('audit refuses options that are not an object, with a typed error', () => {
    const state = new ClusterRun(flannel(), { podCidr: '10.0.0.0/16', nodeCidrMaskSize: 24, underlay: { segments: [{ name: 'seg-1', cidr: '192.168.1.0/24', gateway: '192.168.1.1', mtu: 1500 }] } }).sim.state;
    for (const bad of [null, 'all', 1]) {
      let code: string | undefined;
      try {
        audit(state, bad as never);
      } catch (e) {
        if (isPodnetError(e)) code = e.code;
      }
      expect(code).toBe('INVALID_ARGUMENT');
    }
  });

  it('an empty cluster spec gives the state buildClusterState builds; the run lists nodes and pods in order of creation', () => {
    const num = (name: string) => Number(/(\d+)$/.exec(name)?.[1] ?? 0);
    fc.assert(fc.property(clusterShapeArb({ router: 'both' }), fc.array(clusterEventArb({ faults: true }), { maxLength: 12 }), (shape, events) => {
      const run = new ClusterRun(flannel({ backend: 'vxlan' }), shape, { maxNodes: 4, checks: 'at-end' });
      expect(run.sim.state).toEqual(buildClusterState(shape, run.design));
      for (const e of events) {
        play(run, e);
        // What the run's view read before it kept each name's number: a sort comparing regex matches.
        expect(run.nodes()).toEqual(run.sim.nodes().sort((a, b) => a.created - b.created || num(a.name) - num(b.name)).map((n) => n.name));
        expect(run.pods()).toEqual(run.sim.pods().sort((a, b) => num(a.name) - num(b.name)).map((p) => p.name));
      }
    }), { numRuns: 30, seed: 20261128 });
  });

  it('lists more pods than its insertion sort takes (over 64) in order of creation too', () => {
    const num = (name: string) => Number(/(\d+)$/.exec(name)?.[1] ?? 0);
    const shape = { podCidr: '10.0.0.0/16', nodeCidrMaskSize: 24, underlay: { segments: [{ name: 'rack-a', cidr: '192.168.1.0/24', gateway: '192.168.1.1', mtu: 1500 }] } };
    const run = new ClusterRun(flannel({ backend: 'vxlan' }), shape, { maxNodes: 3, checks: 'at-end' });
    for (let i = 0; i < 3; i++) play(run, { type: 'addNode', segment: 0 });
    for (let i = 0; i < 80; i++) play(run, { type: 'addPod', node: i % 3 });
    for (let i = 0; i < 5; i++) play(run, { type: 'reschedulePod', pod: 7 * i });
    const pods = run.pods();
    expect(pods.length).toBeGreaterThan(64);
    expect(pods).toEqual(run.sim.pods().sort((a, b) => num(a.name) - num(b.name)).map((p) => p.name));
  });
});

/**
 * What guarantees/scope.ts decided before it stopped asking the state after a change about what it shares
 * with the state before (and before a change of the router's neighbours alone stopped being global): every
 * question asked of both states in full. The scope must judge every change as this does.
 */
function referenceGlobal(a: ClusterState, b: ClusterState, touched: ReadonlySet<string>): boolean {
  if (a.underlay === b.underlay && a.peerSets === b.peerSets) return false;
  const nsTouched = (id: string): boolean => [a, b].some((s) => { const loc = locateNs(s, id); return loc !== null && loc.kind !== 'underlay' && touched.has(loc.node); });
  const diff = <V>(x: Shards<V>, y: Shards<V>): string[] => [...new Set([...shardKeys(x), ...shardKeys(y)])].filter((k) => shardGet(x, k) !== shardGet(y, k));
  const names = (x: object, y: object): string[] => [...new Set([...Object.keys(x), ...Object.keys(y)])];
  if (a.underlay !== b.underlay) {
    const [ua, ub] = [a.underlay, b.underlay];
    if (ua.router !== ub.router || ua.tunnelMap !== ub.tunnelMap || ua.vpcRouter !== ub.vpcRouter) return true;
    const segmentReaches = (name: string): boolean => {
      const [sa, sb] = [ua.segments[name], ub.segments[name]];
      if (sa === sb) return false;
      if (!sa || !sb || (['cidr', 'gateway', 'mtu', 'fabric'] as const).some((k) => sa[k] !== sb[k])) return true;
      return diff(sa.ports, sb.ports).some((mac) => [sa, sb].some((seg) => { const p = shardGet(seg.ports, mac); return p !== undefined && !nsTouched(p.ns); }));
    };
    if (names(ua.segments, ub.segments).some(segmentReaches)) return true;
  }
  if (a.peerSets === b.peerSets) return false;
  const changed: PeerEntry[] = [];
  for (const name of names(a.peerSets, b.peerSets)) {
    const [pa, pb] = [a.peerSets[name], b.peerSets[name]];
    if (pa === pb) continue;
    if (!pa || !pb || pa.dev !== pb.dev) return true;
    const owners = diff(pa.entries, pb.entries);
    if (owners.some((o) => !touched.has(o))) return true;
    changed.push(...owners.flatMap((o) => [shardGet(pa.entries, o), shardGet(pb.entries, o)]).filter((e): e is PeerEntry => e !== undefined));
  }
  if (changed.length === 0) return false;
  const prefixes = changed.flatMap((e) => e.routes.map((r) => r.dst));
  const neighIps = new Set(changed.flatMap((e) => e.neigh.map((n) => n.ip)));
  const macs = new Set([...changed.flatMap((e) => e.neigh.map((n) => n.mac)), ...changed.flatMap((e) => e.fdb.map((f) => f.mac))]);
  for (const s of [a, b]) {
    for (const key of shardKeys(s.ipIndex)) {
      if (shardGet(s.ipIndex, key)!.every((o) => nsTouched(o.ns))) continue;
      const ip = Number(key);
      if (neighIps.has(ip) || prefixes.some((p) => cidrContains(p, ip))) return true;
    }
    const all: NetNs[] = [s.underlay.router];
    for (const n of shardValues(s.nodes)) {
      all.push(n.host);
      for (const p of Object.values(n.pods)) if (p.netns) all.push(p.netns);
    }
    for (const ns of all) {
      if (ns.peerSets.length === 0 || nsTouched(ns.id)) continue;
      for (const r of [...ns.routes, ...Object.values(ns.tables ?? {}).flat()]) if (r.via !== null && neighIps.has(r.via)) return true;
      for (const ref of ns.peerSets) if (ref.via !== undefined && neighIps.has(ref.via)) return true;
      for (const n of Object.values(ns.neigh)) if (n.mac !== null && macs.has(n.mac)) return true;
      for (const f of Object.values(ns.fdb)) if (macs.has(f.mac)) return true;
    }
    for (const set of Object.values(s.peerSets)) {
      for (const e of shardValues(set.entries)) {
        if (touched.has(e.owner)) continue;
        if (e.routes.some((r) => r.via !== null && neighIps.has(r.via)) || e.neigh.some((n) => macs.has(n.mac)) || e.fdb.some((f) => macs.has(f.mac))) return true;
      }
    }
  }
  return false;
}

describe('the scope of a change', () => {
  it('is what asking both states about everything decides; a change of the router\'s neighbours alone is marked as such', () => {
    let routerNeigh = 0;
    let joinsReachingOthers = 0;
    for (const [, make, shapeOptions] of DESIGNS) {
      fc.assert(fc.property(clusterShapeArb(shapeOptions), fc.array(eventArb(), { minLength: 4, maxLength: 14 }), (shape, events) => {
        const run = new ClusterRun(make(), shape, { maxNodes: 4, checks: 'at-end' });
        const start: TestEvent[] = [{ type: 'addNode', segment: 0 }, { type: 'addPod', node: 0 }, { type: 'addNode', segment: 1 }, { type: 'addPod', node: 1 }];
        let prev = run.sim.state;
        for (const e of [...start, ...events]) {
          play(run, e);
          const next = run.sim.state;
          const scope = diffScope(prev, next);
          const touched = [...shardKeys(prev.nodes), ...shardKeys(next.nodes)].filter((n) => shardGet(prev.nodes, n) !== shardGet(next.nodes, n));
          expect(new Set(scope.nodes)).toEqual(new Set(touched));
          expect(scope.global).toBe(referenceGlobal(prev, next, new Set(touched)));
          if (scope.global && e.type === 'addNode' && prev.nodeCount > 0) joinsReachingOthers++;
          if (scope.routerNeigh) {
            routerNeigh++;
            const ra = prev.underlay.router as unknown as Record<string, unknown>;
            const rb = next.underlay.router as unknown as Record<string, unknown>;
            expect(Object.keys({ ...ra, ...rb }).filter((k) => ra[k] !== rb[k])).toEqual(['neigh']);
            // Without the router's change, the change would not be global.
            expect(referenceGlobal(prev, { ...next, underlay: { ...next.underlay, router: prev.underlay.router } }, new Set(touched))).toBe(false);
          }
          prev = next;
        }
      }), { numRuns: 10, seed: 20261129 });
    }
    // The property saw both shortcuts' cases, or it is idle.
    expect(routerNeigh).toBeGreaterThan(0);
    expect(joinsReachingOthers).toBeGreaterThan(0);
  }, 300_000);

  it('of the router\'s neighbours alone re-probes the pairs whose packets crossed the router, and no others', () => {
    const sim = createSimulator({
      podCidr: '10.244.0.0/16', cni: flannel({ backend: 'vxlan' }),
      underlay: { segments: [{ name: 'rack-a', cidr: '192.168.1.0/24', gateway: '192.168.1.1', mtu: 1500 }, { name: 'rack-b', cidr: '192.168.2.0/24', gateway: '192.168.2.1', mtu: 1500 }] },
    });
    sim.addNode({ name: 'node-1', segment: 'rack-a', ip: '192.168.1.11' });
    sim.addNode({ name: 'node-2', segment: 'rack-a', ip: '192.168.1.12' });
    sim.addNode({ name: 'node-3', segment: 'rack-b', ip: '192.168.2.13' });
    for (const [pod, node] of [['a', 'node-1'], ['b', 'node-2'], ['c', 'node-3']] as const) sim.addPod({ name: pod, node });
    expect(sim.violations).toEqual([]);
    // The router learns a wrong MAC for node-3: what crosses from rack-a to rack-b is lost; a ↔ b stays.
    const before = sim.state;
    sim.apply({ op: 'neigh.replace', ns: 'underlay', dev: 'rack-b', ip: '192.168.2.13', mac: '02:00:00:00:99:99' });
    const scope = diffScope(before, sim.state);
    expect(scope).toMatchObject({ nodes: [], global: true, routerNeigh: true });
    const full = keys(sim.check().violations);
    expect(full).toContain('no-nat|default/a|default/c');
    expect(full).toContain('no-nat|default/c|default/b');
    expect(full.some((k) => k.includes('default/a|default/b') || k.includes('default/b|default/a'))).toBe(false);
    expect(keys(sim.violations)).toEqual(full);
    // Put back: the pairs that crossed the router pass again, and the verdict follows.
    sim.apply({ op: 'neigh.replace', ns: 'underlay', dev: 'rack-b', ip: '192.168.2.13', mac: sim.node('node-3').host.links['eth0']!.mac });
    expect(keys(sim.violations)).toEqual(keys(sim.check().violations));
    expect(sim.violations).toEqual([]);
  });
});
