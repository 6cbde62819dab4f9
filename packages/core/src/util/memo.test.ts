import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPodnetError } from '../errors.js';
import { GENERATION, inShortLivedScope, withShortLivedStates, YoungWeakMap } from './memo.js';

describe('YoungWeakMap: a weak memo table kept young while states die young', () => {
  it('outside withShortLivedStates drops nothing, as a WeakMap (a long session keeps every memo)', () => {
    const m = new YoungWeakMap<object, number>();
    const keys = Array.from({ length: 10 * GENERATION }, () => ({}));
    keys.forEach((k, i) => m.set(k, i));
    expect(keys.every((k, i) => m.get(k) === i && m.has(k))).toBe(true);
  });

  it('inside, keeps an entry in use and drops one nobody asked for during two generations', () => {
    withShortLivedStates(() => {
      const m = new YoungWeakMap<object, string>();
      const used = {};
      const idle = {};
      m.set(used, 'used');
      m.set(idle, 'idle');
      for (let i = 0; i < 4 * GENERATION; i++) {
        m.set({}, 'other');
        expect(m.get(used)).toBe('used');
      }
      expect(m.get(idle)).toBeUndefined();
      expect(m.has(idle)).toBe(false);
      // A deleted entry stays deleted when it sat in the table before (not carried back from there).
      const gone = {};
      m.set(gone, 'gone');
      for (let i = 0; i < GENERATION; i++) m.set({}, 'other');
      m.delete(gone);
      expect(m.get(gone)).toBeUndefined();
    });
  });

  it('answers a key with the value last set for it, or nothing: never another key\'s, nor an older one (against a Map)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), key: fc.nat(8), value: fc.integer() }),
      fc.record({ kind: fc.constant('get' as const), key: fc.nat(8) }),
      fc.record({ kind: fc.constant('delete' as const), key: fc.nat(8) }),
    );
    fc.assert(fc.property(fc.boolean(), fc.array(op, { maxLength: 300 }), (scoped, ops) => {
      const keys = Array.from({ length: 9 }, () => ({}));
      const m = new YoungWeakMap<object, number>();
      const model = new Map<number, number>();
      const play = (): void => {
        for (const o of ops) {
          if (o.kind === 'set') {
            m.set(keys[o.key]!, o.value);
            model.set(o.key, o.value);
          } else if (o.kind === 'delete') {
            m.delete(keys[o.key]!);
            model.delete(o.key);
          } else {
            const got = m.get(keys[o.key]!);
            // Outside a scope nothing is dropped; inside, a memo may be made again, never answered wrong.
            if (got !== undefined || !scoped) expect(got).toBe(model.get(o.key));
          }
        }
      };
      if (scoped) withShortLivedStates(play);
      else play();
    }));
  });

  it('refuses a key that is not an object with INVALID_ARGUMENT (as @podnet/core exports it), its entries unchanged', () => {
    const m = new YoungWeakMap<object, number>();
    const k = {};
    m.set(k, 1);
    for (const bad of [null, 7, 'eth0', undefined]) {
      try {
        m.set(bad as unknown as object, 2);
        expect.unreachable();
      } catch (e) {
        expect(isPodnetError(e) && e.code).toBe('INVALID_ARGUMENT');
      }
    }
    expect(m.get(k)).toBe(1);
  });

  it('withShortLivedStates returns what its function returns, closes its scope when it throws, and refuses a non-function', () => {
    expect(inShortLivedScope()).toBe(false);
    expect(withShortLivedStates(() => withShortLivedStates(() => inShortLivedScope()))).toBe(true);
    expect(() => withShortLivedStates(() => { throw new Error('boom'); })).toThrow('boom');
    expect(inShortLivedScope()).toBe(false);
    try {
      withShortLivedStates(42 as unknown as () => void);
      expect.unreachable();
    } catch (e) {
      expect(isPodnetError(e) && e.code).toBe('INVALID_ARGUMENT');
    }
  });
});
