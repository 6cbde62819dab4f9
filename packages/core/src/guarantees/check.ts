/**
 * The three guarantees of the Kubernetes network model, as values.
 *
 * - `unique-ip`: no two live pods share an IP, and no pod IP collides with any other assigned address
 *   (node IPs, gateway addresses such as cni0's or flannel.1's). hostNetwork pods share the node IP.
 * - `no-nat`: every pod reaches every other pod, and the receiver sees the sender's pod IP (checked at
 *   every hop of every probe, on the inner header when encapsulated); the reply comes back.
 * - `node-reaches-pods`: each node's host namespace reaches every pod on that node and gets the reply.
 *
 * Reachability is judged by real probes (an ICMP echo through the forwarding engine) that do not
 * commit what they learn, so a verdict is a function of the state alone. {@link audit} checks every
 * pair; {@link incrementalCheck} re-checks only the pairs a change can have affected (an endpoint on a
 * touched node, a path that crossed a touched node, or a pair already failing) and gives the same
 * verdict as a full audit — a property the tests pin. {@link uniqueCheck} keeps the unique-IP verdict
 * alone, and {@link judgeDelivery} judges a packet someone sent as a probe would be judged: together with
 * a final audit, what @podnet/testing's cheaper `at-end` check level uses.
 */
import { formatIpv4 } from '../addr/ipv4.js';
import { icmpEcho } from '../dataplane/build.js';
import { describeRoute, PROBE_MAX_STEPS, probeSend, repliedWith, send } from '../dataplane/engine.js';
import { podKeys } from '../dataplane/links.js';
import { fail, shown } from '../errors.js';
import type { Trace } from '../dataplane/types.js';
import { findNs, hostNsId, nodeOfNs, podNsId, UNDERLAY_NS } from '../model/lookup.js';
import { lookupRouteIn, refusedPeerRouteFor } from '../ops/routing.js';
import type { ClusterState, IpOwner, Node, NsId, PlacedPod } from '../model/types.js';
import { SHARD_COUNT, shardGet, shardKeys, shardLeafSize, shardLeafValue, shardSome, shardValues } from '../util/shards.js';
import { ICMP_ECHO_REQUEST } from '../wire/packet.js';
import { arrivedPods, departedPods, MAX_ARRIVING_PORTS, type ChangeScope } from './scope.js';
import { findTwin, type Twin } from './twin.js';

export type GuaranteeName = 'unique-ip' | 'no-nat' | 'node-reaches-pods';

/** A broken guarantee: which, where, why in words, and the trace or change behind it. */
export interface Violation {
  readonly guarantee: GuaranteeName;
  /** A stable key: the same problem has the same key in every verdict. */
  readonly key: string;
  /** The pods, nodes or address concerned. */
  readonly where: { readonly from?: string; readonly to?: string; readonly ip?: string; readonly node?: string };
  readonly explanation: string;
  readonly trace?: Trace;
  /** The change that led to this verdict, when the check followed a change. */
  readonly cause?: string;
}

/** A verdict. */
export interface CheckResult {
  readonly ok: boolean;
  readonly violations: readonly Violation[];
}

/** A verdict with what the next incremental check needs, and how many probes it took. */
export interface CheckRun extends CheckResult {
  readonly memory: CheckMemory;
  /** Forwarding probes this check ran (each one ICMP echo and its reply). */
  readonly probes: number;
}

/** What a probe taught us about a pair: its violations, the nodes its packets crossed, and whether they crossed the underlay router. */
interface PairRecord {
  readonly violations: readonly Violation[];
  readonly transit: readonly string[];
  /** A packet of the probe (ARP frames aside) took a step in the underlay router (see ChangeScope.routerNeigh). */
  readonly router?: true;
  /**
   * Pod namespaces other than the pair's own in which a packet of the probe (ARP frames aside) took a step,
   * in order of first visit: what decides whether taking a pod away can change the pair (departedPods in scope.ts).
   */
  readonly strays?: readonly NsId[];
  /**
   * How many more ports the bridges its packets were flooded on could have before the probe would run out of
   * steps (each port a copy more per flood, {@link COPY_STEPS} steps at most each): kept only when fewer than
   * {@link MAX_ARRIVING_PORTS}, for a pod's arrival to know which passing probes it must run again
   * (arrivedPods in scope.ts). Almost no probe comes near its budget.
   */
  readonly slack?: number;
}

/** Whether a pair must be remembered between checks: it fails, or a change elsewhere can change it. */
function worthKeeping(r: PairRecord): boolean {
  return r.violations.length > 0 || r.transit.length > 0 || r.router === true || r.strays !== undefined || r.slack !== undefined;
}

/** The incremental checker's memory between changes: failing pairs and pairs with transit nodes. */
export interface CheckMemory {
  readonly pairs: ReadonlyMap<string, PairRecord>;
  readonly unique: ReadonlyMap<string, Violation>;
}

export const EMPTY_MEMORY: CheckMemory = { pairs: new Map(), unique: new Map() };

/** Whether probes go to and from this pod: running, in a namespace of its own. */
function probedPod(p: PlacedPod): boolean {
  return !p.hostNetwork && p.status.phase === 'Running';
}

