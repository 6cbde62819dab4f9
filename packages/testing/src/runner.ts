/**
 * Plays cluster events on a simulator and judges them, at one of two levels (see {@link CheckLevel}):
 * after a change, the simulator's verdict; after a packet, the checks made at every hop and the MTU the
 * design promised the sender. A broken promise is thrown as a {@link DesignFailure}.
 */
import {
  createSimulator, endpointNs, findPod, formatIpv4, icmpEcho, isPodnetError, judgeDelivery, lookupRouteIn, send as sendPacket, shardValues, tcpSyn, udpPacket, withShortLivedStates,
  type CniDesign, type Ipv4Packet, type Node, type Pod, type Simulator, type Trace, type Violation,
} from '@podnet/core';
import type { ClusterEvent, ClusterShape, EndpointRef, Fault } from './events.js';
import { explainTrace } from './why.js';

/** What a failure is about: one of the three guarantees, or the MTU a pod was given. */
export type FailureKind = Violation['guarantee'] | 'mtu';

/** A design broke a promise: which, in words, and the packet that showed it. */
export class DesignFailure extends Error {
  override readonly name = 'DesignFailure';
  constructor(
    readonly kind: FailureKind,
    readonly explanation: string,
    /** The events played so far, described with the names they resolved to, the failing one last. */
    readonly events: readonly string[],
    readonly trace: Trace | null,
    readonly violation: Violation | null,
    /**
     * Found by the full audit that ends a sequence at the `at-end` level (and located by playing the
     * sequence again with `every-change` checks: `events` stop at the event after which it first shows).
     */
    readonly atEnd = false,
    /**
     * What the trace leaves unsaid, one line each: an ARP request nobody answered, where it went and why
     * each namespace that got it kept quiet (no such address, proxy_arp off). Empty when nothing is to add.
     */
    readonly why: readonly string[] = [],
  ) {
    super(`${kind}: ${explanation}${atEnd ? ' (found by the full audit at the end of the sequence)' : ''}`);
  }
}

/**
 * A design (or the simulator refusing what it asked for) threw while an event played: not a broken promise
 * but a crash, e.g. `INVALID_GATEWAY` for a route via an address on no connected subnet. It carries the
 * events played so far, the one that threw last (marked `→ threw`), so a counterexample shows what led to it.
 */
export class DesignThrew extends Error {
  override readonly name = 'DesignThrew';
  constructor(
    /** The events played so far, described with the names they resolved to; the one that threw last. */
    readonly events: readonly string[],
    /** What was thrown. */
    override readonly cause: unknown,
  ) {
    super(`${events.at(-1) ?? 'an event'}: ${describeThrown(cause)}`);
  }
}

/**
 * What was thrown, in words: a PodnetError with its code and hint (`INVALID_GATEWAY: Error: Nexthop has
 * invalid gateway (…)` and how to fix it), any other error with its name and the first frame of its stack (a
 * bug in the design's own code: where it is).
 */
export function describeThrown(e: unknown): string {
  if (isPodnetError(e)) return `${e.code}: ${e.message}${e.hint ? `\nhint: ${e.hint}` : ''}`;
  if (e instanceof Error) {
    const frame = e.stack?.split('\n').find((l) => l.trimStart().startsWith('at '))?.trim();
    return `${e.name}: ${e.message}${frame ? ` (${frame})` : ''}`;
  }
  return String(e);
}

