/**
 * Twins: a pod that arrives wired exactly as a pod of its node that was already there, and that nothing in
 * the cluster tells apart from it, has that pod's verdicts.
 *
 * The argument is a symmetry. Let σ swap the identities of the new pod P and of its twin Q: their addresses,
 * their namespaces' ids, their links' MACs, the names, MACs and ifindexes of the host's ends of their veths.
 * If applying σ to the state gives the state back (up to the order of dictionary entries, and of routes that
 * cannot tie), then a probe from P to any third pod X runs as σ of the probe from Q to X: the forwarding
 * engine compares identities only for equality and addresses only by prefix containment, which σ keeps —
 * with two exceptions it does not need to keep. The outer UDP source port of a VXLAN packet hashes the inner
 * addresses, and nothing matches on it (netfilter rules match destination ports only; probes use no
 * conntrack). Dictionaries are walked in insertion order, and σ moves entries to other places in that order:
 * what order changes is the order in which a flood's copies are sent, and a flood's copies end where they
 * end whatever their order (the pods of an arrival answer ARP for their own address alone: arrivedPods).
 * So verdict(P → X) = verdict(Q → X) and verdict(X → P) = verdict(X → Q), in the state after the arrival,
 * where Q's verdicts are those of the state before (arrivedPods: a pod's arrival changes none of them but
 * for the step budget of floods, which a probe's record keeps).
 *
 * σ(state) = state is checked without walking the state:
 * - P's namespace is σ of Q's, field by field (a deep comparison of two small objects);
 * - in the host namespace of their node, every record is σ of the record in its place (dictionary entries
 *   under σ of their key; in route lists, the routes that name neither pod stay where they are, and the
 *   routes that name P are σ of those that name Q, in order — a route naming P cannot tie with one that
 *   does not, as their destinations differ; in the policy rules, tried in order, a rule naming P is σ of one
 *   naming Q and every rule between the two matches no packet they match; any other list holds neither);
 * - a cloud fabric's entries for the two addresses are σ of each other (the same ENI);
 * - nowhere else does anything name an identity σ moves, nor a prefix longer than the longest prefix
 *   common to the two addresses that holds one of them (such a prefix would tell them apart): a count of
 *   every address, MAC, name and prefix the state's namespaces, underlay and peer sets hold (the
 *   {@link MentionIndex}), kept from one state to the next by what changed, less what the three namespaces
 *   above hold, must be zero for each.
 * What the index walks is every value of those records, their keys, and the parts of the strings they hold
 * (`dev|mac` keys, `OWNER IP` lists, addresses in comments), so that a kind of record added later is counted
 * without being named here. Everything else a probe reads is derived from the namespaces (the IP index, the
 * pod index) or is the same for both pods (the clock, their node). The property that holds a check using twins
 * to a full audit, with records that tell pods apart, is in packages/cni/src/twin.test.ts; the one that holds the
 * index to a count from scratch in twin.test.ts beside this file.
 */
import { cidrOverlaps, formatIpv4, networkOf, type Cidr } from '../addr/ipv4.js';
import { podKeys } from '../dataplane/links.js';
import type { ClusterState, IpRule, Link, NetNs, Node, PlacedPod, Route } from '../model/types.js';
import { shardDiffKeys, shardGet, shardValues } from '../util/shards.js';
import { YoungWeakMap } from '../util/memo.js';

/** An identity the index counts: an address (a number), or a string (a MAC, a name, `addr/len` of a prefix). */
type Atom = number | string;

/** Numbers below this are not identities (counts, MTUs, ifindexes, times early in a run): 1.0.0.0. */
const MIN_ADDR = 1 << 24;

/**
 * Whether a number may be an address: an integer from {@link MIN_ADDR} up, or a negative one (an address held as
 * a signed 32-bit integer; the state holds them unsigned, but an atom too many only makes the check refuse).
 */
function addressLike(v: number): boolean {
  return Number.isInteger(v) && (v >= MIN_ADDR || (v < 0 && v >= -0x80000000));
}

/** Separators of the parts of a string worth counting apart: `dev|mac`, `OWNER 167772165`, `10.0.0.0/8`. */
const PARTS = /[|\s,;=()[\]]+/;
const DOTTED = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/;
const DECIMAL = /^(\d{1,10})(?:\/(\d{1,2}))?$/;

