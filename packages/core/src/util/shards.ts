/**
 * A persistent map split two levels deep (128 × 128 leaves), so that no single object in the immutable
 * state holds more than a few entries at 150,000 pods. immer copies an object when one of its entries
 * changes: with one level of 256 shards a pod change copied a 600-key shard of each index; with 128 × 128
 * it copies the 128-slot first level, one top and a leaf of about n/16,384 entries.
 *
 * Leaves are dictionaries (util/dict.ts), and a dictionary's copy costs per key, reading each key from
 * memory: at 150,000 pods a 64 × 64 map's leaves held ~38 keys, and copying the IP index's and the pod
 * index's leaf cost a pod add or delete ~15% of its time (5,000 nodes × 30 pods, in-process A/B: add 677 →
 * 579 µs, delete 451 → 390 µs CPU median with 128 × 128; heap +1.7%). Tops are arrays, copied with one
 * `slice` (~40 ns for 64 slots), never objects keyed by leaf number: V8 copies an object's integer keys one
 * by one (~11 µs for a full top of 64, Node 20). A small cluster's walk visits 128 slots per top it has,
 * which costs less than one such copy.
 *
 * Leaves and tops are created on first use and dropped when emptied (null where none is).
 */
import { isDraft } from 'immer';
import { dict } from './dict.js';
import { dictDraft, forgetRead, inTransition, madeHere, readsOf, rememberRead, snapshot } from './immer.js';

const BITS = 7;
/** Slots per level: a top holds this many leaves, the map this many tops. */
export const SHARD_FANOUT = 1 << BITS;
const FANOUT = SHARD_FANOUT;
/** Number of leaves. */
export const SHARD_COUNT = FANOUT * FANOUT;

type Leaf<V> = Readonly<Record<string, V>>;
/** Leaf number (0–63 within the top) → leaf; null where there is none. Always 64 slots. */
type Top<V> = readonly (Leaf<V> | null)[];

/** A sharded map from string keys to values. Plain data: put it in an immer tree. */
export type Shards<V> = readonly (Top<V> | null)[];

/** An empty sharded map. */
export function emptyShards<V>(): Shards<V> {
  return new Array<Top<V> | null>(FANOUT).fill(null);
}

/** The leaf index of a key (FNV-1a), 0 to SHARD_COUNT − 1. */
export function shardOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) & (SHARD_COUNT - 1);
}

/** The leaf with this index, or undefined when it was never created. */
export function shardLeaf<V>(s: Shards<V>, i: number): Leaf<V> | undefined {
  return s[i >>> BITS]?.[i & (FANOUT - 1)] ?? undefined;
}

/**
 * Looks a key up; `undefined` when absent. On an immer draft the value is a draft (to write into). In a
 * {@link transition}, what a draft map gave is remembered (util/immer.ts `rememberRead`) until
 * {@link shardSet} or {@link shardDelete} writes the key: reading it again skips immer's traps on the
 * levels (a pod's CNI ADD read its node four times).
 */
export function shardGet<V>(s: Shards<V>, key: string): V | undefined {
  // Outside a transition (the engine, the checks, a cluster built in place) the lookup is all there is.
  return inTransition() ? shardGetRemembered(s, key) : lookup(s, key);
}

function lookup<V>(s: Shards<V>, key: string): V | undefined {
  const l = shardLeaf(s, shardOf(key));
  return l !== undefined && Object.prototype.hasOwnProperty.call(l, key) ? l[key] : undefined;
}

/** {@link shardGet} in a transition: a draft map's answer is remembered until the key is written. */
function shardGetRemembered<V>(s: Shards<V>, key: string): V | undefined {
  const known = readsOf(s);
  if (known !== undefined) {
    const v = known.get(key);
    if (v !== undefined) return v as V;
  }
  // Remembered for a draft map only: a plain map read in a transition is the state before it, or a level
  // made in it, which a write changes in place.
  if (!isDraft(s)) return lookup(s, key);
  // Reading an object through a draft leaf makes immer copy the leaf (not a primitive): dictDraft copies it
  // the faster way.
  const l = shardLeaf(s, shardOf(key));
  if (l === undefined || !Object.prototype.hasOwnProperty.call(l, key)) return undefined;
  const plain = snapshot(l)[key];
  const v = plain !== null && typeof plain === 'object' ? dictDraft(l)[key] : plain;
  if (v !== undefined) rememberRead(s, key, v);
  return v;
}

