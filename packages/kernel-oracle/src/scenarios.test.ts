import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DESIGNS, SCENARIOS, topologyArb } from './scenarios.js';

describe('what the oracle runs', () => {
  it('generated topology I of a seed is the one fast-check replays with that seed and path (what --path and shrinking rely on)', () => {
    const sample = fc.sample(topologyArb(), { seed: 42, numRuns: 6 });
    let seen: unknown;
    fc.check(fc.property(topologyArb(), (t) => { seen = t; return false; }), { seed: 42, path: '4', numRuns: 1, endOnFailure: true });
    expect(seen).toEqual(sample[4]);
  });

  it('topologies stay small: 1–4 nodes on one or two segments, 0–4 pods each', () => {
    fc.assert(fc.property(topologyArb(), (t) => {
      expect(t.nodes.length).toBeGreaterThanOrEqual(1);
      expect(t.nodes.length).toBeLessThanOrEqual(4);
      expect(t.settings.underlay.segments.length).toBeLessThanOrEqual(2);
      for (const n of t.nodes) expect(t.pods.filter((p) => p.node === n.name).length).toBeLessThanOrEqual(4);
    }));
  });

  it('design names are unique (scenarios and --design pick by name), and the seed lab is a scenario', () => {
    const names = DESIGNS.map((d) => d.name);
    expect(new Set(names).size).toBe(names.length);
    expect(SCENARIOS.some((s) => s.topology.label === 'seed lab')).toBe(true);
  });
});
