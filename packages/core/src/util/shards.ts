/**
 * A persistent map split two levels deep (64 × 64 leaves), so that no single object in the immutable
 * state holds more than a few dozen entries at 150,000 pods. immer copies an object when one of its
 * entries changes, and walks the children of every copy it finalises: with one level of 256 shards a pod
 * change copied and walked a 600-key shard of each index; with 64 × 64 it copies the 64-slot top array,
 * one top and a leaf of about n/4096 entries.
 *
 * Leaves and tops are created on first use and dropped when emptied. A top is a sparse object from leaf
 * number to leaf (only the leaves that exist), not a 64-slot array: a small cluster's map holds a handful
 * of leaves, each in a top of its own, and a walk visited all 64 slots of every top that held one (a
 * 6-node cluster's IP index: ~1,600 slots for ~30 addresses, on every walk of it). Integer keys enumerate
 * in ascending order, so walks keep the order of the slot arrays they replace.
 */
import { snapshot } from './immer.js';

const FANOUT = 64;
/** Number of leaves. */
export const SHARD_COUNT = FANOUT * FANOUT;

type Leaf<V> = Readonly<Record<string, V>>;
/** Leaf number (0–63 within the top) → leaf; only leaves that exist are keys. */
type Top<V> = Readonly<Record<number, Leaf<V>>>;

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
  return s[i >>> 6]?.[i & (FANOUT - 1)] ?? undefined;
}

/** Looks a key up; `undefined` when absent. */
export function shardGet<V>(s: Shards<V>, key: string): V | undefined {
  const l = shardLeaf(s, shardOf(key));
  return l !== undefined && Object.prototype.hasOwnProperty.call(l, key) ? l[key] : undefined;
}

/**
 * {@link shardGet} on a map that may be an immer draft, reading it as plain data: a read through a draft
 * copies each level it passes (immer prepares a copy before handing out a child draft), which a lookup
 * that writes nothing should not pay. The value is returned as it stands (a draft if it was changed in
 * the open transition).
 */
export function shardPeek<V>(s: Shards<V>, key: string): V | undefined {
  const i = shardOf(key);
  const top = snapshot(s)[i >>> 6];
  const l = top ? snapshot(top)[i & (FANOUT - 1)] : null;
  if (!l) return undefined;
  const leaf = snapshot(l);
  return Object.prototype.hasOwnProperty.call(leaf, key) ? leaf[key] : undefined;
}

/** The leaf a key belongs in, created if needed, in a mutable (immer draft, or fresh) sharded map. */
function writableLeaf<V>(s: Shards<V>, key: string): Record<string, V> {
  const i = shardOf(key);
  const m = s as (Top<V> | null)[];
  let top = m[i >>> 6];
  if (!top) {
    m[i >>> 6] = {};
    top = m[i >>> 6]!; // the draft of what was just assigned, under immer
  }
  const t = top as Record<number, Leaf<V>>;
  let l: Leaf<V> | undefined = t[i & (FANOUT - 1)];
  if (!l) {
    // Prototype-less: a hash table from the start. A plain object took a new hidden class for each of its
    // (unique) keys, a third of a bulk build's shardSet time.
    t[i & (FANOUT - 1)] = Object.create(null) as Leaf<V>;
    l = t[i & (FANOUT - 1)]!;
  }
  return l as Record<string, V>;
}

/** Sets a key in a mutable (immer draft, or fresh) sharded map. */
export function shardSet<V>(s: Shards<V>, key: string, value: V): void {
  writableLeaf(s, key)[key] = value;
}

/**
 * Deletes a key from a mutable (immer draft, or fresh) sharded map. A leaf left empty goes back to `null`,
 * and a top left without leaves too: a walk costs what the map holds now, not every leaf it ever had (a
 * simulator that added and removed 500 differently named nodes walked 503 leaves for its 3).
 */
export function shardDelete<V>(s: Shards<V>, key: string): void {
  const i = shardOf(key);
  const l = shardLeaf(s, i);
  if (l === undefined || !Object.prototype.hasOwnProperty.call(l, key)) return;
  const top = s[i >>> 6] as Record<number, Leaf<V>>;
  const leaf = top[i & (FANOUT - 1)] as Record<string, V>;
  delete leaf[key];
  for (const _ in leaf) return;
  delete top[i & (FANOUT - 1)];
  // Read the top as plain data: enumerating a draft makes immer look at what it holds.
  for (const _ in snapshot(top)) return;
  (s as (Top<V> | null)[])[i >>> 6] = null;
}

/** Every leaf that exists, in a fixed order. */
export function* shardLeaves<V>(s: Shards<V>): IterableIterator<Leaf<V>> {
  for (const top of s) if (top) for (const j in top) yield top[j as unknown as number]!;
}

/** Every value, in no particular order. */
export function* shardValues<V>(s: Shards<V>): IterableIterator<V> {
  for (const top of s) {
    if (top) for (const j in top) { const l = top[j as unknown as number]!; for (const k in l) yield l[k]!; }
  }
}

/** Every key, in no particular order. */
export function* shardKeys<V>(s: Shards<V>): IterableIterator<string> {
  for (const top of s) {
    if (top) for (const j in top) for (const k in top[j as unknown as number]) yield k;
  }
}

/** Number of entries (walks every leaf: O(n)). */
export function shardSize<V>(s: Shards<V>): number {
  let n = 0;
  for (const l of shardLeaves(s)) n += Object.keys(l).length;
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
      for (const k in y) if (x[k] !== y[k] || !(k in x)) out.push(k);
      for (const k in x) if (!(k in y)) out.push(k);
    }
  }
  return out;
}
