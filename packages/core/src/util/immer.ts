/**
 * podnet's own immer instance. States are immutable by contract; deep-freezing every new state is off
 * by default because V8's Object.isFrozen is O(keys) and immer checks every child of each copied
 * container: with 256-way shard arrays that made each change cost O(cluster size) (measured: 63% of a
 * 1,000-node build). Turn freezing on with {@link setFreezing} while debugging; the test suite runs
 * with it on, so an accidental mutation fails a test.
 */
import { current, Immer, isDraft, type Draft } from 'immer';
import { copyRecord, dict } from './dict.js';

const immer = new Immer({ autoFreeze: false });
let freezing = false;

/** immer's produce, without automatic freezing unless {@link setFreezing} turned it on. */
export const produce: Immer['produce'] = immer.produce;

/** Deep-freeze every state podnet produces from now on (slower; for debugging and tests). */
export function setFreezing(on: boolean): void {
  freezing = on;
  immer.setAutoFreeze(on);
}

/** Deep-freezes a value built outside immer when freezing is on (as immer would have); returns it. */
export function freezeIfOn<T>(value: T): T {
  if (freezing) deepFreeze(value);
  return value;
}

/**
 * The values the open {@link transition} built (plain, no draft inside), handed to immer as already
 * handled when its recipe ends; null outside one (the in-place build of buildClusterState registers nothing).
 */
let made: object[] | null = null;

/**
 * Registers a value the open transition put into the state, built from plain data (no draft inside).
 * immer, finalising with autoFreeze off, walks every new value a draft was given (every key, recursively)
 * only to find drafts nested inside it and put their final values in their place: a new node or pod record
 * with its namespace, links, routes and CNI result, new shard leaves, IP-index lists and table entries were
 * ~420 objects walked per flannel property run. immer skips a value its scope has already handled: a
 * registered value is added to that set when the recipe ends, and is not walked. Nothing is frozen or
 * copied; the state is the same. Outside a transition it does nothing; a draft or a primitive is let
 * through as it is. A value that could hold a draft (a {@link snapshot} of a changed container) must not
 * be registered: immer would leave the draft in the state. With freezing on (the test suite) the
 * transition checks every registered value for one and throws.
 */
export function madeHere<T>(value: T): T {
  // A draft is immer's to finalise; a primitive has nothing to walk.
  if (made !== null && value !== null && typeof value === 'object' && (noDrafts || !(value as Record<symbol, unknown>)[DRAFT_STATE])) made.push(value);
  return value;
}

/**
 * Runs `body` with a transition's bookkeeping open — what it registers with {@link madeHere} goes to `mine`, a
 * fresh read memo, `rootCopies` as the copies made so far (the root's, or none under immer's root draft), no
 * detached drafts or put-backs yet — then finishes the detached drafts and puts unchanged copies back; the
 * enclosing transition's bookkeeping is restored after, also when `body` throws.
 */
function withBookkeeping(mine: object[], rootCopies: Map<object, object> | null, plain: boolean, body: () => void): void {
  const outer = made;
  const outerPlain = noDrafts;
  const outerReads = reads;
  const outerCopies = copies;
  const outerDetached = detached;
  const outerUnwritten = unwritten;
  made = mine;
  noDrafts = plain;
  reads = OPEN;
  copies = rootCopies;
  detached = null;
  unwritten = null;
  try {
    body();
    if (detached !== null) finishDetached(detached);
    if (unwritten !== null) putBackUnwritten(unwritten);
  } finally {
    made = outer;
    noDrafts = outerPlain;
    reads = outerReads;
    copies = outerCopies;
    detached = outerDetached;
    unwritten = outerUnwritten;
  }
}

/**
 * immer's produce with podnet's transition bookkeeping open (the put-in-place rules below, the read memo,
 * detached drafts): the transition before {@link transition} copied the root itself, kept for recipes that
 * write through a draft of the root (`d.a.b = …` anywhere inside), which {@link transition} does not allow.
 * What the recipe registered with {@link madeHere} is marked as handled in immer's scope before immer
 * finalises the draft. util/immer.test.ts and util/shards.test.ts check the rules' fast paths on immer's
 * drafts through it, against immer's own traps.
 */
export function draftTransition<T extends object>(base: T, recipe: (draft: Draft<T>) => void): T {
  return produce(base, (d: Draft<T>) => {
    const mine: object[] = [];
    withBookkeeping(mine, null, false, () => recipe(d));
    if (mine.length === 0) return;
    if (freezing) {
      for (const v of mine) {
        const at = draftInside(v, '');
        if (at !== null) throw new Error(`podnet internal error: a value registered with madeHere holds an immer draft at ${at || '(itself)'}`);
      }
    }
    const handled = (d as unknown as Record<symbol, DraftState | undefined>)[DRAFT_STATE]?.scope_?.handledSet_;
    if (handled instanceof Set) for (let i = 0; i < mine.length; i++) handled.add(mine[i]!);
  });
}

