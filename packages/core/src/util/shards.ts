/**
 * A persistent map split two levels deep (64 × 64 leaves), so that no single object in the immutable
 * state holds more than a few dozen entries at 150,000 pods. immer copies an object when one of its
 * entries changes, and walks the children of every copy it finalises: with one level of 256 shards a pod
 * change copied and walked a 600-key shard of each index; with 64 × 64 it copies two 64-slot arrays and a
 * leaf of about n/4096 entries.
 */
const FANOUT = 64;
/** Number of leaves. */
export const SHARD_COUNT = FANOUT * FANOUT;

/** A sharded map from string keys to values. Plain data: put it in an immer tree. */
export type Shards<V> = readonly (readonly Readonly<Record<string, V>>[])[];

/** An empty sharded map. */
export function emptyShards<V>(): Shards<V> {
  return Array.from({ length: FANOUT }, () => Array.from({ length: FANOUT }, () => ({})));
}

/** The leaf index of a key (FNV-1a), 0 to SHARD_COUNT − 1. */
export function shardOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) & (SHARD_COUNT - 1);
}

function leaf<V>(s: Shards<V>, key: string): Readonly<Record<string, V>> {
  const i = shardOf(key);
  return s[i >>> 6]![i & (FANOUT - 1)]!;
}

/** Looks a key up; `undefined` when absent. */
export function shardGet<V>(s: Shards<V>, key: string): V | undefined {
  const l = leaf(s, key);
  return Object.prototype.hasOwnProperty.call(l, key) ? l[key] : undefined;
}

/** Sets a key in a mutable (immer draft, or fresh) sharded map. */
export function shardSet<V>(s: Shards<V>, key: string, value: V): void {
  (leaf(s, key) as Record<string, V>)[key] = value;
}

/** Deletes a key from a mutable (immer draft, or fresh) sharded map. */
export function shardDelete<V>(s: Shards<V>, key: string): void {
  delete (leaf(s, key) as Record<string, V>)[key];
}

/** Every leaf, in a fixed order. */
export function* shardLeaves<V>(s: Shards<V>): IterableIterator<Readonly<Record<string, V>>> {
  for (const top of s) for (const l of top) yield l;
}

/** Every value, in no particular order. */
export function* shardValues<V>(s: Shards<V>): IterableIterator<V> {
  for (const top of s) for (const l of top) for (const k in l) yield l[k]!;
}

/** Every key, in no particular order. */
export function* shardKeys<V>(s: Shards<V>): IterableIterator<string> {
  for (const top of s) for (const l of top) for (const k in l) yield k;
}

/** Number of entries (walks every leaf: O(n)). */
export function shardSize<V>(s: Shards<V>): number {
  let n = 0;
  for (const top of s) for (const l of top) n += Object.keys(l).length;
  return n;
}

/** Keys whose value differs between two versions of a map, found by identity (unchanged leaves are skipped). */
export function shardDiffKeys<V>(a: Shards<V>, b: Shards<V>): string[] {
  const out: string[] = [];
  if (a === b) return out;
  for (let i = 0; i < FANOUT; i++) {
    const ta = a[i]!;
    const tb = b[i]!;
    if (ta === tb) continue;
    for (let j = 0; j < FANOUT; j++) {
      const x = ta[j]!;
      const y = tb[j]!;
      if (x === y) continue;
      for (const k in y) if (x[k] !== y[k]) out.push(k);
      for (const k in x) if (!(k in y)) out.push(k);
    }
  }
  return out;
}