/**
 * {@link shardGet} on a map that may be an immer draft, reading it as plain data: a read through a draft
 * copies each level it passes (immer prepares a copy before handing out a child draft), which a lookup
 * that writes nothing should not pay. The value is returned as it stands (a draft if it was changed in
 * the open transition).
 */
export function shardPeek<V>(s: Shards<V>, key: string): V | undefined {
  const i = shardOf(key);
  const top = snapshot(s)[i >>> BITS];
  const l = top ? snapshot(top)[i & (FANOUT - 1)] : null;
  if (!l) return undefined;
  const leaf = snapshot(l);
  return Object.prototype.hasOwnProperty.call(leaf, key) ? leaf[key] : undefined;
}

/**
 * Sets a key in a mutable (immer draft, or fresh) sharded map. What is missing on the way (a top, a leaf)
 * is made with the entry already in it, in one write: looked up on the plain data first, so no draft is
 * made of a level that is only replaced, and immer has one new value to finalise, not three.
 */
export function shardSet<V>(s: Shards<V>, key: string, value: V): void {
  forgetRead(s, key);
  const i = shardOf(key);
  const t = i >>> BITS;
  const j = i & (FANOUT - 1);
  const m = s as (Top<V> | null)[];
  const top = snapshot(m)[t];
  if (!top) {
    const fresh = new Array<Leaf<V> | null>(FANOUT).fill(null);
    fresh[j] = leafOf(key, value);
    m[t] = madeHere(fresh);
    return;
  }
  if (!snapshot(top)[j]) {
    (m[t] as (Leaf<V> | null)[])[j] = leafOf(key, value);
    return;
  }
  (dictDraft((m[t] as (Leaf<V> | null)[])[j]!) as Record<string, V>)[key] = value;
}

/**
 * Deletes a key from a mutable (immer draft, or fresh) sharded map. A leaf left empty goes back to `null`,
 * and a top left without leaves too: a walk costs what the map holds now, not every leaf it ever had (a
 * simulator that added and removed 500 differently named nodes walked 503 leaves for its 3). Each level is
 * read as plain data first: an absent key drafts nothing, and a leaf or top that would be left empty is
 * dropped from its parent without being drafted itself.
 */
export function shardDelete<V>(s: Shards<V>, key: string): void {
  forgetRead(s, key);
  const i = shardOf(key);
  const t = i >>> BITS;
  const j = i & (FANOUT - 1);
  const m = s as (Top<V> | null)[];
  const top = snapshot(m)[t];
  if (!top) return;
  const plainTop = snapshot(top);
  const l = plainTop[j];
  if (!l) return;
  const leaf = snapshot(l);
  if (!Object.prototype.hasOwnProperty.call(leaf, key)) return;
  if (!soleKey(leaf)) {
    delete (dictDraft((m[t] as (Leaf<V> | null)[])[j]!) as Record<string, V>)[key];
    return;
  }
  if (soleLeaf(plainTop)) m[t] = null;
  else (m[t] as (Leaf<V> | null)[])[j] = null;
}

/**
 * A new leaf holding one entry: a dictionary (util/dict.ts), as every leaf is. In a transition it is
 * registered with madeHere (util/immer.ts), as a new top is, so immer does not walk it when it finalises:
 * the values a sharded map is given are plain (new records, strings, lists built from plain data), never drafts.
 */
function leafOf<V>(key: string, value: V): Leaf<V> {
  if (isIndexKey(key)) return madeHere(Object.setPrototypeOf({ [key]: value }, null) as Leaf<V>);
  const l = dict<V>();
  l[key] = value;
  return madeHere(l);
}

/**
 * Whether a key is an array index (a canonical decimal below 2³² − 1), as the IP index's are (an address
 * as its uint32): V8 keeps such a key in an object's elements, not its properties. Given to an empty
 * prototype-less object it costs ~1 µs (the elements become a dictionary the slow way), the hottest line
 * of a flannel property run; a literal holding it, given a null prototype after, ~0.3 µs, and reads
 * faster. The leaf is the same: prototype-less, one entry. Other keys make a dictionary (util/dict.ts).
 */