/**
 * A transition of a podnet state: `recipe` changes `d`, a plain shallow copy of `base` (util/dict.ts
 * copyRecord, the copy immer's drafts make, so states keep one V8 hidden class), and returns nothing; the new
 * state is `d`, or `base` itself when `d` ends holding what `base` holds (as immer returns the base of a draft
 * nothing was written into). The root is registered as a copy of `base` ({@link copyToWrite}'s bookkeeping),
 * so every write goes through the put-in-place rules below: the root's tables copied on write
 * ({@link tableToWrite}), its records ({@link fieldToWrite}, util/shards.ts `shardValueToWrite`) and their
 * entries ({@link entryToWrite}) copied, an object to change anywhere inside drafted on its own
 * ({@link fieldDraft}, {@link entryDraft}: a pod's namespace) and finished when the recipe returns, an
 * unchanged copy put back as its base. Since those rules made the root the only immer draft of a flannel
 * transition, immer's produce around it cost a scope, a root proxy whose get and set traps ran on every
 * `d.x` read and write, and its finalisation (a walk of the root's changed fields) for nothing the rules
 * above did not already do. An error thrown by the recipe drops the copy: `base` is untouched (nothing of
 * it is written in place). With freezing on (the test suite) the new state is deep-frozen, as immer would,
 * and every value registered with {@link madeHere} or written around immer's traps is checked for a draft.
 */
export function transition<T extends object>(base: T, recipe: (draft: Draft<T>) => void): T {
  const mine: object[] = [];
  const root = copyRecord(base) as T;
  // Without a draft open around it (none outside a transition), a plain base gives a transition with none.
  const plain = (made === null || noDrafts) && (base as Record<symbol, unknown>)[DRAFT_STATE] === undefined;
  withBookkeeping(mine, new Map([[root as object, base as object]]), plain, () => recipe(root as Draft<T>));
  if (sameFields(root as Record<string, unknown>, base as Record<string, unknown>)) return base;
  if (freezing) {
    for (const v of mine) {
      const at = draftInside(v, '');
      if (at !== null) throw new Error(`podnet internal error: a value registered with madeHere holds an immer draft at ${at || '(itself)'}`);
    }
    const at = draftInside(root, '');
    if (at !== null) throw new Error(`podnet internal error: a transition's new state holds an immer draft at ${at}`);
    deepFreeze(root);
  }
  return root;
}

/**
 * Runs `f` with a draft of `base` whose changes are thrown away, inside the open transition: for a part of the
 * state the transition removes (a deleted pod's namespace), which actions must still change exactly as they
 * would (the same checks, the same errors, their effects elsewhere written through the transition's draft),
 * but whose drafts immer need not finalise into a state that drops them. The draft is made only if `f` asks
 * for it (`open`, the same draft each call): a deleted pod's CNI DEL mostly only looks at the pod's namespace
 * (model/cluster.ts), and a draft made and never written is one immer proxies and revokes for nothing. `base`
 * must be plain (no draft inside); nothing `f` reads from the draft may be kept after it returns (the draft
 * is revoked).
 */
export function lazyScratchDraft<T extends object, R>(base: T, f: (open: () => Draft<T>) => R): R {
  let draft: Draft<T> | null = null;
  try {
    return f(() => {
      if (draft === null) {
        noDrafts = false;
        draft = immer.createDraft(base);
      }
      return draft;
    });
  } finally {
    // Finishing the draft ends its scope (immer keeps the current one); its result is dropped.
    if (draft !== null) immer.finishDraft(draft);
  }
}

/**
 * The open {@link transition}'s detached drafts ({@link fieldDraft}): container, key, draft, in threes, in the
 * order made. Null until the first (and outside a transition).
 */
let detached: unknown[] | null = null;

/**
 * Ends the detached drafts of a transition whose recipe returned: each draft's result (immer's finalised
 * copy, or its base when nothing was written) is put where the draft was, the last made first. Their
 * containers are plain copies the transition made (written in place), never walked by immer's finalisation.
 */
function finishDetached(list: unknown[]): void {
  for (let i = list.length - 3; i >= 0; i -= 3) {
    const container = list[i] as Record<string, unknown>;
    const key = list[i + 1] as string;
    const draft = list[i + 2] as object;
    const result = immer.finishDraft(draft);
    if (container[key] === draft) container[key] = result;
  }
}

/**
 * The object at `x[key]`, as a draft to change anywhere inside (deep down, as actions change a pod's
 * namespace: {@link entryDraft}). Through a draft `x`, immer's draft of it. In a plain copy the open transition made of a
 * previous state's container ({@link tableToWrite}, {@link copyToWrite}), a value that previous state holds
 * there (or a frozen one, shared) can only be drafted through a draft of its parent, and so on up to the
 * root: a pod reached through the nodes' sharded map was five drafts (the map, a top, a leaf, the
 * node, its pods), each an immer proxy, a copy, finalisation and revocation. Instead it gets a draft of its
 * own (immer's `createDraft`, a scope of its own), put in its place and finished when the transition's recipe
 * returns: its result is put back there. A value made in the transition (plain) is returned as it is, and a
 * draft already there (one made so before) as it is. Outside a transition, or for a primitive, `x[key]`.
 * `x` must be a draft or a container the open transition made (written in place).
 */
function fieldDraft<T extends object, K extends keyof T & string>(x: T, key: K): T[K] {
  const v = x[key];
  if (reads === null || v === null || typeof v !== 'object') return v;
  if (!noDrafts && ((x as Record<symbol, unknown>)[DRAFT_STATE] !== undefined || (v as Record<symbol, unknown>)[DRAFT_STATE] !== undefined)) return v;
  const prev = copies === null ? undefined : (copies.get(x) as T | undefined)?.[key];
  if (prev !== v && !Object.isFrozen(v)) return v;
  noDrafts = false;
  const draft = immer.createDraft(v as object) as T[K];
  x[key] = draft;
  (detached ??= []).push(x, key, draft);
  return draft;
}

