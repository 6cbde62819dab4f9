/**
 * The simulator's undo history: `undoLimit` bounds how many changes it keeps (and so how many states it
 * holds alive); 0 keeps none.
 */
import { describe, expect, it } from 'vitest';
import { bare } from '../cni/testing/bare.js';
import { isPodnetError } from '../errors.js';
import { createSimulator } from './simulator.js';

const nodes = (sim: ReturnType<typeof createSimulator>): string[] => sim.nodes().map((n) => n.name);

describe('undoLimit', () => {
  it('keeps every change by default', () => {
    const sim = createSimulator({ cni: bare });
    for (const name of ['a', 'b', 'c']) sim.addNode({ name });
    expect(sim.history()).toEqual(['create', 'addNode a', 'addNode b', 'addNode c']);
    sim.undo();
    sim.undo();
    sim.undo();
    expect(nodes(sim)).toEqual([]);
  });

  it('keeps the last N changes: undo stops there, redo still works', () => {
    const sim = createSimulator({ cni: bare, undoLimit: 2 });
    for (const name of ['a', 'b', 'c']) sim.addNode({ name });
    expect(sim.history()).toEqual(['addNode a', 'addNode b', 'addNode c']);
    sim.undo();
    sim.undo();
    expect(nodes(sim)).toEqual(['a']);
    expect(() => sim.undo()).toThrow(expect.objectContaining({ code: 'NOTHING_TO_UNDO' }));
    sim.redo();
    expect(nodes(sim)).toEqual(['a', 'b']);
    expect(sim.history()).toEqual(['addNode a', 'addNode b']);
  });

  it('keeps none at 0: the current state only, the same states and verdicts', () => {
    const kept = createSimulator({ cni: bare });
    const none = createSimulator({ cni: bare, undoLimit: 0 });
    for (const sim of [kept, none]) {
      sim.addNode({ name: 'a' });
      sim.addNode({ name: 'b' });
      sim.removeNode('a');
    }
    expect(none.state).toEqual(kept.state);
    expect(none.violations).toEqual(kept.violations);
    expect(none.history()).toEqual(['removeNode a']);
    expect(() => none.undo()).toThrow(expect.objectContaining({ code: 'NOTHING_TO_UNDO' }));
  });

  it('refuses a limit that is not a non-negative integer', () => {
    for (const undoLimit of [-1, 1.5, Number.NaN]) {
      try {
        createSimulator({ cni: bare, undoLimit });
        expect.unreachable();
      } catch (e) {
        expect(isPodnetError(e) && e.code).toBe('INVALID_ARGUMENT');
      }
    }
  });
});
