/**
 * The bulk builder (one transition, applied in place) must give exactly the state that adding each node,
 * then each pod, one transition at a time gives — and fail the same way on a bad spec.
 */
import { addNodeState, addPodState, buildClusterState, createClusterState, isPodnetError, type NodeSpec, type PodSpec } from '@podnet/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flannel } from './designs/flannel.js';

const settings = { podCidr: '10.244.0.0/16', nodeCidrMaskSize: 24 };

function sequential(nodes: readonly NodeSpec[], pods: readonly PodSpec[]) {
  const d = flannel();
  let s = createClusterState(settings, d);
  for (const n of nodes) s = addNodeState(s, n, d).state;
  for (const p of pods) s = addPodState(s, p, d).state;
  return s;
}

const outcome = (f: () => unknown): { ok: unknown } | { code: string } => {
  try {
    return { ok: f() };
  } catch (e) {
    if (!isPodnetError(e)) throw e;
    return { code: e.code };
  }
};

describe('buildClusterState', () => {
  it('equals node-by-node and pod-by-pod building, state for state, and fails alike', () => {
    let built = 0;
    // Mostly valid specs (distinct nodes, pods on them), with the odd clash or stray reference.
    const nodesArb = fc.uniqueArray(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }).chain((ns) =>
      fc.tuple(...ns.map((n) => fc.boolean().map((pin): NodeSpec => (pin ? { name: `node-${n}`, podCidr: `10.244.${10 + n}.0/24` } : { name: `node-${n}` })))));
    const specArb = nodesArb.chain((nodes) =>
      fc.array(
        fc.record({ i: fc.integer({ min: 0, max: 9 }), at: fc.nat({ max: nodes.length - 1 }), ip: fc.option(fc.integer({ min: 2, max: 6 }), { nil: null, freq: 2 }) })
          .map(({ i, at, ip }): PodSpec => {
            const node = nodes[at]!;
            // A pinned IP only where the node's podCIDR is known (pinned); duplicates and the odd clash stay.
            return { name: `pod-${i}`, node: node.name, ...(ip !== null && node.podCidr ? { ip: `${node.podCidr.slice(0, -5)}.${ip}` } : {}) };
          }),
        { maxLength: 8 },
      ).map((pods) => [nodes, pods] as const));
    fc.assert(
      fc.property(specArb, ([nodes, pods]) => {
        const a = outcome(() => buildClusterState(settings, flannel(), nodes, pods));
        const b = outcome(() => sequential(nodes, pods));
        expect(a).toEqual(b);
        if ('ok' in a) built++;
      }),
      { numRuns: 100, seed: 7 },
    );
    // The property must mostly compare built states, not just equal errors.
    expect(built).toBeGreaterThan(30);
  });
});
