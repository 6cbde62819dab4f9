/**
 * What a run keeps while a packet travels: what it learned (neighbour and FDB entries, committed at the
 * end) and the ARP resolutions it waits for. A probe learns and waits for a handful, so both are flat
 * lists scanned in order rather than maps per namespace and device (see {@link Learned}).
 */
import type { Ipv4 } from '../addr/ipv4.js';
import { copyRecord } from '../util/dict.js';
import type { NsId } from '../model/types.js';
import type { Ipv4Packet } from '../wire/packet.js';
import type { Mac } from '../addr/mac.js';

/** An ARP resolution a run waits for, with the packets queued behind it. */
export interface Pending {
  ns: NsId;
  dev: string;
  nexthop: Ipv4;
  /** `l2src`: a bridged-DNAT frame's own source MAC, which it keeps once the neighbour resolves (null: the device's). */
  items: { pkt: Ipv4Packet; pid: number; forwarded: boolean; l2src: Mac | null }[];
}

/**
 * What a run learned of one kind of table (neighbours, bridge FDB): entries by namespace, device and
 * address, in the order first learned, which is the order a commit writes them in (under their table keys
 * `dev|address`) — without building a key string for each lookup. A table key names one device and one
 * address (neither an address nor a MAC holds a `|`), so this answers what a map by table key answered.
 *
 * A probe learns a handful of entries (a neighbour or two per namespace it resolves in, the FDB entries
 * of the bridges it crosses): flat lists scanned in order, not a map per namespace and device — three
 * maps per entry learned were a sixth of what a sampled check allocates, and every allocation brings the
 * next scavenge of a 150,000-pod heap nearer. Past {@link LEARNED_LIST_MAX} entries (a long run, a
 * flood answered by many) the lookups go through an index by namespace, device and address, made then.
 */
export class Learned<K extends string | number, E> {
  /**
   * The entries as rows of four in one flat list: namespace, device, address, entry. One list, not one per
   * column: a run makes two of these whether it learns anything or not (most probes of a warm cluster
   * learn nothing), and each list is an allocation per send.
   */
  readonly #rows: unknown[] = [];
  #index: Map<NsId, Map<string, Map<K, number>>> | null = null;

  get size(): number {
    return this.#rows.length >> 2;
  }

  /** The position of (ns, dev, k)'s row in the list (a multiple of 4), or -1. */
  #at(ns: NsId, dev: string, k: K): number {
    if (this.#index !== null) return this.#index.get(ns)?.get(dev)?.get(k) ?? -1;
    const rows = this.#rows;
    for (let i = 0; i < rows.length; i += 4) if (rows[i + 2] === k && rows[i] === ns && rows[i + 1] === dev) return i;
    return -1;
  }

