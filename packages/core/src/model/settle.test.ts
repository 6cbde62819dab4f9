/**
 * settleState skips the retry transition when it can tell, without opening one, that the retry would change
 * nothing (every retriable pod Pending, no node to place it on, the scheduler's message unchanged). The
 * property: on any state reached by raw transitions (not settled after each), settleState gives what the
 * retry in a transition gives — the same state (the same object when nothing changed) and the same events.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CniDesign } from '../cni/contract.js';
import { produce } from '../util/immer.js';
import { addNodeSettledState, addNodeState, addPodState, createClusterState, deletePodState, listNodes, listPods, nonTerminatedPods, removeNodeState, settleInDraft, settleState } from './cluster.js';
import { setUnschedulableState } from './reconfigure.js';
import type { ClusterState, KubeEvent } from './types.js';

/** A design that wires nothing, and whose CNI ADD fails on nodes named `bad-…` (pods wait ContainerCreating there). */
const design: CniDesign = {
  name: 'inert',
  nodeAdded: () => ({ actions: [] }),
  nodeRemoved: () => ({ actions: [] }),
  podDeleted: () => ({ actions: [] }),
  podAdded: (_s, req) => req.node.name.startsWith('bad-')
    ? { error: { cniVersion: '1.0.0', code: 11, msg: 'no IP addresses available' } }
    : { actions: [], result: { cniVersion: '1.0.0', interfaces: [], ips: [{ address: '192.0.2.1/32' }], routes: [], dns: {} } },
};

type Op =
  | { kind: 'addNode'; bad: boolean; maxPods: number }
  | { kind: 'addPod'; bound: number | null }
  | { kind: 'deletePod' | 'removeNode' | 'cordon' | 'uncordon'; i: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('addNode' as const), bad: fc.boolean(), maxPods: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant('addPod' as const), bound: fc.option(fc.nat(5)) }),
  fc.record({ kind: fc.constantFrom('deletePod' as const, 'removeNode' as const, 'cordon' as const, 'uncordon' as const), i: fc.nat(5) }),
);

let counter = 0;
function step(s: ClusterState, o: Op): ClusterState {
  const nodes = listNodes(s).map((n) => n.name);
  const pods = listPods(s).map((p) => p.key);
  switch (o.kind) {
    case 'addNode': return addNodeState(s, { name: `${o.bad ? 'bad' : 'ok'}-${++counter}`, maxPods: o.maxPods }, design).state;
    case 'addPod': {
      const node = o.bound === null || nodes.length === 0 ? undefined : nodes[o.bound % nodes.length];
      return addPodState(s, node === undefined ? { name: `p-${++counter}` } : { name: `p-${++counter}`, node }, design).state;
    }
    case 'deletePod': return pods.length === 0 ? s : deletePodState(s, pods[o.i % pods.length]!, design).state;
    case 'removeNode': return nodes.length === 0 ? s : removeNodeState(s, nodes[o.i % nodes.length]!, design).state;
    case 'cordon': case 'uncordon': return nodes.length === 0 ? s : setUnschedulableState(s, nodes[o.i % nodes.length]!, o.kind === 'cordon');
  }
}

describe('settleState', () => {
  it('gives what retrying every waiting pod in a transition gives: the same state (the same object when nothing changes) and events', () => {
    let skipped = 0;
    let changed = 0;
    fc.assert(fc.property(fc.array(op, { maxLength: 30 }), fc.boolean(), (ops, settleEach) => {
      let s = createClusterState({}, design);
      for (const o of ops) {
        s = step(s, o);
        const fastEvents: KubeEvent[] = [];
        const slowEvents: KubeEvent[] = [];
        const fast = settleState(s, design, fastEvents);
        const slow = produce(s, (d) => settleInDraft(d, design, slowEvents));
        expect(fast === s).toBe(slow === s);
        expect(fastEvents).toEqual(slowEvents);
        expect(fast).toEqual(slow);
        if (fast === s && Object.keys(s.waiting).length > 0) skipped++;
        if (fast !== s) changed++;
        // Settled after each step as the simulator does, or left to pile up unsettled changes.
        if (settleEach) s = fast;
      }
    }), { numRuns: 300, seed: 7 });
    // Both outcomes were reached (the property is not vacuous).
    expect(skipped).toBeGreaterThan(50);
    expect(changed).toBeGreaterThan(50);
  });
});

describe('addNodeSettledState', () => {
  it('gives what addNodeState, then settleState, give: the same state and events (a join and its settle in one transition)', () => {
    let placedOnJoin = 0;
    fc.assert(fc.property(fc.array(op, { maxLength: 25 }), fc.boolean(), fc.integer({ min: 0, max: 3 }), (ops, bad, maxPods) => {
      let s = createClusterState({}, design);
      for (const o of ops) s = settleState(step(s, o), design);
      const spec = { name: `${bad ? 'bad' : 'ok'}-${++counter}`, maxPods };
      const oneEvents: KubeEvent[] = [];
      const twoEvents: KubeEvent[] = [];
      const one = addNodeSettledState(s, spec, design, oneEvents);
      const two = settleState(addNodeState(s, spec, design).state, design, twoEvents);
      expect(one.state).toEqual(two);
      expect(oneEvents).toEqual(twoEvents);
      expect(one.node).toEqual(listNodes(two).find((n) => n.name === spec.name));
      if (listPods(one.state).some((p) => p.node === spec.name)) placedOnJoin++;
    }), { numRuns: 300, seed: 13 });
    // Joins that placed waiting pods were reached (the property is not vacuous).
    expect(placedOnJoin).toBeGreaterThan(20);
  });
});

describe('the scheduler', () => {
  it('places a pod on the node with the lowest share of nonTerminatedPods (ties by name), or leaves it Pending counting the full nodes', () => {
    // The scheduler counts the pods waiting for their sandbox on every node in one walk: the same counts,
    // node by node, as nonTerminatedPods gives (states with ContainerCreating pods on bad- nodes, full and cordoned nodes).
    let placed = 0;
    let pending = 0;
    fc.assert(fc.property(fc.array(op, { maxLength: 25 }), (ops) => {
      let s = createClusterState({}, design);
      for (const o of ops) s = settleState(step(s, o), design);
      const open = listNodes(s).filter((n) => !n.unschedulable);
      const room = open.filter((n) => nonTerminatedPods(s, n) < n.maxPods);
      const load = (n: (typeof room)[number]): number => (n.maxPods === 0 ? 1 : nonTerminatedPods(s, n) / n.maxPods);
      const best = room.reduce<(typeof room)[number] | null>((b, n) => (b === null || load(n) < load(b) ? n : b), null);
      const r = addPodState(s, { name: 'probe' }, design);
      if (best === null) {
        pending++;
        expect(r.pod.node).toBeNull();
        const full = open.length;
        if (listNodes(s).length > 0 && full > 0) expect(r.pod.status.message).toContain(`${full} Too many pods`);
      } else {
        placed++;
        expect(r.pod.node).toBe(best.name);
      }
    }), { numRuns: 300, seed: 11 });
    expect(placed).toBeGreaterThan(50);
    expect(pending).toBeGreaterThan(20);
  });
});
