import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { withEntry, withKey } from './record.js';

describe('withEntry', () => {
  it('is the spread with one key set, and leaves the original alone', () => {
    fc.assert(fc.property(fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'toString')), fc.integer()), fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor')), fc.integer(), (r, k, v) => {
      const before = { ...r };
      const out = withEntry(r, k, v);
      expect(out).toEqual({ ...r, [k]: v });
      expect(Object.keys(out)).toEqual(Object.keys({ ...r, [k]: v }));
      expect(r).toEqual(before);
    }));
  });
});

describe('withKey', () => {
  it('is the spread with one key set, own __proto__ keys included, and leaves the original alone', () => {
    const keyArb = fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'toString', 'name', '0'));
    fc.assert(fc.property(fc.dictionary(keyArb, fc.oneof(fc.integer(), fc.object())), keyArb, fc.integer(), fc.boolean(), (d, k, v, parsed) => {
      // A parsed object holds `__proto__` as an own key, as JSON.parse makes it.
      const r = parsed ? JSON.parse(JSON.stringify(d)) as Record<string, unknown> : d;
      const before = JSON.stringify(r);
      const out = withKey(r, k, v);
      const spread = { ...r, [k]: v };
      expect(Object.getOwnPropertyNames(out)).toEqual(Object.getOwnPropertyNames(spread));
      expect(Object.getPrototypeOf(out)).toBe(Object.getPrototypeOf(spread));
      for (const key of Object.getOwnPropertyNames(spread)) expect(Object.getOwnPropertyDescriptor(out, key)).toEqual(Object.getOwnPropertyDescriptor(spread, key));
      expect(JSON.stringify(r)).toBe(before);
    }), { numRuns: 500 });
  });
});