/** The pods probes go to and from ({@link probedPod}); sorted by key unless `sorted` is false. */
function probePods(state: ClusterState, sorted = true): PlacedPod[] {
  const out: PlacedPod[] = [];
  for (const n of shardValues(state.nodes)) {
    const pods = n.pods;
    for (const k in pods) { const p = pods[k]!; if (probedPod(p)) out.push(p); }
  }
  return sorted ? out.sort((a, b) => (a.key < b.key ? -1 : 1)) : out;
}

/** The pod of this key that probes go to and from, through the pod index, or undefined. */
function podByKey(state: ClusterState, key: string): PlacedPod | undefined {
  const n = shardGet(state.podIndex, key);
  const p = n === undefined ? undefined : shardGet(state.nodes, n)?.pods[key];
  return p !== undefined && probedPod(p) ? p : undefined;
}

function uniqueViolation(ip: string, owners: readonly IpOwner[]): Violation | null {
  if (owners.length < 2) return null;
  // One namespace holding an address on several of its devices holds it once: it is one local address
  // of that network stack (the ptp plugin puts the gateway on every host-side veth, on purpose).
  if (owners.every((o) => o.ns === owners[0]!.ns)) return null;
  const text = formatIpv4(Number(ip));
  const names = owners.map((o) => (o.kind === 'pod' ? `pod ${o.name}` : o.kind === 'node' ? `node ${o.name}` : `${o.ns} ${o.dev}`));
  return {
    guarantee: 'unique-ip', key: `unique-ip|${ip}`, where: { ip: text },
    explanation: `${text} is assigned ${owners.length} times (${names.join(', ')}): every pod needs an IP no other pod or host uses, or packets for it reach the wrong place`,
  };
}

/**
 * How a probe runs. `record`: every probe records its trace. `fast`: the probe is decided without
 * recording and recorded again only to explain a failure (a passing pair then has no transit nodes: for
 * checks that keep failing pairs only). `transit`: as `fast`, and a passing pair keeps the nodes its
 * packets crossed, from the namespaces the engine noted — the same record `record` makes.
 */
type ProbeMode = 'record' | 'fast' | 'transit';

/** Whether the echo reply came back to the sender. */
function replied(trace: Trace, fromNs: string): boolean {
  const fates = trace.fates;
  for (let i = 0; i < fates.length; i++) if (repliedWith(fates[i]!, fromNs)) return true;
  return false;
}

/** The node of a namespace in one state, memoized: a check asks for the same namespaces probe after probe. */
type NodeOf = (ns: string) => string | null;
function nodeLookup(state: ClusterState): NodeOf {
  const memo = new Map<string, string | null>();
  return (ns) => {
    let n = memo.get(ns);
    if (n === undefined) memo.set(ns, (n = nodeOfNs(state, ns)));
    return n;
  };
}

const NO_TRANSIT: readonly string[] = Object.freeze([]);

/**
 * The record of a passing probe that crossed no other node and not the router (most probes): one frozen
 * record for all of them, as no record is ever written to, instead of two arrays and an object per probe.
 */
const PASSED: PairRecord = Object.freeze({ violations: Object.freeze([]) as readonly Violation[], transit: NO_TRANSIT });

/** Probes `from` → `to`'s IP with an ICMP echo; returns violations and the transit nodes crossed. */
function probePair(state: ClusterState, fromNs: string, fromLabel: string, to: PlacedPod, guarantee: GuaranteeName, mode: ProbeMode, nodeOf: NodeOf): PairRecord {
  if (mode !== 'record') {
    // Fast path: decide without recording; record only to explain a failure. Sends are deterministic and
    // recording changes nothing of what happens, so a passing probe would pass recorded too.
    // probeSend is that unrecorded send, read without its trace (`replied` is what replied() would answer).
    const quick = probeSend(state, fromNs, icmpEcho(to.ip!), mode === 'transit');
    if (quick.violations.length === 0 && quick.replied) {
      if (quick.visited === null) return PASSED;
      return footprint(nodeOf, fromNs, to, quick.visited, PASSED.violations, slackOf(quick.steps, quick.floods));
    }
  }
  const { trace } = send(state, fromNs, icmpEcho(to.ip!), { record: true, commit: false, conntrack: false });
  const violations: Violation[] = [];
  const key = `${guarantee}|${fromLabel}|${to.key}`;
  const where = { from: fromLabel, to: to.key };
  // One violation per guarantee and pair: the request and its reply may both trip the same hop check.
  for (const v of trace.violations) {
    const k = `${key}|${v.guarantee}`;
    if (!violations.some((x) => x.key === k)) violations.push({ guarantee: v.guarantee, key: k, where, explanation: v.explanation, trace });
  }
  if (!replied(trace, fromNs)) violations.push(unreachable(state, trace, fromNs, fromLabel, to, guarantee, 'the request'));
  // A broadcast ARP request reaches every node of a segment; those that do not own the address only
  // drop it, and an address changing owners is caught through the IP index, so ARP is not transit.
  let floods = 0;
  for (const s of trace.steps) if (s.kind === 'bridge-flood') floods++;
  return footprint(nodeOf, fromNs, to, trace.steps.filter((s) => s.frame?.payload.kind !== 'arp').map((s) => s.ns), violations, slackOf(trace.steps.length, floods));
}

