/** A design wrapped so that every action it answers with is also kept, for "what did the plugin just do" listings. */
import type { Action, CniDesign } from '@podnet/core';

/**
 * Wraps a design: the simulator uses it exactly as the original, and `actions` collects, in order, the
 * actions of every node join, node leave, pod ADD and pod DEL it answered.
 *
 * @example
 * const { design, actions } = recordActions(flannel());
 * const sim = createSimulator({ cni: design });
 * sim.addNode({ name: 'node-1' });
 * actions.flatMap((a) => describeAction(a)); // the commands flannel ran on node-1
 */
export function recordActions(inner: CniDesign): { readonly design: CniDesign; readonly actions: Action[] } {
  const actions: Action[] = [];
  const design: CniDesign = {
    ...inner,
    nodeAdded: (s, n) => { const r = inner.nodeAdded(s, n); actions.push(...r.actions); return r; },
    nodeRemoved: (s, n) => { const r = inner.nodeRemoved(s, n); actions.push(...r.actions); return r; },
    podAdded: (s, q) => { const r = inner.podAdded(s, q); if ('actions' in r) actions.push(...r.actions); return r; },
    podDeleted: (s, p, n) => { const r = inner.podDeleted(s, p, n); actions.push(...r.actions); return r; },
  };
  return { design, actions };
}