/** The atom of a prefix: the address itself for a /32, `network/len` otherwise; a /0 names nothing. */
function prefixAtom(addr: number, len: number): Atom | null {
  if (len <= 0 || len > 32) return null;
  return len === 32 ? addr >>> 0 : `${networkOf(addr, len)}/${len}`;
}

/** Calls `f` with each atom a string holds: itself, and each of its parts that is an address or a prefix. */
function parseAtoms(s: string, f: (a: Atom) => void): void {
  f(s);
  const parts = PARTS.test(s) ? s.split(PARTS) : [s];
  for (const part of parts) {
    if (part.length === 0) continue;
    if (part !== s) f(part);
    const c = part.charCodeAt(0);
    if (c < 48 || c > 57) continue; // addresses start with a digit
    const d = DOTTED.exec(part);
    if (d !== null) {
      const addr = ((Number(d[1]) << 24) | (Number(d[2]) << 16) | (Number(d[3]) << 8) | Number(d[4])) >>> 0;
      const a = prefixAtom(addr, d[5] === undefined ? 32 : Number(d[5]));
      if (a !== null) f(a);
      if (d[5] !== undefined) f(addr);
      continue;
    }
    const n = DECIMAL.exec(part);
    if (n !== null) {
      const addr = Number(n[1]);
      if (addr >= MIN_ADDR && addr <= 0xffffffff) {
        f(addr);
        if (n[2] !== undefined) { const a = prefixAtom(addr, Number(n[2])); if (a !== null) f(a); }
      }
    }
  }
}

/**
 * The atoms of the strings σ is asked about (swapString), memoized: the same few are met in every twin check.
 * Walks do not use it: at 150,000 pods the strings of the whole state (~780,000) held ~170 MiB here.
 */
const STRING_ATOMS = new Map<string, readonly Atom[]>();
const MAX_STRINGS = 1 << 16;

function atomsOfString(s: string): readonly Atom[] {
  let a = STRING_ATOMS.get(s);
  if (a === undefined) {
    const out: Atom[] = [];
    parseAtoms(s, (x) => out.push(x));
    if (STRING_ATOMS.size >= MAX_STRINGS) STRING_ATOMS.clear();
    STRING_ATOMS.set(s, (a = out));
  }
  return a;
}

/** Calls `f` with each atom a string holds ({@link parseAtoms}), the plain ones (most: names, MACs) without parsing. */
function stringAtoms(s: string, f: (a: Atom) => void): void {
  const c = s.charCodeAt(0);
  if ((c < 48 || c > 57) && !PARTS.test(s)) f(s);
  else parseAtoms(s, f);
}

/** Calls `f` with every atom of a value: see the module comment. */
function walk(v: unknown, f: (a: Atom) => void): void {
  if (typeof v === 'number') {
    if (addressLike(v)) f(v >>> 0);
    return;
  }
  if (typeof v === 'string') { stringAtoms(v, f); return; }
  if (v === null || typeof v !== 'object') return;
  if (Array.isArray(v)) { for (let i = 0; i < v.length; i++) walk(v[i], f); return; }
  const o = v as Record<string, unknown>;
  // A prefix (`Cidr`) or an address with its prefix length (`IfAddr`): the prefix too, as a route derives it.
  if (typeof o.len === 'number') {
    const base = typeof o.addr === 'number' ? o.addr : typeof o.ip === 'number' ? o.ip : null;
    if (base !== null) { const a = prefixAtom(base, o.len); if (a !== null && typeof a === 'string') f(a); }
  }
  for (const k in o) {
    stringAtoms(k, f);
    walk(o[k], f);
  }
}

/**
 * How many times each atom is held by the namespaces, the underlay and the peer sets of a state: see the
 * module comment. One index is kept, for the last state asked about, and brought to the next by what
 * changed between the two (a pod added: its namespace and its host's, once each); a state unrelated to it
 * is counted from scratch.
 */
class MentionIndex {
  private counts = new Map<Atom, number>();
  /**
   * The state the counts are of, held weakly: the index must not keep a state alive that its simulator let go
   * (at 150,000 pods, ~400 MiB). Once it is collected, the next state is counted from scratch. (One reference,
   * not a memo table: the counts are brought from one state to the next, so it is not a YoungWeakMap.)
   */
  private state: WeakRef<ClusterState> | null = null;

