/**
 * The simulator shell: the only stateful code. It holds the current state and its history (undo/redo
 * are cheap: states are immutable and share structure), a simulated clock, seeded randomness, and
 * emits events. After every change it runs the incremental guarantee checks.
 */
import { EventEmitter } from 'eventemitter3';
import { parseIpv4 } from '../addr/ipv4.js';
import type { CniDesign } from '../cni/contract.js';
import { send as sendPacket } from '../dataplane/engine.js';
import { countersAfter, countersPruned, countersZeroed, NO_COUNTERS, Tally, type Counters, type NsCounters } from '../dataplane/counters.js';
import type { Step, Trace } from '../dataplane/types.js';
import { fail, PodnetError, shown } from '../errors.js';
import { audit, auditVerdict, EMPTY_MEMORY, incrementalCheck, sampledAudit, sampledCheck, uniqueAudit, uniqueCheck, type CheckMemory, type CheckResult, type Violation } from '../guarantees/check.js';
import {
  addNodeSettledState, addPodState, buildClusterState, deletePodState, listNodes, listPods, nonTerminatedPods, removeNodeState, settleState,
  type ClusterSettings, type EventSink, type NodeSpec, type PodSpec,
} from '../model/cluster.js';
import { findNode, findNs, findPod, getNode, getPod, nodeOfNs } from '../model/lookup.js';
import { advanceState, restartAgentsState, setUnschedulableState } from '../model/reconfigure.js';
import type { ClusterState, KubeEvent, Node, Pod } from '../model/types.js';
import { applyActions, NF_BASE_CHAINS, type Action } from '../ops/actions.js';
import { endpointNs, ping, traceroute, type PingOptions, type PingResult, type TracerouteOptions, type TracerouteResult } from '../query/probes.js';
import type { Ipv4Packet } from '../wire/packet.js';
import { changedIps, changeScope, type ChangeScope } from '../guarantees/scope.js';

/** Everything that builds a simulator: cluster settings, the design, and optionally nodes and pods. */
export interface SimulatorSpec extends ClusterSettings {
  readonly cni: CniDesign;
  readonly nodes?: readonly NodeSpec[];
  readonly pods?: readonly PodSpec[];
  /** Seed of the simulator's random numbers (default 1). */
  readonly seed?: number;
  /** What a violation does: `record` (default) keeps it in `violations`, `throw` rejects the change, `emit` only emits. */
  readonly onViolation?: 'record' | 'throw' | 'emit';
  /**
   * `incremental` (default): after every change, re-check exactly what it can have affected — the verdict
   * always equals a full audit; cost grows with pods × pods on the touched node. `sampled`: for large
   * clusters, unique IPs and node→pod exactly, pod↔pod against `sample` seeded peers — bounded cost, but it
   * can miss a broken pair outside the sample. `unique-ip`: that guarantee alone, exactly, and no probe
   * (reachability is left to the hop checks of what you send and to `check()`). `off`: only when you
   * call `check()`.
   */
  readonly checks?: 'incremental' | 'sampled' | 'unique-ip' | 'off';
  /** Peers per pod in `sampled` mode (default 4). */
  readonly sample?: number;
  /**
   * How many changes {@link Simulator.undo} can step back over (default: every one). Each change kept holds
   * its state, and the checks' memory of it, alive: a caller that never undoes (a property test's run, as
   * @podnet/testing plays it) passes 0, and each state it leaves becomes garbage at once. `history()`
   * lists the labels of the changes kept, and the current one.
   */
  readonly undoLimit?: number;
  /**
   * Count what sends, pings and traceroutes move on devices and iptables rules (default true): what
   * {@link Simulator.counters} reads, and `ip -s link` and `iptables -L -v` print. Counting costs a send
   * ×1.3–1.6 per hop (the seed lab's warm cross-node pings, send with and without a tally in one process, on a
   * loaded 2-core machine), and each change looks over the namespaces that counted (see `countersPruned`); a
   * caller that never reads counters (a property test's run, as @podnet/testing plays it) passes false, and its
   * sends count nothing.
   */
  readonly counters?: boolean;
}