/**
 * The most steps a copy of a flooded frame takes in a namespace that drops it: the veth crossing, its arrival,
 * the drop. A port added to a bridge costs each flood there at most that many steps more.
 */
const COPY_STEPS = 4;

/** A probe's {@link PairRecord.slack}: undefined when it could absorb {@link MAX_ARRIVING_PORTS} ports more. */
function slackOf(steps: number, floods: number): number | undefined {
  if (floods === 0) return undefined;
  const slack = Math.floor((PROBE_MAX_STEPS - steps) / (COPY_STEPS * floods));
  return slack < MAX_ARRIVING_PORTS ? Math.max(0, slack) : undefined;
}

/**
 * The record of a probe with these violations whose packets (ARP frames aside) took steps in the namespaces
 * `visited`: the nodes other than the pair's own, whether the router, and the pod namespaces other than the
 * pair's own. A passing probe that crossed none of them (most) is {@link PASSED}.
 */
function footprint(nodeOf: NodeOf, fromNs: NsId, to: PlacedPod, visited: Iterable<NsId>, violations: readonly Violation[], slack: number | undefined): PairRecord {
  const fromNode = nodeOf(fromNs);
  // Most pairs cross no other node and no other pod: no array for them.
  let transit: string[] | null = null;
  let router = false;
  let strays: NsId[] | null = null;
  for (const ns of visited) {
    if (ns === UNDERLAY_NS) {
      router = true;
      continue;
    }
    const n = nodeOf(ns);
    if (n !== null && n !== fromNode && n !== to.node && !transit?.includes(n)) (transit ??= []).push(n);
    // `pod/<key>`: the destination's namespace is told by its key, without a string made for it per probe.
    if (ns.startsWith('pod/') && ns !== fromNs && !(ns.length === to.key.length + 4 && ns.endsWith(to.key)) && !strays?.includes(ns)) (strays ??= []).push(ns);
  }
  if (violations.length === 0 && transit === null && !router && strays === null && slack === undefined) return PASSED;
  const r: { violations: readonly Violation[]; transit: readonly string[]; router?: true; strays?: readonly NsId[]; slack?: number } = { violations, transit: transit ?? NO_TRANSIT };
  if (router) r.router = true;
  if (strays !== null) r.strays = strays;
  if (slack !== undefined) r.slack = slack;
  return r;
}

/** The reachability violation of a pair whose packet (`what`: "the request", "the udp packet") or its reply was lost. */
function unreachable(state: ClusterState, trace: Trace, fromNs: string, fromLabel: string, to: PlacedPod, guarantee: GuaranteeName, what: string): Violation {
  const reqFate = trace.disposition;
  const replyFate = trace.fates.find((f) => f.role === 'echo-reply') ?? trace.fates.find((f) => f.packet > 1 && REPLY_ROLES.has(f.role));
  const landed = trace.fates[0]?.ns;
  const atDst = landed === podNsId(to.key);
  // A packet someone sent (judgeDelivery) may have reached a stack, but another pod's (a duplicate address).
  const why = what !== 'the request' && REACHED.has(reqFate) && !atDst
    ? `${what} was taken by ${landed}, not by ${podNsId(to.key)}`
    : reqFate !== 'delivered' && !(REACHED.has(reqFate) && atDst)
      ? `${what} ended as ${reqFate} at ${landed ?? fromNs}${whereLost(state, trace, to.ip!)}`
      : `${what} arrived but the reply ended as ${replyFate?.disposition ?? 'never sent'} at ${replyFate?.ns ?? to.key}`;
  return {
    guarantee, key: `${guarantee}|${fromLabel}|${to.key}`, where: { from: fromLabel, to: to.key },
    explanation: guarantee === 'node-reaches-pods'
      ? `node ${fromLabel} cannot reach its pod ${to.key} (${formatIpv4(to.ip!)}): ${why}`
      : `pod ${fromLabel} cannot reach pod ${to.key} (${formatIpv4(to.ip!)}): ${why}`,
    trace,
  };
}

/** Dispositions of a packet that reached its destination's stack (a socket, or the kernel answering for a closed port). */
const REACHED: ReadonlySet<string> = new Set(['delivered', 'portUnreachable', 'tcpReset']);
/** Roles of the packets a destination sends back. */
const REPLY_ROLES: ReadonlySet<string> = new Set(['echo-reply', 'icmp-error', 'tcp-reset', 'tcp-reply']);

/**
 * Judges a packet someone sent (not a probe) by the reachability guarantees: from a pod to another pod
 * (`no-nat`), or from a node's host namespace to a pod on that node (`node-reaches-pods`), the packet must
 * reach the destination pod's namespace — a socket takes it, or the kernel answers for a closed port — and
 * whatever the destination answers (an echo reply for an echo request, which must come; an ICMP port
 * unreachable; a TCP reset) must come back to the sender. Other packets (to a node, from another node, to
 * the outside) promise nothing here: returns null, as it does when the packet kept the promise.
 *
 * The verdict's key and words are those of the {@link audit}'s probe of the same pair. `from` is a pod key
 * (`default/pod-a`) or a node name, `to` a pod key; `trace` is what sending from `from` returned.
 * Throws `INVALID_ARGUMENT` when they are not strings and a trace.
 */
