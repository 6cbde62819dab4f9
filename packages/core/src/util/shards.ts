/**
 * A persistent map split two levels deep (128 × 128 leaves), so that no single object in the immutable
 * state holds more than a few entries at 150,000 pods. immer copies an object when one of its entries
 * changes: with one level of 256 shards a pod change copied a 600-key shard of each index; with 128 × 128
 * it copies the 128-slot first level, one top and a leaf of about n/16,384 entries.
 *
 * Leaves are flat arrays of entries, each a tag, its key and its value (`[t0, k0, v0, t1, k1, v1, …]`),
 * copied with one `slice` whatever their keys. They were dictionaries (util/dict.ts), whose copy costs per
 * key: the IP index's keys are integer-like (an address as its uint32), which V8 keeps as dictionary
 * elements, and copying such a leaf of ~10 keys cost 6–8 µs cold (100,000 leaves each copied once in random
 * order; ~0.1 µs as a 20-slot array), ~21 µs of each pod add at 5,000 nodes × 30 pods. A lookup scans the
 * entries (~10 at 150,000 pods); the tag (the key's hash bits above its leaf number, a small integer held in
 * the leaf) spares it reading every key's string from memory: with keys and values alone a cold lookup
 * cost ~10 % more than the dictionary's, with tags ~3 % less (200,000 pod-index + IP-index lookup pairs at
 * 5,000 nodes, in-process, both orders; tags against no tags ×0.87, geometric mean of six runs). A leaf
 * keeps the order a dictionary enumerates: integer-like keys (array indices) first in ascending numeric
 * order, then the others in insertion order (a key deleted and set again goes last), so
 * every walk gives what it gave when leaves were dictionaries. Before that, at 150,000 pods a 64 × 64 map's
 * leaves held ~38 keys, and copying the IP index's and the pod index's leaf cost a pod add or delete ~15%
 * of its time (in-process A/B: add 677 → 579 µs, delete 451 → 390 µs CPU median with 128 × 128). Tops are
 * arrays, copied with one `slice` (~40 ns for 64 slots), never objects keyed by leaf number: V8 copies an
 * object's integer keys one by one (~11 µs for a full top of 64, Node 20). A small cluster's walk visits 128
 * slots per top it has, which costs less than one such copy.
 *
 * Leaves and tops are created on first use and dropped when emptied (null where none is).
 */
import { isDraft } from 'immer';
import { baseField, copyToWrite, elementDraft, forgetRead, held, inTransition, isDraftHere, madeHere, readsOf, redraft, rememberRead, snapshot, spliceDraft, writeSlot } from './immer.js';

const BITS = 7;
/** Slots per level: a top holds this many leaves, the map this many tops. */
export const SHARD_FANOUT = 1 << BITS;
const FANOUT = SHARD_FANOUT;
/** Number of leaves. */
export const SHARD_COUNT = FANOUT * FANOUT;

/**
 * A leaf: entries of three slots, a tag (the key's hash above its leaf number, a small integer), the key
 * and its value (`[t0, k0, v0, t1, k1, v1, …]`); integer-like keys first in ascending numeric order, then
 * the others in insertion order. Never empty.
 */
export type ShardLeaf<V> = readonly (number | string | V)[];
type Leaf<V> = ShardLeaf<V>;
/** Leaf number (0–127 within the top) → leaf; null where there is none. Always 128 slots. */
type Top<V> = readonly (Leaf<V> | null)[];

/** A sharded map from string keys to values. Plain data: put it in an immer tree. */
export type Shards<V> = readonly (Top<V> | null)[];

/** An empty sharded map. */
export function emptyShards<V>(): Shards<V> {
  return emptyLevel<Top<V>>();
}

/**
 * A level of {@link SHARD_FANOUT} empty slots (a map, or a top), as a copy of {@link EMPTY_LEVEL}: a `slice`
 * of a packed array is one copy, where `new Array(n).fill(null)` made a holey array and wrote each slot
 * (~0.1 against ~0.25–0.6 µs in a micro-benchmark). A join in a small cluster makes a top for nearly every
 * key it sets (its node, its CIDR, its port, its addresses): that fill was 4 % of a flannel addNode.
 */
