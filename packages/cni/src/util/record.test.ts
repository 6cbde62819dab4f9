import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { withEntry, withoutEntries } from './record.js';

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

describe('withoutEntries', () => {
  it('is the record filtered, in its order, and leaves the original alone', () => {
    fc.assert(fc.property(fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', '0', '7')), fc.integer()), fc.integer(), (r, cut) => {
      const before = { ...r };
      const out = withoutEntries(r, (_k, v) => v < cut);
      expect(Object.entries(out)).toEqual(Object.entries(r).filter(([, v]) => v >= cut));
      expect(r).toEqual(before);
    }));
  });
});