/**
 * How much a run checks, and when.
 *
 * At both levels every packet the sequence sends is judged: its hop checks (no NAT, unique owner at
 * delivery), the MTU promised to a pod, and — from a pod to a pod, or from a node to its own pod — that it
 * arrived and its answer came back, whatever its protocol.
 *
 * - `every-change` (default): after every change (a node or pod added or removed, a fault, what a packet
 *   taught ARP and FDB tables), the simulator's exact incremental verdict — the three guarantees over
 *   every pair, the same verdict as a full audit — so a violation is caught at the event that caused it,
 *   even if a later event would hide it again.
 * - `at-end`: after every change, the `unique-ip` guarantee alone (exact, no probe); the packets of the
 *   sequence are the only probes between changes; then {@link ClusterRun.finish} audits the final state
 *   in full (every pair). It misses a reachability or no-NAT violation that exists only between two
 *   events and that a later event of the same sequence removes (a broken pod deleted, a route put back)
 *   unless a packet of the sequence crossed it; fast-check usually finds it anyway in a shorter sequence
 *   that stops while it is broken, but not always.
 */
export type CheckLevel = 'every-change' | 'at-end';

/** Options of a {@link ClusterRun}. */
export interface RunOptions {
  /** Nodes at most (addNode events beyond are skipped). Default 6. */
  readonly maxNodes?: number;
  /** What is checked when: `every-change` (default) or `at-end` (see {@link CheckLevel}). */
  readonly checks?: CheckLevel;
}

/** One simulated cluster going through events (the "real system" of fast-check's model-based tests). */
export class ClusterRun {
  /**
   * The simulator the events play on. It keeps no undo history (`undoLimit: 0`): a run only goes forward; and
   * counts nothing on devices and rules (`counters: false`): no property reads them.
   */
  readonly sim: Simulator;
  readonly log: string[] = [];
  readonly maxNodes: number;
  readonly checks: CheckLevel;
  #nextNode = 1;
  #nextPod = 1;

  constructor(readonly design: CniDesign, readonly shape: ClusterShape, options: RunOptions = {}) {
    this.maxNodes = options.maxNodes ?? 6;
    this.checks = options.checks ?? 'every-change';
    if (this.checks !== 'every-change' && this.checks !== 'at-end') throw new RangeError(`checks must be every-change or at-end, not ${String(options.checks)}`);
    // No undo: a run only goes forward (finish() plays the events again on a fresh run). Kept for undo,
    // every state of the run stayed alive until its end; dropped, each dies young.
    // The run's settings first, then the shape's (a ClusterShape holds none of theirs): a spread that then gains
    // keys the shape lacks takes V8's slow path, ~10 µs per run on Node 20 (0.3–0.5 % of an at-end run).
    // A run's states die young: its events and its final audit run with core's memo tables kept young
    // (withShortLivedStates), which spares the collector what a long-lived memo table kept of them.
    this.sim = withShortLivedStates(() => createSimulator({ cni: design, onViolation: 'record', checks: this.checks === 'every-change' ? 'incremental' : 'unique-ip', undoLimit: 0, counters: false, ...shape }));
  }