export function judgeDelivery(state: ClusterState, from: string, to: string, trace: Trace): Violation | null {
  if (typeof from !== 'string' || typeof to !== 'string') fail('INVALID_ARGUMENT', `judgeDelivery needs a sender (pod key or node name) and a destination pod key, not ${shown(from)} and ${shown(to)}`);
  if (trace === null || typeof trace !== 'object' || !Array.isArray(trace.fates) || !Array.isArray(trace.steps)) fail('INVALID_ARGUMENT', 'judgeDelivery needs the trace a send returned');
  const toNode = shardGet(state.podIndex, to);
  const dst = toNode === undefined ? undefined : shardGet(state.nodes, toNode)?.pods[to];
  if (!dst || dst.ip === null || dst.hostNetwork) return null;
  const fromNode = shardGet(state.podIndex, from);
  let fromNs: string;
  let guarantee: GuaranteeName;
  if (fromNode !== undefined) {
    fromNs = podNsId(from);
    guarantee = 'no-nat';
    if (shardGet(state.nodes, fromNode)?.pods[from]?.hostNetwork) return null;
  } else if (from === dst.node) {
    fromNs = hostNsId(from);
    guarantee = 'node-reaches-pods';
  } else return null;
  const first = trace.fates.find((f) => f.packet === 1);
  const reached = first !== undefined && REACHED.has(first.disposition) && first.ns === podNsId(dst.key);
  const replies = trace.fates.filter((f) => f.packet > 1 && REPLY_ROLES.has(f.role));
  const echo = first?.ip?.payload.kind === 'icmp' && first.ip.payload.type === ICMP_ECHO_REQUEST;
  // Back at the sender: its stack took the reply, or, a SYN/ACK for a SYN sent without a socket, answered it with a RST.
  const back = replies.some((f) => f.ns === fromNs && (f.disposition === 'delivered' || (f.role === 'tcp-reply' && f.disposition === 'tcpReset')));
  if (reached && (back || (!echo && replies.length === 0))) return null;
  const what = first?.ip ? `the ${first.ip.payload.kind === 'icmp' ? 'icmp' : first.ip.payload.kind} packet` : 'the packet';
  return unreachable(state, trace, fromNs, guarantee === 'no-nat' ? from : dst.node, dst, guarantee, what);
}

/**
 * Why a request was lost, in words a student can act on: the kernel's note where it was dropped, and for
 * the last node that routed it, the route the kernel refused there (the one that would have carried it)
 * or else the route it used.
 */
function whereLost(state: ClusterState, trace: Trace, dst: number): string {
  const req = trace.steps.filter((s) => s.packet === 1);
  const drop = req.filter((s) => s.kind === 'drop').pop();
  let out = drop ? ` (${drop.note})` : '';
  const last = req.filter((s) => (s.kind === 'route' || s.kind === 'forward') && s.ns.startsWith('node/') && s !== drop).pop();
  const ns = last ? findNs(state, last.ns) : undefined;
  if (!last || !ns) return out;
  const refused = refusedPeerRouteFor(state, ns, dst);
  if (refused) {
    out += `; ${last.ns} has no route for it: ${refused.set}'s \`ip route add ${describeRoute(refused.route)}\` was refused there (${refused.error} ${formatIpv4(refused.route.via!)} is not on a connected subnet of ${refused.route.dev})`;
  } else {
    const used = lookupRouteIn(state, ns, dst);
    if (used && last.ns !== drop?.ns) out += `; ${last.ns} routed it by \`${describeRoute(used)}\``;
  }
  return out;
}

/** Unique-IP verdicts updated for the addresses whose owners changed (exact: one index lookup each). */
function recheckUnique(state: ClusterState, previous: ReadonlyMap<string, Violation>, ips: readonly string[]): ReadonlyMap<string, Violation> {
  if (ips.length === 0) return previous; // memories are never changed once made
  // Copied when there is something to keep or to write, not before: most states have no duplicate address,
  // and a change that moves addresses then copied an empty map (every pod or node added or taken away, at
  // both check levels).
  let unique: Map<string, Violation> | null = previous.size === 0 ? null : new Map(previous);
  for (const ip of ips) {
    const owners = shardGet(state.ipIndex, ip);
    const v = owners ? uniqueViolation(ip, owners) : null;
    if (v) (unique ??= new Map()).set(ip, v);
    else unique?.delete(ip);
  }
  return unique ?? previous;
}

function pairKey(from: string, to: string): string {
  return `${from}>${to}`;
}

/**
 * Pairs to probe, by key, each with its sender (a pod key or `node:<name>`) and destination pod key as the
 * pods gave them: a key split again would be a new string, and a pod looked up by a new string costs V8 a
 * probe of its string table, rarely in the CPU cache at 150,000 pods.
 */
class PairQueue extends Map<string, readonly [string, string]> {
  add(from: string, to: string): void {
    const k = pairKey(from, to);
    if (!this.has(k)) this.set(k, [from, to]);
  }
}

/** Unique-IP verdicts of every address of the index. */
function allUnique(state: ClusterState): Map<string, Violation> {
  const unique = new Map<string, Violation>();
  shardSome(state.ipIndex, (ip, owners) => {
    const v = uniqueViolation(ip, owners);
    if (v) unique.set(ip, v);
    return false;
  });
  return unique;
}