  /** The index of `state`. */
  of(state: ClusterState): ReadonlyMap<Atom, number> {
    const from = this.state?.deref();
    if (from === state) return this.counts;
    if (from === undefined || !this.moveTo(from, state)) this.rebuild(state);
    this.state = new WeakRef(state);
    return this.counts;
  }

  private readonly plus = (a: Atom): void => { this.bump(a, 1); };
  private readonly minus = (a: Atom): void => { this.bump(a, -1); };

  private bump(a: Atom, by: number): void {
    const m = this.counts;
    const n = (m.get(a) ?? 0) + by;
    if (n === 0) m.delete(a);
    else m.set(a, n);
  }

  private add(v: unknown, by: 1 | -1): void {
    walk(v, by === 1 ? this.plus : this.minus);
  }

  /**
   * The counts moved from what `a` holds to what `b` holds, looking only where they differ: a value the same
   * object in both is skipped, a dictionary is compared key by key, a list element by element (or, when its
   * length changed, by which elements are in one and not the other). What a pod's arrival changes in its host
   * (a link, FDB entries, a sysctl per device) is then counted without walking the rest of the host.
   */
  private change(a: unknown, b: unknown): void {
    if (a === b) return;
    if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(a) !== Array.isArray(b)) {
      this.add(a, -1);
      this.add(b, 1);
      return;
    }
    if (Array.isArray(a)) {
      const x = a as readonly unknown[];
      const y = b as readonly unknown[];
      if (x.length === y.length) { for (let i = 0; i < x.length; i++) this.change(x[i], y[i]); return; }
      const inB = new Map<unknown, number>();
      for (const e of y) inB.set(e, (inB.get(e) ?? 0) + 1);
      for (const e of x) {
        const n = inB.get(e);
        if (n === undefined || n === 0) this.add(e, -1);
        else inB.set(e, n - 1);
      }
      for (const [e, n] of inB) for (let i = 0; i < n; i++) this.add(e, 1);
      return;
    }
    const x = a as Record<string, unknown>;
    const y = b as Record<string, unknown>;
    // A prefix or an address with its length counts as a whole (walk() counts its prefix with the object).
    if (typeof x.len === 'number' || typeof y.len === 'number') { this.add(a, -1); this.add(b, 1); return; }
    for (const k in x) {
      if (k in y) this.change(x[k], y[k]);
      else { stringAtoms(k, this.minus); this.add(x[k], -1); }
    }
    for (const k in y) if (!(k in x)) { stringAtoms(k, this.plus); this.add(y[k], 1); }
  }

  private rebuild(s: ClusterState): void {
    this.counts = new Map();
    for (const n of shardValues(s.nodes)) this.addNode(n, 1);
    this.add(s.underlay, 1);
    this.add(s.peerSets, 1);
  }

  private addNode(n: Node, by: 1 | -1): void {
    this.add(n.host, by);
    const keys = podKeys(n);
    for (let i = 0; i < keys.length; i++) this.add(n.pods[keys[i]!]!.netns, by);
  }

  /** Brings the counts from `a` to `b` by what changed; false when so much changed that counting again is cheaper. */
  private moveTo(a: ClusterState, b: ClusterState): boolean {
    const names = shardDiffKeys(a.nodes, b.nodes);
    if (names.length > 64) return false;
    for (const name of names) {
      const na = shardGet(a.nodes, name);
      const nb = shardGet(b.nodes, name);
      if (na === undefined) { this.addNode(nb!, 1); continue; }
      if (nb === undefined) { this.addNode(na, -1); continue; }
      this.change(na.host, nb.host);
      if (na.pods === nb.pods) continue;
      for (const k in na.pods) {
        const x = na.pods[k]!.netns;
        const y = nb.pods[k]?.netns;
        if (y === undefined) this.add(x, -1);
        else this.change(x, y);
      }
      for (const k in nb.pods) if (!(k in na.pods)) this.add(nb.pods[k]!.netns, 1);
    }
    if (a.underlay !== b.underlay) {
      const ua = a.underlay;
      const ub = b.underlay;
      this.change(ua.router, ub.router);
      if (ua.segments !== ub.segments) {
        this.change(ua.segments, ub.segments);
      }
      this.change(ua.tunnelMap, ub.tunnelMap);
      if (ua.vpcRouter !== ub.vpcRouter) { this.add({ vpcRouter: ua.vpcRouter }, -1); this.add({ vpcRouter: ub.vpcRouter }, 1); }
    }
    if (a.peerSets !== b.peerSets) {
      this.change(a.peerSets, b.peerSets);
    }
    return true;
  }
}