/**
 * The record at `x[key]` (a namespace), to change in place: its own fields written as they are, its tables
 * through {@link tableToWrite}, their entries through {@link entryToWrite}, never in place otherwise. Through
 * an immer draft `x` already written into whose field the transition has not drafted, or in a plain container the
 * open transition made as a copy of a previous state's ({@link copyToWrite}: model/cluster.ts's node), a
 * record the previous state holds there (or a frozen one, shared) is replaced by its copy ({@link copyToWrite},
 * put back when it ends holding what it held), which is returned; one drafted or made in the transition as
 * it is. Through an immer draft nothing was written into yet, immer drafts the field (`x[key]`): a copy written
 * into it would mark it changed for good. A node's host namespace was an immer draft of its own
 * ({@link fieldDraft}): a scope, a proxy, traps on every field written, finalisation. Outside a transition
 * (or for a primitive) `x[key]` as it is. `x` must be a draft or a container the open transition made.
 */
export function fieldToWrite<T extends object, K extends keyof T & string>(x: T, key: K): T[K] {
  const st = noDrafts ? undefined : (x as unknown as Record<symbol, DraftState | undefined>)[DRAFT_STATE];
  // An untouched immer draft: a copy put back unwritten at the end still left a new record where immer keeps
  // the old one (fast-check found it: immer.test.ts's fieldToWrite property, its `examples`).
  if (st !== undefined && (reads === null || st.modified_ !== true)) return x[key];
  const v = st === undefined ? x[key] : ((st.copy_ ?? st.base_) as T)[key];
  if (reads === null || v === null || typeof v !== 'object' || (!noDrafts && (v as Record<symbol, unknown>)[DRAFT_STATE] !== undefined)) return v;
  const prev = st !== undefined ? (st.base_ as T)[key] : copies === null ? undefined : (copies.get(x) as T | undefined)?.[key];
  if (prev !== v && !Object.isFrozen(v)) return v;
  // Put in place around immer's traps (writeField): a plain copy holding no draft, which immer need not walk.
  const copy = copyToWrite(v as T[K] & object, (b, c) => { if (held(x, key) === c) writeField(x, key, b as T[K]); });
  writeField(x, key, copy);
  return copy;
}

/**
 * A shallow copy of `v`, a previous state's container (a record: a dictionary stays one), registered as its
 * copy in the open transition ({@link baseField} answers for it, its tables are copied on write by
 * {@link tableToWrite}, its objects drafted by {@link fieldDraft}). The caller puts it in the place of `v`
 * in a container the transition made, and gives `putBack`, which puts `v` back there in its place: when the
 * transition's recipe returns with the copy holding what `v` holds (every field the same value), as immer
 * keeps a draft nothing was written into, `putBack(v, copy)` is called, so that the new state shares `v`
 * (a change's scope, guarantees/scope.ts, tells changed nodes by identity). Outside a transition a plain copy.
 */
export function copyToWrite<T extends object>(v: T, putBack: (base: T, copy: T) => void): T {
  const copy = copyRecord(v) as T;
  if (reads !== null) {
    (copies ??= new Map()).set(copy, v);
    (unwritten ??= []).push(copy, v, putBack);
  }
  return copy;
}

/**
 * The open {@link transition}'s copies made by {@link copyToWrite} and {@link entryDraft}: copy, base, put-back, in
 * threes, in the order made. Null until the first (and outside a transition).
 */
let unwritten: unknown[] | null = null;

/**
 * The copies of a transition whose recipe returned that hold what their base holds, put back as their base,
 * the last made first (a copy inside a copy, a node's pods in its node, is put back before its container is
 * compared). After {@link finishDetached}: a detached draft nothing was written into ends as its base.
 */
function putBackUnwritten(list: unknown[]): void {
  for (let i = list.length - 3; i >= 0; i -= 3) {
    const copy = list[i] as Record<string, unknown>;
    const base = list[i + 1] as Record<string, unknown>;
    if (sameFields(copy, base)) (list[i + 2] as (b: unknown, c: unknown) => void)(base, copy);
  }
}

/**
 * Whether two records hold the same keys in the same order, each with the same value. A copy written into
 * (the usual end of a transition's root and of its copies) differs in a value: found by a `for…in`, which on
 * a plain record reads V8's enum cache and allocates nothing, before the two `Object.keys` arrays of the
 * full check (~3 % of what a flannel transition allocated, for its root and each node copied). Records
 * here are plain objects and dictionaries (util/dict.ts): nothing enumerable is inherited.
 */
function sameFields(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  for (const k in a) if (a[k] !== b[k]) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i] || a[ka[i]!] !== b[ka[i]!]) return false;
  return true;
}

/**
 * The open {@link transition}'s plain copies of the previous state's containers ({@link tableToWrite}): copy →
 * the container copied, for {@link baseField}. Null until the first (and outside a transition).
 */
let copies: Map<object, object> | null = null;

/**
 * Whether the open transition can hold no immer draft: a {@link transition} (its root a plain copy, its
 * base plain) before its first draft ({@link fieldDraft}, {@link lazyScratchDraft}), as a flannel one stays
 * to its end. Every value it reaches is then plain, and the draft tests ({@link snapshot}, {@link held},
 * {@link baseField}, {@link isDraftHere}, the put-in-place rules) answer without looking for immer's
 * marker, a symbol looked up on every container of every level read or written (snapshot alone was ~4 %
 * self of the model's transitions). False outside a transition (a draft of immer's produce may be
 * anywhere) and in a {@link draftTransition}.
 */
let noDrafts = false;

