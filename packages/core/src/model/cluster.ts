/**
 * Pure cluster transitions: create a cluster, add and remove nodes, add and delete pods. Each validates
 * everything first, asks the CNI design for its actions and applies them in one immer transition, so
 * a failure at any point leaves the given state exactly as it was.
 */
import { castDraft, isDraft, type Draft } from 'immer';
import { entryDraft, freezeIfOn, held as heldField, lazyScratchDraft, peek, produce, tableToWrite, transition, writeField } from '../util/immer.js';
import {
  cidrContains, cidrOverlaps, cidrSize, formatCidr, networkOf, parseCidr, parseIpv4, type Cidr, type Ipv4,
} from '../addr/ipv4.js';
import { macFromSeed } from '../addr/mac.js';
import type { BuildStep, CniDesign, CniError, CniResult, PodAddReaction, PodAddRequest } from '../cni/contract.js';
import { fail, PodnetError, shown } from '../errors.js';
import { applyActionsToDraft, bridgeMtuAutoAdjust, checkIfName, hostToWrite, indexNs, nodeToWrite, routerToWrite, segmentTableToWrite, segmentToWrite, snapshot, unindexNs } from '../ops/actions.js';
import { emptyShards, shardDelete, shardGet, shardPeek, shardPeekValues, shardSet, shardValues } from '../util/shards.js';
import { hexDigitCode } from '../util/hex.js';
import { dict } from '../util/dict.js';
import { YoungWeakMap } from '../util/memo.js';
import { findNode, findPod, getNode, getPod, hostNsId, podKeyOf, podNsId, UNDERLAY_NS } from './lookup.js';
import { netNsRecord } from './netns.js';
import type { ClusterState, Container, KubeEvent, Link, NeighEntry, NetNs, Node, Pod, PodStatus, Segment, Sysctls } from './types.js';

/** An underlay segment as the cluster spec declares it. */
export interface SegmentSpec {
  readonly name: string;
  readonly cidr: string;
  readonly gateway?: string;
  readonly mtu?: number;
}

/** Cluster-wide settings (the non-node, non-pod part of the cluster spec). */
export interface ClusterSettings {
  readonly podCidr?: string;
  readonly nodeCidrMaskSize?: number;
  readonly underlay?: {
    readonly segments: readonly SegmentSpec[];
    /**
     * What joins the segments. `linux` (default): a router like a Linux host, which decrements the TTL,
     * answers an expiring one with ICMP time exceeded and so is a traceroute hop. `vpc`: a cloud VPC's
     * implicit router (the segments are the VPC's subnets), which forwards between them without
     * decrementing the TTL: traceroute never shows it, as on AWS.
     */
    readonly router?: 'linux' | 'vpc';
  };
}

/** A node to add. `ip` and `podCidr` are allocated when omitted. */
export interface NodeSpec {
  readonly name: string;
  readonly ip?: string;
  readonly podCidr?: string;
  readonly segment?: string;
  /** Pods this node accepts (kubelet --max-pods); default 110. */
  readonly maxPods?: number;
}

/** Where transitions report what Kubernetes would record as events (scheduler and kubelet). */
export type EventSink = KubeEvent[];

/** A pod to add. `ip` is allocated by the design's IPAM when omitted. */
export interface PodSpec {
  readonly name: string;
  readonly namespace?: string;
  /**
   * The node to run on (`spec.nodeName`: the scheduler is bypassed and the kubelet admits or rejects
   * it). Omit it and the scheduler picks a node that fits, or leaves the pod Pending.
   */
  readonly node?: string;
  readonly ip?: string;
  readonly hostNetwork?: boolean;
  readonly containers?: readonly { readonly name: string; readonly image?: string; readonly ports?: readonly (number | { readonly port: number; readonly protocol?: 'TCP' | 'UDP' })[] }[];
  readonly labels?: Readonly<Record<string, string>>;
}

/** What a transition touched: the incremental checks look only here. */
export interface Footprint {
  readonly nodes: readonly string[];
  readonly podsAdded: readonly string[];
  readonly podsRemoved: readonly string[];
  /** True when the change can affect every path (the underlay, a shared peer set). */
  readonly global: boolean;
}

const NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Validates a Kubernetes object name (RFC 1123 label; nodes may use subdomains). */
export function checkName(name: unknown, what: string, subdomain = false): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > (subdomain ? 253 : 63) || !(subdomain ? SUBDOMAIN_RE : NAME_RE).test(name)) {
    fail('INVALID_NAME', `${what} name "${shown(name)}" is invalid: a lowercase RFC 1123 ${subdomain ? 'subdomain' : 'label'} must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character`, { value: name });
  }
  return name;
}

const newLo = (): Link => ({ kind: 'loopback', name: 'lo', ifindex: 1, mtu: 65536, mac: '00:00:00:00:00:00', up: true, addrs: [{ ip: 0x7f000001, len: 8, scope: 'host' }], master: null });
const newSysctl = (forward: boolean): Sysctls => ({ ipForward: forward, rpFilter: 0, proxyArp: {}, bridgeNfCallIptables: true });

/**
 * What a new namespace holds until an action changes it: lo, the default sysctls, empty tables. Every pod
 * and node namespace shares these, frozen, instead of owning a dozen small objects that a built cluster
 * keeps per pod. States are immutable: under immer a write copies as always, and a transition applied in
 * place (buildClusterState) gets its own copy at the first write (ops/actions.ts `writable`).
 */
const PRISTINE = (() => {
  const lo = newLo();
  Object.freeze(lo.addrs[0]);
  Object.freeze(lo.addrs);
  const sysctl = [newSysctl(false), newSysctl(true)].map((s) => Object.freeze({ ...s, proxyArp: Object.freeze({}) }));
  return { lo: Object.freeze(lo), sysctl, table: Object.freeze(dict<never>()), list: Object.freeze([]) as readonly never[] };
})();

/**
 * A namespace with lo only. `shared: false` gives it parts of its own: the cluster's first state is
 * copied with structuredClone by buildClusterState, which would make one writable object of parts that
 * were shared.
 */
function emptyNs(id: string, forward: boolean, shared = true, listening: readonly string[] = PRISTINE.list): NetNs {
  if (!shared) {
    return netNsRecord(id, { lo: newLo() }, [], dict(), dict(), newSysctl(forward), [], [], [], [], [], [], dict(), dict(), dict(), 2);
  }
  const { lo, table, list } = PRISTINE;
  // Filled into an empty object, whose spare in-object slots take the next links (a pod's eth0) without
  // a separate property store.
  const links: Record<string, Link> = {};
  links['lo'] = lo;
  return netNsRecord(id, links, list, table, table, PRISTINE.sysctl[forward ? 1 : 0]!, list, list, list, list, list, listening, table, table, table, 2);
}

/** The listening sockets a pod's containers declare, as its namespace holds them (shared when none). */
function listeningOf(pod: Pod): readonly string[] {
  if (pod.containers === DEFAULT_CONTAINERS) return PRISTINE.list;
  const out = pod.containers.flatMap((c) => c.ports.map((p) => `${p.protocol.toLowerCase()}/${p.port}`));
  return out.length === 0 ? PRISTINE.list : out;
}

/** The default underlay: one segment, 192.168.1.0/24, gateway .1, MTU 1500. */
export const DEFAULT_SEGMENT: SegmentSpec = { name: 'rack-a', cidr: '192.168.1.0/24', gateway: '192.168.1.1', mtu: 1500 };