  #indexAt(i: number): void {
    const idx = this.#index!;
    const rows = this.#rows;
    const ns = rows[i] as NsId;
    let n = idx.get(ns);
    if (n === undefined) idx.set(ns, (n = new Map()));
    const dev = rows[i + 1] as string;
    let d = n.get(dev);
    if (d === undefined) n.set(dev, (d = new Map()));
    d.set(rows[i + 2] as K, i);
  }

  get(ns: NsId, dev: string, k: K): E | undefined {
    const i = this.#at(ns, dev, k);
    return i < 0 ? undefined : this.#rows[i + 3] as E;
  }

  set(ns: NsId, dev: string, k: K, e: E): void {
    const i = this.#at(ns, dev, k);
    const rows = this.#rows;
    if (i >= 0) {
      rows[i + 3] = e;
      return;
    }
    rows.push(ns, dev, k, e);
    if (this.#index !== null) this.#indexAt(rows.length - 4);
    else if (rows.length > LEARNED_LIST_MAX * 4) {
      this.#index = new Map();
      for (let j = 0; j < rows.length; j += 4) this.#indexAt(j);
    }
  }

  /** The namespaces that learned something, in the order they first did. */
  namespaces(): NsId[] {
    const out: NsId[] = [];
    this.addNamespaces(out);
    return out;
  }

  /** Adds to `out` the namespaces that learned something and are not in it yet, in the order they first did. */
  addNamespaces(out: NsId[]): void {
    const rows = this.#rows;
    for (let i = 0; i < rows.length; i += 4) if (!out.includes(rows[i] as NsId)) out.push(rows[i] as NsId);
  }

  /** Whether namespace `id` learned something. */
  has(id: NsId): boolean {
    if (this.#index !== null) return this.#index.has(id);
    const rows = this.#rows;
    for (let i = 0; i < rows.length; i += 4) if (rows[i] === id) return true;
    return false;
  }

  /** Writes what was learned in `id` into a table (keyed `dev|address`), in the order first learned. */
  commit(id: NsId, table: Record<string, E>): void {
    const rows = this.#rows;
    for (let i = 0; i < rows.length; i += 4) if (rows[i] === id) table[tableKey(rows[i + 1] as string, rows[i + 2] as K)] = rows[i + 3] as E;
  }

  /**
   * A copy of a table with what was learned in `id` written into it ({@link commit} on a copy): a key
   * already there keeps its place, a new one comes last. A send's commit gives the table this new value
   * rather than writing the entries through a draft of it.
   */
  into(id: NsId, table: Readonly<Record<string, E>>): Record<string, E> {
    const out = copyRecord(table);
    this.commit(id, out);
    return out;
  }
}

/**
 * Table keys (`dev|address`) by device and address, each string made once: a key built afresh for each entry
 * a commit writes is a new string that V8 must hash and add to its string table before it can be a property
 * key; one made before is already there. A write into a dictionary with a fresh key cost ~400 ns, with a kept
 * one ~140 ns (node micro-benchmark, 1,000 writes of 256 addresses × 4 devices, median of 40 alternated
 * rounds), and a send's commit writes every entry the packet taught. Up to {@link TABLE_KEY_MEMO_SIZE} keys,
 * then the memo starts again.
 */
const tableKeys = new Map<string, Map<string | number, string>>();
let tableKeyCount = 0;
const TABLE_KEY_MEMO_SIZE = 8192;

/** The key of a neighbour or FDB table's entry for `dev` and address `k`: `dev|k` (see {@link tableKeys}). */
function tableKey(dev: string, k: string | number): string {
  let m = tableKeys.get(dev);
  let key = m?.get(k);
  if (key === undefined) {
    if (tableKeyCount >= TABLE_KEY_MEMO_SIZE) {
      tableKeys.clear();
      tableKeyCount = 0;
      m = undefined;
    }
    if (m === undefined) tableKeys.set(dev, (m = new Map()));
    m.set(k, (key = `${dev}|${k}`));
    tableKeyCount++;
  }
  return key;
}


/** Entries a {@link Learned} keeps in flat lists before it indexes them. */
export const LEARNED_LIST_MAX = 32;

/**
 * ARP resolutions a run waits for, by namespace, device and next hop (what a map keyed
 * `ns|dev|nexthop` held, without building that string at every hop), in the order they began. A run
 * waits for a few at a time: a list scanned in order (a map per namespace and device, and a set, cost
 * more to make than the scans they saved).
 */
export class Pendings {
  readonly #list: Pending[] = [];

  get size(): number {
    return this.#list.length;
  }

  get(ns: NsId, dev: string, nexthop: Ipv4): Pending | undefined {
    const l = this.#list;
    for (let i = 0; i < l.length; i++) {
      const p = l[i]!;
      if (p.nexthop === nexthop && p.ns === ns && p.dev === dev) return p;
    }
    return undefined;
  }

  add(p: Pending): void {
    this.#list.push(p);
  }

  delete(p: Pending): void {
    const i = this.#list.indexOf(p);
    if (i >= 0) this.#list.splice(i, 1);
  }

  /** Every wait, in the order they began; none is left. */
  take(): Pending[] {
    return this.#list.splice(0, this.#list.length);
  }
}