/** {@link rememberRead}'s memo: null outside a {@link transition}, {@link OPEN} until its first entry. */
let reads: Map<object, Map<string, unknown>> | null = null;
/** No read remembered yet in the open transition (the memo is made at the first). */
const OPEN = new Map<object, Map<string, unknown>>();

/**
 * The open {@link transition}'s memo of values read by key out of draft containers (a sharded map's
 * `shardGet`): container draft → key → what the read gave (a draft, or a value the transition put there).
 * Reading the same key again through the draft levels costs immer a trap per level (a pod's CNI ADD read
 * its node through `nodes` four times: the pod inserted, the namespace of each action, the announcement);
 * the memo answers without them. Whoever writes the container's key forgets it ({@link forgetRead}).
 * Outside a transition nothing is remembered: the memo, and the drafts in it, end with the transition.
 */
export function rememberRead(container: object, key: string, value: unknown): void {
  if (reads === null) return;
  if (reads === OPEN) reads = new Map();
  const known = reads.get(container);
  if (known !== undefined) known.set(key, value);
  else reads.set(container, new Map([[key, value]]));
}

/** What {@link rememberRead} remembered of a container in the open transition, if anything. */
export function readsOf(container: object): Map<string, unknown> | undefined {
  return reads === null || reads === OPEN ? undefined : reads.get(container);
}

/** A write of `key` in a container: what {@link rememberRead} remembered of it is forgotten. */
export function forgetRead(container: object, key: string): void {
  if (reads !== null && reads !== OPEN) reads.get(container)?.delete(key);
}

/**
 * immer's `isDraft`, answered without looking when the open transition holds no draft ({@link noDrafts}):
 * for the draft tests util/shards.ts and ops/actions.ts run on every level they read or write.
 */
export function isDraftHere(v: unknown): boolean {
  return !noDrafts && isDraft(v);
}

/** Whether a {@link transition} is open (reads of drafts are remembered). */
export function inTransition(): boolean {
  return reads !== null;
}

/** Where a draft is nested in a plain value (a path), or null. */
function draftInside(v: unknown, path: string): string | null {
  if (v === null || typeof v !== 'object') return null;
  if (isDraft(v)) return path;
  if (Object.isFrozen(v)) return null;
  for (const k of Object.keys(v)) {
    const at = draftInside((v as Record<string, unknown>)[k], `${path}.${k}`);
    if (at !== null) return at;
  }
  return null;
}

function deepFreeze(v: unknown): void {
  if (v === null || typeof v !== 'object' || Object.isFrozen(v)) return;
  Object.freeze(v);
  for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
}

/** immer's per-draft bookkeeping (immer 11: `Symbol.for('immer-state')`), read for {@link snapshot}, {@link transition} and {@link dictDraft}. */
const DRAFT_STATE = Symbol.for('immer-state');
interface DraftState {
  readonly modified_: boolean; readonly base_: object; copy_: object | null;
  /** 0 for an object draft (1 an array, 2 a Map, 3 a Set). */
  readonly type_?: number;
  /** Keys assigned (true) or deleted (false); made with the copy (immer's `prepareCopy`). */
  assigned_?: Map<string, boolean>;
  /** The produce call's scope: `handledSet_` holds the new values immer has already walked (or need not); `immer_` the instance. */
  readonly scope_?: { readonly handledSet_?: unknown; readonly immer_?: { readonly useStrictShallowCopy_?: unknown } };
}

/**
 * A draft of a dictionary (util/dict.ts) about to be written: immer's copy of it, made here when immer has
 * not made it yet, the way immer's `prepareCopy` would (the copy and an empty record of assigned keys), only
 * faster. immer copies a prototype-less object with `Object.assign(Object.create(null), base)`, which V8
 * runs key by key through its generic path; reading the keys once (`Object.keys`) and storing each is the same
 * copy (the same entries, in the same order) at less CPU: ~5 → ~1.6 µs for a 34-key record warm,
 * ~8 → ~6 µs cold. A pod add or delete at 150,000 pods copies three such records (the node's pods, its host's
 * links and FDB, ~30 keys each), ~20 % of its time. Anything else (not a draft, already copied, not a
 * dictionary, an immer whose bookkeeping looks different) is left to immer. Returns the draft.
 */
export function dictDraft<T extends object>(x: T): T {
  // Outside a transition (a cluster built in place) nothing is a draft: no need to look.
  if (reads === null) return x;
  const st = noDrafts ? undefined : (x as unknown as Record<symbol, DraftState | undefined>)[DRAFT_STATE];
  if (st === undefined || st.copy_ !== null || st.type_ !== 0 || !('assigned_' in st) || st.assigned_ !== undefined || st.scope_?.immer_?.useStrictShallowCopy_ !== false) return x;
  const base = st.base_ as Record<string, unknown>;
  if (Object.getPrototypeOf(base) !== null) return x;
  st.assigned_ = new Map();
  st.copy_ = dict(base);
  return x;
}

/**
 * `d[i] = value` on an array draft, as immer's `set` trap does it (immer's copy made if it has none, the draft
 * and its parents marked changed, the slot written and recorded as assigned), without the trap: Node loads
 * immer's development build (its package exports give it for `import`; the production build is not
 * exported), whose array `set` trap reads `process.env.NODE_ENV` (a C++ interceptor in Node) and runs
 * `parseInt` on every write, ~0.3 µs each; a sharded map's first level and its tops are written so on every
 * key set in a small cluster (a new top), ~1 % of a property run in that trap alone. `value` must be plain
 * data holding no draft, or null: immer walks only what its traps were given, so the value needs no
 * {@link madeHere} (see {@link written}). Outside a transition, on an immer whose bookkeeping looks different,
 * or on a plain array, it is written as it is (through the trap for a draft: immer walks it then).
 */