  /**
   * Ends the sequence: at the `at-end` level, a full audit of the final state (every address, every node
   * to its pods, every ordered pod pair). When it finds a violation, the sequence is played again on a
   * fresh cluster with `every-change` checks, which stops at the first event after which a guarantee is
   * broken: the {@link DesignFailure} thrown names that event last (fast-check's shrinking always keeps a
   * sequence's last event, so without this a counterexample could end with events that did nothing). At
   * `every-change` the verdict is already known after each event and there is nothing left to do. Call it
   * after `fc.modelRun` (checkDesign does).
   */
  finish(): void {
    if (this.checks === 'every-change') return;
    const v = withShortLivedStates(() => this.sim.check()).violations[0];
    if (!v) return;
    const exact = new ClusterRun(this.design, this.shape, { maxNodes: this.maxNodes });
    try {
      for (const e of this.#played) if (exact.canPlay(e)) exact.play(e);
    } catch (err) {
      if (!(err instanceof DesignFailure)) throw err;
      throw new DesignFailure(err.kind, err.explanation, err.events, err.trace, err.violation, true, err.why);
    }
    // The exact checks after the last event give the audit's verdict (incrementalCheck ≡ audit): not reached
    // unless that equivalence breaks, and then the audit's verdict stands.
    throw new DesignFailure(v.guarantee, v.explanation, [...this.log], v.trace ?? null, v, true, v.trace ? explainTrace(this.sim.state, v.trace) : []);
  }

  /** The events played so far, as given (to play them again). */
  readonly #played: ClusterEvent[] = [];

  /**
   * The lists events pick from, made once per state: several are asked for per event (can it play, which
   * node, which pod), and a state never changes. The pods only when an event asks for them (see {@link View}).
   */
  #view(): View {
    const state = this.sim.state;
    if (this.#viewOf === state && this.#viewCache) return this.#viewCache;
    // Sorted by creation time, then by the number in the name, ties by name: the order the simulator lists them in.
    const nodes: Node[] = [];
    for (const n of shardValues(state.nodes)) nodes.push(n);
    sortByNumber(nodes, createdAt, nameBefore);
    this.#viewOf = state;
    return (this.#viewCache = new View(nodes, state.waiting));
  }

  #viewOf: unknown = null;
  #viewCache: View | null = null;

  /** Live node names, in order of creation. */
  nodes(): string[] {
    return this.#view().nodes.map((n) => n.name);
  }

  /** Pod names (all, waiting ones included), in order of creation. */
  pods(): string[] {
    return this.#view().pods.map((p) => p.name);
  }

  /** Whether the event can be played now (what fast-check's `Command.check` asks). */
  canPlay(e: ClusterEvent): boolean {
    switch (e.type) {
      case 'addNode': return this.#view().nodes.length < this.maxNodes;
      case 'removeNode': return this.#view().nodes.length > 0;
      case 'addPod': return true;
      case 'deletePod': case 'reschedulePod': return this.#view().pods.length > 0;
      case 'send': return this.#has(e.from) && this.#has(e.to);
      case 'fault': return this.#view().nodes.length > 0;
    }
  }

  /** Plays one event, then judges it; returns how it read (`addPod pod-3 → node-2`). */
  play(e: ClusterEvent): string {
    this.#played.push(e);
    let text: string;
    try {
      text = withShortLivedStates(() => this.#apply(e));
    } catch (err) {
      // A broken promise with a packet: add what the trace leaves unsaid, read from the state it failed in.
      if (err instanceof DesignFailure && err.trace && err.why.length === 0) {
        const why = explainTrace(this.sim.state, err.trace);
        if (why.length > 0) throw new DesignFailure(err.kind, err.explanation, err.events, err.trace, err.violation, err.atEnd, why);
      }
      if (err instanceof DesignFailure || err instanceof DesignThrew) throw err;
      // The failing event was never logged: name it from what it was about to do.
      throw new DesignThrew([...this.log, `${this.#doing} → threw`], err);
    }
    this.log.push(text);
    const v = this.sim.violations[0];
    if (v) throw new DesignFailure(v.guarantee, v.explanation, [...this.log], v.trace ?? null, v, false, v.trace ? explainTrace(this.sim.state, v.trace) : []);
    return text;
  }

  /**
   * What the event being played was about to do, set by {@link #apply} before it changes anything (`addNode
   * node-3 (rack-a)`): how a {@link DesignThrew} names the event that threw part way.
   */
  #doing = '';

  #apply(e: ClusterEvent): string {
    const nodes = this.#view().nodes;
    const at = <T>(list: readonly T[], i: number): T => list[i % list.length]!;
    switch (e.type) {
      case 'addNode': {
        const segs = this.shape.underlay.segments;
        const segment = at(segs, e.segment).name;
        const name = `node-${this.#nextNode++}`;
        const waiting = this.sim.state.waiting;
        this.#doing = `addNode ${name} (${segment})`;
        this.sim.addNode({ name, segment });
        return `${this.#doing}${this.#placedSince(waiting)}`;
      }
      case 'removeNode': {
        const name = at(nodes, e.node).name;
        const waiting = this.sim.state.waiting;
        this.#doing = `removeNode ${name}`;
        this.sim.removeNode(name);
        return `${this.#doing}${this.#placedSince(waiting)}`;
      }
      case 'addPod': {
        const name = `pod-${this.#nextPod++}`;
        const node = e.node === null || nodes.length === 0 ? undefined : at(nodes, e.node).name;
        this.#doing = `addPod ${name}${node ? ` on ${node}` : ''}`;
        const p = this.sim.addPod(node === undefined ? { name } : { name, node });
        return `${this.#doing} → ${describePod(p)}`;
      }
      case 'deletePod': {
        const name = at(this.#view().pods, e.pod).name;
        const waiting = this.sim.state.waiting;
        this.#doing = `deletePod ${name}`;
        this.sim.deletePod(name);
        return `${this.#doing}${this.#placedSince(waiting)}`;
      }
      case 'reschedulePod': {
        const old = at(this.#view().pods, e.pod).name;
        const name = `pod-${this.#nextPod++}`;
        this.#doing = `reschedulePod ${old} as ${name}`;
        this.sim.deletePod(old);
        const p = this.sim.addPod({ name });
        return `${this.#doing} → ${describePod(p)}`;
      }
      case 'send':
        this.#doing = `send ${e.protocol}${e.size === 'mtu' ? ' (full size, DF)' : ''} ${e.from.kind} #${e.from.index} → ${e.to.kind} #${e.to.index}`;
        return this.#send(e);
      case 'fault':
        this.#doing = `fault ${e.fault.kind} on ${nodes.length === 0 ? '?' : at(nodes, e.fault.node).name}`;
        return this.#fault(e.fault, nodes);
    }
  }

  /**
   * The pods that were waiting before a change and run now (`; pod-1 scheduled → node-1 10.0.0.2`): a node
   * joining or room freed places them in the same change, and a counterexample whose pod was added while
   * it waited would otherwise never say where that pod went and with which address.
   */
  #placedSince(waiting: Readonly<Record<string, Pod>>): string {
    let out = '';
    for (const key in waiting) {
      if (this.sim.state.waiting[key] !== undefined) continue;
      const p = findPod(this.sim.state, key);
      if (p?.node != null) out += `; ${p.name} scheduled → ${describePod(p)}`;
    }
    return out;
  }

  /** Whether {@link #endpoint} has one to pick (without building it). */
  #has(ref: EndpointRef): boolean {
    return ref.kind === 'pod' ? this.#view().running.length > 0 : ref.kind === 'node' ? this.#view().nodes.length > 0 : true;
  }

  /** The endpoint's name (pod or node) and address, or null when there is none to pick. */
  #endpoint(ref: EndpointRef): Endpoint | null {
    if (ref.kind === 'pod') {
      const running = this.#view().running;
      if (running.length === 0) return null;
      const p = running[ref.index % running.length]!;
      return { name: p.name, ip: p.ip!, mtu: p.netns?.links['eth0']?.mtu ?? 1500, pod: p };
    }
    if (ref.kind === 'node') {
      const nodes = this.#view().nodes;
      if (nodes.length === 0) return null;
      const n = nodes[ref.index % nodes.length]!;
      return { name: n.name, ip: n.ip, mtu: n.host.links['eth0']?.mtu ?? 1500, pod: null };
    }
    const segs = Object.values(this.sim.state.underlay.segments);
    const s = segs[ref.index % segs.length]!;
    return { name: null, ip: s.gateway, mtu: s.mtu, pod: null };
  }

  #send(e: Extract<ClusterEvent, { type: 'send' }>): string {
    const from = this.#endpoint(e.from);
    let to = this.#endpoint(e.to);
    // A packet to itself teaches little: the same index on the same kind means the next one along.
    if (to && from && e.to.kind === e.from.kind && to.ip === from.ip) to = this.#endpoint({ ...e.to, index: e.to.index + 1 });
    if (!from || !to || from.name === null) return `send skipped (no endpoint)`;
    const big = e.size === 'mtu' && e.protocol !== 'tcp';
    const dst = to.ip;
    // The MTU the sender was given for this destination: its device's, or the route's (`mtu 1450` on the
    // route, as cilium installs it), whichever is smaller — what its stack sizes packets by. Only a
    // full-size packet reads it (its size, the text, the MTU promise).
    if (big && from.pod?.netns) {
      const route = lookupRouteIn(this.sim.state, from.pod.netns, dst);
      if (route?.mtu != null && route.mtu < from.mtu) from.mtu = route.mtu;
    }
    const packet: Ipv4Packet = e.protocol === 'icmp'
      ? icmpEcho(dst, big ? { size: from.mtu - 28 } : {})
      : e.protocol === 'udp' ? udpPacket(dst, 33434, big ? { size: from.mtu - 28, df: true } : {}) : tcpSyn(dst, 8080);
    // Sent unrecorded (the same fates, verdict and state, without steps); a failure is reported with the
    // trace of the same send replayed recorded on the state it left from.
    const before = this.sim.state;
    const sender = from.name;
    // A TCP SYN comes from a client's connected socket, which takes the SYN/ACK of a port that listens.
    const socket = packet.payload.kind === 'tcp';
    const trace = this.sim.send(sender, packet, { record: false, socket });
    const recorded = (): Trace => sendPacket(before, endpointNs(before, sender), packet, { commit: false, socket }).trace;
    const text = `send ${e.protocol}${big ? ` ${from.mtu} bytes DF` : ''} ${from.name} → ${to.name ?? 'outside'} (${formatIpv4(dst)}): ${trace.disposition}`;
    this.log.push(text);
    const hv = trace.violations[0];
    if (hv) {
      const full = recorded();
      const rv = full.violations[0] ?? hv;
      throw new DesignFailure(rv.guarantee, rv.explanation, [...this.log], full, null);
    }
    if (big && from.pod && to.pod && trace.disposition === 'fragmentationNeeded') {
      const full = recorded();
      throw new DesignFailure('mtu', `${from.name} was given MTU ${from.mtu}, but a ${from.mtu}-byte packet with DF set to ${to.name} (${formatIpv4(dst)}) did not get through: ${whereDropped(full)}`, [...this.log], full, null);
    }
    // A packet from a pod to a pod, or from a node to its own pod, must arrive and be answered, whatever its
    // protocol (the probes are ICMP echoes only). At the `at-end` level these packets are the only probes
    // between changes. A full-size packet too large for the path is the MTU promise's business, judged
    // above between pods: a node's own MTU promises nothing.
    if (to.pod && !(big && trace.disposition === 'fragmentationNeeded')) {
      // The pods as the view listed them before the send: a packet moves no pod.
      const fromKey = from.pod ? from.pod.key : from.name;
      const toKey = to.pod.key;
      if (judgeDelivery(this.sim.state, fromKey, toKey, trace)) {
        const full = recorded();
        const v = judgeDelivery(this.sim.state, fromKey, toKey, full)!;
        throw new DesignFailure(v.guarantee, v.explanation, [...this.log], full, v);
      }
    }
    this.log.pop();
    return text;
  }