function emptyLevel<T>(): (T | null)[] {
  return EMPTY_LEVEL.slice() as (T | null)[];
}

/**
 * The slots every new level copies: packed (filled by pushes), and never handed out nor frozen (slicing a
 * frozen array takes V8's slow path, ~6 µs).
 */
const EMPTY_LEVEL: null[] = [];
for (let i = 0; i < FANOUT; i++) EMPTY_LEVEL.push(null);

/** The leaf index of a key (FNV-1a), 0 to SHARD_COUNT − 1. */
export function shardOf(key: string): number {
  return hashOf(key) & (SHARD_COUNT - 1);
}

/** FNV-1a of a key, 32 bits: its low bits number its leaf, the others are its {@link tagOf}. */
function hashOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The bits of a key's hash above its leaf number (a small integer stored before the key in its leaf). */
function tagOf(h: number): number {
  return h >>> (2 * BITS);
}

/** The leaf with this index, or undefined when it was never created. */
export function shardLeaf<V>(s: Shards<V>, i: number): Leaf<V> | undefined {
  return s[i >>> BITS]?.[i & (FANOUT - 1)] ?? undefined;
}

/**
 * The position of a key's entry in a leaf (its tag's; the key is at +1, the value at +2), or −1. The tags
 * (small integers in the leaf itself) are compared first, and a key only where its tag matches: comparing
 * the keys themselves read each key's string from memory (fresh strings, compared from the first character,
 * and a leaf's keys share their beginnings: `default/p-…`, `1677…`).
 */
function find<V>(l: Leaf<V>, key: string, tag: number): number {
  for (let i = 0; i < l.length; i += 3) if (l[i] === tag && l[i + 1] === key) return i;
  return -1;
}

/**
 * Looks a key up; `undefined` when absent. On an immer draft the value is a draft (to write into). In a
 * `transition`, what a draft map gave is remembered (util/immer.ts `rememberRead`) until
 * `shardSet` or `shardDelete` writes the key: reading it again skips immer's traps on the
 * levels (a pod's CNI ADD read its node four times).
 */
export function shardGet<V>(s: Shards<V>, key: string): V | undefined {
  // Outside a transition (the engine, the checks, a cluster built in place) the lookup is all there is;
  // a draft outside one (plain produce) is read as in one (nothing is remembered then).
  return inTransition() || isDraft(s) ? shardGetRemembered(s, key) : lookup(s, key);
}

function lookup<V>(s: Shards<V>, key: string): V | undefined {
  const h = hashOf(key);
  const l = shardLeaf(s, h & (SHARD_COUNT - 1));
  if (l === undefined) return undefined;
  const p = find(l, key, tagOf(h));
  return p < 0 ? undefined : l[p + 2] as V;
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
  if (!isDraftHere(s)) return lookup(s, key);
  // The key is looked for in the plain leaf; an object value is read through the draft leaf (immer copies
  // the leaf with one slice and hands out the value's draft; elementDraft, where a write moved it), a
  // primitive as it is.
  const h = hashOf(key);
  const i = h & (SHARD_COUNT - 1);
  const t = i >>> BITS;
  const j = i & (FANOUT - 1);
  let top = s[t] as (Leaf<V> | null)[] | null;
  let l = top?.[j];
  if (!l) return undefined;
  const plain = snapshot(l);
  const p = find(plain, key, tagOf(h));
  if (p < 0) return undefined;
  const pv = plain[p + 2] as V;
  let v = pv;
  if (pv !== null && typeof pv === 'object') {
    const read = topToRead(s, t, top!, j, pv);
    if (read !== top) { top = read; l = read[j]!; }
    v = elementDraft(leafToRead(top!, j, l, pv), p + 2) as V;
  }
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
  const h = hashOf(key);
  const i = h & (SHARD_COUNT - 1);
  const top = snapshot(s)[i >>> BITS];
  const l = top ? snapshot(top)[i & (FANOUT - 1)] : null;
  if (!l) return undefined;
  const leaf = snapshot(l);
  const p = find(leaf, key, tagOf(h));
  return p < 0 ? undefined : leaf[p + 2] as V;
}