/**
 * The `unique-ip` guarantee alone, for a whole state: one IP-index lookup per address, no probe. Exact
 * for that guarantee; says nothing of reachability (pair with {@link judgeDelivery} on the packets that
 * are sent and an {@link audit} when it matters — what @podnet/testing's `at-end` level does).
 */
export function uniqueAudit(state: ClusterState): CheckRun {
  const memory = { pairs: new Map<string, PairRecord>(), unique: allUnique(state) };
  return runOf(memory, 0);
}

/** {@link uniqueAudit} after a change: only the addresses whose owners changed are looked at again. */
export function uniqueCheck(state: ClusterState, memory: CheckMemory, scope: Pick<ChangeScope, 'ips'>): CheckRun {
  // No address changed owners (what a packet teaches ARP and FDB tables): the memory stands as it is.
  if (scope.ips.length === 0 && memory.pairs.size === 0) return runOf(memory, 0);
  // An empty pairs map is kept as it is (memories are never changed once made), not made again per change.
  const next = { pairs: memory.pairs.size === 0 ? memory.pairs : new Map<string, PairRecord>(), unique: recheckUnique(state, memory.unique, scope.ips) };
  return runOf(next, 0);
}

/** Options of {@link audit}. */
export interface AuditOptions {
  /**
   * Record the trace of every probe, as audits once did, instead of deciding each probe without
   * recording and recording only those that fail. The verdict and the memory are the same — a property
   * of the tests holds the fast path to this one. Default false.
   */
  readonly recordAll?: boolean;
}

/**
 * A full audit of a state: every address, every node→own pod, every ordered pod pair. O(pods²) probes.
 * Throws `INVALID_ARGUMENT` when `options` is not an object.
 */
export function audit(state: ClusterState, options: AuditOptions = {}): CheckRun {
  if (options === null || typeof options !== 'object') fail('INVALID_ARGUMENT', `audit options must be an object, not ${shown(options)}`);
  return auditWith(state, options.recordAll === true ? 'record' : 'transit');
}

/**
 * The verdict of a full {@link audit}, without the memory an incremental check would go on from: a passing
 * probe is decided without recording and without noting the namespaces it crossed (what a verdict alone
 * needs: `Simulator.check()`). The same violations, in the same order, as `audit(state)`.
 */
export function auditVerdict(state: ClusterState): CheckResult {
  const r = auditWith(state, 'fast');
  return { ok: r.ok, violations: r.violations };
}

function auditWith(state: ClusterState, mode: ProbeMode): CheckRun {
  const nodeOf = nodeLookup(state);
  const unique = allUnique(state);
  const pairs = new Map<string, PairRecord>();
  const pods = probePods(state);
  let probes = 0;
  for (const q of pods) {
    if (q.ip === null) continue;
    probes++;
    const r = probePair(state, hostNsId(q.node), q.node, q, 'node-reaches-pods', mode, nodeOf);
    if (worthKeeping(r)) pairs.set(pairKey(`node:${q.node}`, q.key), r);
  }
  for (const p of pods) {
    const pNs = podNsId(p.key); // once per sender, not per pair
    for (const q of pods) {
      if (p === q || q.ip === null) continue;
      probes++;
      const r = probePair(state, pNs, p.key, q, 'no-nat', mode, nodeOf);
      if (worthKeeping(r)) pairs.set(pairKey(p.key, q.key), r);
    }
  }
  const memory = { pairs, unique };
  return runOf(memory, probes);
}

/** A check's result: the verdict of its memory, the memory, and the probes it took. */
function runOf(memory: CheckMemory, probes: number): CheckRun {
  const v = verdictOf(memory);
  return { ok: v.ok, violations: v.violations, memory, probes };
}

function verdictOf(m: CheckMemory): CheckResult {
  const violations: Violation[] = [];
  for (const v of m.unique.values()) violations.push(v);
  // Most remembered pairs pass (kept for the nodes or the router they crossed): a loop, not a spread per pair.
  for (const r of m.pairs.values()) if (r.violations.length > 0) for (const v of r.violations) violations.push(v);
  if (violations.length > 1) violations.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { ok: violations.length === 0, violations };
}

export type { ChangeScope } from './scope.js';

/** Options of {@link incrementalCheck}. */
export interface IncrementalOptions {
  /**
   * Whether a pod that arrives as the twin of a pod of its node takes that pod's verdicts (guarantees/twin.ts;
   * docs/guarantees.md, "Limits, honestly"): `true` whenever one pod arrived, `false` never, `'auto'` (the
   * default) when the cluster runs at least {@link TWIN_MIN_PODS} pods — below that, the probes a twin saves
   * (two per pod) cost less than looking for one. The verdict is the same either way.
   */
  readonly twins?: boolean | 'auto';
}

/**
 * The fewest running pods for which `twins: 'auto'` looks for a twin. In property runs (a few pods on up to six
 * nodes) a twin saved ~6 probes and looking for one cost more than they did (every-change runs 20 % slower).
 */
export const TWIN_MIN_PODS = 32;

/**
 * Re-checks what a change can have affected and returns the same verdict a full {@link audit} of
 * `state` would. `memory` is what the previous check returned. Throws `INVALID_ARGUMENT` when `options` is not
 * an object or `options.twins` is not a boolean or `'auto'`.
 */
