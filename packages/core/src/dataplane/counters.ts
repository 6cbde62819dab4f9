/**
 * Interface and rule counters: what `ip -s link` and `iptables -L -v` read. Kernel state that forwarding never
 * reads, so it lives apart from `ClusterState` (a change of counters is not a change the guarantee checks
 * must look at): a send asked for it (`SendOptions.tally`) adds what it moved into a {@link Tally}, and the
 * simulator shell folds each committed send's tally into its {@link Counters} with {@link countersAfter}.
 *
 * What counts where (measured on the seed lab in namespaces, scripts/counters-formats.sh, fixture
 * src/__fixtures__/counters-formats.txt):
 * - a veth end counts the whole Ethernet frame without FCS (a ping's 98 bytes, an ARP's 42); its rx is the
 *   peer's tx (veth_get_stats64 reads the peer's tx as its rx);
 * - a bridge device counts only what the host itself sends (tx, the whole frame) and what goes up to the host
 *   (rx, without the 14-byte Ethernet header: 84 for a 98-byte ping, 28 for an ARP request; br_pass_frame_up
 *   counts after eth_type_trans). A frame it forwards from port to port counts on the ports only;
 * - a VXLAN device counts the inner frame without its Ethernet header (84) both ways; the outer packet counts
 *   on the underlay device as a frame (148);
 * - lo counts each packet once as tx and once as rx, without the Ethernet header (84 per ping packet);
 * - drops at the IP layer (TTL, a DROP rule, no route) count on no device; a frame a veth end refuses (larger
 *   than its MTU) counts as rx dropped there and tx dropped on its peer (__dev_forward_skb, veth_xmit).
 */
import type { NfRule, NsId } from '../model/types.js';
import type { Ipv4Packet } from '../wire/packet.js';
import { shardOf } from '../util/shards.js';

/** One device's counters, as `ip -s link` prints them (errors and the rest are always 0 in podnet). */
export interface DevCounters {
  /** The device's ifindex when these were counted: a device deleted and made again is a new netdev, from zero. */
  readonly ifindex: number;
  readonly rxPackets: number;
  readonly rxBytes: number;
  readonly rxDropped: number;
  readonly txPackets: number;
  readonly txBytes: number;
  readonly txDropped: number;
}

/** Packets and bytes of an iptables rule or of a built-in chain's policy. */
export interface PacketsBytes {
  readonly packets: number;
  readonly bytes: number;
}

/** One namespace's counters. */
export interface NsCounters {
  /** By device name (see {@link DevCounters.ifindex}). */
  readonly devs: ReadonlyMap<string, DevCounters>;
  /** By rule: the rule record in `NetNs.rules` (a rule deleted and added again is a new rule, from zero, as in the kernel). */
  readonly rules: ReadonlyMap<NfRule, PacketsBytes>;
  /** Built-in chains' policy counters, by `TABLE CHAIN` (`filter FORWARD`). */
  readonly policies: ReadonlyMap<string, PacketsBytes>;
}

const FANOUT = 128;
type Leaf = ReadonlyMap<NsId, NsCounters>;
type Top = readonly (Leaf | null)[];

/**
 * Every namespace's counters, by namespace id; a namespace that counted nothing is absent. A persistent map
 * split two levels deep by the id's hash (128 × 128 small maps), so that a send that counts in a few
 * namespaces copies a few small maps and two 128-slot arrays, not an entry per namespace that ever counted.
 */
export class Counters {
  readonly #tops: readonly (Top | null)[];
  /** How many namespaces have counters. */
  readonly size: number;

  constructor(tops: readonly (Top | null)[] = [], size = 0) {
    this.#tops = tops;
    this.size = size;
  }

  /** A namespace's counters, or undefined when it counted nothing. */
  get(id: NsId): NsCounters | undefined {
    const i = shardOf(id);
    return this.#tops[i >>> 7]?.[i & (FANOUT - 1)]?.get(id);
  }