/** Events the simulator emits. */
export interface SimulatorEvents {
  /** The state changed; `label` says how (`addPod default/pod-a`, `apply ip route del …`). */
  change: (e: { label: string; state: ClusterState }) => void;
  /** One step of a packet's journey. */
  hop: (step: Step) => void;
  delivered: (trace: Trace) => void;
  dropped: (trace: Trace) => void;
  /** A guarantee broke (emitted once, when it first appears). */
  violation: (v: Violation) => void;
  /** What Kubernetes would record as an event: Scheduled, FailedScheduling, FailedCreatePodSandBox, OutOfpods. */
  event: (e: KubeEvent) => void;
}

/** What `kubectl describe node` shows of a node's pod capacity. */
export interface NodeCapacity {
  /** Allocatable pods (kubelet --max-pods, or what the design imposes). */
  readonly allocatablePods: number;
  /** Pods bound to the node that are not terminated: running, or waiting for their sandbox. */
  readonly nonTerminatedPods: number;
}

/** Events kept by a simulator (the oldest are dropped beyond this, as the API server expires them). */
const EVENT_LOG_SIZE = 1000;

interface Entry {
  readonly state: ClusterState;
  /** The design as configured at this point of history (`reconfigure` changes it; undo restores it). */
  readonly design: CniDesign;
  readonly label: string;
  readonly memory: CheckMemory;
  /**
   * Interface and rule counters at this point of history (kernel state forwarding never reads, kept apart from
   * the state so that a send is no change to the checks): traffic amends them, a change carries them on
   * without what it deleted, undo and redo restore them with the state.
   */
  readonly counters: Counters;
}

/** A deterministic random number generator (mulberry32) in [0, 1): same seed, same sequence. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * What changed between two states: touched nodes, re-owned addresses, and whether the change can reach a
 * path between endpoints on nodes it did not touch (see guarantees/scope.ts).
 */
export function diffScope(a: ClusterState, b: ClusterState): ChangeScope {
  return changeScope(a, b);
}

/** A simulated cluster. Create one with {@link createSimulator}. */
export class Simulator extends EventEmitter<SimulatorEvents> {
  readonly onViolation: 'record' | 'throw' | 'emit';
  readonly checks: 'incremental' | 'sampled' | 'unique-ip' | 'off';
  readonly sample: number;
  /** Changes kept for {@link Simulator.undo} (see {@link SimulatorSpec.undoLimit}). */
  readonly undoLimit: number;
  /** Whether sends count on devices and rules (see {@link SimulatorSpec.counters}). */
  readonly counting: boolean;
  /** Seeded random numbers in [0, 1): the only randomness podnet uses. */
  readonly random: () => number;
  #past: Entry[] = [];
  #future: Entry[] = [];
  #cur: Entry;
  #verdict: CheckResult = { ok: true, violations: [] };
  #events: KubeEvent[] = [];
  /**
   * The next ping's identifier: iputils' ping as root uses its process id, and processes started one after
   * the other get consecutive ids (measured: 488, then 489). Drawn from its own seeded sequence, apart from
   * {@link Simulator.random}, so that pings leave the checks' sampling as it was.
   */
  #pid: number;

