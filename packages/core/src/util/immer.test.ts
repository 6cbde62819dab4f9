import fc from 'fast-check';
import { current, isDraft } from 'immer';
import { describe, expect, it } from 'vitest';
import { madeHere, peek, produce, setFreezing, snapshot, transition } from './immer.js';

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

describe('transition and madeHere', () => {
  /** The ops, with each number set as a new one-key record `{ v }`, registered with madeHere when `seal`. */
  function play(d: Tree, list: readonly Op[], seal: boolean): void {
    for (const op of list) {
      if (op.value === null) apply(d, op);
      else {
        apply(d, { path: op.path, value: 0 });
        let cur = d;
        for (const k of op.path.slice(0, -1)) cur = cur[k] as Tree;
        const rec = { v: op.value } as Tree;
        cur[op.path[op.path.length - 1]!] = seal ? madeHere(rec) : rec;
      }
    }
  }

  it('give the state produce gives, with the registered records frozen and nothing else (freezing off, as in production)', () => {
    setFreezing(false);
    try {
      fc.assert(fc.property(ops, ops, (first, then) => {
        const base = produce({} as Tree, (d) => play(d, first, false));
        const want = produce(base, (d) => play(d, then, false));
        const got = transition(base, (d) => play(d, then, true));
        expect(got).toEqual(want);
        // A record is frozen exactly when this transition made it (base records are not; nor are the plain
        // objects made on the way, which were not registered).
        const made = new Set<unknown>();
        const mark = (t: unknown, fresh: boolean): void => {
          if (t === null || typeof t !== 'object') return;
          const isRec = Object.keys(t).length === 1 && 'v' in t && typeof (t as { v: unknown }).v === 'number';
          if (isRec && fresh) made.add(t);
          for (const v of Object.values(t)) mark(v, fresh);
        };
        const old = new Set<unknown>();
        const collect = (t: unknown): void => {
          if (t === null || typeof t !== 'object') return;
          old.add(t);
          for (const v of Object.values(t)) collect(v);
        };
        collect(base);
        mark(got, true);
        for (const r of made) expect(Object.isFrozen(r)).toBe(!old.has(r));
        for (const o of old) expect(Object.isFrozen(o)).toBe(false);
      }));
    } finally {
      setFreezing(true);
    }
  });

  it('refuse a registered value that holds a draft (with freezing on, as in the test suite), changing nothing', () => {
    const base: Tree = { a: { b: 1 } };
    expect(() => transition(base, (d) => {
      d['c'] = madeHere({ inner: d['a'] as Tree });
    })).toThrow(/holds an immer draft at \.inner/);
    expect(base).toEqual({ a: { b: 1 } });
  });

  it('do nothing outside a transition, nor in a later one', () => {
    const rec = madeHere({ v: 1 });
    transition({ a: 1 } as Tree, (d) => { d['a'] = 2; });
    expect(Object.isFrozen(rec)).toBe(false);
  });
});