  /** These counters with `id`'s set to `value` (or removed, `value` undefined): the path to it copied, the rest shared. */
  with(id: NsId, value: NsCounters | undefined): Counters {
    const i = shardOf(id);
    const t = i >>> 7;
    const j = i & (FANOUT - 1);
    const top = this.#tops[t] ?? null;
    const leaf = top?.[j] ?? null;
    const had = leaf?.has(id) === true;
    if (value === undefined && !had) return this;
    const nextLeaf = new Map(leaf ?? []);
    if (value === undefined) nextLeaf.delete(id);
    else nextLeaf.set(id, value);
    const nextTop: (Leaf | null)[] = top === null ? new Array<Leaf | null>(FANOUT).fill(null) : top.slice();
    nextTop[j] = nextLeaf.size === 0 ? null : nextLeaf;
    const tops: (Top | null)[] = this.#tops.length === 0 ? new Array<Top | null>(FANOUT).fill(null) : this.#tops.slice();
    tops[t] = nextTop;
    return new Counters(tops, this.size + (value === undefined ? -1 : had ? 0 : 1));
  }

  /** The namespaces and their counters (by hash order). */
  *entries(): IterableIterator<[NsId, NsCounters]> {
    for (const top of this.#tops) if (top) for (const leaf of top) if (leaf) yield* leaf;
  }

  /** The namespaces that have counters. */
  *keys(): IterableIterator<NsId> {
    for (const [k] of this.entries()) yield k;
  }
}

/** Counters of a simulator before any traffic. */
export const NO_COUNTERS: Counters = new Counters();

/** A device that counted nothing. */
export const ZERO_DEV: DevCounters = Object.freeze({ ifindex: 0, rxPackets: 0, rxBytes: 0, rxDropped: 0, txPackets: 0, txBytes: 0, txDropped: 0 });

/** A rule or policy that counted nothing. */
export const ZERO_PB: PacketsBytes = Object.freeze({ packets: 0, bytes: 0 });

/** What a tally adds up for a device: {@link DevCounters} being counted. */
type DevDelta = { -readonly [K in keyof DevCounters]: DevCounters[K] };

/** What a tally adds up for a rule or a policy: {@link PacketsBytes} being counted. */
type PbDelta = { -readonly [K in keyof PacketsBytes]: PacketsBytes[K] };

/**
 * What one send (or a ping's, a traceroute's sends) moved: filled by the engine, read by {@link countersAfter}.
 * Make one with `new Tally()` and pass it as `SendOptions.tally`.
 */
export class Tally {
  /** Device deltas by namespace, then device name. */
  readonly devs = new Map<NsId, Map<string, { -readonly [K in keyof DevCounters]: DevCounters[K] }>>();
  /** Rule deltas by namespace, then rule record; policies by `TABLE CHAIN`. */
  readonly rules = new Map<NsId, Map<NfRule | string, { -readonly [K in keyof PacketsBytes]: PacketsBytes[K] }>>();
  /**
   * Connections started in the sends of this tally, by namespace and tuple: a ping's later requests belong to
   * the connection its first one started (same identifier), and the nat table sees only that first one
   * (measured: `ping -c 2` counted 1 packet in nat POSTROUTING).
   */
  readonly flows: { readonly ns: NsId; readonly pkt: Ipv4Packet }[] = [];
  /** The last namespace counted and its maps (the hops of a packet come in runs in one namespace). */
  #devNs: NsId | null = null;
  #devMap: Map<string, DevDelta> | null = null;
  #ruleNs: NsId | null = null;
  #ruleMap: Map<NfRule | string, PbDelta> | null = null;

  #dev(ns: NsId, dev: string, ifindex: number): DevDelta {
    let m = ns === this.#devNs ? this.#devMap! : this.devs.get(ns);
    if (m === undefined) this.devs.set(ns, (m = new Map()));
    this.#devNs = ns;
    this.#devMap = m;
    let d = m.get(dev);
    if (d === undefined || d.ifindex !== ifindex) m.set(dev, (d = { ifindex, rxPackets: 0, rxBytes: 0, rxDropped: 0, txPackets: 0, txBytes: 0, txDropped: 0 }));
    return d;
  }