/** Creates an empty cluster (no nodes) with its underlay, and lets the design initialise. */
export function createClusterState(settings: ClusterSettings, design: CniDesign, now = 0): ClusterState {
  if (settings === null || typeof settings !== 'object') fail('INVALID_ARGUMENT', 'the cluster spec must be an object');
  const podCidr = parseCidr(settings.podCidr ?? '10.244.0.0/16');
  const mask = settings.nodeCidrMaskSize ?? 24;
  if (!Number.isInteger(mask) || mask < podCidr.len || mask > 30) {
    fail('INVALID_ARGUMENT', `nodeCidrMaskSize ${shown(mask)} must be an integer between the pod CIDR's /${podCidr.len} and /30`, { value: mask });
  }
  if (settings.underlay !== undefined && (settings.underlay === null || typeof settings.underlay !== 'object' || Array.isArray(settings.underlay))) {
    fail('INVALID_ARGUMENT', `the underlay must be an object { segments, router? }, not ${JSON.stringify(settings.underlay)}`, { value: settings.underlay });
  }
  const segSpecs = settings.underlay?.segments ?? [DEFAULT_SEGMENT];
  const routerKind = settings.underlay?.router ?? 'linux';
  if (routerKind !== 'linux' && routerKind !== 'vpc') fail('INVALID_ARGUMENT', `underlay router must be "linux" or "vpc", not ${JSON.stringify(routerKind)}`, { value: routerKind });
  if (!Array.isArray(segSpecs) || segSpecs.length === 0) fail('INVALID_ARGUMENT', 'the underlay needs at least one segment');
  const segments: Record<string, Segment> = {};
  let router = emptyNs(UNDERLAY_NS, true, false);
  const links: Record<string, Link> = { ...router.links };
  let ifindex = 2;
  for (const s of segSpecs) {
    if (s === null || typeof s !== 'object' || Array.isArray(s)) fail('INVALID_ARGUMENT', `an underlay segment must be an object { name, cidr, gateway?, mtu? }, not ${JSON.stringify(s)}`, { value: s });
    checkName(s.name, 'segment');
    checkIfName(s.name);
    if (segments[s.name]) fail('DUPLICATE_NAME', `segment "${s.name}" is declared twice`);
    const cidr = parseCidr(s.cidr);
    if (cidr.len > 30) fail('INVALID_CIDR', `segment ${s.name}'s ${s.cidr} is too small for a gateway and nodes`);
    if (cidrOverlaps(cidr, podCidr)) fail('CIDR_OVERLAP', `segment ${s.name}'s ${s.cidr} overlaps the pod CIDR ${formatCidr(podCidr)}`);
    for (const o of Object.values(segments)) if (cidrOverlaps(o.cidr, cidr)) fail('CIDR_OVERLAP', `segments ${o.name} and ${s.name} overlap`);
    const gateway = s.gateway === undefined ? (cidr.addr + 1) >>> 0 : parseIpv4(s.gateway);
    if (!cidrContains(cidr, gateway) || gateway === cidr.addr) fail('IP_OUTSIDE_RANGE', `gateway ${s.gateway} is not a host address of ${s.cidr}`);
    const mtu = s.mtu ?? 1500;
    if (!Number.isInteger(mtu) || mtu < 576 || mtu > 9216) fail('INVALID_ARGUMENT', `segment MTU ${mtu} is out of range (576 to 9216)`);
    const mac = macFromSeed(`underlay|${s.name}`);
    links[s.name] = { kind: 'physical', name: s.name, ifindex: ifindex++, mtu, mac, up: true, addrs: [{ ip: gateway, len: cidr.len, scope: 'global' }], master: null, segment: s.name };
    const ports = emptyShards<{ mac: string; ns: string; dev: string }>();
    shardSet(ports, mac, { mac, ns: UNDERLAY_NS, dev: s.name });
    segments[s.name] = { name: s.name, cidr, gateway, mtu, ports };
  }
  router = { ...router, links, nextIfindex: ifindex };
  let state: ClusterState = {
    podCidr, nodeCidrMaskSize: mask, nodes: emptyShards(), nodeCount: 0, podIndex: emptyShards(), podCount: 0,
    cidrIndex: emptyShards(), ipIndex: emptyShards(), waiting: {}, underlay: { segments, router, ...(routerKind === 'vpc' ? { vpcRouter: true as const } : {}) }, peerSets: {}, cni: null, now,
    alloc: { cidrLowFree: 0, ipLowFree: {}, mixedCidrs: false },
  };
  // Nobody has seen this state yet: index the router's addresses in place.
  indexNs(state as Draft<ClusterState>, router);
  freezeIfOn(state);
  if (design.clusterCreated) {
    const r = design.clusterCreated(state);
    state = produce(state, (d) => {
      applyActionsToDraft(d, r.actions, undefined, null, null, 'clusterCreated', 'the cluster');
      if ('clusterState' in r) d.cni = castDraft(r.clusterState);
    });
  }
  return state;
}

/** The lowest free node block of the pod CIDR (kube-controller-manager's range allocator, lowest first). */
export function allocateNodeCidr(state: ClusterState): Cidr {
  const size = 2 ** (32 - state.nodeCidrMaskSize);
  const count = cidrSize(state.podCidr) / size;
  for (let i = state.alloc.cidrLowFree; i < count; i++) {
    const c = { addr: (state.podCidr.addr + i * size) >>> 0, len: state.nodeCidrMaskSize };
    // The block's own key is the first thing looked for (it was formatted and looked up twice).
    if (overlapsAnyNodeCidr(state, c) === null) return c;
  }
  return fail('CIDR_EXHAUSTED', `the pod CIDR ${formatCidr(state.podCidr)} has no free /${state.nodeCidrMaskSize} block left for another node`);
}

function overlapsAnyNodeCidr(state: ClusterState, c: Cidr): string | null {
  // Node CIDRs of other sizes (pinned ones) can overlap without sharing a key: check by walking only
  // when sizes differ from the default. Same-size blocks are found by key.
  const key = shardGet(state.cidrIndex, formatCidr(c));
  if (key !== undefined) return key;
  if (!state.alloc.mixedCidrs) return null;
  for (const n of shardValues(state.nodes)) if (n.podCidr && cidrOverlaps(n.podCidr, c)) return n.name;
  return null;
}

function allocateNodeIp(state: ClusterState, seg: Segment): Ipv4 {
  const last = (seg.cidr.addr + cidrSize(seg.cidr) - 2) >>> 0;
  for (let ip = Math.max((seg.gateway + 10) >>> 0, seg.cidr.addr + 1, state.alloc.ipLowFree[seg.name] ?? 0); ip <= last; ip++) {
    if (ip !== seg.gateway && shardGet(state.ipIndex, String(ip)) === undefined) return ip >>> 0;
  }
  for (let ip = seg.cidr.addr + 1; ip <= last; ip++) {
    if (ip !== seg.gateway && shardGet(state.ipIndex, String(ip)) === undefined) return ip >>> 0;
  }
  return fail('IP_EXHAUSTED', `segment ${seg.name} (${formatCidr(seg.cidr)}) has no free address for another node`);
}

/**
 * Moves the allocation cursors: `cidrLowFree` to `cidr`, `ipLowFree[segment]` to `ip` (each unless null),
 * and marks mixed node CIDR sizes. The record is replaced by a new one (it holds three fields and a small
 * record per segment), not written through the draft: that drafted the record and its segment cursors,
 * two of a node join's fourteen drafts.
 */
function setAlloc(d: Draft<ClusterState>, cidr: number | null, segment: string, ip: number | null, mixed: boolean): void {
  const alloc = peek(d as ClusterState, 'alloc');
  let ipLowFree = alloc.ipLowFree;
  if (ip !== null && ipLowFree[segment] !== ip) ipLowFree = { ...ipLowFree, [segment]: ip };
  const cidrLowFree = cidr ?? alloc.cidrLowFree;
  const mixedCidrs = mixed || alloc.mixedCidrs;
  // Unchanged, the record stays (a write of the same values through the draft changed nothing either).
  if (cidrLowFree === alloc.cidrLowFree && ipLowFree === alloc.ipLowFree && mixedCidrs === alloc.mixedCidrs) return;
  writeField(d, 'alloc', { cidrLowFree, ipLowFree, mixedCidrs });
}

/** Adds a node: host namespace with lo and eth0 on its segment, default route, podCIDR; then the design. */
export function addNodeState(state: ClusterState, spec: NodeSpec, design: CniDesign): { state: ClusterState; node: Node; footprint: Footprint } {
  let name = '';
  const next = transition(state, (d) => {
    name = addNodeInDraft(d, spec, design);
  });
  return { state: next, node: getNode(next, name), footprint: { nodes: [name], podsAdded: [], podsRemoved: [], global: true } };
}

/**
 * {@link addNodeState}, then {@link settleState} (the pods waiting for a node placed on it), in one
 * transition: what a node joining the simulator's cluster does, with the same state and events as the two
 * one after the other. A second transition redrafted and finalised again what the join had just written
 * (the root, the nodes' shards down to the new node) for each join that placed a waiting pod.
 */
export function addNodeSettledState(state: ClusterState, spec: NodeSpec, design: CniDesign, events: EventSink = []): { state: ClusterState; node: Node } {
  let name = '';
  const next = transition(state, (d) => {
    name = addNodeInDraft(d, spec, design);
    if (retryChangesSomething(snapshot(d) as ClusterState)) settleInDraft(d, design, events);
  });
  return { state: next, node: getNode(next, name) };
}