export function incrementalCheck(state: ClusterState, memory: CheckMemory, scope: ChangeScope, options: IncrementalOptions = {}): CheckRun {
  if (options === null || typeof options !== 'object') fail('INVALID_ARGUMENT', `incrementalCheck options must be an object, not ${shown(options)}`);
  const twins = options.twins ?? 'auto';
  if (twins !== true && twins !== false && twins !== 'auto') fail('INVALID_ARGUMENT', `options.twins must be true, false or 'auto', not ${shown(twins)}`);
  if (scope.global && scope.routerNeigh !== true) return audit(state);
  // Pods taken away, and nothing else (departedPods): their node is not touched; a pair can change only if
  // it fails, or its probe stepped in one of their namespaces. (A deletePod re-probed every pair of its
  // node's pods: 3.1 probes per deletePod in every-change property runs of flannel VXLAN, now none.)
  const departed = scope.from === undefined ? null : departedPods(scope.from, state, scope);
  const gone = departed === null ? null : new Set(departed);
  // Pods brought onto a node, and nothing else a probe of the pods that were there reads (arrivedPods): their
  // node is not touched; the new pods are (their addresses changed owners), and a pair is probed again only if
  // it fails, or its probe was flooded near its step budget on bridges that now have more ports.
  const arrival = departed === null && scope.from !== undefined ? arrivedPods(scope.from, state, scope) : null;
  const touched = new Set(gone === null && arrival === null ? scope.nodes : []);
  const routerChanged = scope.routerNeigh === true;
  const nodeOf = nodeLookup(state);
  // A node that owns an address whose owners changed is touched too, though its namespaces did not change:
  // its probes leave from one of its own addresses (its bridge's, say), their replies come back to it, and
  // delivery checks that the address has one owner — a pod claiming node-2's cni0 address breaks node-2's
  // probes. (An owner that lost or gained the address changed its own namespace: it is in scope.nodes.)
  // An address the underlay shares is answered for on the segment: judged again everywhere.
  // (The addresses pods brought are theirs alone, new, and no probe of the node's other pods leaves from one.)
  if (arrival === null) for (const ip of scope.ips) {
    for (const o of shardGet(state.ipIndex, ip) ?? []) {
      const n = nodeOf(o.ns);
      if (n === null) return audit(state);
      touched.add(n);
    }
  }
  const unique = recheckUnique(state, memory.unique, scope.ips);
  // The touched pods, found without walking every pod (at 150,000 pods a walk and a map of them were most of
  // a delete's exact check, which probes nothing): the pods of the touched nodes, and a pod whose address
  // changed owners — the per-hop unique-owner check of every probe to it reads the IP index. Such a pod owns
  // that address, or lost it, which changed its namespace: its node is among the scope's nodes.
  const ipSet = new Set(scope.ips);
  const touchedPods = new Set<PlacedPod>();
  const addTouched = (n: Node | undefined, all: boolean): void => {
    if (n === undefined) return;
    const keys = podKeys(n);
    for (let i = 0; i < keys.length; i++) {
      const p = n.pods[keys[i]!]!;
      if (probedPod(p) && (all || (p.ip !== null && ipSet.has(String(p.ip))))) touchedPods.add(p);
    }
  };
  for (const name of touched) addTouched(shardGet(state.nodes, name), true);
  if (ipSet.size > 0) {
    for (const name of scope.nodes) if (!touched.has(name)) addTouched(shardGet(state.nodes, name), false);
    for (const ip of scope.ips) {
      for (const o of shardGet(state.ipIndex, ip) ?? []) {
        if (o.kind !== 'pod') continue;
        const p = podByKey(state, o.name);
        if (p !== undefined && p.ip !== null && String(p.ip) === ip) touchedPods.add(p);
      }
    }
  }
  // One pod arrived, wired as a pod that was there and told apart from it by nothing (twin.ts): it takes that
  // pod's verdicts, and only the pairs the two pods make with each other and with their node are probed, instead
  // of the new pod with every pod both ways.
  let twin: Twin | null = null;
  if (arrival !== null && arrival.pods.length === 1 && scope.from !== undefined && (twins === true || (twins === 'auto' && state.podCount >= TWIN_MIN_PODS))) {
    const name = scope.nodes[0]!;
    const nb = shardGet(state.nodes, name);
    const na = shardGet(scope.from.nodes, name);
    if (nb !== undefined && na !== undefined) twin = findTwin(state, nb, na, arrival.pods[0]!, probedPod);
    if (twin !== null) touchedPods.delete(twin.pod);
  }
  const pairs = new Map<string, PairRecord>();
  // Remembered pairs to probe again that the pairs of the touched pods below do not include (each once: the
  // memory's keys are distinct), as probe()'s arguments.
  const again: (readonly [fromNs: string, from: string, to: PlacedPod, guarantee: GuaranteeName])[] = [];
  // The twin's remembered pairs, for the new pod: a passing record under σ, a failing one (or one near its step
  // budget) probed for the new pod (its explanation names its own endpoints). Its node's pair with it too: σ
  // leaves the host as it is. A pair the memory does not hold passes, for the twin and so for the new pod.
  const inherit = (r: PairRecord, from: string, to: PlacedPod, fromPod: PlacedPod | undefined, node: boolean): void => {
    const q = twin!.twin;
    const p = twin!.pod;
    const redo = r.violations.length > 0 || r.slack !== undefined;
    if (node) {
      if (to !== q || from !== `node:${q.node}`) return;
      if (redo) again.push([hostNsId(q.node), q.node, p, 'node-reaches-pods']);
      else pairs.set(pairKey(from, p.key), swapped(r, twin!));
    } else if (fromPod === q) {
      if (to === p) return;
      if (redo) again.push([podNsId(p.key), p.key, to, 'no-nat']);
      else pairs.set(pairKey(p.key, to.key), swapped(r, twin!));
    } else if (to === q && fromPod !== undefined && fromPod !== p) {
      if (redo) again.push([podNsId(from), from, p, 'no-nat']);
      else pairs.set(pairKey(from, p.key), swapped(r, twin!));
    }
  };
  // Keep what no touched node could change; re-probe pairs that failed or crossed a touched node.
  for (const [k, r] of memory.pairs) {
    const [from, to] = k.split('>') as [string, string];
    const node = from.startsWith('node:');
    const fromPod = node ? undefined : podByKey(state, from);
    const fromNode = node ? from.slice(5) : fromPod?.node;
    const toPod = podByKey(state, to);
    if (fromNode === undefined || !toPod) continue;
    const toTouched = touchedPods.has(toPod);
    const fromTouched = fromPod !== undefined && touchedPods.has(fromPod);
    if (r.violations.length || touched.has(fromNode) || toTouched || fromTouched || r.transit.some((n) => touched.has(n)) || (routerChanged && r.router === true) || (gone !== null && r.strays !== undefined && r.strays.some((ns) => gone.has(ns))) || (arrival !== null && r.slack !== undefined && r.slack < arrival.ports)) {
      // The touched pods' pairs: every pod pair with a touched end, and each touched pod's node to it.
      if (node ? toTouched && fromNode === toPod.node : toTouched || fromTouched) continue;
      again.push(node ? [hostNsId(fromNode), fromNode, toPod, 'node-reaches-pods'] : [podNsId(from), from, toPod, 'no-nat']);
    } else pairs.set(k, r);
    if (twin !== null) inherit(r, from, toPod, fromPod, node);
  }
  let probes = 0;
  /**
   * Probes one pair (`from` a pod key or a node name, with its namespace) and keeps what a later check
   * needs. Its key is made only then: few pairs are worth keeping, and no pair is probed twice, so none
   * has a record to drop.
   */
  const probe = (fromNs: string, from: string, to: PlacedPod, guarantee: GuaranteeName): void => {
    if (to.ip === null) return;
    probes++;
    const r = probePair(state, fromNs, from, to, guarantee, 'transit', nodeOf);
    if (worthKeeping(r)) pairs.set(pairKey(guarantee === 'node-reaches-pods' ? `node:${from}` : from, to.key), r);
  };
  for (const [fromNs, from, to, guarantee] of again) probe(fromNs, from, to, guarantee);
  if (twin !== null) {
    // The two of them: the twin to the new pod, probed; the new pod to its twin is its σ image.
    const { pod: p, twin: q } = twin;
    probes++;
    const r = probePair(state, podNsId(q.key), q.key, p, 'no-nat', 'transit', nodeOf);
    if (worthKeeping(r)) pairs.set(pairKey(q.key, p.key), r);
    if (r.violations.length > 0 || r.slack !== undefined) probe(podNsId(p.key), p.key, q, 'no-nat');
    else if (worthKeeping(r)) pairs.set(pairKey(p.key, q.key), swapped(r, twin));
  }
  // Each pair of the touched pods once, without a queue: a pair with two touched ends is probed from its
  // sender's side of the loop. Every pod, in the state's walk order, only when there is a touched pod: the
  // order pairs are probed in changes no verdict (each probe is a function of the state alone) and the
  // verdict's violations are sorted by key.
  const pods = touchedPods.size === 0 ? [] : probePods(state, false);
  for (const q of touchedPods) probe(hostNsId(q.node), q.node, q, 'node-reaches-pods');
  for (const p of touchedPods) {
    const pNs = podNsId(p.key);
    for (const q of pods) {
      if (p === q) continue;
      probe(pNs, p.key, q, 'no-nat');
      if (!touchedPods.has(q)) probe(podNsId(q.key), q.key, p, 'no-nat');
    }
  }
  const next = { pairs, unique };
  return runOf(next, probes);
}

