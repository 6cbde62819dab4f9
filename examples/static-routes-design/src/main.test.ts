import { checkDesign } from '@podnet/testing';
import { describe, expect, it } from 'vitest';
import { staticRoutes } from './static-routes.js';

describe('a static-routes design written from scratch', () => {
  it('the first version is caught, shrunk to two nodes with one pod each', () => {
    const r = checkDesign(staticRoutes({ fixed: false }), { numRuns: 200, segments: 1 });
    if (r.ok) throw new Error('the bug was not found');
    const events = r.counterexample.events;
    expect(events.map((e) => e.split(' ')[0]).sort()).toEqual(['addNode', 'addNode', 'addPod', 'addPod']);
    expect(new Set(events.filter((e) => e.startsWith('addPod')).map((e) => / → (node-\d+)/.exec(e)?.[1])).size).toBe(2);
    expect(r.counterexample.kind).toBe('no-nat');
    // The packet from the first node's pod leaves by the default route and dies at the underlay router.
    expect(r.counterexample.trace?.disposition).toBe('noRoute');
  });

  it('the fixed version keeps the network model over 200 runs', () => {
    expect(checkDesign(staticRoutes({ fixed: true }), { numRuns: 200, segments: 1 })).toEqual({ ok: true, runs: 200, seed: 1 });
  });
});
