import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { current, isDraft } from 'immer';
import { entryDraft, entryToWrite, fieldToWrite, inTransition, produce, setFreezing, tableToWrite, draftTransition } from './immer.js';
import { emptyShards, SHARD_COUNT, SHARD_FANOUT, shardDelete, shardDiffKeys, shardGet, shardKeys, shardLeafSize, shardLeafValue, shardLeaves, shardOf, shardPeekValues, shardSet, shardSize, shardSome, shardValues, shardValueToWrite, type Shards } from './shards.js';

type Op = { readonly set: string; readonly value: number } | { readonly del: string };
// Few keys, so that deletes hit keys that are there.
const key = fc.integer({ min: 0, max: 15 }).map((i) => `node-${i}`);
const ops = fc.array(fc.oneof(key.map((k) => ({ del: k }) as Op), fc.record({ set: key, value: fc.integer() }) as fc.Arbitrary<Op>), { maxLength: 80 });

function apply(s: Shards<number>, op: Op): void {
  if ('set' in op) shardSet(s, op.set, op.value);
  else shardDelete(s, op.del);
}

function live(s: Shards<number>): { leaves: number; tops: number } {
  return { leaves: [...shardLeaves(s)].length, tops: s.filter((t) => t !== null).length };
}

/**
 * Plays lists of steps on a sharded map, each list in one change (podnet's draftTransition, or immer's plain
 * produce), checking after each that the previous state was left as it was; `after` looks at the new one.
 */
function playChanges<V, S>(transitions: readonly (readonly S[])[], viaTransition: boolean, step: (d: Shards<V>, st: S) => void, after: (s: Shards<V>) => void): void {
  let s = emptyShards<V>();
  for (const steps of transitions) {
    const before = JSON.stringify(s);
    const prev = s;
    const apply = (d: Shards<V>): void => { for (const st of steps) step(d, st); };
    s = viaTransition ? draftTransition({ m: s }, (d) => apply(d.m as Shards<V>)).m : produce(s, (d) => apply(d as Shards<V>));
    expect(JSON.stringify(prev)).toBe(before);
    after(s);
  }
}

/**
 * Keys that share leaves and tops (16 random names almost never do): three in one leaf, two in another leaf
 * of the same top, two in a third leaf of that top, and a few alone.
 */
function sharingPool(): string[] {
  const byLeaf = new Map<number, string[]>();
  for (let i = 0; byLeaf.size < 4096 && i < 40000; i++) {
    const k = `pod-${i}`;
    const list = byLeaf.get(shardOf(k)) ?? [];
    list.push(k);
    byLeaf.set(shardOf(k), list);
  }
  const full = [...byLeaf.entries()].filter(([, l]) => l.length >= 3);
  const [leafA, a] = full[0]!;
  const sameTop = [...byLeaf.entries()].filter(([i, l]) => i !== leafA && Math.floor(i / SHARD_FANOUT) === Math.floor(leafA / SHARD_FANOUT) && l.length >= 2).slice(0, 2);
  return [...a.slice(0, 3), ...sameTop.flatMap(([, l]) => l.slice(0, 2)), 'node-1', 'node-2', 'node-3'];
}