/** A twin's passing record for the new pod: the pod namespaces it stepped in, under σ (twin.ts). */
function swapped(r: PairRecord, twin: Twin): PairRecord {
  if (r.strays === undefined) return r;
  return { ...r, strays: r.strays.map((ns) => twin.ns.get(ns) ?? ns) };
}

/** Whether a sampled check probes to and from this pod: running, with an IP, in a namespace of its own. */
function probed(p: PlacedPod): boolean {
  return !p.hostNetwork && p.status.phase === 'Running' && p.ip !== null;
}

/** A running pod with an IP picked by `random` without listing every pod (O(1) in cluster size). */
function randomPod(state: ClusterState, random: () => number): PlacedPod | null {
  for (let attempt = 0; attempt < 32; attempt++) {
    const i = Math.floor(random() * SHARD_COUNT);
    const count = shardLeafSize(state.nodes, i);
    if (count === 0) continue;
    const node = shardLeafValue(state.nodes, i, Math.floor(random() * count));
    const keys = podKeys(node);
    if (keys.length === 0) continue;
    const p = node.pods[keys[Math.floor(random() * keys.length)]!]!;
    if (probed(p)) return p;
  }
  return null;
}

/**
 * A bounded check for clusters too large for {@link incrementalCheck}: unique IPs exactly as there; a
 * node reaching its pods exactly for every pod whose address changed and every pod of a touched node;
 * pod-to-pod reachability (and no NAT) for those pods against `sample` peers drawn with the seeded
 * `random`, both ways, plus every pair already failing that involves a touched node. Its verdict can
 * miss a broken pair outside the sample: it is NOT equivalent to a full audit — that is what
 * {@link incrementalCheck} is for.
 */