/**
 * Sets a key in a mutable (immer draft, or fresh) sharded map. What is missing on the way (a top, a leaf)
 * is made with the entry already in it, in one write: looked up on the plain data first, so no draft is
 * made of a level that is only replaced, and immer has one new value to finalise, not three. `value` is plain
 * data (no draft inside) and needs no madeHere (util/immer.ts): written around immer's traps it is never
 * walked, and written through them (a leaf the transition drafted) it is registered here.
 */
export function shardSet<V>(s: Shards<V>, key: string, value: V): void {
  forgetRead(s, key);
  const h = hashOf(key);
  const i = h & (SHARD_COUNT - 1);
  const t = i >>> BITS;
  const j = i & (FANOUT - 1);
  const m = s as (Top<V> | null)[];
  const top = snapshot(m)[t];
  if (!top) {
    const fresh = emptyLevel<Leaf<V>>();
    fresh[j] = [tagOf(h), key, value];
    writeSlot(m, t, fresh);
    return;
  }
  const w = topToWrite(m, t);
  if (!snapshot(w)[j]) {
    writeSlot(w, j, [tagOf(h), key, value]);
    return;
  }
  writeLeaf(w, j, baseField(m, t)?.[j], tagOf(h), key, value, false);
}

/**
 * The value of `key` in a mutable map, to change in place (its own fields, its tables through
 * util/immer.ts `tableToWrite`, the records it holds through `fieldToWrite`, its entries through `entryDraft`): in a transition, on a plain map
 * (the first level copied by `tableToWrite`, or made in the transition), a value the previous state holds is
 * replaced by its copy (util/immer.ts `copyToWrite`), put in the key's leaf, which is copied on write as
 * {@link shardSet} does, with its top; a value made in the transition is returned as it is. Through immer's
 * drafts a node's write was four of a pod add's six drafts (the map, a top, a leaf, the node). On a draft
 * map, or outside a transition, what {@link shardGet} gives (immer's draft, or the value as it is).
 * Undefined when the map has no such key.
 */
export function shardValueToWrite<V extends object>(s: Shards<V>, key: string): V | undefined {
  if (!inTransition() || isDraftHere(s)) return shardGet(s, key);
  const h = hashOf(key);
  const i = h & (SHARD_COUNT - 1);
  const t = i >>> BITS;
  const j = i & (FANOUT - 1);
  const m = s as (Top<V> | null)[];
  const l = m[t]?.[j];
  if (!l) return undefined;
  const tag = tagOf(h);
  const p = find(l, key, tag);
  if (p < 0) return undefined;
  const v = l[p + 2] as V;
  if (isDraftHere(v)) return v;
  const base = baseField(m, t)?.[j];
  const q = base ? find(base, key, tag) : -1;
  if ((q < 0 || base![q + 2] !== v) && !Object.isFrozen(v)) return v;
  const copy = copyToWrite(v, (b, c) => {
    // The key's leaf is the transition's own by now (a copy): the value is put back in place.
    const now = m[t]?.[j] as (number | string | V)[] | null | undefined;
    const at = now ? find(now, key, tag) : -1;
    if (at >= 0 && now![at + 2] === c) now![at + 2] = b;
  });
  writeLeaf(topToWrite(m, t), j, base, tag, key, copy, false);
  return copy;
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
  const h = hashOf(key);
  const i = h & (SHARD_COUNT - 1);
  const t = i >>> BITS;
  const j = i & (FANOUT - 1);
  const m = s as (Top<V> | null)[];
  const top = snapshot(m)[t];
  if (!top) return;
  const plainTop = snapshot(top);
  const l = plainTop[j];
  if (!l) return;
  const leaf = snapshot(l);
  if (find(leaf, key, tagOf(h)) < 0) return;
  if (leaf.length > 3) {
    writeLeaf(topToWrite(m, t), j, baseField(m, t)?.[j], tagOf(h), key, undefined, true);
    return;
  }
  if (soleLeaf(plainTop)) writeSlot(m, t, null);
  else writeSlot(topToWrite(m, t), j, null);
}