const INDEX = new MentionIndex();

/** σ of strings for the tests: the swap of the given pairs of atoms. Not exported from the package. */
export function swapForTest(pairs: readonly (readonly [Atom, Atom])[]): (v: string) => string {
  const s: Swap = { atoms: new Map(), ifindex: new Map() };
  for (const [a, b] of pairs) if (!swapAtom(s, typeof a === 'number' ? a >>> 0 : a, typeof b === 'number' ? b >>> 0 : b)) throw new Error('not a swap');
  return (v) => swapString(s, v);
}

/**
 * The index's counts for a state, as kept from the states asked about before (`fresh` false), or counted from
 * scratch (`fresh` true, leaving the kept index alone): the tests hold the first to the second. Not exported
 * from the package.
 */
export function mentionCounts(state: ClusterState, fresh: boolean): ReadonlyMap<Atom, number> {
  if (!fresh) return new Map(INDEX.of(state));
  const index = new MentionIndex();
  return index.of(state);
}

/** A new pod, its twin, and σ: what the incremental check needs to give the one the other's verdicts. */
export interface Twin {
  readonly pod: PlacedPod;
  readonly twin: PlacedPod;
  /** The namespace ids σ swaps (`pod/<key>` of each), for the records the pods' probes left. */
  readonly ns: ReadonlyMap<string, string>;
}

/** σ: a swap of atoms, and of the ifindexes of the host's ends of the two veths (numbers under `ifindex`). */
interface Swap {
  readonly atoms: Map<Atom, Atom>;
  readonly ifindex: Map<number, number>;
}

function swapAtom(s: Swap, a: Atom, b: Atom): boolean {
  if (a === b) return true;
  const x = s.atoms.get(a);
  const y = s.atoms.get(b);
  if (x === undefined && y === undefined) { s.atoms.set(a, b); s.atoms.set(b, a); return true; }
  return x === b && y === a;
}

/** σ of a string: itself swapped, or its parts (between the separators, which stay). */
function swapString(s: Swap, v: string): string {
  // Most strings hold nothing σ moves: known from their atoms, without splitting them again.
  const atoms = atomsOfString(v);
  let any = false;
  for (let i = 0; i < atoms.length && !any; i++) any = s.atoms.has(atoms[i]!);
  if (!any) return v;
  if (!PARTS.test(v)) return swapPart(s, v);
  const parts = v.split(/([|\s,;=()[\]]+)/);
  let changed = false;
  for (let i = 0; i < parts.length; i += 2) {
    const p = parts[i]!;
    const q = swapPart(s, p);
    if (q !== p) { parts[i] = q; changed = true; }
  }
  return changed ? parts.join('') : v;
}

/**
 * σ of a string without separators: itself swapped, or the address it writes, in decimal (cilium's endpoint
 * keys) or dotted (with `/32` or no length; a shorter prefix holds both addresses or tells them apart, which
 * the scan refuses).
 */
function swapPart(s: Swap, p: string): string {
  const q = s.atoms.get(p);
  if (typeof q === 'string') return q;
  const n = DECIMAL.exec(p);
  if (n !== null && n[2] === undefined) {
    const m = s.atoms.get(Number(n[1]));
    if (typeof m === 'number') return String(m);
  }
  const d = DOTTED.exec(p);
  if (d !== null && (d[5] === undefined || d[5] === '32')) {
    const m = s.atoms.get(((Number(d[1]) << 24) | (Number(d[2]) << 16) | (Number(d[3]) << 8) | Number(d[4])) >>> 0);
    if (typeof m === 'number') return `${formatIpv4(m)}${d[5] === undefined ? '' : '/32'}`;
  }
  return p;
}

