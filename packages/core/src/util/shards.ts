/**
 * A persistent map split into fixed shards, so that no single object in the immutable state holds
 * more than a few thousand entries. immer copies an object when one of its entries changes; with 150,000
 * pods in one object every pod change would copy 150,000 slots. Split 256 ways, a change copies the
 * 256-slot array and one shard of (on average) n/256 entries.
 */
export const SHARD_COUNT = 256;

/** A sharded map from string keys to values. Plain data: freeze it and put it in an immer tree. */
export type Shards<V> = readonly Readonly<Record<string, V>>[];

/** An empty sharded map. */
export function emptyShards<V>(): Shards<V> {
  return Array.from({ length: SHARD_COUNT }, () => ({}));
}

/** The shard index of a key (FNV-1a). */
export function shardOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) & (SHARD_COUNT - 1);
}

/** Looks a key up; `undefined` when absent. */
export function shardGet<V>(s: Shards<V>, key: string): V | undefined {
  const shard = s[shardOf(key)]!;
  return Object.prototype.hasOwnProperty.call(shard, key) ? shard[key] : undefined;
}

/** Sets a key in a mutable (immer draft) sharded map. */
export function shardSet<V>(s: Record<string, V>[], key: string, value: V): void {
  s[shardOf(key)]![key] = value;
}

/** Deletes a key from a mutable (immer draft) sharded map. */
export function shardDelete<V>(s: Record<string, V>[], key: string): void {
  delete s[shardOf(key)]![key];
}

/** Every value, in no particular order. */
export function* shardValues<V>(s: Shards<V>): IterableIterator<V> {
  for (const shard of s) for (const k in shard) yield shard[k]!;
}

/** Every key, in no particular order. */
export function* shardKeys<V>(s: Shards<V>): IterableIterator<string> {
  for (const shard of s) for (const k in shard) yield k;
}

/** Number of entries (walks every shard: O(n)). */
export function shardSize<V>(s: Shards<V>): number {
  let n = 0;
  for (const shard of s) n += Object.keys(shard).length;
  return n;
}