/**
 * A new map: `s` with the value of `key`, which it holds, replaced by `value` — its first level, the key's
 * top and its leaf copied (one `slice` each), the rest shared. For a plain (committed) map, outside a
 * transition: the engine's commit of what a packet taught gives a node a new record this way, without an
 * immer draft of the map (dataplane/engine.ts `Run.commit`). Throws when `key` is absent.
 */
export function shardReplaced<V>(s: Shards<V>, key: string, value: V): Shards<V> {
  const h = hashOf(key);
  const i = h & (SHARD_COUNT - 1);
  const t = i >>> BITS;
  const j = i & (FANOUT - 1);
  const top = s[t];
  const l = top?.[j];
  const p = l ? find(l, key, tagOf(h)) : -1;
  if (p < 0) throw new Error(`podnet internal error: shardReplaced of a key the map does not hold (${key})`);
  const leaf = l!.slice();
  leaf[p + 2] = value;
  const nextTop = top!.slice();
  nextTop[j] = leaf;
  const next = s.slice();
  next[t] = nextTop;
  return next;
}

/**
 * The top at slot `t` of a mutable map, to write into. A top shared with the state before the open
 * transition, and not drafted in it, is replaced by a copy (one `slice`), put in place with writeSlot
 * (util/immer.ts) as leaves are (see {@link writeLeaf}), which immer does not walk: writing a leaf through the top's draft cost an
 * immer proxy, its copy, and a call of its array `set` trap, which in immer's development build (the one Node
 * loads: immer's package exports give it for `import`) reads `process.env.NODE_ENV` and runs `parseInt` on
 * every write (~0.3 µs; 3.8 % self of a flannel addNode in those traps). With copied tops, and the map's and
 * tops' slots written with writeSlot (no trap), a pod add at 5,000 nodes costs ×0.94 and a delete ×0.94
 * (`pnpm ab --what=churn`, in-process, both orders). A top the transition has drafted (a
 * leaf read through it, which may hold drafts) is written through its draft; a top made in this transition
 * (new, or such a copy), or any top outside one, is changed where it is. A read that wants drafts out of a
 * copied top turns it into a draft first ({@link topToRead}).
 */
function topToWrite<V>(m: (Top<V> | null)[], t: number): (Leaf<V> | null)[] {
  const top = held(m, t) as (Leaf<V> | null)[];
  if (isDraftHere(top) || baseField(m, t) !== top) return top;
  const w = top.slice();
  writeSlot(m, t, w);
  return w;
}

/**
 * The top `top` (as the map `m` hands it out at slot `t`), read to hand out a draft of value `v` of its leaf
 * `j`: a plain top the open transition made as a copy of the previous state's ({@link topToWrite}) holds
 * that state's leaves, whose values immer drafts only through a draft of the top. When `v` is one of the
 * previous leaf's values, the copy becomes the previous top's draft holding the same leaves (util/immer.ts
 * `redraft`), which is returned (read the leaf from it again). Otherwise `top` itself: a draft, or a copy
 * whose value `v` was put there in this transition (plain, written where it is), as happens when a
 * transition sets a key and reads it back.
 */
function topToRead<V>(m: Shards<V>, t: number, top: (Leaf<V> | null)[], j: number, v: V): (Leaf<V> | null)[] {
  if (isDraftHere(top)) return top;
  const base = baseField(m, t)?.[j];
  if (base === undefined || base === null || base.indexOf(v) < 0) return top;
  return redraft(m as (Top<V> | null)[], t, top);
}