  #devOf(ns: NsId, link: { readonly name: string; readonly ifindex: number }): DevDelta {
    return this.#dev(ns, link.name, link.ifindex);
  }

  /** {@link Tally.tx} of a device record: the engine's hot path, one lookup by identity. */
  txOn(ns: NsId, link: { readonly name: string; readonly ifindex: number }, bytes: number): void {
    const d = this.#devOf(ns, link);
    d.txPackets++;
    d.txBytes += bytes;
  }

  /** {@link Tally.rx} of a device record. */
  rxOn(ns: NsId, link: { readonly name: string; readonly ifindex: number }, bytes: number): void {
    const d = this.#devOf(ns, link);
    d.rxPackets++;
    d.rxBytes += bytes;
  }

  /** {@link Tally.dropped} of a device record. */
  droppedOn(ns: NsId, link: { readonly name: string; readonly ifindex: number }, dir: 'rx' | 'tx'): void {
    const d = this.#devOf(ns, link);
    if (dir === 'rx') d.rxDropped++;
    else d.txDropped++;
  }

  /** A frame of `bytes` received on `dev`. */
  rx(ns: NsId, dev: string, ifindex: number, bytes: number): void {
    const d = this.#dev(ns, dev, ifindex);
    d.rxPackets++;
    d.rxBytes += bytes;
  }

  /** A frame of `bytes` sent on `dev`. */
  tx(ns: NsId, dev: string, ifindex: number, bytes: number): void {
    const d = this.#dev(ns, dev, ifindex);
    d.txPackets++;
    d.txBytes += bytes;
  }

  /** A frame dropped by `dev` as it arrived (`rx`) or as it was sent (`tx`). */
  dropped(ns: NsId, dev: string, ifindex: number, dir: 'rx' | 'tx'): void {
    const d = this.#dev(ns, dev, ifindex);
    if (dir === 'rx') d.rxDropped++;
    else d.txDropped++;
  }

  /** A packet of `bytes` (IP length) matched `rule`, or met the policy `TABLE CHAIN`. */
  hit(ns: NsId, rule: NfRule | string, bytes: number): void {
    let m = ns === this.#ruleNs ? this.#ruleMap! : this.rules.get(ns);
    if (m === undefined) this.rules.set(ns, (m = new Map()));
    this.#ruleNs = ns;
    this.#ruleMap = m;
    const d = m.get(rule);
    if (d === undefined) m.set(rule, { packets: 1, bytes });
    else {
      d.packets++;
      d.bytes += bytes;
    }
  }

  /** Whether nothing was counted. */
  get empty(): boolean {
    return this.devs.size === 0 && this.rules.size === 0;
  }
}

const EMPTY_NS: NsCounters = Object.freeze({ devs: new Map(), rules: new Map(), policies: new Map() });

/**
 * The counters after a tally: each device's, rule's and policy's sums. Pure: `counters` is left as it was (a
 * history entry of the simulator keeps it). A device counted with another ifindex than the one kept (deleted
 * and made again since) starts from the tally's numbers.
 *
 * @example
 * const t = new Tally();
 * t.tx('pod/default/pod-a', 'eth0', 2, 98);
 * countersAfter(NO_COUNTERS, t).get('pod/default/pod-a')?.devs.get('eth0')?.txBytes; // 98
 */
export function countersAfter(counters: Counters, tally: Tally): Counters {
  if (!(tally instanceof Tally)) throw new TypeError('countersAfter needs a Tally');
  if (tally.empty) return counters;
  let next = counters;
  const ids = new Set<NsId>([...tally.devs.keys(), ...tally.rules.keys()]);
  for (const id of ids) {
    const cur = counters.get(id) ?? EMPTY_NS;
    let devs = cur.devs;
    const dd = tally.devs.get(id);
    if (dd !== undefined) {
      const m = new Map(devs);
      for (const [name, d] of dd) {
        const was = m.get(name);
        const base = was !== undefined && was.ifindex === d.ifindex ? was : ZERO_DEV;
        m.set(name, {
          ifindex: d.ifindex,
          rxPackets: base.rxPackets + d.rxPackets, rxBytes: base.rxBytes + d.rxBytes, rxDropped: base.rxDropped + d.rxDropped,
          txPackets: base.txPackets + d.txPackets, txBytes: base.txBytes + d.txBytes, txDropped: base.txDropped + d.txDropped,
        });
      }
      devs = m;
    }
    let rules = cur.rules;
    let policies = cur.policies;
    const rd = tally.rules.get(id);
    if (rd !== undefined) {
      let rm: Map<NfRule, PacketsBytes> | null = null;
      let pm: Map<string, PacketsBytes> | null = null;
      for (const [k, d] of rd) {
        if (typeof k === 'string') {
          pm ??= new Map(policies);
          const b = pm.get(k) ?? ZERO_PB;
          pm.set(k, { packets: b.packets + d.packets, bytes: b.bytes + d.bytes });
        } else {
          rm ??= new Map(rules);
          const b = rm.get(k) ?? ZERO_PB;
          rm.set(k, { packets: b.packets + d.packets, bytes: b.bytes + d.bytes });
        }
      }
      if (rm !== null) rules = rm;
      if (pm !== null) policies = pm;
    }
    next = next.with(id, { devs, rules, policies });
  }
  return next;
}

