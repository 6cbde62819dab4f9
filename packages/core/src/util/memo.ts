/**
 * Weak memo tables whose entries can be kept young while states die young (property runs).
 *
 * podnet memoizes what it derives from a state on the state's immutable parts, in weak maps keyed by them (a
 * namespace's links list and engine view, a table's per-device index, a state's namespace lookups). Measured
 * on Node 20 (V8 11.3): a scavenge keeps alive the value of every entry of a weak map that is itself old, even
 * when the entry's key is dead (a loop that puts 200,000 short-lived keys into a long-lived `WeakMap` grew the
 * old space by 15 MB; the same loop with a fresh `WeakMap` every 1,000 entries, by 0.1 MB). A memo's value
 * then holds the namespace it was made for, and what is written into it later (a view filled in lazily) is
 * kept by the remembered set until the next full collection: in flannel VXLAN property runs at `at-end`, whose
 * states live a millisecond, ~1.2 MB survived each scavenge (a finished run holds ~0.1 MB) and ~1.2 MB was
 * promoted, ~10 % of the run's time in the collector.
 *
 * {@link YoungWeakMap} is a `WeakMap` (same `get`/`set`/`has`/`delete`) that, inside
 * {@link withShortLivedStates}, starts a new table every {@link GENERATION} insertions: the table before is
 * kept for lookups, and an entry found there is carried into the new one, so an entry in use stays; one not
 * asked for during a whole generation is dropped (and made again if asked for later: a memo, never state).
 * Outside that scope nothing is dropped: a long session on a 150,000-pod state keeps every entry, as a
 * `WeakMap` does.
 */

import { fail, shown } from '../errors.js';

/** Insertions into one {@link YoungWeakMap} before it starts a new table (inside {@link withShortLivedStates}). */
export const GENERATION = 8;

/** How many {@link withShortLivedStates} scopes are open. */
let shortLived = 0;

/**
 * Runs `f` with podnet's memo tables kept young (util/memo.ts `YoungWeakMap`): for work whose states are dropped
 * soon after they are made, as a property run's are (@podnet/testing's `ClusterRun` plays its events in such
 * a scope). What `f` computes is the same either way; only what is remembered between calls differs. Throws
 * `INVALID_ARGUMENT` when `f` is not a function. Returns what `f` returns.
 *
 * @example
 * const run = withShortLivedStates(() => { const sim = createSimulator(spec); sim.addNode({ name: 'node-1' }); return sim.state; });
 */
export function withShortLivedStates<T>(f: () => T): T {
  if (typeof f !== 'function') fail('INVALID_ARGUMENT', `withShortLivedStates needs a function, not ${shown(f)}`);
  shortLived++;
  try {
    return f();
  } finally {
    shortLived--;
  }
}

/** Whether a {@link withShortLivedStates} scope is open. */
export function inShortLivedScope(): boolean {
  return shortLived > 0;
}

/**
 * A weak memo table: a `WeakMap` whose entries, inside {@link withShortLivedStates}, live in a table made at
 * most 8 insertions ago (`GENERATION`), or in the one before it (see the module's comment). Its values must
 * be what can be made again from the key: an entry may be dropped.
 *
 * @example
 * const lengths = new YoungWeakMap<readonly string[], number>();
 * const lengthOf = (xs: readonly string[]): number => lengths.get(xs) ?? (lengths.set(xs, xs.length), xs.length);
 */
export class YoungWeakMap<K extends object, V> {
  #cur = new WeakMap<K, V>();
  #prev: WeakMap<K, V> | null = null;
  #sets = 0;

  /** The value set for `key`, or undefined (never set, deleted, or dropped inside the scope: make it again). */
  get(key: K): V | undefined {
    const v = this.#cur.get(key);
    if (v !== undefined || this.#prev === null) return v;
    const p = this.#prev.get(key);
    // Found in the table before: carried into the current one, where the next generation finds it.
    if (p !== undefined) this.#cur.set(key, p);
    return p;
  }

  /** Whether {@link YoungWeakMap.get} would find a value for `key`. */
  has(key: K): boolean {
    return this.#cur.has(key) || (this.#prev !== null && this.#prev.has(key));
  }

  /** Sets `key`'s value; throws `INVALID_ARGUMENT` when `key` is not an object (a `WeakMap` key), the map unchanged. */
  set(key: K, value: V): this {
    if ((typeof key !== 'object' && typeof key !== 'function') || key === null) fail('INVALID_ARGUMENT', `a YoungWeakMap key must be an object, not ${shown(key)}`);
    if (shortLived > 0 && ++this.#sets >= GENERATION) {
      this.#prev = this.#cur;
      this.#cur = new WeakMap();
      this.#sets = 0;
    }
    this.#cur.set(key, value);
    return this;
  }

  /** Drops `key`'s entry; true when there was one. */
  delete(key: K): boolean {
    const a = this.#cur.delete(key);
    const b = this.#prev !== null && this.#prev.delete(key);
    return a || b;
  }
}