/**
 * Sets (or deletes) a key in the existing leaf `top[j]` of a mutable top. A leaf shared with the state before
 * the open transition, and not drafted in it, is replaced by a changed copy (one `slice` and a splice),
 * put in place with writeSlot (util/immer.ts), so immer does not walk it when it finalises: the values a sharded
 * map is given are plain (new records, strings, lists built from plain data), never drafts, and the ones
 * copied along are the previous state's. Writing through the leaf's draft instead (immer copies an array
 * draft with a `slice` too) cost a pod add ~4 % more in proxy traps (in-process A/B, 5,000 nodes:
 * `pnpm ab --what=churn` add ×0.96 through drafts, ×0.91 with copies). A leaf the transition has drafted (a
 * value read through it, which may be changing) is written through its draft: a copy would drop the value's
 * draft. A leaf made in this transition (new, or such a copy), or any leaf outside one (a cluster built in
 * place), is changed where it is. A read that wants a draft of a value a copy took from the previous state
 * turns the copy into a draft first ({@link leafToRead}). `base` is the previous state's leaf at that place
 * (read from the map's base: the top may be a plain copy, see {@link topToWrite}); undefined for a map made in
 * the transition or outside one.
 */
function writeLeaf<V>(top: (Leaf<V> | null)[], j: number, base: Leaf<V> | null | undefined, tag: number, key: string, value: V | undefined, del: boolean): void {
  const l = held(top, j)! as (number | string | V)[];
  if (isDraftHere(l)) {
    // Positions are read from the plain leaf: through a draft each read is a trap.
    const plain = snapshot(l);
    const p = find(plain, key, tag);
    // Written through immer, the value is registered (util/immer.ts madeHere), so that immer does not walk it.
    if (del) spliceDraft(l, p, 3);
    else if (p >= 0) l[p + 2] = madeHere(value!);
    else spliceDraft(l, insertAt(plain, key), 0, tag, key, madeHere(value!));
    return;
  }
  const w = base === l ? l.slice() : l;
  const p = find(w, key, tag);
  if (del) w.splice(p, 3);
  else if (p >= 0) w[p + 2] = value!;
  else {
    const at = insertAt(w, key);
    // A push when the key goes last (the usual case, see insertAt): splice is a generic builtin that also
    // makes the array of what it removed.
    if (at === w.length) w.push(tag, key, value!);
    else w.splice(at, 0, tag, key, value!);
  }
  if (w !== l) writeSlot(top, j, w);
}

/**
 * The leaf `top[j]` of a draft top, read to hand out drafts of its values: a plain leaf the open transition
 * made as a changed copy of the previous state's (see {@link writeLeaf}) holds that state's values as they
 * are, which a caller's write would change in the previous state: when the value wanted (`v`) is one of
 * them, the copy becomes the previous leaf's draft holding the same entries (util/immer.ts `redraft`).
 * Otherwise the leaf as the draft hands it out.
 */
function leafToRead<V>(top: (Leaf<V> | null)[], j: number, l: Leaf<V>, v: V): Leaf<V> {
  if (isDraftHere(l)) return l;
  const base = baseField(top, j);
  if (base === undefined || base === null || base === l || base.indexOf(v) < 0) return l;
  return redraft(top, j, l);
}

/**
 * Where a new key goes in a leaf: an integer-like key before the first key that is not one or is a larger
 * number, any other key last; the order V8 enumerates a dictionary's keys in. The leaf's keys that go after
 * an integer-like key (the others, and the larger numbers) are its last ones, so they are counted from the
 * end: the IP index's keys come mostly in ascending order (a node's addresses are handed out so, and nodes
 * in turn), and a scan from the front checked every key of the leaf for being a number (~1 % of a bulk
 * build in isIndexKey) to put the new one last. With the push below, a 2,000-node flannel bulk build cost
 * ×0.96–1.0 (`pnpm ab --what=bulk`, in-process, both orders).
 */