/**
 * The counters with a namespace's rule counters of `table` zeroed, as `iptables [-t TABLE] -Z [CHAIN]` does: every
 * chain of the table, or only `chain` (its rules, and its policy when it is a built-in chain).
 */
export function countersZeroed(counters: Counters, ns: NsId, table: 'filter' | 'nat', chain: string | null): Counters {
  const cur = counters.get(ns);
  if (cur === undefined) return counters;
  const rules = new Map([...cur.rules].filter(([r]) => !(r.table === table && (chain === null || r.chain === chain))));
  const policies = new Map([...cur.policies].filter(([k]) => !(k.startsWith(`${table} `) && (chain === null || k === `${table} ${chain}`))));
  return counters.with(ns, { devs: cur.devs, rules, policies });
}

/**
 * The counters without what no longer exists: namespaces gone, devices gone or made again (another ifindex),
 * rules deleted. `alive(ns)` answers a namespace's links and rules, null when it is gone, true when it is known
 * unchanged (nothing to drop). Kept small this way,
 * and a pod deleted and made again under the same name starts from zero, as the kernel's new namespace does.
 */
export function countersPruned(counters: Counters, alive: (ns: NsId) => { readonly links: Readonly<Record<string, { readonly ifindex: number }>>; readonly rules: readonly NfRule[] } | null | true): Counters {
  if (counters.size === 0) return counters;
  let next = counters;
  for (const [id, c] of counters.entries()) {
    const ns = alive(id);
    if (ns === true) continue;
    if (ns === null) {
      next = next.with(id, undefined);
      continue;
    }
    let devs = c.devs;
    for (const [name, d] of c.devs) {
      if (ns.links[name]?.ifindex !== d.ifindex) {
        if (devs === c.devs) devs = new Map(c.devs);
        (devs as Map<string, DevCounters>).delete(name);
      }
    }
    let rules = c.rules;
    if (c.rules.size > 0) {
      const present = new Set(ns.rules);
      for (const r of c.rules.keys()) {
        if (!present.has(r)) {
          if (rules === c.rules) rules = new Map(c.rules);
          (rules as Map<NfRule, PacketsBytes>).delete(r);
        }
      }
    }
    if (devs !== c.devs || rules !== c.rules) next = next.with(id, { devs, rules, policies: c.policies });
  }
  return next;
}

/** A device's counters in a namespace's (zero when it counted nothing, or was counted as another netdev since made again). */
export function devCountersOf(ns: NsCounters | undefined, link: { readonly name: string; readonly ifindex: number }): DevCounters {
  const d = ns?.devs.get(link.name);
  return d !== undefined && d.ifindex === link.ifindex ? d : ZERO_DEV;
}

/** A rule's counters in a namespace's (zero when it matched nothing). */
export function ruleCountersOf(ns: NsCounters | undefined, rule: NfRule): PacketsBytes {
  return ns?.rules.get(rule) ?? ZERO_PB;
}

/** A built-in chain's policy counters in a namespace's: `table` and `chain` as `iptables -t TABLE -L CHAIN` names them. */
export function policyCountersOf(ns: NsCounters | undefined, table: string, chain: string): PacketsBytes {
  return ns?.policies.get(`${table} ${chain}`) ?? ZERO_PB;
}