/** {@link addNodeState} inside an open transition (for batches); returns the node's name. */
export function addNodeInDraft(d: Draft<ClusterState>, spec: NodeSpec, design: CniDesign, announceOnJoin = true): string {
  const state = snapshot(d) as ClusterState; // reads as plain data: a draft proxies and copies what it reads
  if (spec === null || typeof spec !== 'object') fail('INVALID_ARGUMENT', 'a node spec must be an object with a name');
  const name = checkName(spec.name, 'node', true);
  if (findNode(state, name)) fail('DUPLICATE_NAME', `node "${name}" already exists`, { node: name });
  const segName = spec.segment ?? Object.keys(state.underlay.segments)[0]!;
  const seg = Object.prototype.hasOwnProperty.call(state.underlay.segments, segName) ? state.underlay.segments[segName] : undefined;
  if (!seg) fail('SEGMENT_NOT_FOUND', `segment "${segName}" does not exist`, { segment: segName });
  let ip: Ipv4;
  if (spec.ip !== undefined) {
    ip = parseIpv4(spec.ip);
    if (!cidrContains(seg.cidr, ip) || ip === seg.cidr.addr || ip === ((seg.cidr.addr + cidrSize(seg.cidr) - 1) >>> 0)) {
      fail('IP_OUTSIDE_RANGE', `node IP ${spec.ip} is not a host address of segment ${seg.name} (${formatCidr(seg.cidr)})`, { ip: spec.ip });
    }
    const owners = shardGet(state.ipIndex, String(ip));
    if (owners) fail('IP_IN_USE', `node IP ${spec.ip} is already assigned to ${owners[0]!.name}`, { ip: spec.ip, owner: owners[0]!.name });
  } else ip = allocateNodeIp(state, seg);
  const ipCursor = spec.ip === undefined && ip >= ((seg.gateway + 10) >>> 0) ? ip + 1 : null;
  let podCidr: Cidr;
  let mixed = false;
  if (spec.podCidr !== undefined) {
    podCidr = parseCidr(spec.podCidr);
    if (!cidrContains(state.podCidr, podCidr.addr) || podCidr.len < state.podCidr.len) {
      fail('CIDR_OUTSIDE', `node podCIDR ${spec.podCidr} is not inside the cluster pod CIDR ${formatCidr(state.podCidr)}`, { podCidr: spec.podCidr });
    }
    if (podCidr.len > 30) fail('INVALID_CIDR', `node podCIDR ${spec.podCidr} is too small (at most /30)`);
    const pc = podCidr;
    const clash = shardGet(state.cidrIndex, formatCidr(pc)) ?? (pc.len !== state.nodeCidrMaskSize || state.alloc.mixedCidrs
      ? [...shardValues(state.nodes)].find((n) => n.podCidr && cidrOverlaps(n.podCidr, pc))?.name : undefined);
    if (clash !== undefined) fail('CIDR_OVERLAP', `node podCIDR ${spec.podCidr} overlaps node ${clash}'s`, { podCidr: spec.podCidr, node: clash });
    mixed = podCidr.len !== state.nodeCidrMaskSize;
  } else podCidr = allocateNodeCidr(state);
  const cidrCursor = spec.podCidr === undefined ? (podCidr.addr - state.podCidr.addr) / 2 ** (32 - state.nodeCidrMaskSize) + 1 : null;
  if (spec.maxPods !== undefined && (!Number.isInteger(spec.maxPods) || spec.maxPods < 0)) fail('INVALID_ARGUMENT', `maxPods ${shown(spec.maxPods)} must be a non-negative integer`);

  const nsId = hostNsId(name);
  const mac = macFromSeed(`${nsId}|eth0`);
  const base = emptyNs(nsId, true);
  const eth0: Link = { kind: 'physical', name: 'eth0', ifindex: 2, mtu: seg.mtu, mac, up: true, addrs: [{ ip, len: seg.cidr.len, scope: 'global' }], master: null, segment: seg.name };
  // The host's links, a table: past lo, eth0 and the design's devices its keys are its pods' veth names.
  const links = dict<Link>();
  links['lo'] = base.links['lo']!;
  links['eth0'] = eth0;
  const host: NetNs = {
    ...base, links, nextIfindex: 3,
    routes: [{ dst: { addr: 0, len: 0 }, via: seg.gateway, dev: 'eth0', proto: 'boot', scope: 'global', src: null, onlink: false, metric: 0, type: 'unicast' }],
  };
  const bare: Node = { name, ip, segment: seg.name, podCidr, host, pods: dict(), cni: null, maxPods: 110, created: state.now };
  const maxPods = spec.maxPods ?? design.maxPods?.(bare) ?? 110;
  if (!Number.isInteger(maxPods) || maxPods < 0) fail('CNI_FAILED', `design ${design.name} gave node ${name} maxPods ${shown(maxPods)}`);
  const node: Node = { ...bare, maxPods };
  shardSet(tableToWrite(d as ClusterState, 'nodes'), name, castDraft(node));
  writeField(d, 'nodeCount', state.nodeCount + 1);
  shardSet(tableToWrite(d as ClusterState, 'cidrIndex'), formatCidr(podCidr), name);
  if (cidrCursor !== null || ipCursor !== null || mixed) setAlloc(d, cidrCursor, seg.name, ipCursor, mixed);
  shardSet(segmentTableToWrite(segmentToWrite(d, seg.name)!, 'ports'), mac, { mac, ns: nsId, dev: 'eth0' });
  indexNs(d, host);
  if (announceOnJoin) {
    // The joining node announces its address (gratuitous ARP, as NetworkManager and cloud images do when
    // eth0 comes up): a node or router that talked to the address's previous holder updates its entry.
    // Scan the nodes as plain data (snapshot): only a node that holds a stale entry for the address is
    // drafted, so a join costs a read of each node, not a copy of each.
    for (const other of shardPeekValues(state.nodes)) {
      if (other.name === name || !holdsStale(other.host, ip, mac)) continue;
      const host = hostToWrite(nodeToWrite(d, other.name)!);
      for (const l of Object.values(other.host.links)) if (l.kind === 'physical' && l.segment === seg.name) announce(host, ip, mac, state.now, l.name);
    }
    // The router too is drafted only when it holds such an entry (a join where it talked to nobody's old address drafts nothing).
    if (holdsStale(state.underlay.router, ip, mac)) announce(routerToWrite(d), ip, mac, state.now, seg.name);
  }
  // The design sees the cluster with this node in it (read through the few drafts written above), and the
  // node as that state holds it: the record written above, as it is (not looked up again by name).
  const r = design.nodeAdded(snapshot(d) as ClusterState, node);
  applyActionsToDraft(d, r.actions, undefined, null, null, 'nodeAdded', node.name);
  if ('clusterState' in r) writeField(d, 'cni', castDraft(r.clusterState));
  if ('nodeState' in r) writeField(nodeToWrite(d, name)!, 'cni', castDraft(r.nodeState));
  return name;
}

/**
 * The text of `out` after writing into it, from `at` to its end, the char codes of `len` hex digits of FNV-1a
 * rounds over the seed (the first `n` codes of {@link seedCodes}; each round's hash, eight digits, high
 * first), with the dashes of a UUID's 8-4-4-4-12 text when `uuid`. The identifiers are made of the codes in
 * one `String.fromCharCode`: one flat string each, where joining eight-digit pieces (each three strings) made
 * some 25 throwaway strings per identifier.
 */
function fnvText(out: number[], n: number, len: number, at: number, uuid: boolean): string {
  let h = 0x811c9dc5;
  let k = 0;
  for (let round = 0; round * 8 < len; round++) {
    for (let i = 0; i < n; i++) h = Math.imul(h ^ seedCodes[i]!, 0x01000193);
    h = Math.imul(h ^ round, 0x01000193);
    for (let shift = 28; shift >= 0 && k < len; shift -= 4, k++) {
      if (uuid && (k === 8 || k === 12 || k === 16 || k === 20)) out[at++] = 45;
      out[at++] = hexDigitCode(h >>> shift);
    }
  }
  return String.fromCharCode.apply(null, out);
}
/**
 * Scratch char codes of the identifiers, one array per kind, each as long as its identifier (module-wide: an
 * identifier is made in one go). One array for all, cut to each identifier's length before being read, was
 * trimmed and grown again three times per pod (36, 64, then 55 codes): the three identifiers cost ~10 % less
 * with arrays of their own (a replica of the three, 50,000 pods, 21 alternated rounds: 3511 -> 3181 ns per pod).
 */
