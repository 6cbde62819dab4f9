import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { produce } from 'immer';
import { dict } from './dict.js';

describe('dict', () => {
  it('reads as the record it copies: same entries, same order, same JSON', () => {
    fc.assert(fc.property(fc.dictionary(fc.string(), fc.integer()), (r) => {
      const d = dict(r);
      expect(Object.getPrototypeOf(d)).toBeNull();
      expect(Object.keys(d)).toEqual(Object.keys(r));
      expect(d).toEqual(r);
      expect(JSON.stringify(d)).toBe(JSON.stringify(r));
      for (const k of Object.keys(r)) expect(d[k]).toBe(r[k]);
    }));
  });

  it('holds any key as data, "__proto__" and "constructor" included', () => {
    const d = dict<number>();
    d['__proto__'] = 1;
    d['constructor'] = 2;
    expect(Object.keys(d)).toEqual(['__proto__', 'constructor']);
    expect('toString' in d).toBe(false);
  });

  it('stays a dictionary through an immer write, and the base is untouched', () => {
    const base = { t: dict({ a: 1 }) };
    const next = produce(base, (x) => { x.t['b'] = 2; });
    expect(Object.getPrototypeOf(next.t)).toBeNull();
    expect(next.t).toEqual({ a: 1, b: 2 });
    expect(base.t).toEqual({ a: 1 });
  });
});
