/**
 * The checks the levels rest on, held to a full audit after every event of generated sequences — every
 * kind of event, faults and packets included (what traffic teaches ARP and FDB tables is a change too), on
 * designs that route, tunnel and use a cloud fabric:
 * - `every-change`: the simulator's incremental verdict equals `audit` of the same state;
 * - `at-end`: the unique-IP verdict kept after each change (`uniqueCheck`) equals the audit's.
 * Each was seen to fail with the re-audit of global changes (`diffScope(…).global`) switched off, and with
 * it switched off for node joins alone.
 *
 * And the fast-path audit (probes decided without recording, transit nodes from the engine's note of the
 * namespaces visited) gives the verdict and memory of an audit that records every probe.
 */
import { awsVpc, broken, calico, cilium, flannel } from '@podnet/cni';
import { audit, buildClusterState, createSimulator, formatIpv4, isPodnetError, listNodes, send, icmpEcho, type Action, type CheckRun, type ClusterState, type CniDesign, type Node } from '@podnet/core';
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
  return hostGwJoining('flannel-hub-and-spoke', (actions, others) => actions.map((a) => (a.op === 'peerset.attach' && others[0] ? { ...a, via: formatIpv4(others[0].ip) } : a)));
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
type TestEvent = ClusterEvent | LeaseLost;
const eventArb = (): fc.Arbitrary<TestEvent> => fc.oneof(
  { weight: 6, arbitrary: clusterEventArb({ faults: true }) },
  { weight: 2, arbitrary: fc.nat({ max: 15 }).map((node): TestEvent => ({ type: 'leaseLost', node })) },
);

/** Plays an event; a broken promise is what faults are for here, so it is noted, not fatal. */
function play(run: ClusterRun, e: TestEvent): void {
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

/** A check's memory as plain values: per pair its violation keys and transit nodes; the unique-IP keys. */
const memoryOf = (r: CheckRun) => ({
  pairs: [...r.memory.pairs].map(([k, p]) => [k, keys(p.violations), p.transit]).sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1)),
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
});