/** Whether σ(x) is y, deeply (`key` the field x is held under, for ifindexes). */
function sameUnder(s: Swap, x: unknown, y: unknown, key: string): boolean {
  if (typeof x === 'number') {
    if (key === 'ifindex') return (s.ifindex.get(x) ?? x) === y;
    const m = addressLike(x) ? s.atoms.get(x >>> 0) : undefined;
    return (typeof m === 'number' ? m : x) === y;
  }
  if (typeof x === 'string') return swapString(s, x) === y;
  if (x === null || typeof x !== 'object' || y === null || typeof y !== 'object') return x === y;
  if (Array.isArray(x)) {
    if (!Array.isArray(y) || x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!sameUnder(s, x[i], y[i], key)) return false;
    return true;
  }
  if (Array.isArray(y)) return false;
  const a = x as Record<string, unknown>;
  const b = y as Record<string, unknown>;
  let n = 0;
  for (const k in a) {
    n++;
    const k2 = swapString(s, k);
    if (!(k2 in b) || !sameUnder(s, a[k], b[k2], k)) return false;
  }
  let m = 0;
  for (const _ in b) m++;
  return n === m;
}

/** Whether a value holds an atom σ moves (a number under `ifindex` counts when σ moves it). */
function moves(s: Swap, v: unknown, key = ''): boolean {
  if (typeof v === 'number') return key === 'ifindex' ? s.ifindex.has(v) : addressLike(v) && s.atoms.has(v >>> 0);
  if (typeof v === 'string') return swapString(s, v) !== v;
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.some((x) => moves(s, x, key));
  const o = v as Record<string, unknown>;
  for (const k in o) if (swapString(s, k) !== k || moves(s, o[k], k)) return true;
  return false;
}

/**
 * Whether a route list is its own σ image as the module comment says: the routes σ leaves alone in their
 * places, the routes that name one pod σ of those that name the other, in order.
 */
function routesSwap(s: Swap, routes: readonly Route[], ipP: number): boolean {
  const mine: Route[] = [];
  const theirs: Route[] = [];
  for (const r of routes) {
    if (!moves(s, r)) continue;
    // A route names one pod: its destination is that pod's address (only such routes cannot tie with others).
    if (r.dst.len !== 32) return false;
    (r.dst.addr === ipP ? mine : theirs).push(r);
  }
  if (mine.length !== theirs.length) return false;
  for (let i = 0; i < mine.length; i++) if (!sameUnder(s, theirs[i], mine[i], '')) return false;
  return true;
}

/**
 * The atoms of a record (a value of the host's tables), memoized per object: a host's records are the same
 * objects from one state to the next but for the few a change replaced, so a scan of the host for what σ moves
 * walks only those.
 */
const RECORD_ATOMS = new YoungWeakMap<object, readonly Atom[]>();

function recordAtoms(v: unknown): readonly Atom[] {
  if (v === null || typeof v !== 'object') {
    const out: Atom[] = [];
    walk(v, (a) => out.push(a));
    return out;
  }
  let a = RECORD_ATOMS.get(v);
  if (a === undefined) {
    const out: Atom[] = [];
    walk(v, (x) => out.push(x));
    RECORD_ATOMS.set(v, (a = out));
  }
  return a;
}

/** What a scan of the three namespaces found (see {@link scanRecord}). */
interface Scan {
  readonly s: Swap;
  /** What the rest of the state must not hold: what σ moves, and the prefixes that would tell the pods apart. */
  readonly wanted: ReadonlySet<Atom>;
  /** The prefixes that would tell them apart. */
  readonly splitting: ReadonlySet<Atom>;
  /** How many times the namespaces scanned hold each wanted atom. */
  readonly here: Map<Atom, number>;
}

/** Counts a record's wanted atoms (its key's too); 'split' when it holds a prefix telling the pods apart, else whether σ moves it. */
function scanRecord(sc: Scan, key: string | null, v: unknown): boolean | 'split' {
  let moved = false;
  const see = (atoms: readonly Atom[]): boolean => {
    for (let i = 0; i < atoms.length; i++) {
      const a = atoms[i]!;
      if (!sc.wanted.has(a)) continue;
      if (sc.splitting.has(a)) return false;
      sc.here.set(a, (sc.here.get(a) ?? 0) + 1);
      if (sc.s.atoms.has(a)) moved = true;
    }
    return true;
  };
  if (key !== null && !see(atomsOfString(key))) return 'split';
  if (!see(recordAtoms(v))) return 'split';
  return moved;
}

/**
 * Whether the host namespace is its own σ image (see the module comment), looking only at the records that hold
 * what σ moves; counts what it holds of the wanted atoms as it goes.
 */