function insertAt<V>(l: Leaf<V>, key: string): number {
  if (!isIndexKey(key)) return l.length;
  let i = l.length;
  for (; i > 0; i -= 3) {
    const k = l[i - 2] as string;
    // Canonical decimals: a shorter one is smaller; of equal length the string order is the numeric one.
    if (isIndexKey(k) && (k.length < key.length || (k.length === key.length && k < key))) break;
  }
  return i;
}

/**
 * Whether a key is an array index (a canonical decimal below 2³² − 1), as the IP index's are (an address
 * as its uint32): a dictionary enumerates such keys first, in ascending numeric order, and a leaf keeps
 * that order.
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

/** Every value, in no particular order. On an immer draft each object value is a draft (to write into). */
export function shardValues<V>(s: Shards<V>): IterableIterator<V> {
  const out: V[] = [];
  if (isDraftHere(s)) {
    for (let t = 0; t < s.length; t++) {
      const first = s[t] as (Leaf<V> | null)[] | null;
      if (!first) continue;
      let top = first;
      for (let j = 0; j < top.length; j++) {
        let l = top[j];
        if (!l) continue;
        for (let i = 2; i < l.length; i += 3) {
          const v = l[i] as V;
          if (v !== null && typeof v === 'object') {
            const read = topToRead(s, t, top, j, v);
            if (read !== top) { top = read; l = read[j]!; }
            l = leafToRead(top, j, l, v);
          }
          out.push(elementDraft(l, i) as V);
        }
      }
    }
  } else for (const l of leafList(s)) for (let i = 2; i < l.length; i += 3) out.push(l[i] as V);
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
      for (let i = 2; i < leaf.length; i += 3) {
        const v = leaf[i] as V;
        out.push(v !== null && typeof v === 'object' ? snapshot(v) : v);
      }
    }
  }
  return out;
}

/**
 * Calls `f` with each key and value, leaf by leaf in a fixed order (without listing them first), and stops
 * at the first call that returns true; answers whether one did.
 */
export function shardSome<V>(s: Shards<V>, f: (key: string, value: V) => boolean): boolean {
  for (const l of leafList(s)) for (let i = 1; i < l.length; i += 3) if (f(l[i] as string, l[i + 1] as V)) return true;
  return false;
}

/** The entries in leaf number `i`, 0 when it holds none (for a draw by position, with {@link shardLeafValue}). */
export function shardLeafSize<V>(s: Shards<V>, i: number): number {
  const l = shardLeaf(s, i);
  return l === undefined ? 0 : l.length / 3;
}

/** The value of entry `n` (0 ≤ n < {@link shardLeafSize}) of leaf number `i`, in the order walks give. */
export function shardLeafValue<V>(s: Shards<V>, i: number, n: number): V {
  return shardLeaf(s, i)![3 * n + 2] as V;
}

/** Every key, in no particular order. */
export function shardKeys<V>(s: Shards<V>): IterableIterator<string> {
  const out: string[] = [];
  for (const l of leafList(s)) for (let i = 1; i < l.length; i += 3) out.push(l[i] as string);
  return out.values();
}

/** Number of entries (walks every leaf: O(n)). */
export function shardSize<V>(s: Shards<V>): number {
  let n = 0;
  for (const l of leafList(s)) n += l.length / 3;
  return n;
}

const NO_LEAF: Leaf<never> = Object.freeze([]);

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
      // A key is first looked for at the same position in the other version (the usual case: one value
      // changed, or one key added at the end), then by a scan.
      for (let n = 0; n < y.length; n += 3) {
        const k = y[n + 1] as string;
        const p = x[n + 1] === k ? n : find(x, k, y[n] as number);
        if (p < 0 || x[p + 2] !== y[n + 2]) out.push(k);
      }
      for (let n = 0; n < x.length; n += 3) {
        const k = x[n + 1] as string;
        if (y[n + 1] !== k && find(y, k, x[n] as number) < 0) out.push(k);
      }
    }
  }
  return out;
}