describe('sharded maps', () => {
  it('hold what a Map holds, and keep no leaf or top that holds nothing (in place and through immer drafts)', () => {
    fc.assert(fc.property(ops, fc.boolean(), (list, viaImmer) => {
      const model = new Map<string, number>();
      let s = emptyShards<number>();
      for (const op of list) {
        if ('set' in op) model.set(op.set, op.value);
        else model.delete(op.del);
        if (viaImmer) s = produce(s, (d) => apply(d as Shards<number>, op));
        else apply(s, op);
      }
      expect(shardSize(s)).toBe(model.size);
      expect(new Set(shardKeys(s))).toEqual(new Set(model.keys()));
      for (const [k, v] of model) expect(shardGet(s, k)).toBe(v);
      const { leaves, tops } = live(s);
      // Every leaf and top that exists holds at least one key.
      expect(leaves).toBeLessThanOrEqual(model.size);
      expect(tops).toBeLessThanOrEqual(leaves);
      for (const l of shardLeaves(s)) expect(l.length).toBeGreaterThan(0);
    }));
  });

  it('read as plain data (shardPeekValues) give what the draft holds, in shardValues order, drafting nothing', () => {
    type Rec = { n: number; tag?: number };
    fc.assert(fc.property(ops, ops, fc.array(key, { maxLength: 6 }), (first, then, touched) => {
      const base = produce(emptyShards<Rec>(), (d) => {
        for (const op of first) if ('set' in op) shardSet(d as Shards<Rec>, op.set, { n: op.value }); else shardDelete(d as Shards<Rec>, op.del);
      });
      expect(shardPeekValues(base)).toEqual([...shardValues(base)]);
      produce(base, (d) => {
        const s = d as Shards<Rec>;
        for (const op of then) if ('set' in op) shardSet(s, op.set, { n: op.value }); else shardDelete(s, op.del);
        // Values changed through the draft (drafted records), beside new ones and untouched ones.
        for (const k of touched) { const v = shardGet(s, k); if (v) v.tag = 1; }
        const want = current(s);
        const drafts = (d as unknown as Record<symbol, { scope_: { drafts_: unknown[] } }>)[Symbol.for('immer-state')]!.scope_.drafts_.length;
        const got = shardPeekValues(s);
        expect(got).toEqual([...shardValues(want)]);
        for (const v of got) expect(isDraft(v)).toBe(false);
        // No proxy was made to read them.
        expect((d as unknown as Record<symbol, { scope_: { drafts_: unknown[] } }>)[Symbol.for('immer-state')]!.scope_.drafts_.length).toBe(drafts);
      });
    }));
  });

  it('shardSome visits every entry once in walk order and stops at the first true; leaf size and value read each leaf by position', () => {
    fc.assert(fc.property(ops, fc.nat({ max: 20 }), (list, stopAt) => {
      const s = emptyShards<number>();
      for (const op of list) apply(s, op);
      const seen: [string, number][] = [];
      expect(shardSome(s, (k, v) => { seen.push([k, v]); return false; })).toBe(false);
      const keys = [...shardKeys(s)];
      expect(seen.map(([k]) => k)).toEqual(keys);
      expect(seen.map(([, v]) => v)).toEqual([...shardValues(s)]);
      let calls = 0;
      expect(shardSome(s, () => ++calls > stopAt)).toBe(keys.length > stopAt);
      expect(calls).toBe(Math.min(keys.length, stopAt + 1));
      const byPosition: number[] = [];
      for (let i = 0; i < SHARD_COUNT; i++) for (let n = 0; n < shardLeafSize(s, i); n++) byPosition.push(shardLeafValue(s, i, n));
      expect(byPosition).toEqual([...shardValues(s)]);
    }));
  });

  it('deleting every key leaves the map as empty as a new one', () => {
    const s = emptyShards<number>();
    for (let i = 0; i < 500; i++) shardSet(s, `node-${i}`, i);
    for (let i = 0; i < 500; i++) shardDelete(s, `node-${i}`);
    expect(s).toEqual(emptyShards<number>());
  });

  it('walk their leaves in the order of the leaf numbers, whatever order the keys came in (the order runs and seeds rest on)', () => {
    fc.assert(fc.property(ops, fc.boolean(), (list, viaImmer) => {
      let s = emptyShards<number>();
      for (const op of list) {
        if (viaImmer) s = produce(s, (d) => apply(d as Shards<number>, op));
        else apply(s, op);
      }
      const numbers = [...shardLeaves(s)].map((l) => shardOf(l[1] as string));
      expect(numbers).toEqual([...numbers].sort((x, y) => x - y));
      expect(new Set(numbers).size).toBe(numbers.length);
      // Keys and values walk the same leaves in the same order.
      expect([...shardKeys(s)].map((k) => shardGet(s, k))).toEqual([...shardValues(s)]);
      expect([...shardKeys(s)].map((k) => shardOf(k))).toEqual([...shardKeys(s)].map((k) => shardOf(k)).sort((x, y) => x - y));
    }));
  });

  /** shardDiffKeys of two versions (`then` applied to `first`) names exactly the keys whose values differ, once each, in leaf order. */
  const diffsExactly = (opsOf: fc.Arbitrary<Op[]>) => fc.property(opsOf, opsOf, (first, then) => {
    const a = produce(emptyShards<number>(), (d) => { for (const op of first) apply(d as Shards<number>, op); });
    const b = produce(a, (d) => { for (const op of then) apply(d as Shards<number>, op); });
    const all = new Set([...shardKeys(a), ...shardKeys(b)]);
    const differ = [...all].filter((k) => shardGet(a, k) !== shardGet(b, k) || (shardGet(a, k) === undefined) !== (shardGet(b, k) === undefined));
    const got = shardDiffKeys(a, b);
    expect(got.length).toBe(new Set(got).size);
    expect(new Set(got)).toEqual(new Set(differ));
    for (const k of got) expect(typeof k).toBe('string');
    expect(got.map((k) => shardOf(k))).toEqual(got.map((k) => shardOf(k)).sort((x, y) => x - y));
  });

  it('tell which keys differ between two versions, in the order of their leaves', () => {
    fc.assert(diffsExactly(ops));
  });

  it('keep a leaf\'s keys in the order a dictionary given them enumerates them (decimal keys, as the IP index\'s, first by value), through immer and in place', () => {
    const decimal = fc.oneof(fc.nat({ max: 0xffffffff }).map(String), fc.constantFrom('0', '00', '01', '4294967294', '4294967295', '4294967296', '99999999999', '1.5', '-1', '1e3'));
    fc.assert(fc.property(fc.array(fc.oneof(decimal, key), { minLength: 1, maxLength: 30 }), fc.boolean(), (keys, viaImmer) => {
      let s = emptyShards<number>();
      const model = new Map<string, number>();
      keys.forEach((k, i) => {
        model.set(k, i);
        if (viaImmer) s = produce(s, (d) => shardSet(d as Shards<number>, k, i));
        else shardSet(s, k, i);
      });
      for (const leaf of shardLeaves(s)) {
        // The entries a dictionary given the same keys in the same order holds, in the same order.
        const ref = Object.create(null) as Record<string, number>;
        const mine = new Set(leaf.filter((_, i) => i % 3 === 1));
        for (const k of keys) if (mine.has(k)) ref[k] = model.get(k)!;
        expect(leaf.filter((_, i) => i % 3 !== 0)).toEqual(Object.entries(ref).flat());
      }
      for (const [k, v] of model) expect(shardGet(s, k)).toBe(v);
      expect(shardSize(s)).toBe(model.size);
    }));
  });

  it('keep the keys of one leaf in a dictionary\'s order through sets, deletes, re-adds and reads that write, in transitions and in place', () => {
    // Keys that all fall in one leaf: names, addresses (array indices, which a dictionary enumerates first,
    // by value) and decimals that are not array indices (enumerated with the names, in insertion order).
    const target = shardOf('pod-0');
    const inLeaf = (make: (i: number) => string, from: number, count: number): string[] => {
      const out: string[] = [];
      for (let i = from; out.length < count; i++) if (shardOf(make(i)) === target) out.push(make(i));
      return out;
    };
    const pool = [...inLeaf((i) => `pod-${i}`, 0, 5), ...inLeaf(String, 167772160, 5), ...inLeaf((i) => `0${i}`, 0, 1), ...inLeaf((i) => String(4294967295 + i), 0, 1)];
    type Rec = { n: number; marks: number };
    type Step = { readonly get: string } | { readonly every: true } | Op;
    const k = fc.constantFrom(...pool);
    const step: fc.Arbitrary<Step> = fc.oneof(k.map((get) => ({ get })), fc.constant({ every: true as const }), k.map((del) => ({ del }) as Op), fc.record({ set: k, value: fc.integer() }) as fc.Arbitrary<Op>);
    const mark = (plain: Shards<{ n: number; marks: number }>, model: Record<string, { n: number; marks: number }>, key: string): void => {
      model[key] = { ...model[key]!, marks: model[key]!.marks + 1 };
      const p = shardGet(plain, key)!;
      shardSet(plain, key, { ...p, marks: p.marks + 1 });
    };
    fc.assert(fc.property(fc.array(fc.array(step, { maxLength: 8 }), { maxLength: 12 }), fc.boolean(), (transitions, viaTransition) => {
      const plain = emptyShards<Rec>();
      const model = Object.create(null) as Record<string, Rec>;
      // Each list of steps in a podnet transition (reads remembered, new values registered) or immer's produce.
      playChanges<Rec, Step>(transitions, viaTransition, (d, st) => {
        if ('get' in st) {
          // A read hands out what the caller may write into: the new state gets it, the old one not.
          const v = shardGet(d, st.get);
          expect(v && { ...v }).toEqual(model[st.get] && { ...model[st.get]! });
          if (v !== undefined) { v.marks += 1; mark(plain, model, st.get); }
        } else if ('every' in st) {
          // Every value, through the draft: each one the caller may write into.
          for (const v of shardValues(d)) v.marks += 1;
          for (const key of Object.keys(model)) mark(plain, model, key);
        } else if ('set' in st) {
          shardSet(d, st.set, { n: st.value, marks: 0 });
          shardSet(plain, st.set, { n: st.value, marks: 0 });
          model[st.set] = { n: st.value, marks: 0 };
        } else {
          shardDelete(d, st.del);
          shardDelete(plain, st.del);
          delete model[st.del];
        }
      }, (s) => {
        const want = Object.entries(model).flat();
        const leaves = [...shardLeaves(s)];
        expect(leaves.length).toBe(want.length === 0 ? 0 : 1);
        if (want.length > 0) expect(leaves[0]!.filter((_, i) => i % 3 !== 0)).toEqual(want);
        expect(s).toEqual(plain);
      });
    }), { numRuns: 300 });
  });

  it('leave the previous state as it was when a transition writes leaves of one top and reads drafts out of it (tops are copied by hand, then drafted to read)', () => {
    // Keys in three leaves of one top (two each), and one in another top: a write copies the top, a read
    // that hands out a draft turns the copy into the top's draft, a write after that goes through it.
    const first = shardOf('pod-0');
    const top = Math.floor(first / SHARD_FANOUT);
    const byLeaf = new Map<number, string[]>();
    for (let i = 0; i < 400000 && [...byLeaf.values()].filter((l) => l.length >= 2).length < 3; i++) {
      const k = `pod-${i}`;
      const at = shardOf(k);
      if (Math.floor(at / SHARD_FANOUT) !== top) continue;
      byLeaf.set(at, [...(byLeaf.get(at) ?? []), k]);
    }
    const pool = [...[...byLeaf.values()].filter((l) => l.length >= 2).flatMap((l) => l.slice(0, 2)), ...['node-1', 'node-2'].filter((k) => Math.floor(shardOf(k) / SHARD_FANOUT) !== top).slice(0, 1)];
    expect(pool.length).toBeGreaterThanOrEqual(7);
    type Rec = { n: number; marks: number };
    type Step = { readonly get: string } | { readonly every: true } | Op;
    const k = fc.constantFrom(...pool);
    const step: fc.Arbitrary<Step> = fc.oneof(k.map((get) => ({ get })), fc.constant({ every: true as const }), k.map((del) => ({ del }) as Op), fc.record({ set: k, value: fc.integer() }) as fc.Arbitrary<Op>, fc.record({ set: k, value: fc.integer() }) as fc.Arbitrary<Op>);
    fc.assert(fc.property(fc.array(fc.array(step, { maxLength: 10 }), { maxLength: 10 }), fc.boolean(), (transitions, viaTransition) => {
      const plain = emptyShards<Rec>();
      playChanges<Rec, Step>(transitions, viaTransition, (d, st) => {
        if ('get' in st) {
          const v = shardGet(d, st.get);
          expect(v && { ...v }).toEqual(shardGet(plain, st.get) && { ...shardGet(plain, st.get)! });
          if (v !== undefined) { v.marks += 1; shardGet(plain, st.get)!.marks += 1; }
        } else if ('every' in st) {
          for (const v of shardValues(d)) v.marks += 1;
          for (const v of shardValues(plain)) v.marks += 1;
        } else if ('set' in st) {
          shardSet(d, st.set, { n: st.value, marks: 0 });
          shardSet(plain, st.set, { n: st.value, marks: 0 });
        } else {
          shardDelete(d, st.del);
          shardDelete(plain, st.del);
        }
      }, (s) => expect(s).toEqual(plain));
    }), { numRuns: 300 });
  });

  it('tell which keys differ when the keys are decimal addresses, as the IP index keys are', () => {
    // Integer-like keys are stored by V8 as elements, not named properties: the diff reads them with
    // Object.keys, and must return them as the strings they were set with.
    const ipKey = fc.integer({ min: 167772160, max: 167772175 }).map(String);
    fc.assert(diffsExactly(fc.array(fc.oneof(ipKey.map((k) => ({ del: k }) as Op), fc.record({ set: ipKey, value: fc.integer() }) as fc.Arbitrary<Op>), { maxLength: 80 })));
  });

  it('give the same map, and the same answers on the way, whether many changes share one immer transition or are made in place', () => {
    const key = fc.constantFrom(...sharingPool());
    const ops = fc.array(fc.oneof(key.map((k) => ({ del: k }) as Op), fc.record({ set: key, value: fc.integer() }) as fc.Arbitrary<Op>), { maxLength: 60 });
    // shardSet, shardDelete and shardGet look at a draft's plain data before they draft a level: a leaf
    // made, changed or emptied earlier in the same transition must be seen as it stands.
    fc.assert(fc.property(ops, ops, fc.array(fc.nat({ max: 5 }), { maxLength: 20 }), (first, list, cuts) => {
      const start = produce(emptyShards<number>(), (d) => { for (const op of first) apply(d as Shards<number>, op); });
      const plain = emptyShards<number>();
      for (const op of first) apply(plain, op);
      const model = new Map<string, number>([...shardKeys(plain)].map((k) => [k, shardGet(plain, k)!]));
      let s = start;
      let at = 0;
      for (const cut of [...cuts, list.length]) {
        const part = list.slice(at, at + cut + 1);
        at += part.length;
        s = produce(s, (d) => {
          for (const op of part) {
            const k = 'set' in op ? op.set : op.del;
            expect(shardGet(d as Shards<number>, k)).toBe(model.get(k));
            apply(d as Shards<number>, op);
            apply(plain, op);
            if ('set' in op) model.set(op.set, op.value);
            else model.delete(op.del);
            expect(shardGet(d as Shards<number>, k)).toBe(model.get(k));
          }
        });
        if (at >= list.length) break;
      }
      expect(s).toEqual(plain);
      expect([...shardKeys(s)]).toEqual([...shardKeys(plain)]);
      // What differs from the start, found leaf by leaf, in the order of the leaves.
      const all = new Set([...shardKeys(start), ...shardKeys(s)]);
      const got = shardDiffKeys(start, s);
      expect(new Set(got)).toEqual(new Set([...all].filter((k) => shardGet(start, k) !== shardGet(s, k))));
      expect(got.length).toBe(new Set(got).size);
      expect(got.map(shardOf)).toEqual(got.map(shardOf).sort((x, y) => x - y));
      // The state the transitions started from is as it was.
      expect(new Set(shardKeys(start))).toEqual(new Set(first.reduce((m, op) => ('set' in op ? m.add(op.set) : (m.delete(op.del), m)), new Set<string>())));
    }));
  });
  it('in a draftTransition, a key read again gives what it gave (remembered), a written key is read anew, and writes into what a read gave land in the new state', () => {
    type Rec = { n: number; marks: number };
    type Step = { readonly get: string; readonly mark: boolean } | Op;
    // Four keys, so that a key is read, written and read again within a few steps.
    const few = fc.integer({ min: 0, max: 3 }).map((i) => `node-${i}`);
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ get: few, mark: fc.boolean() }),
      fc.record({ get: few, mark: fc.boolean() }),
      few.map((k) => ({ del: k }) as Op),
      fc.record({ set: few, value: fc.integer() }) as fc.Arbitrary<Op>,
    );
    fc.assert(fc.property(ops, fc.array(step, { maxLength: 60 }), (first, steps) => {
      const base = produce(emptyShards<Rec>(), (d) => {
        for (const op of first) if ('set' in op) shardSet(d as Shards<Rec>, op.set, { n: op.value, marks: 0 }); else shardDelete(d as Shards<Rec>, op.del);
      });
      const before = JSON.stringify([...shardKeys(base)].map((k) => [k, shardGet(base, k)]));
      const model = new Map<string, Rec>([...shardKeys(base)].map((k) => [k, { ...shardGet(base, k)! }]));
      const next = draftTransition({ m: base }, (d) => {
        const s = d.m as Shards<Rec>;
        const gave = new Map<string, Rec>();
        for (const st of steps) {
          if ('get' in st) {
            const v = shardGet(s, st.get);
            const want = model.get(st.get);
            if (want === undefined) expect(v).toBeUndefined();
            else expect({ ...v! }).toEqual(want);
            // The same key read twice with no write between gives the same object (the same draft).
            if (gave.has(st.get)) expect(v).toBe(gave.get(st.get));
            if (v !== undefined) gave.set(st.get, v);
            if (v !== undefined && st.mark) { v.marks += 1; want!.marks += 1; }
          } else {
            const k = 'set' in st ? st.set : st.del;
            gave.delete(k);
            if ('set' in st) { shardSet(s, k, { n: st.value, marks: 0 }); model.set(k, { n: st.value, marks: 0 }); }
            else { shardDelete(s, k); model.delete(k); }
          }
        }
        expect(inTransition()).toBe(true);
      });
      expect(new Map([...shardKeys(next.m)].map((k) => [k, { ...shardGet(next.m, k)! }]))).toEqual(model);
      // The state it started from is unchanged; outside a transition nothing is remembered.
      expect(JSON.stringify([...shardKeys(base)].map((k) => [k, shardGet(base, k)]))).toBe(before);
      expect(inTransition()).toBe(false);
    }), { numRuns: 300 });
  });
});