export function writeSlot<T>(d: T[], i: number, value: T): void {
  const st = noDrafts ? undefined : (d as unknown as Record<symbol, (DraftState & { parent_?: unknown }) | undefined>)[DRAFT_STATE];
  if (st === undefined || reads === null || st.type_ !== 1 || typeof st.modified_ !== 'boolean' || !('assigned_' in st) || !('parent_' in st)) {
    d[i] = value;
    return;
  }
  if (!st.modified_) {
    if ((st.copy_ ?? st.base_ as T[])[i as keyof object] === value) return;
    if (st.copy_ === null) {
      st.assigned_ = new Map();
      st.copy_ = (st.base_ as T[]).slice();
    }
    // immer's markChanged: this draft and each parent up to the first already changed.
    for (let s: { modified_: boolean; parent_?: unknown } | undefined = st as { modified_: boolean; parent_?: unknown }; s !== undefined && !s.modified_; s = s.parent_ as typeof s) s.modified_ = true;
  }
  const copy = st.copy_ as T[];
  if (copy[i] === value) return;
  copy[i] = value;
  st.assigned_!.set(String(i), true);
  written(value);
}

/**
 * A value {@link writeSlot} or {@link writeField} put into a draft without its trap. immer finds the values to
 * walk (for drafts nested in them) through its `set` trap, which registers each: one written without it is
 * never walked, so it need not be registered with {@link madeHere} either (registered values are added to
 * immer's handled set when the recipe ends, a Set insertion each: ~2.5 % of a flannel addNode's transition
 * for its sharded maps' new tops and leaves). It must hold no draft, as a registered value: with freezing on
 * (the test suite) it is registered anyway, so that the transition checks it for one.
 */
function written(value: unknown): void {
  if (freezing && made !== null && value !== null && typeof value === 'object') made.push(value);
}

/**
 * `d[key] = value` on an object draft (a namespace, a link, a table), as immer's `set` trap does it (immer's
 * copy made if it has none, the draft and its parents marked changed, the field written and recorded as
 * assigned), without the trap: the trap looks the key up along the prototype chain for a setter, and for an
 * object value pushes a closure that immer runs when it finalises, only to find the value handled (values
 * registered with {@link madeHere}). A pod's CNI ADD sets ~8 fields of drafts (the host's next ifindex, its
 * new veth end and the bridge's FDB entry, the bridge's first-port mark). `value` must be a primitive, or plain
 * data holding no draft (it needs no {@link madeHere}: see {@link written}). Outside a transition, on a plain
 * object, or on a draft whose copy immer would make differently (not a plain object nor a dictionary, or an
 * immer whose bookkeeping looks different) it is written as it is (through the trap for a draft: immer walks
 * it then).
 */
export function writeField<T extends object, K extends keyof T & string>(d: T, key: K, value: T[K]): void {
  const st = noDrafts ? undefined : (d as unknown as Record<symbol, (DraftState & { parent_?: unknown }) | undefined>)[DRAFT_STATE];
  if (st === undefined || reads === null || st.type_ !== 0 || typeof st.modified_ !== 'boolean' || !('assigned_' in st) || !('parent_' in st) || key === '__proto__') {
    d[key] = value;
    return;
  }
  if (!st.modified_) {
    // immer's trap: a write of the value the field holds changes nothing (and copies nothing).
    const src = (st.copy_ ?? st.base_) as Record<string, unknown>;
    if (Object.is(src[key], value) && (value !== undefined || Object.prototype.hasOwnProperty.call(st.base_, key))) return;
    if (st.copy_ === null) {
      const proto = Object.getPrototypeOf(st.base_);
      if (proto === null) dictDraft(d);
      else if (proto === Object.prototype && st.assigned_ === undefined && st.scope_?.immer_?.useStrictShallowCopy_ === false) {
        // immer's shallowCopy of a plain object (not strict): a spread.
        st.assigned_ = new Map();
        st.copy_ = { ...st.base_ };
      }
      if (st.copy_ === null) {
        d[key] = value;
        return;
      }
    }
    // immer's markChanged: this draft and each parent up to the first already changed.
    for (let s: { modified_: boolean; parent_?: unknown } | undefined = st as { modified_: boolean; parent_?: unknown }; s !== undefined && !s.modified_; s = s.parent_ as typeof s) s.modified_ = true;
  }
  const copy = st.copy_ as Record<string, unknown>;
  // immer's test here is `===` (and NaN for NaN), not Object.is.
  const cur = copy[key];
  if ((cur === value && (value !== undefined || Object.prototype.hasOwnProperty.call(copy, key))) || (Number.isNaN(value) && Number.isNaN(cur))) return;
  copy[key] = value;
  st.assigned_!.set(key, true);
  written(value);
}