export function sampledCheck(state: ClusterState, memory: CheckMemory, scope: ChangeScope, sample: number, random: () => number): CheckRun {
  const unique = recheckUnique(state, memory.unique, scope.ips);
  // Memoized: a pair's pods are asked for again when it is queued and probed (two index lookups each). A pod
  // the check already holds from its node's record (a random peer, a touched node's pod) is entered as it is:
  // the pod index names that node for it, so the lookups would find the same record — at 150,000 pods two
  // hashed lookups of keys rarely in the CPU cache, for each of the 4 random peers.
  const pods = new Map<string, PlacedPod | undefined>();
  const podOf = (key: string): PlacedPod | undefined => {
    if (pods.has(key)) return pods.get(key);
    const n = shardGet(state.podIndex, key);
    const p0 = n === undefined ? undefined : shardGet(state.nodes, n)?.pods[key];
    const p = p0 && probed(p0) ? p0 : undefined;
    pods.set(key, p);
    return p;
  };
  const held = (p: PlacedPod): void => {
    pods.set(p.key, p);
  };
  // The pods to look at: those whose address changed owners, and (up to `sample`) pods of each touched node.
  const focus = new Map<string, PlacedPod>();
  if (!scope.global) for (const ip of scope.ips) for (const o of shardGet(state.ipIndex, ip) ?? []) if (o.kind === 'pod') { const p = podOf(o.name); if (p) focus.set(p.key, p); }
  const touched = new Set(scope.nodes);
  const nodeScope = scope.global ? [] : scope.nodes;
  // A change that moved addresses (a pod added or deleted) is judged by its pods; a change without
  // (a route, a link, a rule) by a sample of the pods of the nodes it touched.
  // A pod deleted leaves its node to be judged by one of the pods still there.
  const perNode = scope.ips.length > 0 ? 1 : sample;
  if (focus.size === 0) for (const name of nodeScope) {
    const n = shardGet(state.nodes, name);
    if (!n) continue;
    let taken = 0;
    // The node's memoized keys (the for-in order), not a for-in: a for-in over a dictionary collects its
    // keys afresh, and the probes of this node's pods read the same list for its bridge's flood plan.
    const keys = podKeys(n);
    for (let i = 0; i < keys.length && taken < perNode; i++) {
      const p = n.pods[keys[i]!]!;
      if (probed(p)) { held(p); focus.set(p.key, p); taken++; }
    }
  }
  if (scope.global) for (let i = 0; i < sample; i++) { const p = randomPod(state, random); if (p) { held(p); focus.set(p.key, p); } }
  const pairs = new Map<string, PairRecord>();
  const recheck = new PairQueue();
  for (const [k, r] of memory.pairs) {
    const [from, to] = k.split('>') as [string, string];
    const toPod = podOf(to);
    const fromNode = from.startsWith('node:') ? from.slice(5) : podOf(from)?.node;
    if (!toPod || fromNode === undefined) continue;
    if (r.violations.length && (scope.global || touched.has(fromNode) || touched.has(toPod.node) || focus.has(to) || focus.has(from))) recheck.add(from, to);
    else pairs.set(k, r);
  }
  for (const p of focus.values()) {
    recheck.add(`node:${p.node}`, p.key);
    for (let i = 0; i < sample; i++) {
      const q = randomPod(state, random);
      if (!q || q.key === p.key) continue;
      held(q);
      recheck.add(p.key, q.key);
      recheck.add(q.key, p.key);
    }
  }
  let probes = 0;
  const nodeOf = nodeLookup(state);
  for (const [k, [from, to]] of recheck) {
    const q = podOf(to);
    if (!q) continue;
    let r: PairRecord | null = null;
    if (from.startsWith('node:')) r = probePair(state, hostNsId(from.slice(5)), from.slice(5), q, 'node-reaches-pods', 'fast', nodeOf);
    else {
      const p = podOf(from);
      if (p) r = probePair(state, podNsId(from), from, q, 'no-nat', 'fast', nodeOf);
    }
    if (!r) continue;
    probes++;
    if (r.violations.length) pairs.set(k, r);
    else pairs.delete(k);
  }
  const next = { pairs, unique };
  return runOf(next, probes);
}

/** {@link sampledCheck} of a whole state: every address exactly, reachability for a seeded sample of pods. */
export function sampledAudit(state: ClusterState, sample: number, random: () => number): CheckRun {
  return sampledCheck(state, EMPTY_MEMORY, { nodes: [], ips: [...shardKeys(state.ipIndex)], global: true }, sample, random);
}
