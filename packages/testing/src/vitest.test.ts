/** The vitest helpers as a design's test uses them: a few lines per design. */
import { flannel } from '@podnet/cni';
import type { CniDesign } from '@podnet/core';
import { describe, expect } from 'vitest';
import { testDesign, testDesignBreaks } from './vitest.js';

const f = flannel();
const noPeerRoutes: CniDesign = { ...f, name: 'flannel-without-peer-routes', nodeAdded: (s, n) => { const r = f.nodeAdded(s, n); return { ...r, actions: r.actions.filter((a) => a.op !== 'peerset.attach') }; } };

describe('testDesign / testDesignBreaks', () => {
  testDesign(flannel(), { numRuns: 50 });
  testDesignBreaks(noPeerRoutes, { numRuns: 100 }, (r) => {
    expect(r.counterexample.events).toHaveLength(4);
  });
});