  constructor(spec: SimulatorSpec) {
    super();
    if (spec === null || typeof spec !== 'object') fail('INVALID_ARGUMENT', 'createSimulator needs a spec object');
    if (!spec.cni || typeof spec.cni.podAdded !== 'function') fail('INVALID_ARGUMENT', 'spec.cni must be a CNI design, e.g. flannel() from @podnet/cni');
    this.onViolation = spec.onViolation ?? 'record';
    this.checks = spec.checks ?? 'incremental';
    if (!['record', 'throw', 'emit'].includes(this.onViolation)) fail('INVALID_ARGUMENT', `onViolation must be record, throw or emit, not ${shown(spec.onViolation)}`);
    if (!['incremental', 'sampled', 'unique-ip', 'off'].includes(this.checks)) fail('INVALID_ARGUMENT', `checks must be incremental, sampled, unique-ip or off, not ${shown(spec.checks)}`);
    this.sample = spec.sample ?? 4;
    if (!Number.isInteger(this.sample) || this.sample < 1 || this.sample > 1000) fail('INVALID_ARGUMENT', `sample must be an integer from 1 to 1000, not ${shown(spec.sample)}`);
    this.undoLimit = spec.undoLimit ?? Infinity;
    this.counting = spec.counters ?? true;
    if (typeof this.counting !== 'boolean') fail('INVALID_ARGUMENT', `counters must be true or false, not ${shown(spec.counters)}`);
    if (!(Number.isInteger(this.undoLimit) || this.undoLimit === Infinity) || this.undoLimit < 0) fail('INVALID_ARGUMENT', `undoLimit must be a non-negative integer, not ${shown(spec.undoLimit)}`);
    this.random = seededRandom(spec.seed ?? 1);
    this.#pid = 300 + Math.floor(seededRandom(((spec.seed ?? 1) ^ 0x70696e67) >>> 0)() * 32000);
    // Build the whole spec in one transition without checking each step, then audit once: the same
    // verdict, far less work.
    const events: EventSink = [];
    const state = buildClusterState(spec, spec.cni, spec.nodes ?? [], spec.pods ?? [], 0, events);
    this.#record(events);
    const a = this.checks === 'off' ? { ok: true, violations: [], memory: EMPTY_MEMORY } : this.#fullCheck(state);
    this.#cur = { state, design: spec.cni, label: 'create', memory: a.memory, counters: NO_COUNTERS };
    this.#verdict = { ok: a.ok, violations: a.violations };
    if (!a.ok && this.onViolation === 'throw') {
      throw new PodnetError('GUARANTEE_VIOLATED', `the cluster spec breaks the network model: ${a.violations[0]!.explanation}`, { violations: a.violations });
    }
  }

  /** The CNI design as currently configured (see {@link Simulator.reconfigure}). */
  get design(): CniDesign {
    return this.#cur.design;
  }

  /** The current state (immutable). */
  get state(): ClusterState {
    return this.#cur.state;
  }

  /** The current verdict of the incremental checks (what `check()` would say, without re-probing). */
  get violations(): readonly Violation[] {
    // In `emit` mode violations are only emitted; the verdict is still kept, to emit each one once.
    return this.onViolation === 'emit' ? [] : this.#verdict.violations;
  }

  /** Simulated time in milliseconds. */
  now(): number {
    return this.#cur.state.now;
  }