function isIndexKey(key: string): boolean {
  const n = key.length;
  if (n === 0 || n > 10) return false;
  const c0 = key.charCodeAt(0);
  if (c0 < 48 || c0 > 57 || (c0 === 48 && n > 1)) return false;
  for (let i = 1; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return n < 10 || Number(key) < 4294967295;
}

/** Whether a top holds exactly one leaf. */
function soleLeaf<V>(top: Top<V>): boolean {
  let n = 0;
  for (let j = 0; j < top.length; j++) if (top[j] && ++n > 1) return false;
  return n === 1;
}

/** Whether a plain object has exactly one key. */
function soleKey(o: object): boolean {
  let n = 0;
  for (const _ in o) if (++n > 1) return false;
  return n === 1;
}

/**
 * Every leaf that exists, in a fixed order. The walks collect into an array and hand out its iterator: a
 * generator's resume per entry cost more than the entry (a 6-node map walked in twice the time).
 */
export function shardLeaves<V>(s: Shards<V>): IterableIterator<Leaf<V>> {
  return leafList(s).values();
}

function leafList<V>(s: Shards<V>): Leaf<V>[] {
  const out: Leaf<V>[] = [];
  for (let t = 0; t < s.length; t++) {
    const top = s[t];
    if (top) for (let j = 0; j < top.length; j++) { const l = top[j]; if (l) out.push(l); }
  }
  return out;
}

/** Every value, in no particular order. */
export function shardValues<V>(s: Shards<V>): IterableIterator<V> {
  const out: V[] = [];
  for (const l of leafList(s)) for (const k in l) out.push(l[k]!);
  return out.values();
}

/**
 * {@link shardValues} of a map that may be an immer draft, read as plain data: every level and every value
 * through {@link snapshot}, in the same order. Walking a draft with shardValues makes immer wrap each top,
 * leaf and value it passes in a proxy (and copy each level): scheduling a second waiting pod in one
 * transition drafted every node that way. A value the transition changed is its draft's own copy.
 */
export function shardPeekValues<V>(s: Shards<V>): V[] {
  const out: V[] = [];
  const tops = snapshot(s);
  for (let t = 0; t < tops.length; t++) {
    const top = tops[t];
    if (!top) continue;
    const plainTop = snapshot(top);
    for (let j = 0; j < plainTop.length; j++) {
      const l = plainTop[j];
      if (!l) continue;
      const leaf = snapshot(l);
      for (const k in leaf) {
        const v = leaf[k]!;
        out.push(v !== null && typeof v === 'object' ? snapshot(v) : v);
      }
    }
  }
  return out;
}

/** Every key, in no particular order. */
export function shardKeys<V>(s: Shards<V>): IterableIterator<string> {
  const out: string[] = [];
  for (const l of leafList(s)) for (const k in l) out.push(k);
  return out.values();
}

/** Number of entries (walks every leaf: O(n)). */
export function shardSize<V>(s: Shards<V>): number {
  let n = 0;
  for (const l of leafList(s)) n += Object.keys(l).length;
  return n;
}

const NO_LEAF: Leaf<never> = Object.freeze({});

/** Keys whose value differs between two versions of a map, found by identity (unchanged leaves are skipped). */
export function shardDiffKeys<V>(a: Shards<V>, b: Shards<V>): string[] {
  const out: string[] = [];
  if (a === b) return out;
  for (let i = 0; i < FANOUT; i++) {
    const ta = a[i] ?? null;
    const tb = b[i] ?? null;
    if (ta === tb) continue;
    for (let j = 0; j < FANOUT; j++) {
      const x: Leaf<V> = ta?.[j] ?? NO_LEAF;
      const y: Leaf<V> = tb?.[j] ?? NO_LEAF;
      if (x === y) continue;
      // Object.keys, not for-in: a leaf is a dictionary, for which for-in has no enumeration cache, and
      // the IP index's keys are integer-like, which for-in turns into strings one by one (~0.7 → ~0.5 µs
      // per changed leaf of one or two addresses, Node 20).
      const ky = Object.keys(y);
      for (let n = 0; n < ky.length; n++) { const k = ky[n]!; if (x[k] !== y[k] || !(k in x)) out.push(k); }
      if (x === NO_LEAF) continue;
      const kx = Object.keys(x);
      for (let n = 0; n < kx.length; n++) { const k = kx[n]!; if (!(k in y)) out.push(k); }
    }
  }
  return out;
}