function hostSwaps(sc: Scan, host: NetNs, ipP: number): boolean {
  const s = sc.s;
  const fields = host as unknown as Record<string, unknown>;
  for (const f in fields) {
    const v = fields[f];
    if (v === null || typeof v !== 'object') {
      const m = scanRecord(sc, null, v);
      if (m !== false) return false;
      continue;
    }
    if (Array.isArray(v)) {
      if (!listSwaps(sc, v, f === 'routes' ? 'routes' : f === 'ipRules' ? 'ipRules' : 'other', ipP)) return false;
      continue;
    }
    const dict = v as Record<string, unknown>;
    for (const k in dict) {
      const e = dict[k];
      if (f === 'tables' && Array.isArray(e)) {
        if (swapString(s, k) !== k || !listSwaps(sc, e, 'routes', ipP)) return false;
        continue;
      }
      const m = scanRecord(sc, k, e);
      if (m === 'split') return false;
      if (m && !sameUnder(s, e, dict[swapString(s, k)], k)) return false;
    }
  }
  return true;
}

/**
 * Whether a list of the host is its own σ image: no element σ moves, or, for a route list, those it moves as
 * {@link routesSwap} says, and for the policy rules (`ip rule`), as {@link rulesSwap} says.
 */
function listSwaps(sc: Scan, list: readonly unknown[], kind: 'routes' | 'ipRules' | 'other', ipP: number): boolean {
  const moving: number[] = [];
  for (let i = 0; i < list.length; i++) {
    const m = scanRecord(sc, null, list[i]);
    if (m === 'split' || (m && kind === 'other')) return false;
    if (m) moving.push(i);
  }
  if (moving.length === 0) return true;
  return kind === 'routes' ? routesSwap(sc.s, list as readonly Route[], ipP) : rulesSwap(sc.s, list as readonly IpRule[], moving);
}

/** Whether two prefixes share no address (null: every address). */
function disjoint(a: Cidr | null, b: Cidr | null): boolean {
  return a !== null && b !== null && !cidrOverlaps(a, b);
}

/**
 * Whether a list of policy rules, which are tried in order, is its own σ image: each rule σ moves has its σ
 * image in the list, and every rule between the two that σ leaves alone matches no packet either of them
 * matches (its `from` or its `to` disjoint from theirs) — so it is tried before both or after both for any
 * packet they match, and the two pods' packets meet the same rules in the same order. (The AWS VPC CNI's rule
 * per pod, `to <pod> lookup main` at priority 512, appended pod after pod: the rules between two pods' are
 * other pods', disjoint.)
 */
function rulesSwap(s: Swap, rules: readonly IpRule[], moving: readonly number[]): boolean {
  const isMoving = new Set(moving);
  for (const i of moving) {
    const r = rules[i]!;
    let j = -1;
    for (const k of moving) if (sameUnder(s, r, rules[k], '')) { j = k; break; }
    if (j < 0) return false;
    for (let k = Math.min(i, j) + 1; k < Math.max(i, j); k++) {
      if (isMoving.has(k)) continue;
      const f = rules[k]!;
      if (!disjoint(f.from, r.from) && !disjoint(f.to, r.to)) return false;
    }
  }
  return true;
}

/** The host's end of a pod's veth to its node, by the pod side's peer, or undefined. */
function hostEnds(ns: NetNs, host: NetNs): Link[] {
  const out: Link[] = [];
  for (const k in ns.links) {
    const l = ns.links[k]!;
    if (l.kind !== 'veth') continue;
    const far = l.peer.ns === host.id ? host.links[l.peer.name] : undefined;
    if (far === undefined || far.kind !== 'veth' || far.peer.ns !== ns.id) return [];
    out.push(far);
  }
  return out;
}