/**
 * The table at `d[key]` (a record whose entries are only ever replaced whole or deleted, never changed in
 * place: a namespace's neighbours and FDB; or a sharded map of such values, util/shards.ts, whose levels
 * below the first are copied on write by {@link baseField}'s answer for the copy), to set or delete entries
 * in directly. When `d` is a draft whose
 * field still holds the previous state's table (not drafted, not replaced), a shallow copy of it (the same
 * entries in the same order, a dictionary's prototype kept) is put there with {@link writeField} and
 * returned: plain, made here, changed in place from now on, and never walked by immer (its entries are
 * the previous state's, or plain values written into it). Through the draft the table cost an immer proxy,
 * its copy, a finalisation callback and a revocation (a pod's CNI ADD writes its host's FDB once, a
 * deletion deletes from it once). A table already drafted is written through its draft (a copy would drop
 * what was written there); one made in the transition is returned as it is; outside a transition (or on a
 * plain `d`) the table is returned as it is unless it is frozen (a shared empty table), which is copied and
 * put in place. An entry of the table must never be changed in place but through {@link entryToWrite}: a
 * copy's entries are the previous state's own objects.
 */
export function tableToWrite<T extends object, K extends keyof T & string>(d: T, key: K): T[K] {
  const st = noDrafts ? undefined : (d as unknown as Record<symbol, DraftState | undefined>)[DRAFT_STATE];
  if (st === undefined || reads === null || typeof st.modified_ !== 'boolean') {
    const v = d[key];
    if (v === null || typeof v !== 'object') return v;
    // A plain copy of a previous-state container (an entry entryToWrite copied) still holds that state's
    // tables: copied on write too.
    const from = st === undefined && copies !== null ? copies.get(d) as T | undefined : undefined;
    if (from !== undefined && from[key] === v) {
      const copy = copyTable(v);
      d[key] = copy;
      copies!.set(copy, v);
      return copy;
    }
    if (Object.isFrozen(v) && !isDraftHere(v)) {
      const copy = copyTable(v);
      d[key] = copy;
      return copy;
    }
    return dictDraft(v);
  }
  const v = ((st.copy_ ?? st.base_) as T)[key];
  if (v === null || typeof v !== 'object') return v;
  if ((v as Record<symbol, unknown>)[DRAFT_STATE] !== undefined) return dictDraft(v);
  const prev = (st.base_ as T)[key];
  // Made in this transition (already a copy): changed where it is.
  if (v !== prev && !Object.isFrozen(v)) return v;
  const copy = copyTable(v);
  writeField(d, key, copy);
  if (v === prev) (copies ??= new Map()).set(copy, v);
  return copy;
}

/**
 * The entry `name` of the table at `d[key]` (see {@link tableToWrite}, which gives the table), to change in
 * place (a namespace's link): through a drafted table, immer's draft of it; in a plain table, an entry the
 * previous state holds at that place (or a frozen one, shared) is replaced by a shallow copy, which is
 * returned; one made in the transition is returned as it is. Undefined when the table has no such entry.
 * A pod's CNI ADD marks its bridge's first port, and a deletion clears the master of the links on the
 * deleted one, so: without them the host's links need no draft of their own (see {@link tableToWrite}).
 * A copied entry's own tables are copied on write in turn ({@link tableToWrite} of the copy): a peer set's
 * sharded entries, in a set the cluster's peer-set table holds.
 */
export function entryToWrite<T extends object, K extends keyof T & string>(d: T, key: K, name: string): object | undefined {
  const table = tableToWrite(d, key) as unknown as Record<string, object | undefined>;
  if (!noDrafts && (table as Record<symbol, unknown>)[DRAFT_STATE] !== undefined) return table[name];
  if (!Object.prototype.hasOwnProperty.call(table, name)) return undefined;
  const e = table[name];
  if (e === null || typeof e !== 'object') return e;
  const prev = baseField(d, key) as Record<string, unknown> | undefined;
  const shared = prev !== undefined && prev !== null && prev[name] === e;
  if (shared || Object.isFrozen(e)) {
    const copy = copyRecord(e);
    table[name] = copy;
    // Registered, so that its own tables are copied on write (tableToWrite) and baseField answers for it.
    if (shared && reads !== null) (copies ??= new Map()).set(copy, e);
    return copy;
  }
  return e;
}

/**
 * The entry `name` of the table at `d[key]`, as a draft to change anywhere inside (not only its own fields, as
 * {@link entryToWrite} gives): a node's pod, whose namespace actions change deep down (routing tables, rules).
 * Through a drafted table (or one the transition has not touched, drafted here), immer's draft of the entry.
 * In a plain copy {@link tableToWrite} made (a pod added or deleted before in the transition), an entry made in
 * the transition is plain and returned as it is; one the previous state holds there can only be drafted
 * through a draft of the table: the copy is turned back into the previous table's draft holding the same
 * entries in the same order ({@link redraftTable}), which hands out the entry's draft. On a plain `d` the
 * transition made (a copy of a previous state's container, {@link copyToWrite}), the table is copied on
 * write and the entry drafted on its own ({@link fieldDraft}). Outside a transition the entry as it is. Undefined when the table has no such entry.
 */