describe('a sharded map copied plain in a transition (util/immer.ts tableToWrite)', () => {
  it('ends as the map a draft of it ends as, with the same answers on the way, its tops and leaves copied on write: the previous state is left as it was', () => {
    const key = fc.constantFrom(...sharingPool());
    const ops = fc.array(fc.oneof(key.map((k) => ({ del: k }) as Op), fc.record({ set: key, value: fc.integer() }) as fc.Arbitrary<Op>), { maxLength: 40 });
    fc.assert(fc.property(ops, fc.array(fc.record({ op: ops.map((l) => l[0]), copy: fc.boolean() }).filter((x) => x.op !== undefined), { maxLength: 30 }), (first, list) => {
      const start = produce({ m: emptyShards<number>(), n: 0 }, (d) => { for (const op of first) apply(d.m as Shards<number>, op); });
      const before = JSON.stringify(start);
      // Each step writes through the plain copy (made at the first such step) or through the draft, as it
      // would find the map: once copied, the state's field holds the copy.
      const play = (mine: boolean) => (d: { m: Shards<number>; n: number }): void => {
        for (const { op, copy } of list) {
          const m = mine && copy ? tableToWrite(d, 'm') : d.m;
          const k = 'set' in op! ? op.set : op!.del;
          d.n = (shardGet(m, k) ?? 0) + d.n;
          apply(m as Shards<number>, op!);
          d.n = (shardGet(m, k) ?? 0) + d.n;
        }
      };
      const mine = draftTransition(start, play(true));
      const theirs = produce(start, play(false));
      expect(mine).toEqual(theirs);
      expect([...shardKeys(mine.m)]).toEqual([...shardKeys(theirs.m)]);
      expect(JSON.stringify(start)).toBe(before);
      // Untouched tops and leaves are shared with the previous state, as immer shares them.
      for (let t = 0; t < SHARD_FANOUT; t++) expect(mine.m[t] === start.m[t]).toBe(theirs.m[t] === start.m[t]);
    }));
  });
  it('nested: the entries of a copied entry of a copied table (a peer set\'s) end as through drafts, the previous state untouched', () => {
    const key = fc.constantFrom(...sharingPool());
    const ops = fc.array(fc.record({ op: fc.oneof(key.map((k) => ({ del: k }) as Op), fc.record({ set: key, value: fc.integer() }) as fc.Arbitrary<Op>), copy: fc.boolean(), set: fc.constantFrom('x', 'y') }), { maxLength: 30 });
    type S = { sets: Record<string, { name: string; entries: Shards<number> }> };
    fc.assert(fc.property(ops, ops, (first, list) => {
      const start = produce({ sets: { x: { name: 'x', entries: emptyShards<number>() }, y: { name: 'y', entries: emptyShards<number>() } } } as S, (d) => {
        for (const { op, set } of first) apply(d.sets[set]!.entries, op);
      });
      const before = JSON.stringify(start);
      // Through the drafts until the first write through the copies, then through the copies only: once the
      // table is a plain copy, its entries read through the state's draft are the previous state's (the rule
      // the callers keep: every write of such an entry goes through entryToWrite).
      const play = (mine: boolean) => (d: S): void => {
        let copied = false;
        for (const { op, copy, set } of list) {
          copied ||= mine && copy;
          const m = copied ? tableToWrite(entryToWrite(d, 'sets', set) as S['sets'][string], 'entries') : d.sets[set]!.entries;
          apply(m, op);
        }
      };
      const mine = draftTransition(start, play(true));
      const theirs = produce(start, play(false));
      expect(mine).toEqual(theirs);
      for (const k of ['x', 'y']) expect([...shardKeys(mine.sets[k]!.entries)]).toEqual([...shardKeys(theirs.sets[k]!.entries)]);
      expect(JSON.stringify(start)).toBe(before);
    }));
  });
  it('a value written in place (shardValueToWrite: a node), its tables (tableToWrite), a record in it copied on write (fieldToWrite) and the insides of its entries drafted on their own (entryDraft) end as through immer\'s drafts, the previous state untouched', () => {
    type Pod = { netns: { w: number } };
    type N = { name: string; v: number; host: { inner: { w: number }; t: Record<string, number> }; pods: Record<string, Pod> };
    type S = { nodes: Shards<N>; n: number };
    type O = { readonly op: 'field' | 'hostdeep' | 'hostfield' | 'hosttable' | 'pod' | 'podset' | 'poddel' | 'set' | 'del'; readonly k: string; readonly p: string; readonly copy: boolean };
    const o: fc.Arbitrary<O> = fc.record({
      op: fc.constantFrom('field' as const, 'hostdeep' as const, 'hostfield' as const, 'hosttable' as const, 'pod' as const, 'podset' as const, 'poddel' as const, 'set' as const, 'del' as const),
      k: fc.constantFrom(...sharingPool().slice(0, 6)), p: fc.constantFrom('a', 'b', 'c'), copy: fc.boolean(),
    });
    const node = (name: string, w: number): N => {
      const pods = Object.create(null) as Record<string, Pod>;
      pods['b'] = { netns: { w } };
      pods['a'] = { netns: { w: w + 1 } };
      return { name, v: w, host: { inner: { w }, t: { x: w } }, pods };
    };
    fc.assert(fc.property(fc.array(o, { maxLength: 10 }), fc.array(o, { maxLength: 20 }), fc.boolean(), (first, list, frozen) => {
      setFreezing(frozen);
      try {
        const start = produce({ nodes: emptyShards<N>(), n: 0 } as S, (d) => {
          for (const x of first) if (x.op === 'set') shardSet(d.nodes, x.k, node(x.k, 1));
        });
        const before = JSON.stringify(start);
        // Through the drafts until the first step that copies, then through the copies only (the rule the
        // callers keep: once the map is a plain copy, every node to change is reached through shardValueToWrite).
        const play = (mine: boolean) => (d: S): void => {
          let copied = false;
          let n = 0;
          for (const x of list) {
            n += 1;
            copied ||= mine && x.copy;
            const m = copied ? tableToWrite(d, 'nodes') : d.nodes;
            if (x.op === 'set') { shardSet(m, x.k, node(x.k, n)); continue; }
            if (x.op === 'del') { shardDelete(m, x.k); continue; }
            // Values written are small, so that some write what is there already: immer keeps such a node as
            // it was, and so must the copies. A key is deleted only where it is (as the callers do).
            const held = shardPeekValues(m).find((v) => v.name === x.k);
            if (held === undefined || (x.op === 'poddel' && !Object.prototype.hasOwnProperty.call(held.pods, x.p))) continue;
            const nd = (copied ? shardValueToWrite(m, x.k) : shardGet(m, x.k))!;
            const w = n % 3;
            if (x.op === 'field') nd.v = w;
            // The host as a plain copy (fieldToWrite): its own fields replaced (a record in it by a changed copy),
            // its tables written through tableToWrite.
            else if (x.op === 'hostdeep') {
              const h = copied ? fieldToWrite(nd, 'host') : nd.host;
              h.inner = { ...h.inner, w };
            }
            else if (x.op === 'hostfield') (copied ? fieldToWrite(nd, 'host') : nd.host).inner = { w };
            else if (x.op === 'hosttable') (copied ? tableToWrite(fieldToWrite(nd, 'host'), 't') : nd.host.t)[x.p] = w;
            else if (x.op === 'pod') {
              const p = (copied ? entryDraft(nd, 'pods', x.p) : nd.pods[x.p]) as Pod | undefined;
              if (p !== undefined) p.netns.w = w;
            }
            else if (x.op === 'podset') (copied ? tableToWrite(nd, 'pods') : nd.pods)[x.p] = { netns: { w } };
            else delete (copied ? tableToWrite(nd, 'pods') : nd.pods)[x.p];
            d.n += (copied ? shardValueToWrite(m, x.k) : shardGet(m, x.k)) === nd ? 1 : 0;
          }
        };
        const mine = draftTransition(start, play(true));
        const theirs = produce(start, play(false));
        expect(JSON.stringify(mine)).toBe(JSON.stringify(theirs));
        expect(JSON.stringify(start)).toBe(before);
        for (const k of shardKeys(mine.nodes)) {
          const a = shardGet(mine.nodes, k)!, b = shardGet(start.nodes, k);
          expect(isDraft(a) || isDraft(a.host) || Object.values(a.pods).some((p) => isDraft(p))).toBe(false);
          // A node the transition did not change (or wrote only what it held) is the previous state's, as immer
          // leaves it; so are its pods. (One changed and changed back is too, where immer makes a new one.)
          const t = shardGet(theirs.nodes, k)!;
          if (t === b) expect(a).toBe(b);
          if (b !== undefined && t.pods === b.pods) expect(a.pods).toBe(b.pods);
          expect(Object.keys(a.pods)).toEqual(Object.keys(shardGet(theirs.nodes, k)!.pods));
        }
      } finally {
        setFreezing(true);
      }
    }));
  });
});