/** σ for two pods of one node, from their namespaces and their veths' host ends; null when they are not alike. */
function swapOf(p: PlacedPod, q: PlacedPod, host: NetNs): Swap | null {
  const np = p.netns!;
  const nq = q.netns!;
  const s: Swap = { atoms: new Map(), ifindex: new Map() };
  if (!swapAtom(s, p.ip! >>> 0, q.ip! >>> 0) || !swapAtom(s, np.id, nq.id) || !swapAtom(s, p.key, q.key)) return null;
  for (const k in np.links) {
    const a = np.links[k]!;
    const b = nq.links[k];
    if (b === undefined || a.kind !== b.kind) return null;
    if (a.kind !== 'loopback' && !swapAtom(s, a.mac, b.mac)) return null;
  }
  const ep = hostEnds(np, host);
  const eq = hostEnds(nq, host);
  if (ep.length === 0 || ep.length !== eq.length) return null;
  for (let i = 0; i < ep.length; i++) {
    const a = ep[i]!;
    const b = eq[i]!;
    if (!swapAtom(s, a.name, b.name) || !swapAtom(s, a.mac, b.mac)) return null;
    if (a.ifindex !== b.ifindex) {
      if (s.ifindex.has(a.ifindex) || s.ifindex.has(b.ifindex)) return null;
      s.ifindex.set(a.ifindex, b.ifindex).set(b.ifindex, a.ifindex);
    }
  }
  return s;
}

/** The length of the longest prefix two addresses share. */
function commonLength(p: number, q: number): number {
  const x = (p ^ q) >>> 0;
  return x === 0 ? 32 : Math.clz32(x);
}

/** The most old pods of the node tried as a twin before the check gives up on twins for this arrival. */
const MAX_CANDIDATES = 4;

/**
 * The twin of the one pod an arrival brought onto `node` (see the module comment), or null. `usable` says
 * whether an old pod may be one (the check passes pods whose namespaces are probed).
 */
export function findTwin(state: ClusterState, node: Node, before: Node, podNs: string, usable: (p: PlacedPod) => boolean): Twin | null {
  const key = podNs.slice(4);
  const p = node.pods[key];
  if (p === undefined || p.netns === null || p.ip === null || !usable(p)) return null;
  const host = node.host;
  const keys = podKeys(before);
  let tried = 0;
  for (let i = 0; i < keys.length && tried < MAX_CANDIDATES; i++) {
    const q = node.pods[keys[i]!];
    if (q === undefined || q.netns === null || q.ip === null || !usable(q)) continue;
    tried++;
    if (twins(state, host, p, q)) return { pod: p, twin: q, ns: new Map([[p.netns.id, q.netns.id], [q.netns.id, p.netns.id]]) };
  }
  return null;
}

function twins(state: ClusterState, host: NetNs, p: PlacedPod, q: PlacedPod): boolean {
  const s = swapOf(p, q, host);
  if (s === null) return false;
  const np = p.netns!;
  const nq = q.netns!;
  const ipP = p.ip! >>> 0;
  const ipQ = q.ip! >>> 0;
  // P's namespace σ of Q's. (The ifindexes σ swaps are the host's: a pod's namespace numbers its links on its own.)
  if (!sameUnder({ atoms: s.atoms, ifindex: new Map() }, nq, np, '')) return false;
  const wanted = new Set<Atom>(s.atoms.keys());
  const splitting = new Set<Atom>();
  const common = commonLength(ipP, ipQ);
  for (let len = common + 1; len < 32; len++) splitting.add(`${networkOf(ipP, len)}/${len}`).add(`${networkOf(ipQ, len)}/${len}`);
  for (const a of splitting) wanted.add(a);
  const sc: Scan = { s, wanted, splitting, here: new Map() };
  // The three namespaces: no prefix telling the pods apart, and the host its own σ image.
  for (const ns of [np, nq]) if (scanRecord(sc, null, ns) === 'split') return false;
  if (!hostSwaps(sc, host, ipP)) return false;
  // A cloud fabric's entries for the two addresses (the VPC assigned each to an interface: the AWS VPC CNI's
  // secondary addresses): both or neither, the one σ of the other (the same ENI).
  for (const name in state.underlay.segments) {
    const fabric = state.underlay.segments[name]!.fabric;
    if (fabric === undefined) continue;
    const eP = shardGet(fabric, String(ipP));
    const eQ = shardGet(fabric, String(ipQ));
    if ((eP === undefined) !== (eQ === undefined)) return false;
    if (eP === undefined) continue;
    if (!sameUnder(s, eQ, eP, '')) return false;
    for (const [k, e] of [[String(ipP), eP], [String(ipQ), eQ]] as const) if (scanRecord(sc, k, e) === 'split') return false;
  }
  // Everywhere else: nothing naming what σ moves, nor such a prefix — what the index counts in the whole state
  // is what the three namespaces hold.
  const index = INDEX.of(state);
  for (const a of wanted) if ((index.get(a) ?? 0) !== (sc.here.get(a) ?? 0)) return false;
  return true;
}