export function entryDraft<T extends object, K extends keyof T & string>(d: T, key: K, name: string): unknown {
  const st = noDrafts ? undefined : (d as unknown as Record<symbol, DraftState | undefined>)[DRAFT_STATE];
  if (st === undefined && reads !== null) {
    // A plain container the transition made (a copy: model/cluster.ts's node): the table copied on write,
    // the entry given a draft of its own when the previous state holds it (fieldDraft).
    const t = d[key] as Record<string, unknown> | null | undefined;
    if (t === null || t === undefined || typeof t !== 'object' || !Object.prototype.hasOwnProperty.call(t, name)) return undefined;
    const from = copies === null ? undefined : copies.get(d) as T | undefined;
    const table = tableToWrite(d, key) as Record<string, unknown>;
    // A table copied here for a draft of an entry only, which may be written or not: put back as it was
    // when it ends as it was (see copyToWrite).
    if (table !== t && from !== undefined && from[key] === t) {
      (unwritten ??= []).push(table, t, (b: unknown, c: unknown) => { if (d[key] === c) d[key] = b as T[K]; });
    }
    return fieldDraft(table, name);
  }
  if (st === undefined || reads === null || typeof st.modified_ !== 'boolean') return (d[key] as Record<string, unknown> | undefined)?.[name];
  const v = ((st.copy_ ?? st.base_) as T)[key] as Record<string, unknown> | null | undefined;
  if (v === null || v === undefined || typeof v !== 'object') return undefined;
  const prev = (st.base_ as T)[key] as Record<string, unknown> | null | undefined;
  if ((v as Record<symbol, unknown>)[DRAFT_STATE] === undefined && v !== prev) {
    if (!Object.prototype.hasOwnProperty.call(v, name)) return undefined;
    const e = v[name];
    if (prev === null || prev === undefined || e === null || typeof e !== 'object' || prev[name] !== e) return e;
    return (redraftTable(d, key, v, prev) as Record<string, unknown>)[name];
  }
  const table = dictDraft(d[key] as Record<string, unknown>);
  return Object.prototype.hasOwnProperty.call(table, name) ? table[name] : undefined;
}

/**
 * The plain copy `content` the open transition put at `d[key]` in place of the previous state's table `base`
 * (see {@link tableToWrite}) turned into `base`'s draft holding the same entries in the same order, which is
 * returned: immer hands out a draft of a previous entry only through a draft of its table ({@link redraft}
 * does this for a sharded map's arrays). `base` is put back (immer drafts it when it is read through `d`);
 * the entries that differ are written into the draft around immer's traps ({@link writeField}: they are
 * plain, the previous state's or made in the transition), those gone are deleted; when the order differs
 * (a key deleted and set again) every key is written again in `content`'s order.
 */
function redraftTable<T extends object, K extends keyof T & string>(d: T, key: K, content: Record<string, unknown>, base: Record<string, unknown>): Record<string, unknown> {
  writeField(d, key, base as T[K]);
  const draft = dictDraft(d[key] as Record<string, unknown>);
  const keys = Object.keys(content);
  const baseKeys = Object.keys(base);
  let i = 0;
  let inOrder = true;
  for (let b = 0; b < baseKeys.length; b++) {
    const k = baseKeys[b]!;
    if (!Object.prototype.hasOwnProperty.call(content, k)) delete draft[k];
    else if (keys[i++] !== k) inOrder = false;
  }
  for (let j = i; j < keys.length && inOrder; j++) if (Object.prototype.hasOwnProperty.call(base, keys[j]!)) inOrder = false;
  if (!inOrder) for (const k of keys) delete draft[k];
  for (const k of keys) if (!inOrder || content[k] !== base[k]) writeField(draft, k, content[k]);
  return draft;
}

/**
 * A shallow copy of a table, in order (an array is sliced; a record copied by util/dict.ts copyRecord, a
 * dictionary staying one; a frozen one's copy is not frozen).
 */
function copyTable<V>(v: V): V {
  return (Array.isArray(v) ? v.slice() : copyRecord(v as object)) as V;
}

/**
 * A draft's container as it stands, for loops that only look: enumerating a draft makes immer wrap every
 * value it reads in a proxy (a pod deletion enumerated the host's FDB, neighbours and links that way and
 * spent most of its time in immer), and immer's `current` deep-copies whatever is not frozen. This is the
 * draft's own shallow copy when it was modified in this transition, else its base: values the transition
 * changed are still drafts there, the rest plain. Writes still go to the draft.
 */
export function snapshot<T extends object>(x: T): T {
  // One read of the draft marker (what immer's isDraft reads too): through a draft it is a call of the
  // proxy's trap, and snapshot runs on every level of every lookup that only looks.
  if (noDrafts) return x;
  const st = (x as unknown as Record<symbol, DraftState | undefined>)[DRAFT_STATE];
  if (!st) return x;
  if (typeof st.modified_ === 'boolean') return (st.modified_ && st.copy_ ? st.copy_ : st.base_) as T;
  return isDraft(x) ? current(x as Draft<T>) as T : x; // an immer whose bookkeeping looks different: correct, slower
}

/**
 * A field of a container as the open transition holds it: a child read through the draft (or written) is
 * its draft, kept in the draft's own copy even while nothing has been written ({@link snapshot} gives the
 * base then, whose field is plain); else the plain value. A plain container's field is read as it is. With
 * an immer whose bookkeeping looks different the field is read through the draft (a draft comes back).
 */
export function held<T extends object, K extends keyof T>(x: T, key: K): T[K] {
  if (noDrafts) return x[key];
  const st = (x as unknown as Record<symbol, DraftState | undefined>)[DRAFT_STATE];
  if (st === undefined || typeof st.modified_ !== 'boolean') return x[key];
  return ((st.copy_ ?? st.base_) as T)[key];
}

/**
 * What the state before the open transition held at `x[key]` when `x` is a draft (the base's field), or a
 * plain copy {@link tableToWrite} made of one of its containers (the copied container's field); undefined
 * for another plain container (made in the transition, or outside one).
 */
