import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { produce } from './immer.js';
import { emptyShards, shardDelete, shardGet, shardKeys, shardLeaves, shardSet, shardSize, type Shards } from './shards.js';

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
      for (const l of shardLeaves(s)) expect(Object.keys(l).length).toBeGreaterThan(0);
    }));
  });

  it('deleting every key leaves the map as empty as a new one', () => {
    const s = emptyShards<number>();
    for (let i = 0; i < 500; i++) shardSet(s, `node-${i}`, i);
    for (let i = 0; i < 500; i++) shardDelete(s, `node-${i}`);
    expect(s).toEqual(emptyShards<number>());
  });
});
