/**
 * A prototype-less record (a dictionary), for the collections of the state keyed by names that differ
 * from one node to the next: shard leaves (keyed by pod, namespace and address), a node's pods, a host
 * namespace's links (one `veth…` per pod).
 *
 * V8 gives a plain `{}` a hidden class per key set it sees. Thousands of nodes with their own key sets
 * made thousands of classes, and immer's copy of such an object (`{ ...base }`, on every write through a
 * draft) fell to V8's slow path, which adds the keys one by one: 85–95 µs for a 37-key shard leaf, where
 * copying a prototype-less one (immer's `Object.assign(Object.create(null), base)`) takes ~10 µs (Node 20,
 * 4,096 leaves of 37 distinct keys). Such an object is a hash table from the start. It reads as any record:
 * `r[key]`, `in`, `Object.keys`, `for…in`, JSON and `toEqual` see the same entries in the same order; it
 * has no inherited members (use `Object.prototype.hasOwnProperty.call`).
 */
export function dict<V>(entries?: Readonly<Record<string, V>>): Record<string, V> {
  const out = Object.create(null) as Record<string, V>;
  if (entries === undefined) return out;
  // Object.keys, not for-in: a for-in over a dictionary has no enum cache (the copy was slower by a tenth to a quarter).
  const keys = Object.keys(entries);
  for (let i = 0; i < keys.length; i++) { const k = keys[i]!; out[k] = entries[k]!; }
  return out;
}

/** A shallow copy of a record: a dictionary stays one ({@link dict}), a plain object is spread. */
export function copyRecord<R extends object>(r: R): { -readonly [K in keyof R]: R[K] } {
  return (Object.getPrototypeOf(r) === null ? dict(r as Readonly<Record<string, unknown>>) : { ...r }) as { -readonly [K in keyof R]: R[K] };
}
