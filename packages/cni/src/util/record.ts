/**
 * A copy of a record with one entry set: what `{ ...r, [key]: value }` means, for the stores a CNI
 * ADD replaces (host-local's addresses, the AWS VPC CNI's assignments).
 *
 * The copy has no prototype. Every node's store has its own keys (its pods' addresses), and V8 gives a
 * plain object a hidden class per key set it sees: a store per node of a 5,000-node cluster made
 * thousands of hidden classes, and copying through them (`Object.assign`, a spread) was 9 µs per ADD, a
 * third of the ADD. A prototype-less object is a hash table from the start (copying it costs what its
 * entries cost), and it has no `__proto__` setter to step around. The record reads as any record:
 * `r[key]`, `Object.keys`, `for…in`, JSON and `toEqual` see the same entries in the same order.
 */
export function withEntry<V>(record: Readonly<Record<string, V>>, key: string | number, value: V): Record<string, V> {
  const out = Object.create(null) as Record<string, V>;
  for (const k in record) out[k] = record[k]!;
  // A spread defines the key; on a prototype-less object, assigning `__proto__` defines it too.
  out[key] = value;
  return out;
}

/**
 * `{ ...object, [key]: value }` for a plain object, with a prototype like the spread's: a parsed configuration
 * (every pod ADD copies a plugin's to hand it its prevResult), and the records whose keys are the same few on
 * every node — host-local's `lastReserved` (range set indices), the plugins' IPAM stores (store directories):
 * one hidden class for all of them, not one per key set as a record of addresses would make ({@link withEntry}
 * is for those). A spread that gains a key the object lacks takes V8's slow path (~1.5 µs on Node 20, where a
 * copy then a write costs ~20–50 ns), and the prototype-less copy withEntry makes enumerates such a record
 * through for…in's generic path (~0.12–0.9 µs, micro-benchmarks, Node 22). `Object.assign` would run the
 * `__proto__` setter for an own `__proto__` key (JSON.parse makes one): such an object is spread, as before.
 */
export function withKey<V>(object: Readonly<Record<string, V>>, key: string | number, value: V): Record<string, V> {
  if (Object.prototype.hasOwnProperty.call(object, '__proto__') || key === '__proto__') return { ...object, [key]: value };
  const out = Object.assign({}, object) as Record<string, V>;
  out[key] = value;
  return out;
}