  #fault(f: Fault, nodes: readonly Node[]): string {
    const node = nodes[f.node % nodes.length]!;
    const ns = `node/${node.name}`;
    try {
      if (f.kind === 'routeDel') {
        const routes = node.host.routes.filter((r) => r.dst.len > 0);
        if (routes.length === 0) return `fault skipped (${node.name} has no route to delete)`;
        const r = routes[f.route % routes.length]!;
        const dst = `${formatIpv4(r.dst.addr)}/${r.dst.len}`;
        this.sim.apply({ op: 'route.del', ns, dst, ...(r.dev ? { dev: r.dev } : {}) });
        return `fault: ip route del ${dst} on ${node.name}`;
      }
      const links = Object.keys(node.host.links).filter((l) => l !== 'lo').sort();
      const link = links[f.link % links.length]!;
      if (f.kind === 'linkDown') {
        this.sim.apply({ op: 'link.set', ns, name: link, up: false });
        return `fault: ip link set ${link} down on ${node.name}`;
      }
      this.sim.apply({ op: 'link.set', ns, name: link, mtu: f.mtu });
      return `fault: ip link set ${link} mtu ${f.mtu} on ${node.name}`;
    } catch (err) {
      // The kernel refusing the fault (e.g. an MTU a device cannot take) is not a design failure.
      if (isPodnetError(err)) return `fault refused on ${node.name}: ${err.message}`;
      throw err;
    }
  }
}

