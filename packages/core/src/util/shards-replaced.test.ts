import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { draftTransition } from './immer.js';
import { emptyShards, shardGet, shardKeys, shardReplaced, shardSet, type Shards } from './shards.js';

describe('shardReplaced', () => {
  it('gives what shardSet of a held key gives through a draftTransition, and leaves the map it was given as it was', () => {
    const keys = fc.uniqueArray(fc.integer({ min: 0, max: 400 }).map((i) => `node-${i}`), { minLength: 1, maxLength: 60 });
    fc.assert(fc.property(keys, fc.nat(), fc.integer(), (ks, pick, value) => {
      const s: Shards<number> = emptyShards();
      ks.forEach((k, i) => shardSet(s, k, i));
      const key = ks[pick % ks.length]!;
      const before = JSON.stringify(s);
      const replaced = shardReplaced(s, key, value);
      const drafted = draftTransition({ m: s }, (d) => shardSet(d.m, key, value)).m;
      expect(JSON.stringify(replaced)).toBe(JSON.stringify(drafted));
      expect(shardKeys(replaced)).toEqual(shardKeys(s));
      expect(shardGet(replaced, key)).toBe(value);
      expect(JSON.stringify(s)).toBe(before);
    }));
  });

  it('throws for a key the map does not hold', () => {
    const s: Shards<number> = emptyShards();
    shardSet(s, 'a', 1);
    expect(() => shardReplaced(s, 'b', 2)).toThrow(/does not hold/);
  });
});