const uidCodes: number[] = new Array<number>(36).fill(0);
const sandboxCodes: number[] = new Array<number>(64).fill(0);
const netnsCodes: number[] = new Array<number>(55).fill(0);
/**
 * Scratch char codes of the seed {@link fnvText} hashes, written part by part ({@link seedPart}): a round
 * reads them all again, and the seeds were template strings (ropes) joined only to be read here, each
 * flattened by its first `charCodeAt` (two throwaway strings per identifier, three identifiers per pod).
 */
const seedCodes: number[] = [];

/** Writes the char codes of `s` into {@link seedCodes} from `at`; answers where they end. */
function seedPart(s: string, at: number): number {
  const n = s.length;
  for (let i = 0; i < n; i++) seedCodes[at + i] = s.charCodeAt(i);
  return at + n;
}

/** {@link seedPart} of `|` (the seeds' separator). */
function seedBar(at: number): number {
  seedCodes[at] = 124;
  return at + 1;
}

/** A new pod's UID: 32 hex digits of FNV-1a rounds over `uid|<key>|<now>|<pods>|<waiting>` as a UUID's text (8-4-4-4-12). */
function podUid(key: string, now: number, pods: number, waiting: number): string {
  let n = seedPart('uid', 0);
  n = seedPart(key, seedBar(n));
  n = seedPart(String(now), seedBar(n));
  n = seedPart(String(pods), seedBar(n));
  n = seedPart(String(waiting), seedBar(n));
  return fnvText(uidCodes, n, 32, 0, true);
}

/** The container ID the runtime gives a pod's sandbox (deterministic here): 64 hex digits of FNV-1a rounds over `<key>|<uid>|<created>`. */
export function sandboxId(pod: { key: string; created: number; uid: string }): string {
  // One CNI ADD asks for the same pod's ID several times in a row: remember the last answer.
  const last = lastSandbox;
  if (pod.key === last.key && pod.uid === last.uid && pod.created === last.created) return last.id;
  const n = seedPart(String(pod.created), seedBar(seedPart(pod.uid, seedBar(seedPart(pod.key, 0)))));
  lastSandbox = { key: pod.key, uid: pod.uid, created: pod.created, id: fnvText(sandboxCodes, n, 64, 0, false) };
  return lastSandbox.id;
}
let lastSandbox: { readonly key: string; readonly uid: string; readonly created: number; readonly id: string } = { key: '', uid: '', created: NaN, id: '' };

/** The pod's netns path, as containerd names them (`/var/run/netns/cni-<uuid>`). */
export function netnsPath(pod: { uid: string }): string {
  return fnvText(netnsCodes, seedPart(pod.uid, 0), 32, NETNS_PREFIX.length, true);
}
const NETNS_PREFIX = '/var/run/netns/cni-';
for (let i = 0; i < NETNS_PREFIX.length; i++) netnsCodes[i] = NETNS_PREFIX.charCodeAt(i);

/** The containers of a pod that declares none: one `app` container, shared (frozen) by every such pod. */
const DEFAULT_CONTAINERS: readonly Container[] = Object.freeze([Object.freeze({ name: 'app', image: 'registry.k8s.io/pause:3.10', ports: PRISTINE.list })]);

function normaliseContainers(spec: PodSpec): readonly Container[] {
  if (spec.containers === undefined || spec.containers === null) return DEFAULT_CONTAINERS;
  const list = spec.containers;
  if (!Array.isArray(list) || list.length === 0) fail('INVALID_ARGUMENT', `pod ${spec.name} needs at least one container`);
  const names = new Set<string>();
  const bound = new Map<string, string>();
  return list.map((c) => {
    checkName(c?.name, 'container');
    if (names.has(c.name)) fail('DUPLICATE_NAME', `pod ${spec.name} has two containers named "${c.name}"`);
    names.add(c.name);
    const ports = (c.ports ?? []).map((p: number | { readonly port: number; readonly protocol?: 'TCP' | 'UDP' }) => {
      const port = typeof p === 'number' ? p : p?.port;
      const protocol = typeof p === 'number' ? 'TCP' : (p.protocol ?? 'TCP');
      if (!Number.isInteger(port) || port < 1 || port > 65535) fail('INVALID_ARGUMENT', `container ${c.name} port ${shown(port)} is out of range (1 to 65535)`);
      if (protocol !== 'TCP' && protocol !== 'UDP') fail('INVALID_ARGUMENT', `container ${c.name} port protocol ${shown(protocol)} must be TCP or UDP`);
      const k = `${protocol}/${port}`;
      const other = bound.get(k);
      if (other !== undefined) {
        fail('PORT_CONFLICT', `containers "${other}" and "${c.name}" of pod ${spec.name} both listen on ${protocol} ${port}: they share one network namespace, so the second bind fails with "address already in use"`, { pod: spec.name, port, protocol });
      }
      bound.set(k, c.name);
      return { port, protocol } as const;
    });
    return { name: c.name, image: c.image ?? 'registry.k8s.io/pause:3.10', ports: ports.length === 0 ? PRISTINE.list : ports };
  });
}

/** Adds a pod: scheduled (unless it names its node), admitted by the kubelet, wired by the design's CNI ADD. */
export function addPodState(state: ClusterState, spec: PodSpec, design: CniDesign, events: EventSink = []): { state: ClusterState; pod: Pod; footprint: Footprint } {
  let key = '';
  const next = transition(state, (d) => {
    key = addPodInDraft(d, spec, design, events);
  });
  const pod = getPod(next, key);
  return { state: next, pod, footprint: { nodes: pod.node === null ? [] : [pod.node], podsAdded: [key], podsRemoved: [], global: false } };
}

/**
 * {@link addPodState} inside an open transition (for batches); returns the pod's key. Bad input (a
 * malformed spec, a taken name, an unknown node, an address that is taken or that the design's IPAM
 * refuses) throws and changes nothing. What Kubernetes would only report leaves the pod waiting with a
 * status saying why: Pending (no node fits), ContainerCreating (CNI ADD failed), Failed (OutOfpods).
 * `announceArp: false` skips the new pod's gratuitous ARP to its node's namespaces: only for a state the
 * dataplane never ran on (no learnt neighbour entry to update), as {@link buildClusterState} builds.
 */
export function addPodInDraft(d: Draft<ClusterState>, spec: PodSpec, design: CniDesign, events: EventSink = [], announceArp = true): string {
  const state = snapshot(d) as ClusterState; // reads as plain data: a draft proxies and copies what it reads
  if (spec === null || typeof spec !== 'object') fail('INVALID_ARGUMENT', 'a pod spec must be an object with a name');
  // The default namespace is a valid name: no pattern to test (one of two per pod).
  const namespace = spec.namespace === undefined || spec.namespace === null ? 'default' : checkName(spec.namespace, 'namespace');
  const name = checkName(spec.name, 'pod', true);
  const key = `${namespace}/${name}`;
  if (findPod(state, key)) fail('DUPLICATE_NAME', `pod "${key}" already exists`, { pod: key });
  const bound = spec.node === undefined ? null : getNode(state, spec.node);
  const containers = normaliseContainers(spec);
  const hostNetwork = spec.hostNetwork === true;
  if (hostNetwork && spec.ip !== undefined) fail('INVALID_ARGUMENT', `a hostNetwork pod uses its node's IP: do not give it an ip`);
  if (spec.ip !== undefined) {
    // Which addresses a pod may have is the design's business (host-local keeps to the node podCIDR,
    // calico borrows blocks, the AWS VPC CNI hands out VPC addresses): core only refuses one that is taken.
    const ip = parseIpv4(spec.ip);
    const owners = shardGet(state.ipIndex, String(ip));
    if (owners) fail('IP_IN_USE', `pod IP ${spec.ip} is already assigned to ${owners[0]!.kind} ${owners[0]!.name}`, { ip: spec.ip, owner: owners[0]!.name });
    for (const w of Object.values(state.waiting)) {
      if (w.requestedIp === ip) fail('IP_IN_USE', `pod IP ${spec.ip} is already requested by pod ${w.key} (${w.status.phase})`, { ip: spec.ip, owner: w.key });
    }
  }
  const uid = podUid(key, state.now, state.podCount, Object.keys(state.waiting).length);
  // A pod that names its node is bound from the start: admit's copy that binds it returns it as it is.
  const pod: Pod = {
    namespace, name, key, uid, node: bound === null ? null : bound.name, ip: null, hostNetwork, containers, netns: null,
    cniResult: null, status: { phase: 'Pending' }, labels: spec.labels === undefined || spec.labels === null ? NO_LABELS : { ...spec.labels }, created: state.now,
    requestedIp: spec.ip === undefined ? null : parseIpv4(spec.ip),
  };
  if (bound) admit(d, pod, bound, design, events, true, announceArp);
  else schedule(d, pod, design, events, true, announceArp);
  return key;
}