  /**
   * Moves the simulated clock forward: ARP entries go stale, FDB entries age, and the design's agents run
   * their periodic loops ({@link CniDesign.agentTick}: flanneld puts back the iptables rules it owns within
   * `--iptables-resync` seconds of their deletion). One change, checked like every other.
   */
  advance(ms: number): void {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) fail('CLOCK_BACKWARDS', `cannot advance the clock by ${shown(ms)} ms`);
    if (ms === 0) return;
    this.#commit(advanceState(this.#cur.state, ms, this.#cur.design), `advance ${ms}ms`);
  }

  #fullCheck(state: ClusterState): CheckResult & { memory: CheckMemory } {
    if (this.checks === 'unique-ip') return uniqueAudit(state);
    return this.checks === 'sampled' ? sampledAudit(state, this.sample, this.random) : audit(state);
  }

  #recheck(next: ClusterState, memory: CheckMemory): CheckResult & { memory: CheckMemory } {
    // The unique-IP check needs only the addresses whose owners changed, not whether the change is global.
    if (this.checks === 'unique-ip') return uniqueCheck(next, memory, { ips: changedIps(this.#cur.state, next) });
    const scope = diffScope(this.#cur.state, next);
    return this.checks === 'sampled' ? sampledCheck(next, memory, scope, this.sample, this.random) : incrementalCheck(next, memory, scope);
  }

  /**
   * Makes `next` the current state, re-checking what changed. A change is a new history entry (a state that
   * did not change makes none); what
   * traffic teaches (ARP, FDB, conntrack) amends the current entry instead, so undo steps over changes,
   * not pings. Violations new in this verdict carry `cause` and are emitted once.
   */
  #commit(next: ClusterState, label: string, amend = false, design = this.#cur.design): void {
    if (next === this.#cur.state && design === this.#cur.design) return;
    let memory = this.#cur.memory;
    let fresh: Violation[] = [];
    if (this.checks !== 'off') {
      const r = this.#recheck(next, memory);
      memory = r.memory;
      if (r.violations.length === 0) {
        // Nothing broken (most changes): nothing fresh, nothing to match with the verdict before.
        this.#verdict = { ok: r.ok, violations: r.violations };
      } else {
        const known = new Map(this.#verdict.violations.map((v) => [v.key, v]));
        fresh = r.violations.filter((v) => !known.has(v.key)).map((v) => ({ ...v, cause: label }));
        if (fresh.length && this.onViolation === 'throw' && !amend) {
          throw new PodnetError('GUARANTEE_VIOLATED', `${label} breaks the network model: ${fresh[0]!.explanation}`, { violations: fresh, change: label });
        }
        const freshByKey = new Map(fresh.map((v) => [v.key, v]));
        this.#verdict = { ok: r.ok, violations: r.violations.map((v) => freshByKey.get(v.key) ?? known.get(v.key) ?? v) };
      }
    }
    if (amend) this.#cur = { state: next, design, label: this.#cur.label, memory, counters: this.#cur.counters };
    else {
      const counters = this.#pruned(next);
      this.#keep(this.#cur);
      this.#future = [];
      this.#cur = { state: next, design, label, memory, counters };
    }
    this.emit('change', { label, state: next });
    for (const v of fresh) this.emit('violation', v);
  }

  /**
   * The current counters without what `next` no longer has: a namespace, device or rule deleted (a pod made again
   * under the same name, a device made again, is new to the kernel and counts from zero). Namespaces whose
   * record did not change are not looked at.
   */
  #pruned(next: ClusterState): Counters {
    const cur = this.#cur.counters;
    if (cur.size === 0) return cur;
    const prev = this.#cur.state;
    return countersPruned(cur, (id) => {
      const ns = findNs(next, id);
      if (ns === undefined) return null;
      // An unchanged record still has every device and rule counted: nothing to look up.
      return ns === findNs(prev, id) ? true : ns;
    });
  }

  /** Keeps an entry for undo, dropping the oldest beyond {@link undoLimit}. */
  #keep(entry: Entry): void {
    if (this.undoLimit === 0) return;
    this.#past.push(entry);
    if (this.#past.length > this.undoLimit) this.#past.shift();
  }

  /**
   * A change, then what Kubernetes does after it on its own (the scheduler places Pending pods, kubelets
   * retry failed sandboxes), committed as one history entry; its events are recorded and emitted.
   */
  #change(next: ClusterState, label: string, events: EventSink): void {
    const settled = settleState(next, this.design, events);
    this.#commit(settled, label);
    this.#record(events);
  }

  #record(events: readonly KubeEvent[]): void {
    if (events.length === 0) return;
    this.#events.push(...events);
    if (this.#events.length > EVENT_LOG_SIZE) this.#events.splice(0, this.#events.length - EVENT_LOG_SIZE);
    for (const e of events) this.emit('event', e);
  }

  /** Adds a node (its podCIDR and IP allocated when not given); Pending pods that fit on it are placed. */
  addNode(spec: NodeSpec): Node {
    // The join and the settle #change would do after it, in one transition.
    const events: EventSink = [];
    const r = addNodeSettledState(this.state, spec, this.design, events);
    this.#commit(r.state, `addNode ${r.node.name}`);
    this.#record(events);
    return getNode(this.state, r.node.name);
  }

  /** Removes a node and its pods. */
  removeNode(name: string): void {
    const r = removeNodeState(this.state, name, this.design);
    this.#change(r.state, `removeNode ${name}`, []);
  }

  /**
   * Adds a pod: on its `node` if it names one (the kubelet admits it or rejects it OutOfpods), otherwise
   * where the scheduler puts it; the design's CNI ADD wires it. A pod that cannot run stays with a
   * status saying why (`Pending`, `ContainerCreating`, `Failed`) — see {@link Pod.status} and the
   * `event` events. Throws only on bad input, and then changes nothing.
   */
  addPod(spec: PodSpec): Pod {
    const events: EventSink = [];
    const r = addPodState(this.state, spec, this.design, events);
    this.#change(r.state, `addPod ${r.pod.key}`, events);
    return getPod(this.state, r.pod.key);
  }

  /** Deletes a pod (CNI DEL, then its namespace goes); waiting pods may then be placed or wired. */
  deletePod(ref: string): void {
    const r = deletePodState(this.state, ref, this.design);
    this.#change(r.state, `deletePod ${getPodKey(ref)}`, []);
  }

  /**
   * Changes the CNI design's settings on the running cluster, as `kubectl set env daemonset/aws-node
   * -n kube-system ENABLE_PREFIX_DELEGATION=true` does: the design validates them (`reconfigure`), its
   * agent restarts on every node (`agentRestarted`: ipamd reconciles its warm pool), then waiting pods are
   * retried — one history entry, checked like every change, undone by `undo`. Running pods keep their
   * addresses and every node keeps its max-pods (the kubelet's flag, set when the node joined): nodes
   * that join afterwards get the new design's. Throws `UNSUPPORTED` when the design has no settings,
   * `INVALID_SETTING` for what it refuses, and then changes nothing. Returns the new design.
   *
   * @example
   * sim.reconfigure({ ENABLE_PREFIX_DELEGATION: 'true' });
   * sim.design.settings?.['ENABLE_PREFIX_DELEGATION']; // 'true'
   */
  reconfigure(changes: Readonly<Record<string, string | null>>, label?: string): CniDesign {
    const cur = this.design;
    if (changes === null || typeof changes !== 'object' || Array.isArray(changes)) fail('INVALID_ARGUMENT', 'reconfigure needs an object of setting name → value (or null to unset)');
    if (!cur.reconfigure) fail('UNSUPPORTED', `design ${cur.name} has no settings that can change on a running cluster`);
    const next = cur.reconfigure(changes);
    const events: EventSink = [];
    const settled = settleState(restartAgentsState(this.state, next), next, events);
    const text = Object.entries(changes).map(([k, v]) => (v === null ? `${k}-` : `${k}=${v}`)).join(' ');
    this.#commit(settled, label ?? `reconfigure ${text}`, false, next);
    this.#record(events);
    return next;
  }

  /**
   * Restarts the design's node agent on `nodes` (all nodes when omitted), as deleting its DaemonSet pod does:
   * the agent does what it does at start (`agentRestarted`: flanneld replaces its routes, neighbour and FDB
   * entries for every other node, sets flannel.1 up with its address, and appends its iptables rules again).
   * One history entry, checked like every change. A design without `agentRestarted` changes nothing. Throws
   * `NODE_NOT_FOUND` for a node that is not there, and then changes nothing.
   *
   * @example
   * sim.restartAgents(['node-1']);
   */
  restartAgents(nodes?: readonly string[], label?: string): void {
    if (nodes !== undefined && (!Array.isArray(nodes) || nodes.some((n) => typeof n !== 'string'))) fail('INVALID_ARGUMENT', 'restartAgents takes a list of node names');
    for (const n of nodes ?? []) getNode(this.state, n);
    const next = restartAgentsState(this.state, this.design, nodes);
    this.#commit(next, label ?? `restartAgents${nodes === undefined ? '' : ` ${nodes.join(' ')}`}`);
  }

  /**
   * Cordons a node (`kubectl cordon`): the scheduler skips it, and a pod that finds no other node stays
   * Pending with "N node(s) were unschedulable"; pods on it keep running. A node already cordoned changes
   * nothing (no history entry). Throws `NODE_NOT_FOUND`.
   */
  cordon(name: string): void {
    const next = setUnschedulableState(this.state, name, true);
    if (next !== this.state) this.#change(next, `cordon ${name}`, []);
  }

  /** Makes a cordoned node schedulable again (`kubectl uncordon`); Pending pods that fit are placed on it. */
  uncordon(name: string): void {
    const next = setUnschedulableState(this.state, name, false);
    if (next !== this.state) this.#change(next, `uncordon ${name}`, []);
  }

  /** Events so far (oldest first), of one pod when `pod` is given — what `kubectl describe pod` lists. */
  events(pod?: string): KubeEvent[] {
    if (pod === undefined) return [...this.#events];
    const key = getPodKey(pod);
    return this.#events.filter((e) => e.pod === key);
  }

  /** A node's allocatable pods against its non-terminated pods (`kubectl describe node`). */
  capacity(node: string): NodeCapacity {
    const n = getNode(this.state, node);
    return { allocatablePods: n.maxPods, nonTerminatedPods: nonTerminatedPods(this.state, n) };
  }

  /** The files of the node's /etc/cni/net.d, as the design writes them (name → content). */
  cniConfig(node: string): Readonly<Record<string, string>> {
    const n = getNode(this.state, node);
    return this.design.cniConfig?.(this.state, n) ?? {};
  }

  /**
   * Applies raw model actions — what a person typing `ip …` on a node or in a pod would do. This is how
   * labs inject faults. Atomic: on an error nothing changes.
   */
  apply(actions: Action | readonly Action[], label?: string): void {
    const list = Array.isArray(actions) ? actions : [actions as Action];
    const next = applyActions(this.state, list);
    this.#change(next, label ?? `apply ${list.map((a) => a.op).join(', ')}`, []);
  }

  /**
   * Sends one IPv4 packet from a pod or node; returns its trace. Committed: ARP/FDB learning stays.
   * `record: false` keeps only the fates, the disposition and the hop violations (no steps, so `hop`
   * listeners hear nothing): the same verdict and the same state, for a caller that reads steps only when
   * something went wrong, and can then replay the send recorded on the state it was sent from.
   * `socket: true`: a TCP segment from a socket connected to its destination (a client's connect, as the lab
   * shell's nc sends), which takes the segments that come back for it instead of answering them with a RST.
   */
  send(from: string, packet: Ipv4Packet, options: { readonly record?: boolean; readonly socket?: boolean } = {}): Trace {
    if (options === null || typeof options !== 'object') fail('INVALID_ARGUMENT', 'send options must be an object, e.g. { record: false }');
    if (options.record !== undefined && typeof options.record !== 'boolean') fail('INVALID_ARGUMENT', `record must be true or false, not ${shown(options.record)}`);
    if (options.socket !== undefined && typeof options.socket !== 'boolean') fail('INVALID_ARGUMENT', `socket must be true or false, not ${shown(options.socket)}`);
    const ns = endpointNs(this.state, from);
    const [opts, tally] = this.#counted({ record: options.record ?? true, ...(options.socket === undefined ? {} : { socket: options.socket }) });
    const r = sendPacket(this.state, ns, packet, opts);
    this.#afterTraffic(r.state, [r.trace], `send from ${from}`, tally);
    return r.trace;
  }

  /**
   * `ping -c N` from a pod or node to an address. Each call is a ping process of its own: its ICMP identifier
   * (unless `options.ident` gives one, as `ping -e`) is the next of the simulator's seeded sequence, so two
   * calls are two flows to conntrack, as two real pings are.
   */
  ping(from: string, dst: string, options: PingOptions = {}): PingResult {
    const ident = options?.ident ?? this.#pid;
    const [opts, tally] = this.#counted({ ...options, ident });
    // Between requests the clock moves on, and the agents' loops run as in advance().
    const r = ping(this.state, from, dst, opts, (st, ms) => advanceState(st, ms, this.design));
    if (options?.ident === undefined) this.#pid = this.#pid === 0xffff ? 300 : this.#pid + 1;
    this.#afterTraffic(r.state, r.result.traces, `ping ${from} → ${dst}`, tally);
    return r.result;
  }

  /** `traceroute -n` from a pod or node to an address. */
  traceroute(from: string, dst: string, options: TracerouteOptions = {}): TracerouteResult {
    parseIpv4(dst);
    const [opts, tally] = this.#counted(options);
    const r = traceroute(this.state, from, dst, opts);
    this.#afterTraffic(r.state, r.result.hops.map((h) => h.trace), `traceroute ${from} → ${dst}`, tally);
    return r.result;
  }

  /** A committed send's options with a tally to count into, when the simulator counts ({@link SimulatorSpec.counters}). */
  #counted<O extends object>(options: O): [O & { readonly tally?: Tally }, Tally | undefined] {
    if (!this.counting) return [options, undefined];
    const tally = new Tally();
    return [{ ...options, tally }, tally];
  }

  #afterTraffic(next: ClusterState, traces: readonly Trace[], label: string, tally: Tally | undefined): void {
    // The counters first: a send that taught nothing leaves the state as it was, and still counted.
    if (tally !== undefined) {
      const counters = countersAfter(this.#cur.counters, tally);
      if (counters !== this.#cur.counters) this.#cur = { ...this.#cur, counters };
    }
    for (const t of traces) {
      if (this.listenerCount('hop')) for (const s of t.steps) this.emit('hop', s);
      this.emit(t.disposition === 'delivered' ? 'delivered' : 'dropped', t);
      for (const hv of t.violations) {
        const v: Violation = { guarantee: hv.guarantee, key: `hop|${label}|${hv.step}`, where: {}, explanation: hv.explanation, trace: t, cause: label };
        this.emit('violation', v);
      }
    }
    // What traffic teaches (ARP, FDB) is a change of state like any other, and is checked like one.
    this.#commit(next, label, true);
  }

  /**
   * A namespace's interface and rule counters, as `ip -s link` and `iptables -L -v` read them: what the sends,
   * pings and traceroutes so far moved (see dataplane/counters.ts for which device counts what, as measured).
   * `where` is a namespace id (`node/node-1`, `pod/default/pod-a`), or a node or pod name. A device or rule
   * that counted nothing is absent: read them with `devCountersOf`, `ruleCountersOf` and `policyCountersOf`.
   * Throws `NAMESPACE_NOT_FOUND`.
   *
   * @example
   * sim.ping('pod-a', '10.244.2.3');
   * devCountersOf(sim.counters('pod-a'), sim.pod('pod-a').netns!.links['eth0']!).txPackets; // 1
   */
  counters(where: string): NsCounters {
    const id = this.#nsOf(where);
    return this.#cur.counters.get(id) ?? EMPTY_COUNTERS;
  }

  /**
   * Zeroes a namespace's rule counters of one table, as `iptables [-t TABLE] -Z [CHAIN]` does: every chain, or
   * `chain` alone (its rules, and its policy when it is built in). Not a change of state: it amends the current
   * history entry, as traffic does. Throws `NAMESPACE_NOT_FOUND`, `INVALID_ARGUMENT` (a table other than filter
   * or nat), `CHAIN_NOT_FOUND`, and then changes nothing.
   */
  zeroCounters(where: string, table: 'filter' | 'nat' = 'filter', chain?: string): void {
    const id = this.#nsOf(where);
    if (table !== 'filter' && table !== 'nat') fail('INVALID_ARGUMENT', `table must be filter or nat, not ${shown(table)}`);
    if (chain !== undefined) {
      if (typeof chain !== 'string') fail('INVALID_ARGUMENT', `chain must be a chain name, not ${shown(chain)}`);
      const ns = findNs(this.state, id)!;
      if (!(NF_BASE_CHAINS[table] as readonly string[]).includes(chain) && !ns.nfChains.includes(`${table} ${chain}`)) fail('CHAIN_NOT_FOUND', `no chain ${chain} in table ${table} of ${id}`);
    }
    const counters = countersZeroed(this.#cur.counters, id, table, chain ?? null);
    if (counters !== this.#cur.counters) this.#cur = { ...this.#cur, counters };
  }

  /** A namespace id from a namespace id, a pod or a node name. */
  #nsOf(where: string): string {
    if (typeof where !== 'string') fail('INVALID_ARGUMENT', `a namespace is named by a string, not ${shown(where)}`);
    if (findNs(this.state, where) !== undefined) return where;
    if (findPod(this.state, where) === undefined && findNode(this.state, where) === undefined) fail('NAMESPACE_NOT_FOUND', `no network namespace ${where}`);
    return endpointNs(this.state, where);
  }

  /** A full audit of the current state: every guarantee, every pair. */
  check(): CheckResult {
    return auditVerdict(this.state);
  }

  /** Goes back one change. */
  undo(): void {
    const prev = this.#past.pop();
    if (!prev) fail('NOTHING_TO_UNDO', 'nothing to undo');
    this.#future.push(this.#cur);
    this.#cur = prev;
    this.#verdict = this.checks === 'off' ? this.#verdict : this.#fullCheck(prev.state);
    this.emit('change', { label: `undo`, state: prev.state });
  }

  /** Re-applies a change undone. */
  redo(): void {
    const next = this.#future.pop();
    if (!next) fail('NOTHING_TO_REDO', 'nothing to redo');
    this.#keep(this.#cur);
    this.#cur = next;
    this.#verdict = this.checks === 'off' ? this.#verdict : this.#fullCheck(next.state);
    this.emit('change', { label: `redo`, state: next.state });
  }

  /** Labels of the changes so far, oldest first (the current state last): those {@link undoLimit} kept. */
  history(): string[] {
    return [...this.#past.map((e) => e.label), this.#cur.label];
  }

  /** Nodes, sorted by name. */
  nodes(): Node[] {
    return listNodes(this.state);
  }

  /** Pods, sorted by namespace/name. */
  pods(): Pod[] {
    return listPods(this.state);
  }

  /** A node by name (throws `NODE_NOT_FOUND`). */
  node(name: string): Node {
    return getNode(this.state, name);
  }

  /** A pod by name or namespace/name (throws `POD_NOT_FOUND`). */
  pod(ref: string): Pod {
    return getPod(this.state, ref);
  }

  /** True when a pod or node of that name exists. */
  has(name: string): boolean {
    return findPod(this.state, name) !== undefined || findNode(this.state, name) !== undefined;
  }

  /** The node a namespace id belongs to. */
  nodeOf(nsId: string): string | null {
    return nodeOfNs(this.state, nsId);
  }
}

/** What {@link Simulator.counters} answers for a namespace that counted nothing. */
const EMPTY_COUNTERS: NsCounters = Object.freeze({ devs: new Map(), rules: new Map(), policies: new Map() });


function getPodKey(ref: string): string {
  if (typeof ref !== 'string') fail('INVALID_ARGUMENT', `a pod is named by a string (name, or namespace/name), not ${shown(ref)}`, { pod: ref });
  return ref.includes('/') ? ref : `default/${ref}`;
}

/** Builds a simulator from a spec: cluster settings, a CNI design, nodes and pods. */
export function createSimulator(spec: SimulatorSpec): Simulator {
  return new Simulator(spec);
}