export function baseField<T extends object, K extends keyof T>(x: T, key: K): T[K] | undefined {
  const st = noDrafts ? undefined : (x as unknown as Record<symbol, DraftState | undefined>)[DRAFT_STATE];
  if (st !== undefined) return (st.base_ as T)[key];
  const copied = copies === null ? undefined : copies.get(x) as T | undefined;
  return copied === undefined ? undefined : copied[key];
}

/**
 * Turns a plain array the open transition put at `parent[key]` in place of the base's array (a changed copy
 * of it, holding some of its elements) into the base array's draft holding the same elements, and returns
 * that draft: immer hands out a draft of a base element only through a draft of the array it sits in
 * ({@link elementDraft}). The base array is put back and read through the parent's draft (immer drafts it);
 * one write through the proxy (the length) has immer copy it and mark it changed; the copy is then given
 * the elements, which are plain (the base's, and values the transition registered with {@link madeHere} or
 * that need no walk), so immer is not given them to walk. `parent` must be a draft whose base holds an
 * array at `key`.
 */
export function redraft<T>(parent: (readonly T[] | null)[], key: number, content: readonly T[]): T[] {
  const base = baseField(parent, key)!;
  parent[key] = base;
  const d = parent[key] as T[];
  const st = (d as unknown as Record<symbol, DraftState | undefined>)[DRAFT_STATE];
  if (st === undefined || st.type_ !== 1 || typeof st.modified_ !== 'boolean') {
    // An immer whose bookkeeping looks different: element by element through the proxy (correct, slower).
    for (let i = 0; i < content.length; i++) d[i] = content[i]!;
    d.length = content.length;
    return d;
  }
  d.length = base.length + 1;
  const copy = st.copy_ as T[];
  copy.length = content.length;
  for (let i = 0; i < content.length; i++) copy[i] = content[i]!;
  return d;
}

/**
 * `Array.prototype.splice` on an array draft (or a plain array), for what it costs on a plain array: through
 * immer's proxy every element moved is a trap or two (~17 µs to insert or remove a pair in a 20-slot array,
 * immer 11, where a push costs ~2.5 µs). One write through the proxy (the new length) has immer prepare its
 * copy (a `slice`) and mark the draft changed; the elements after the cut are moved within that copy; the
 * new items are written through the proxy, so immer handles them as any value it is given (immer finds a
 * child draft that moved when it finalises). Anything else (a plain array, an immer whose bookkeeping looks
 * different) is spliced as it is.
 */
export function spliceDraft<T>(d: T[], at: number, deleteCount: number, ...items: T[]): void {
  const st = (d as unknown as Record<symbol, DraftState | undefined>)[DRAFT_STATE];
  if (st === undefined || st.type_ !== 1 || typeof st.modified_ !== 'boolean') {
    d.splice(at, deleteCount, ...items);
    return;
  }
  const src = (st.copy_ ?? st.base_) as T[];
  const length = src.length - deleteCount + items.length;
  if (length !== src.length) {
    const tail = src.slice(at + deleteCount);
    d.length = length;
    const copy = st.copy_ as T[];
    for (let i = 0; i < tail.length; i++) copy[at + items.length + i] = tail[i]!;
    // Cleared, so that the write below is not skipped as "unchanged" and immer handles the item.
    for (let i = 0; i < items.length; i++) copy[at + i] = undefined as T;
  }
  for (let i = 0; i < items.length; i++) d[at + i] = items[i]!;
}

/**
 * An element of an array draft as immer hands it out (a draft, to write into), also when {@link spliceDraft}
 * moved it: immer drafts an element only at the index it had in the base, and returns one found elsewhere as
 * it is (the base's own object, which a write would change in the previous state). Such an element is read
 * through the proxy at its base index once, so that immer makes its draft (which immer finds where it now
 * is when it finalises), and the draft is put where the element is. An element put there in the open
 * transition, or anything not an object, is returned as it is.
 */
export function elementDraft<T>(d: readonly T[], i: number): T {
  const v = d[i]!;
  if (v === null || typeof v !== 'object') return v;
  const st = (d as unknown as Record<symbol, DraftState | undefined>)[DRAFT_STATE];
  if (st === undefined) return v;
  // Unlike the other fast paths here, this one has no slower correct way round: an element that moved is
  // the previous state's own object, which a caller would change in place. So an immer whose array drafts
  // look different stops the transition instead of letting it corrupt the state it came from.
  if (st.type_ !== 1 || typeof st.modified_ !== 'boolean' || !('copy_' in st) || !Array.isArray(st.base_)) {
    throw new Error('podnet internal error: this immer\'s array drafts are not the ones podnet was built for (immer 11.2.10); install the immer version @podnet/core pins');
  }
  if (!st.modified_ || st.copy_ === null || (v as Record<symbol, unknown>)[DRAFT_STATE] !== undefined) return v;
  const q = (st.base_ as T[]).indexOf(v);
  if (q < 0) return v;
  const copy = st.copy_ as T[];
  // The base index may lie past the copy's end (the copy is shorter): the length is put back after.
  const length = copy.length;
  const there = copy[q]!;
  copy[q] = v;
  const draft = d[q]!;
  copy[q] = there;
  copy.length = length;
  copy[i] = draft;
  return draft;
}

/**
 * A field of a draft read as plain data: the field of its {@link snapshot}, itself snapshotted (a child the
 * transition changed is still a draft in the parent's copy). Reads through the draft would make immer
 * copy the parent first.
 */
export function peek<T extends object, K extends keyof T>(x: T, key: K): T[K] {
  const v = snapshot(x)[key];
  return (v !== null && typeof v === 'object' ? snapshot(v) : v) as T[K];
}