/**
 * Values every running pod, or every pod without labels, holds: one shared object each rather than one
 * per pod (a built cluster keeps 150,000). States are immutable, so sharing them is safe; frozen, so
 * an in-place write fails loudly.
 */
const RUNNING: PodStatus = Object.freeze({ phase: 'Running' });
/** A sandbox's status while its CNI ADD runs (replaced when the ADD answers). */
const CREATING: PodStatus = Object.freeze({ phase: 'ContainerCreating' });
const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * How many pods a node's `pods` record holds, counted once per record: `Object.keys` of a record of a
 * node's pods (a dictionary, util/dict.ts) collects and sorts its keys, at every pod admitted. States are
 * immutable, so a record's count never changes, except where a record is written in place: in the
 * transitions podnet applies in place (buildClusterState), and in an open transition's own copy of a
 * record (a plain copy put in place, or a drafted record's copy: what {@link snapshot} gives), which
 * {@link runPod} and {@link deletePodOf} write key by key, counting the record written from the count of the
 * one it was before. A draft is counted as that copy (or its base),
 * never through the proxy: the pods placed on a joining node made its record a draft after the first, and
 * counting it through immer's traps at each next placement was ~1 % of a flannel property run.
 */
const podCounts = new YoungWeakMap<object, number>();

function podCountOf(pods: Node['pods']): number {
  const plain = snapshot(pods);
  let n = podCounts.get(plain);
  if (n === undefined) {
    n = Object.keys(plain).length;
    podCounts.set(plain, n);
  }
  return n;
}

/**
 * A pod of a node in an open transition, as a draft to change (its namespace): the node's `pods` record is a
 * plain copy once a pod was added or deleted (see {@link runPod}), whose previous pods immer drafts only
 * through a draft of the record (util/immer.ts entryDraft). A pod the transition made is plain, as it is.
 */
function podDraft(n: Draft<Node>, key: string): Draft<Pod> {
  return entryDraft(n as Node, 'pods', key) as Draft<Pod>;
}

/** Pods on a node that count against its max-pods: running ones and those waiting for their sandbox. */
export function nonTerminatedPods(state: ClusterState, node: Node): number {
  let n = podCountOf(node.pods);
  // As plain data: scheduling reads a transition's state, whose waiting pods are a draft once one was placed
  // (walking the draft drafted every waiting pod it passed).
  const waiting = snapshot(state.waiting);
  for (const k in waiting) {
    const w = waiting[k]!;
    if (w.node === node.name && w.status.phase === 'ContainerCreating') n += 1;
  }
  return n;
}

/** How many pods wait for their sandbox (ContainerCreating) on each node; null when none does. */
function sandboxesWaiting(state: ClusterState): Map<string, number> | null {
  let out: Map<string, number> | null = null;
  const waiting = snapshot(state.waiting);
  for (const k in waiting) {
    const w = waiting[k]!;
    if (w.node === null || w.status.phase !== 'ContainerCreating') continue;
    out ??= new Map();
    out.set(w.node, (out.get(w.node) ?? 0) + 1);
  }
  return out;
}

/**
 * kube-scheduler's choice for a pod without a node, which depends on the nodes alone (not on the pod):
 * the nodes with room (pods < allocatable pods), the least loaded first (NodeResourcesFit's
 * LeastAllocated, ties by name); none → the scheduler's message for the pods it leaves Pending.
 */
function placement(state: ClusterState): { readonly node: Node; readonly message: null } | { readonly node: null; readonly message: string } {
  let best: Node | null = null;
  let bestLoad = Infinity;
  let full = 0;
  let cordoned = 0;
  const creating = sandboxesWaiting(state);
  // The nodes as plain data: after a first pod of the transition was placed, the nodes are a draft.
  for (const n of shardPeekValues(state.nodes)) {
    // NodeUnschedulable: a cordoned node is not a candidate (UnschedulableAndUnresolvable).
    if (n.unschedulable) {
      cordoned += 1;
      continue;
    }
    // nonTerminatedPods, with the waiting pods walked once for every node rather than once per node.
    const used = podCountOf(n.pods) + (creating?.get(n.name) ?? 0);
    if (used >= n.maxPods) {
      full += 1;
      continue;
    }
    const load = n.maxPods === 0 ? 1 : used / n.maxPods;
    if (load < bestLoad || (load === bestLoad && best !== null && n.name < best.name)) {
      best = n;
      bestLoad = load;
    }
  }
  if (best !== null) return { node: best, message: null };
  // The scheduler's FitError: reasons counted per node and sorted as strings (sort.Strings), then PostFilter's.
  const why = [...(cordoned ? [`${cordoned} node(s) were unschedulable`] : []), ...(full ? [`${full} Too many pods`] : [])].sort();
  const preempt = [...(cordoned ? [`${cordoned} Preemption is not helpful for scheduling`] : []), ...(full ? [`${full} No preemption victims found for incoming pod`] : [])].sort();
  const message = state.nodeCount === 0
    ? 'no nodes available to schedule pods'
    : `0/${state.nodeCount} nodes are available: ${why.join(', ')}. preemption: 0/${state.nodeCount} nodes are available: ${preempt.join(', ')}.`;
  return { node: null, message };
}

/** kube-scheduler's decision for a pod without a node ({@link placement}): bound and admitted, or left Pending. */
function schedule(d: Draft<ClusterState>, pod: Pod, design: CniDesign, events: EventSink, fresh: boolean, announceArp: boolean): void {
  const state = snapshot(d) as ClusterState; // reads as plain data: a draft proxies and copies what it reads
  const { node: best, message } = placement(state);
  if (best === null) {
    const status: PodStatus = { phase: 'Pending', reason: 'Unschedulable', message };
    const prev = fresh ? undefined : waitingOf(d)[pod.key];
    // The scheduler retries: report again only when the reason changed; an unchanged pod is not rewritten
    // (a retry that changes nothing leaves the state as it was).
    if (prev?.node === null && prev.status.phase === 'Pending' && prev.status.message === message) return;
    if (prev?.status.message !== message) events.push({ type: 'Warning', reason: 'FailedScheduling', from: 'default-scheduler', pod: pod.key, message, time: state.now });
    waitingToWrite(d)[pod.key] = { ...pod, node: null, status };
    return;
  }
  events.push({ type: 'Normal', reason: 'Scheduled', from: 'default-scheduler', pod: pod.key, message: `Successfully assigned ${pod.key} to ${best.name}`, time: state.now });
  admit(d, { ...pod, node: best.name }, best, design, events, fresh, announceArp);
}

/** The kubelet takes a pod bound to its node: admission (max pods), then sandbox and CNI ADD. */
function admit(d: Draft<ClusterState>, pod: Pod, node: Node, design: CniDesign, events: EventSink, fresh: boolean, announceArp: boolean): void {
  const state = snapshot(d) as ClusterState; // reads as plain data: a draft proxies and copies what it reads
  const used = nonTerminatedPods(state, snapshot(node));
  if (used >= node.maxPods) {
    const detail = `Node didn't have enough resource: pods, requested: 1, used: ${used}, capacity: ${node.maxPods}`;
    events.push({ type: 'Warning', reason: 'OutOfpods', from: 'kubelet', pod: pod.key, message: detail, time: state.now });
    waitingToWrite(d)[pod.key] = { ...pod, node: node.name, status: { phase: 'Failed', reason: 'OutOfpods', message: `Pod was rejected: ${detail}` } };
    return;
  }
  runPod(d, pod.node === node.name ? pod : { ...pod, node: node.name }, node, design, events, fresh, announceArp);
}

/**
 * A fresh pod's sandbox (addPodInDraft's pod, with its new namespace, ContainerCreating): the record a running
 * pod keeps. A literal in the key order of addPodInDraft's (the same hidden class), not a spread: V8 tracks the
 * objects a literal makes by its allocation site and, as nearly all of them outlive the young generation here,
 * allocates them in the old one at once, where a spread's copies (no site) were each copied twice by the
 * young-generation GC on their way there.
 */
function sandboxOf(pod: Pod, netns: NetNs): Pod {
  return {
    namespace: pod.namespace, name: pod.name, key: pod.key, uid: pod.uid, node: pod.node, ip: pod.ip, hostNetwork: pod.hostNetwork, containers: pod.containers, netns,
    cniResult: pod.cniResult, status: CREATING, labels: pod.labels, created: pod.created, requestedIp: pod.requestedIp,
  };
}

/**
 * A pod's sandbox failed (`why`, after containerd's "failed to setup network for sandbox"): the pod waits in
 * ContainerCreating, the kubelet reports it once, and nothing the ADD asked for is kept.
 */
function sandboxFailed(d: Draft<ClusterState>, pod: Pod, fresh: boolean, events: EventSink, why: string, record: CniResult | CniError): void {
  const message = `Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "${sandboxId(pod)}": ${why}`;
  const prev = fresh ? undefined : waitingOf(d)[pod.key];
  // The same failure again (the error object too: its code and version are not in the message) changes nothing.
  if (prev?.node === pod.node && prev.status.phase === 'ContainerCreating' && prev.status.message === message && JSON.stringify(prev.cniResult) === JSON.stringify(record)) return;
  if (prev?.status.message !== message) events.push({ type: 'Warning', reason: 'FailedCreatePodSandBox', from: 'kubelet', pod: pod.key, message, time: (d as ClusterState).now });
  waitingToWrite(d)[pod.key] = { ...pod, netns: null, cniResult: record, status: { phase: 'ContainerCreating', reason: 'FailedCreatePodSandBox', message } };
}

/** The sandbox is made and the design's CNI ADD wires it; on failure the pod waits in ContainerCreating. */
function runPod(d: Draft<ClusterState>, pod: Pod, node: Node, design: CniDesign, events: EventSink, fresh: boolean, announceArp: boolean): void {
  const state = d as ClusterState;
  // The node to write (a plain copy, ops/actions.ts nodeToWrite), found once: each is a lookup in the nodes' shards.
  let nd: Draft<Node> | undefined;
  const nodeDraft = (): Draft<Node> => (nd ??= nodeToWrite(d, node.name)!);
  const insert = (p: Pod): Draft<Pod> => {
    // The node's pods as a plain copy put in place (util/immer.ts tableToWrite), not an immer draft: a
    // pod's namespace is changed later in the transition through entryDraft (model podDraft).
    const n = nodeDraft();
    const had = snapshot(heldField(n, 'pods'));
    // A fresh pod (addPodInDraft's, whose key no pod has) is in neither record: the key's first use is
    // the write. A new key looked up before its first write as a property name is looked up in V8's string
    // table, ~0.3 µs a miss; the two looks were 3% of a flannel bulk build.
    const isNew = fresh || !Object.prototype.hasOwnProperty.call(had, p.key);
    const count = podCounts.get(had);
    const pods = tableToWrite(n, 'pods') as Record<string, Draft<Pod>>;
    writeField(pods, p.key, castDraft(p));
    // The record written (the same, changed in place, or its copy): its count follows.
    if (count !== undefined) podCounts.set(snapshot(pods), isNew ? count + 1 : count);
    shardSet(tableToWrite(d as ClusterState, 'podIndex'), p.key, node.name);
    writeField(d, 'podCount', peek(d as ClusterState, 'podCount') + 1);
    if (!fresh && Object.prototype.hasOwnProperty.call(waitingOf(d), p.key)) delete waitingToWrite(d)[p.key];
    // `p` itself, not read back through the pods' draft: a new object, registered above, which immer's get
    // trap would hand back as it is after two traps (isPlainObject and a look at the base on each).
    return castDraft(p);
  };
  if (pod.hostNetwork) {
    insert({ ...pod, ip: node.ip, status: RUNNING });
    return;
  }
  const netns = emptyNs(podNsId(pod.key), false, true, listeningOf(pod));
  const sandbox: Pod = fresh ? sandboxOf(pod, netns) : { ...pod, netns, status: CREATING };
  // CNI ADD sees the cluster as it is, plus the sandbox the runtime made; its actions are applied in the
  // same transition that adds the pod.
  // The design reads plain data, not drafts: a draft wraps every value read in a proxy, and host-local
  // copying its store through one cost more than the rest of the ADD.
  const step = builds.has(d) ? new BuildUndo() : null;
  const req: PodAddRequest = { pod: sandbox, node: snapshot(node), ifname: 'eth0', netns: netnsPath(pod), containerId: sandboxId(pod), requestedIp: pod.requestedIp, inBuild: step ?? undefined };
  const r = step === null ? design.podAdded(snapshot(d) as ClusterState, req) : step.add(design, snapshot(d) as ClusterState, req);
  if ('error' in r) {
    const cniText = `${r.error.msg}${r.error.details ? `: ${r.error.details}` : ''}`;
    if (fresh && pod.requestedIp !== null) {
      // A pinned address the design refuses is a mistake in the input: say so, change nothing.
      throw new PodnetError('IP_OUTSIDE_RANGE', `CNI ADD for pod ${pod.key} failed: ${cniText}`, { pod: pod.key, cniError: r.error });
    }
    const plugin = pluginOf(state, design, node);
    sandboxFailed(d, pod, fresh, events, `plugin type="${plugin.type}" name="${plugin.name}" failed (add): ${cniText}`, r.error);
    return;
  }
  const ip = podIpOf(r.result, req.ifname);
  if (ip === undefined) {
    step?.discard();
    // containerd takes the pod's IP from the addresses the result gives the sandbox's default interface
    // (go-cni's createResult: an address without `interface` counts for it) and fails the sandbox when there
    // are none; it then tears the network down again (CNI DEL), so nothing the ADD did stays.
    sandboxFailed(d, pod, fresh, events, `failed to find network info for sandbox "${sandboxId(pod)}"`, r.result);
    return;
  }
  const p = insert(sandbox);
  // The ADD's actions are given the two namespaces they mostly name: the node's host and the pod's own
  // (plain: a new pod's, made above), which they would otherwise find by id through the nodes' shards.
  const n = nodeDraft();
  applyActionsToDraft(d, r.actions, [hostToWrite(n), p.netns!], null, p.key, 'podAdded (CNI ADD)', p.key);
  if ('clusterState' in r) writeField(d, 'cni', castDraft(r.clusterState));
  if ('nodeState' in r) writeField(n, 'cni', castDraft(r.nodeState));
  p.ip = ip;
  p.cniResult = castDraft(r.result);
  p.status = RUNNING;
  // The bridge and ptp plugins send a gratuitous ARP from the new interface: whoever on the node held an
  // entry for the address (a previous pod's, with its MAC) now has this pod's. Only entries the dataplane
  // learnt can be stale (actions make permanent ones): a cluster being built has none, and skips the look.
  if (!announceArp) return;
  const eth = p.netns?.links[req0(r.result)] ?? Object.values(p.netns?.links ?? {}).find((l) => l.kind !== 'loopback' && l.addrs.length > 0);
  if (eth && ip !== null) {
    const mac = eth.mac as string;
    // Read the host and the pods as plain data; draft only what holds a stale entry.
    if (holdsStale(snapshot(n.host), ip, mac)) announce(hostToWrite(n), ip, mac, state.now, null);
    const pods = snapshot(n.pods);
    for (const key in pods) {
      const other = pods[key]!;
      if (other.netns && other.key !== pod.key && holdsStale(other.netns, ip, mac)) announce(podDraft(n, key).netns as Draft<NetNs>, ip, mac, state.now, null);
    }
  }
}

/** The interface the result names first in the sandbox (CNI results list ips by interface index). */
function req0(result: CniResult): string {
  const i = result.ips[0]?.interface;
  return (i === undefined ? undefined : result.interfaces[i]?.sandbox !== undefined ? result.interfaces[i]!.name : undefined) ?? 'eth0';
}

/** Whether a namespace has a non-permanent neighbour entry for `ip` that an announcement would change. */
function holdsStale(ns: NetNs, ip: Ipv4, mac: string): boolean {
  const neigh = snapshot(ns.neigh);
  for (const k in neigh) {
    const e = neigh[k]!;
    if (e.ip === ip && !e.permanent && (e.mac !== mac || e.failed)) return true;
  }
  return false;
}

/**
 * A gratuitous ARP received: Linux updates an existing neighbour entry for the sender's address with the
 * sender's MAC (arp_process), whichever device it sits on (`onDev` restricts it). Entries are not created.
 */
function announce(ns: Draft<NetNs>, ip: Ipv4, mac: string, now: number, onDev: string | null): void {
  const neigh = peek(ns as NetNs, 'neigh');
  for (const k in neigh) {
    const e = snapshot(neigh[k]!);
    if (e.ip !== ip || e.permanent || (onDev !== null && e.dev !== onDev)) continue;
    if (e.mac === mac && !e.failed) continue;
    (tableToWrite(ns as NetNs, 'neigh') as Record<string, NeighEntry>)[k] = { ...e, mac, failed: false, confirmed: now };
  }
}

/** The first plugin of the node's CNI config (what the kubelet's error names), or the design's name. */
function pluginOf(state: ClusterState, design: CniDesign, node: Node): { type: string; name: string } {
  const files = design.cniConfig?.(state, node) ?? {};
  const first = Object.keys(files).sort()[0];
  if (first !== undefined) {
    try {
      const conf = JSON.parse(files[first]!) as { name?: string; type?: string; plugins?: { type?: string }[] };
      return { type: conf.plugins?.[0]?.type ?? conf.type ?? design.name, name: conf.name ?? design.name };
    } catch {
      // An unreadable config: fall through to the design's name.
    }
  }
  return { type: design.name, name: design.name };
}

/**
 * What Kubernetes keeps doing in the background, done once: the scheduler retries Pending pods and the
 * kubelet retries the sandboxes of ContainerCreating pods, oldest first. Pure; a state with no waiting
 * pods is returned as it is.
 */
export function settleState(state: ClusterState, design: CniDesign, events: EventSink = []): ClusterState {
  if (!retryChangesSomething(state)) return state;
  return transition(state, (d) => settleInDraft(d, design, events));
}

/**
 * Whether retrying the waiting pods can change anything. Not when none is retriable (all Failed), nor
 * when every retriable one is Pending with the message the scheduler would give it again: placement
 * depends on the nodes, not on the pod, so no pod is placed and none is rewritten or reported (what
 * {@link schedule} does for each, in a transition that would change nothing). A pod added before any
 * node waits that way through every change until a node joins; the transition for nothing was ~10% of
 * a flannel property run. A pod waiting for its sandbox (ContainerCreating) is always retried: CNI ADD
 * can succeed now.
 */
function retryChangesSomething(state: ClusterState): boolean {
  let pending: string | null | undefined;
  const waiting = state.waiting;
  for (const k in waiting) {
    const w = waiting[k]!;
    if (w.status.phase === 'Failed') continue;
    if (w.node !== null || w.status.phase !== 'Pending') return true;
    if (pending === undefined) pending = placement(state).message;
    if (pending === null || w.status.message !== pending) return true;
  }
  return false;
}

/** {@link settleState} inside an open transition (`announceArp` as for {@link addPodInDraft}). */
export function settleInDraft(d: Draft<ClusterState>, design: CniDesign, events: EventSink = [], announceArp = true): void {
  const queue = Object.values(waitingOf(d)).filter((w) => w.status.phase !== 'Failed')
    .sort((a, b) => a.created - b.created || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const w of queue) {
    const pod = waitingOf(d)[w.key];
    if (!pod) continue;
    if (pod.node === null) schedule(d, snapshot(pod), design, events, false, announceArp);
    else {
      const node = findNode(snapshot(d) as ClusterState, pod.node);
      if (node) runPod(d, snapshot(pod), snapshot(node), design, events, false, announceArp);
    }
  }
}

/**
 * The waiting pods of a transition, to set and delete keys in (util/immer.ts tableToWrite): a plain copy put
 * in place the first time, not an immer draft. Its entries are pods, only ever replaced whole.
 */
function waitingToWrite(d: Draft<ClusterState>): Record<string, Pod> {
  return tableToWrite(d as ClusterState, 'waiting') as Record<string, Pod>;
}

/** The waiting pods of a transition as plain data (reading them through the draft would copy them). */
function waitingOf(d: Draft<ClusterState>): Readonly<Record<string, Pod>> {
  return peek(d as ClusterState, 'waiting');
}

/**
 * The pod's IP as containerd picks it from an ADD result: the first of the addresses the result gives the
 * default interface `ifname` (those naming it by index, and those naming no interface), or undefined when
 * there is none — the sandbox then fails ("failed to find network info for sandbox").
 */
function podIpOf(result: CniResult, ifname: string): Ipv4 | undefined {
  for (const a of result.ips) {
    if (a.interface !== undefined && result.interfaces[a.interface]?.name !== ifname) continue;
    const slash = a.address.indexOf('/');
    return parseIpv4(slash < 0 ? a.address : a.address.slice(0, slash));
  }
  return undefined;
}

/** Deletes a pod: CNI DEL, then its namespace goes (and with it the pod end of its veth). */
export function deletePodState(state: ClusterState, ref: string, design: CniDesign): { state: ClusterState; footprint: Footprint } {
  const pod = getPod(state, ref);
  // The pod found here is the transition's at its start: not looked up again by key.
  const next = transition(state, (d) => deletePodOf(d, state, pod, design));
  const wired = !state.waiting[pod.key];
  return { state: next, footprint: wired ? { nodes: [pod.node!], podsAdded: [], podsRemoved: [pod.key], global: false } : { nodes: [], podsAdded: [], podsRemoved: [], global: false } };
}

/** {@link deletePodState} inside an open transition (for batches): the pod `key` must exist. */
export function deletePodInDraft(d: Draft<ClusterState>, key: string, design: CniDesign): void {
  const state = snapshot(d) as ClusterState; // reads as plain data: a draft proxies and copies what it reads
  deletePodOf(d, state, peekPod(state, podKeyOf(key)) ?? getPod(state, key), design);
}

/** {@link deletePodInDraft} of `pod` as `state` holds it (the transition's state, read as plain data). */
function deletePodOf(d: Draft<ClusterState>, state: ClusterState, pod: Pod, design: CniDesign): void {
  if (state.waiting[pod.key]) {
    // Never wired (its ADD failed or it never had a node): nothing for CNI DEL to undo.
    delete waitingToWrite(d)[pod.key];
    return;
  }
  const node = snapshot(getNode(state, pod.node!));
  const r = pod.hostNetwork ? { actions: [] } : design.podDeleted(state, snapshot(pod), node);
  // The pod's record as the transition holds it: a draft if the transition changed it already.
  const held = snapshot(snapshot(node.pods))[pod.key];
  const netns = held?.netns ?? null;
  const scratch = netns !== null && !isDraft(held) ? netns : null;
  // The node read once, before the actions: its host is handed to them (a CNI DEL deletes the pod's veth,
  // whose host end the action list would otherwise find by id through the nodes' shards).
  const n = nodeToWrite(d, node.name)!;
  if (scratch !== null) {
    // The namespace disappears with the pod: the DEL's actions change it in a draft of its own, thrown
    // away after, and its remaining addresses leave the IP index from there. Through the transition's
    // draft, the pod record, its namespace and their tables were drafts immer finalised into a state
    // that drops them, and the pod's removal from its node's pods made immer look for the pod's draft
    // in every pod of the node (30 at 150,000 pods, each cold in memory).
    // The namespace is the list's `gone` one: a link deleted in it is left there, its addresses leaving
    // the IP index with the namespace's others just after.
    // Its draft is made only if an action writes it (a DEL mostly deletes the veth and leaves it as it is).
    lazyScratchDraft(scratch, (open) => {
      let ns: Draft<NetNs> | null = null;
      applyActionsToDraft(d, r.actions, [hostToWrite(n)], { plain: scratch, draft: () => (ns ??= open()) }, null, 'podDeleted (CNI DEL)', pod.key);
      unindexNs(d, ns === null ? scratch : snapshot(ns) as NetNs);
    });
  } else applyActionsToDraft(d, r.actions, [hostToWrite(n)], null, null, 'podDeleted (CNI DEL)', pod.key);
  if ('clusterState' in r) writeField(d, 'cni', castDraft(r.clusterState));
  if ('nodeState' in r) writeField(n, 'cni', castDraft(r.nodeState));
  if (netns !== null) {
    // The namespace disappears: veths whose peer lived in it go too, as the kernel deletes both ends.
    removeVethsInto(d, hostToWrite(n), podNsId(pod.key));
    if (scratch === null) unindexNs(d, snapshot(snapshot(n.pods)[pod.key]!.netns!) as NetNs);
  }
  // The node's pods as a plain copy put in place (util/immer.ts tableToWrite), not an immer draft.
  const had = snapshot(heldField(n, 'pods'));
  const present = Object.prototype.hasOwnProperty.call(had, pod.key);
  const count = podCounts.get(had);
  const pods = tableToWrite(n as Node, 'pods') as Record<string, Pod>;
  delete pods[pod.key];
  if (count !== undefined) podCounts.set(snapshot(pods), present ? count - 1 : count);
  shardDelete(tableToWrite(d as ClusterState, 'podIndex'), pod.key);
  writeField(d, 'podCount', peek(d as ClusterState, 'podCount') - 1);
}

/**
 * A pod of a transition's state read as plain data, or undefined: once a pod of the transition was deleted,
 * the pod index is a draft, and a lookup through it drafts the levels it passes (a node's removal deletes
 * its pods one by one).
 */
function peekPod(state: ClusterState, key: string): Pod | undefined {
  const node = shardPeek(state.podIndex, key);
  if (node === undefined) return snapshot(state.waiting)[key];
  const n = shardPeek(state.nodes, node);
  const p = n === undefined ? undefined : snapshot(snapshot(n).pods)[key];
  return p === undefined ? undefined : snapshot(p);
}

function removeVethsInto(d: Draft<ClusterState>, host: Draft<NetNs>, nsId: string): void {
  const links = snapshot(host.links);
  for (const name in links) {
    const l = links[name]!;
    if (l.kind === 'veth' && l.peer.ns === nsId) {
      unindexNs(d, { id: host.id, links: { [l.name]: l } } as unknown as NetNs);
      const routes = peek(host as NetNs, 'routes');
      if (routes.some((r) => r.dev === l.name)) host.routes = castDraft(routes.filter((r) => r.dev !== l.name));
      // Looked at as plain data, drafted only to delete: through `host.neigh` every pod deletion made a draft
      // of the host's neighbour table, which has no entry on a pod's veth (flannel's, bridge's).
      const fdb = peek(host as NetNs, 'fdb');
      for (const k in fdb) if (fdb[k]!.port === l.name) delete (tableToWrite(host as NetNs, 'fdb') as Record<string, unknown>)[k];
      const neigh = peek(host as NetNs, 'neigh');
      for (const k in neigh) if (neigh[k]!.dev === l.name) delete (tableToWrite(host as NetNs, 'neigh') as Record<string, unknown>)[k];
      delete (tableToWrite(host as NetNs, 'links') as Record<string, Link>)[l.name];
      // A port gone from its bridge (br_del_if): the bridge's MTU follows the ports left. Measured: a bridge at
      // 1400 because of one port at 1400 went back to 1500 when that port's namespace was deleted.
      if (l.master !== null) bridgeMtuAutoAdjust(host, l.master);
    }
  }
}

/** Removes a node: its pods are deleted (CNI DEL each), the design forgets the node, the node goes. One transition. */
export function removeNodeState(state: ClusterState, name: string, design: CniDesign): { state: ClusterState; footprint: Footprint } {
  const node = getNode(state, name);
  const removed = Object.keys(node.pods);
  const next = transition(state, (d) => {
    for (const key of removed) deletePodInDraft(d, key, design);
    const s = snapshot(d) as ClusterState;
    const n = snapshot(getNode(s, name));
    const r = design.nodeRemoved(s, n);
    // The pod garbage collector deletes pods bound to a node that is gone.
    for (const w of Object.values(waitingOf(d))) if (w.node === name) delete waitingToWrite(d)[w.key];
    applyActionsToDraft(d, r.actions, undefined, null, null, 'nodeRemoved', name);
    if ('clusterState' in r) writeField(d, 'cni', castDraft(r.clusterState));
    const host = snapshot(n.host);
    unindexNs(d, host);
    // Every NIC of the node leaves its segment (eth0, and any a cloud attached: an ENI).
    for (const l of Object.values(snapshot(host.links))) {
      const seg = l.kind === 'physical' ? segmentToWrite(d, l.segment) : undefined;
      if (seg) shardDelete(segmentTableToWrite(seg, 'ports'), l.mac);
    }
    // A freed block (or address) below the cursor becomes the lowest free one again.
    // Read as plain data: through the draft, the pod CIDR and the cursors were drafted even when unchanged.
    const alloc = peek(d as ClusterState, 'alloc');
    let cidrLow: number | null = null;
    if (n.podCidr) {
      shardDelete(tableToWrite(d as ClusterState, 'cidrIndex'), formatCidr(n.podCidr));
      const podCidr = peek(d as ClusterState, 'podCidr');
      if (n.podCidr.len === s.nodeCidrMaskSize && cidrContains(podCidr, n.podCidr.addr)) {
        const low = Math.min(alloc.cidrLowFree, (n.podCidr.addr - podCidr.addr) / 2 ** (32 - s.nodeCidrMaskSize));
        if (low !== alloc.cidrLowFree) cidrLow = low;
      }
    }
    const cur = alloc.ipLowFree[n.segment];
    const ipLow = cur !== undefined && n.ip < cur ? n.ip : null;
    if (cidrLow !== null || ipLow !== null) setAlloc(d, cidrLow, n.segment, ipLow, false);
    shardDelete(tableToWrite(d as ClusterState, 'nodes'), name);
    writeField(d, 'nodeCount', peek(d as ClusterState, 'nodeCount') - 1);
  });
  return { state: next, footprint: { nodes: [name], podsAdded: [], podsRemoved: removed, global: true } };
}

/**
 * Builds a cluster with its nodes and pods in one transition: the way to build a large cluster. The
 * result is the state that adding each node, then each pod, one by one would give.
 */
export function buildClusterState(settings: ClusterSettings, design: CniDesign, nodes: readonly NodeSpec[] = [], pods: readonly PodSpec[] = [], now = 0, events: EventSink = []): ClusterState {
  if (!Array.isArray(nodes) || !Array.isArray(pods)) fail('INVALID_ARGUMENT', 'nodes and pods must be arrays');
  // An empty cluster is what createClusterState makes (a simulator per property run starts here).
  if (nodes.length === 0 && pods.length === 0) return createClusterState(settings, design, now);
  // The same transitions as addNode/addPod, applied in place to a fresh copy that shares nothing with
  // any other state: no proxies, no per-change copies, one freeze at the end (when freezing is on).
  const d = structuredClone(createClusterState(settings, design, now)) as Draft<ClusterState>;
  builds.add(d);
  try {
    // A fresh cluster has no neighbour entries for a joining node or a new pod to update (only the dataplane
    // learns entries that can go stale): skip the announcements.
    for (const n of nodes) addNodeInDraft(d, n, design, false);
    for (const p of pods) addPodInDraft(d, p, design, events, false);
    settleInDraft(d, design, events, false);
  } finally {
    // Built: from now on the state is shared, and no ADD may change it in place.
    builds.delete(d);
  }
  return freezeIfOn(d as ClusterState);
}

/** The states {@link buildClusterState} is building in place: a design's CNI ADD is told so (`inBuild`). */
const builds = new WeakSet<object>();

/**
 * One CNI ADD of a cluster being built in place: the design may change in place what it made earlier in
 * the build, registering how to undo it; what the ADD's final answer does not keep (an error, no node
 * state, a throw) is undone here, whatever designs wrapped the one that changed it.
 */
class BuildUndo implements BuildStep {
  readonly #undos: (() => void)[] = [];

  undoOnFailure(undo: () => void): void {
    if (typeof undo !== 'function') fail('INVALID_ARGUMENT', 'undoOnFailure needs a function');
    this.#undos.push(undo);
  }

  add(design: CniDesign, state: ClusterState, req: PodAddRequest): PodAddReaction {
    let r: PodAddReaction;
    try {
      r = design.podAdded(state, req);
    } catch (e) {
      this.#undo();
      throw e;
    }
    if ('error' in r || !('nodeState' in r)) this.#undo();
    return r;
  }

  /** Undoes what the design did in place for an ADD that succeeded but whose sandbox failed after all. */
  discard(): void {
    this.#undo();
  }

  #undo(): void {
    const u = this.#undos;
    for (let i = u.length - 1; i >= 0; i--) u[i]!();
    u.length = 0;
  }
}

/** Nodes sorted by name. */
export function listNodes(state: ClusterState): Node[] {
  return [...shardValues(state.nodes)].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Pods sorted by namespace/name. */
export function listPods(state: ClusterState): Pod[] {
  const out: Pod[] = [];
  for (const n of shardValues(state.nodes)) out.push(...Object.values(n.pods));
  out.push(...Object.values(state.waiting));
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export { networkOf, podKeyOf };