/**
 * What events pick from in one state: its nodes and pods (waiting ones included) in order of creation, and the
 * running pods a packet can go to or from. The state's own objects, not their names: the name lists were ~17 MB
 * per 1,000 at-end runs (heap sampling), and a node picked is the node `sim.node(name)` looked up again.
 *
 * The pods are gathered and sorted when first asked for: of a property run's events only a pod's deletion or
 * rescheduling and a packet read them, and a node joining, a node leaving or a pod added (most events) made a
 * new state whose pods were listed for nothing.
 */
class View {
  readonly #waiting: Readonly<Record<string, Pod>>;
  #pods: readonly Pod[] | null = null;
  #running: readonly Pod[] | null = null;

  constructor(readonly nodes: readonly Node[], waiting: Readonly<Record<string, Pod>>) {
    this.#waiting = waiting;
  }

  /** Every pod, waiting ones included, by the number in its name (the order of creation: the run names them), ties by key. */
  get pods(): readonly Pod[] {
    if (this.#pods !== null) return this.#pods;
    const pods: Pod[] = [];
    // Object.keys, not for…in: a node's pods and the waiting pods are dictionaries, which for…in enumerates
    // with a lookup per key (there is no enum cache for a dictionary).
    for (let i = 0; i < this.nodes.length; i++) {
      const placed = this.nodes[i]!.pods;
      const keys = Object.keys(placed);
      for (let j = 0; j < keys.length; j++) pods.push(placed[keys[j]!]!);
    }
    const waiting = this.#waiting;
    const keys = Object.keys(waiting);
    for (let j = 0; j < keys.length; j++) pods.push(waiting[keys[j]!]!);
    sortByNumber(pods, null, keyBefore);
    return (this.#pods = pods);
  }

  /** The running pods that have an address of their own (not the node's), in the order of {@link pods}. */
  get running(): readonly Pod[] {
    if (this.#running !== null) return this.#running;
    const running: Pod[] = [];
    for (const p of this.pods) if (p.status.phase === 'Running' && p.ip !== null && !p.hostNetwork) running.push(p);
    return (this.#running = running);
  }
}

/** One end of a packet the run sends: its name (null outside the cluster), address, MTU, and pod. */
interface Endpoint {
  readonly name: string | null;
  readonly ip: number;
  mtu: number;
  /** The pod (as the view of the state the packet leaves from lists it), null for a node or outside. */
  readonly pod: Pod | null;
}

/** The number a name ends with (`pod-12` → 12), or 0. */
function num(name: string): number {
  const end = name.length;
  let i = end;
  while (i > 0 && name.charCodeAt(i - 1) >= 48 && name.charCodeAt(i - 1) <= 57) i--;
  if (i === end) return 0;
  // Up to 15 digits the number is read digit by digit (exact below 2^53, as Number() reads them): no substring made.
  if (end - i > 15) return Number(name.slice(i));
  let n = 0;
  for (let j = i; j < end; j++) n = n * 10 + (name.charCodeAt(j) - 48);
  return n;
}

const keyBefore = (a: Pod, b: Pod): boolean => a.key < b.key;
const createdAt = (n: Node): number => n.created;
const nameBefore = (a: Node, b: Node): boolean => a.name < b.name;

/**
 * Sorts `list` in place by `first`, then by the number its names end with, then by `before` (a total order).
 *
 * A run's view of each new state sorted its nodes and pods through a keyed copy: with the sort's own work
 * array, ~6 % of the bytes a steady-state at-end property run allocates (heap sampling). Two common cases need
 * no sort: a list already in order (the nodes, which the state lists as they joined), and names whose numbers
 * are distinct (a run names its pods `pod-1`, `pod-2`, …, never twice) when `first` is the same for all,
 * placed each at its number's slot.
 */
function sortByNumber<T extends { readonly name: string }>(list: T[], first: ((x: T) => number) | null, before: (x: T, y: T) => boolean): void {
  if (inOrder(list, first, before)) return;
  if (first === null && bySlot(list)) return;
  const keyed = list.map((x) => ({ x, a: first === null ? 0 : first(x), b: num(x.name) }));
  keyed.sort((p, q) => p.a - q.a || p.b - q.b || (before(p.x, q.x) ? -1 : before(q.x, p.x) ? 1 : 0));
  for (let i = 0; i < keyed.length; i++) list[i] = keyed[i]!.x;
}

/** Whether {@link sortByNumber} would leave `list` as it is (no two entries out of order). */
function inOrder<T extends { readonly name: string }>(list: readonly T[], first: ((x: T) => number) | null, before: (x: T, y: T) => boolean): boolean {
  for (let i = 1; i < list.length; i++) {
    const p = list[i - 1]!;
    const q = list[i]!;
    const d = (first === null ? 0 : first(p) - first(q)) || num(p.name) - num(q.name);
    if (d > 0 || (d === 0 && before(q, p))) return false;
  }
  return true;
}

/**
 * `list` put in the order of the numbers its names end with, each entry at its number's slot, when those numbers
 * are distinct, positive and not far above the list's length (then no tie is left for the sort to break);
 * false, with `list` untouched, when not.
 */
function bySlot<T extends { readonly name: string }>(list: T[]): boolean {
  const limit = 4 * list.length + 64;
  let max = 0;
  for (let i = 0; i < list.length; i++) {
    const b = num(list[i]!.name);
    if (b === 0 || b > limit) return false;
    if (b > max) max = b;
  }
  const slots: (T | undefined)[] = new Array<T | undefined>(max + 1).fill(undefined);
  for (let i = 0; i < list.length; i++) {
    const x = list[i]!;
    const b = num(x.name);
    if (slots[b] !== undefined) return false;
    slots[b] = x;
  }
  let k = 0;
  for (let b = 1; b <= max; b++) if (slots[b] !== undefined) list[k++] = slots[b]!;
  return true;
}

function describePod(p: { node: string | null; ip: number | null; status: { phase: string; message?: string } }): string {
  if (p.status.phase === 'Running') return `${p.node} ${p.ip === null ? '' : formatIpv4(p.ip)}`.trim();
  return p.status.phase;
}

/**
 * Where the packet died, for the MTU promise: the namespace and the kernel's words at the first drop
 * (`node/node-1 dropped it: fragmentationNeeded: 9000 bytes with DF exceed eth0's MTU 1500: …`). The last
 * step is only the ICMP error arriving back at the sender (`ICMP type 3 code 4 … delivered`), which names
 * neither the device nor its MTU.
 */
function whereDropped(trace: Trace): string {
  const drop = trace.steps.find((s) => s.kind === 'drop' && s.packet === 1);
  return drop ? `${drop.ns} dropped it: ${drop.note}` : lastNote(trace);
}

function lastNote(trace: Trace): string {
  return trace.steps[trace.steps.length - 1]?.note ?? trace.disposition;
}
