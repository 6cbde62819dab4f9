import fc from 'fast-check';
import { current, isDraft } from 'immer';
import { describe, expect, it } from 'vitest';
import { peek, produce, snapshot } from './immer.js';

type Tree = { [k: string]: Tree | number };
type Op = { readonly path: readonly string[]; readonly value: number | null };

const name = fc.constantFrom('a', 'b', 'c');
const ops = fc.array(fc.record({ path: fc.array(name, { minLength: 1, maxLength: 3 }), value: fc.option(fc.integer(), { nil: null }) }), { maxLength: 30 });

/** Sets (or deletes, for null) the value at a path, making the objects on the way. */
function apply(t: Tree, op: Op): void {
  let cur = t;
  for (const k of op.path.slice(0, -1)) {
    const next = cur[k];
    if (typeof next !== 'object') cur[k] = {};
    cur = cur[k] as Tree;
  }
  const last = op.path[op.path.length - 1]!;
  if (op.value === null) delete cur[last];
  else cur[last] = op.value;
}

/** A draft read through snapshot and peek at every level, as plain data. */
function through(t: Tree): unknown {
  const s = snapshot(t);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(s)) {
    const v = peek(t, k);
    out[k] = typeof v === 'object' ? through(v) : v;
  }
  return out;
}

describe('snapshot and peek', () => {
  it('read a draft as it stands — what immer\'s current copies — at any point of a transition, and give plain data back as it is', () => {
    fc.assert(fc.property(ops, ops, (first, then) => {
      const base: Tree = {};
      for (const op of first) apply(base, op);
      expect(snapshot(base)).toBe(base);
      produce(base, (d) => {
        expect(through(d)).toEqual(current(d));
        for (const op of then) {
          apply(d, op);
          expect(through(d)).toEqual(current(d));
          // A snapshot is never a draft itself: reading it makes no proxy.
          expect(isDraft(snapshot(d))).toBe(false);
        }
      });
    }));
  });
});
