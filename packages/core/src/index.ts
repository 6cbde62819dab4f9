/**
 * @podnet/core — the Kubernetes network model as immutable data, a Linux-like forwarding engine, and
 * the three guarantees checked at every step.
 */
export type { Cidr, Ipv4, IfAddrText } from './addr/ipv4.js';
export {
  broadcastOf, cidr, cidrContains, cidrOverlaps, cidrSize, formatCidr, formatIpv4, maskOf, networkOf,
  parseCidr, parseIfAddr, parseIpv4,
} from './addr/ipv4.js';
export type { Mac } from './addr/mac.js';
export { BROADCAST_MAC, isMulticastMac, macFromSeed, macFromSeeds, parseMac } from './addr/mac.js';
export type { ErrorCode } from './errors.js';
export { ERROR_HINTS, fail, isPodnetError, PodnetError, shown } from './errors.js';
export type { BuildStep, CniDesign, CniError, CniResult, DesignReaction, PodAddReaction, PodAddRequest } from './cni/contract.js';
export type {
  BridgeLink, ClusterState, ConfSwitch, ConntrackEntry, TcpCtState, Container, FabricEntry, FdbEntry, IfAddr, IpipLink, IpOwner, IpRule, KubeEvent, Link, LinkKind,
  LoopbackLink, LxcEntry, NeighEntry, NetNs, NfChain, NfRule, Node, NsId, PeerEntry, PeerSet, PeerSetRef, PhysicalLink,
  DevconfValues, IcmpPeer, PlacedPod, Pod, PodStatus, PromoteSysctls, RedirectPeer, RedirectSysctls, Route, RouteException, Segment, Sysctls, TcProg, TunnelEntry, Underlay, VethLink, VxlanLink,
} from './model/types.js';
export { RT_TABLE_MAIN } from './model/types.js';
export type { DevconfKey, DevconfName } from './model/sysctl.js';
export {
  DEVCONF_NAMES, devconfKey, devconfOr, devconfValue, forwardsOn, ICMP_RATELIMIT_DEFAULT, ICMP_RATEMASK_DEFAULT, parseProcInt, readSysctl, rpFilterOn, sysctlKeys,
} from './model/sysctl.js';
export type { ClusterSettings, EventSink, Footprint, NodeSpec, PodSpec, SegmentSpec } from './model/cluster.js';
export {
  addNodeInDraft, addNodeState, addPodInDraft, addPodState, allocateNodeCidr, buildClusterState, createClusterState, DEFAULT_SEGMENT, deletePodInDraft, deletePodState, listNodes,
  listPods, netnsPath, nonTerminatedPods, removeNodeState, sandboxId, settleInDraft, settleState,
} from './model/cluster.js';
export type { NsLocation } from './model/lookup.js';
export { findNode, findNs, findPod, getNode, getNs, getPod, hostNsId, locateNs, podKeyOf, podNsId, UNDERLAY_NS } from './model/lookup.js';
export type { Action, FdbFlushState, IpRuleSpec, NeighState, RouteFlushSpec, RouteSpec, RuleSpec, VpcAssign } from './ops/actions.js';
export type { AddrFlushSelectors, NeighFlushSelectors, NeighFlushState, NeighNud, NeighToFlush, RouteFlushSelectors } from './ops/flush.js';
export { addrsToFlush, neighNud, neighsToFlush, REACHABLE_MS, selectRoutes } from './ops/flush.js';
export { applyActions, checkIfName, fabricKey, fabricLookup, formatMark, NF_BASE_CHAINS, ownChains, parseMark, ruleIs, ruleKey, ruleSpecKey, ruleSpecOf, TC_PROGRAMS } from './ops/actions.js';
export type { LookupOptions, RefusedRoute } from './ops/routing.js';
export { allRoutes, exceptionKey, isLocalAddress, kernelRoutes, localRouteSource, lookupRouteIn, nexthopKey, refusedPeerRouteFor, refusedPeerRoutes, restorablePeerOwners, selectSource } from './ops/routing.js';
export type { IpOptions } from './dataplane/build.js';
export { icmpEcho, ipv4, tcpSyn, udpPacket } from './dataplane/build.js';
export type { SendOptions, SendResult } from './dataplane/engine.js';
export { checkPacket, describePacket, describeRoute, innermost, send } from './dataplane/engine.js';
export type { Counters, DevCounters, NsCounters, PacketsBytes } from './dataplane/counters.js';
export { countersAfter, countersPruned, countersZeroed, devCountersOf, NO_COUNTERS, policyCountersOf, ruleCountersOf, Tally, ZERO_DEV, ZERO_PB } from './dataplane/counters.js';
export type { ConntrackFilter } from './dataplane/conntrack.js';
export { CT_ICMP_TIMEOUT_MS, CT_TCP_SYN_SENT_TIMEOUT_MS, CT_TCP_TIMEOUTS_MS, CT_UDP_STREAM_AFTER_MS, CT_UDP_STREAM_TIMEOUT_MS, CT_UDP_TIMEOUT_MS, ctLive, ctMatches, tcpCtNext } from './dataplane/conntrack.js';
export type { Disposition, HopViolation, PacketFate, Step, StepKind, Trace } from './dataplane/types.js';
export type { AuditOptions, ChangeScope, CheckMemory, CheckResult, CheckRun, GuaranteeName, IncrementalOptions, Violation } from './guarantees/check.js';
export { audit, EMPTY_MEMORY, incrementalCheck, judgeDelivery, sampledAudit, sampledCheck, TWIN_MIN_PODS, uniqueAudit, uniqueCheck } from './guarantees/check.js';
export type { PingOptions, PingReply, PingResult, TracerouteHop, TracerouteOptions, TracerouteResult } from './query/probes.js';
export { endpointNs, ping, PING_BROADCAST_REFUSED, traceroute } from './query/probes.js';
export type { RouteGetAnswer, RouteGetErrno, RouteGetOptions } from './query/route-get.js';
export { routeGet } from './query/route-get.js';
export type { NodeCapacity, SimulatorEvents, SimulatorSpec } from './sim/simulator.js';
export { createSimulator, diffScope, seededRandom, Simulator } from './sim/simulator.js';
export type { Shards } from './util/shards.js';
export { shardGet, shardKeys, shardSize, shardValues } from './util/shards.js';
export * from './wire/index.js';
export type { RouteFormat } from './query/render.js';
export { bridgeFdb, formatRoute, hasCarrier, ipNeigh, ipRoute, ipRule, peerEntries } from './query/render.js';
export { setFreezing } from './util/immer.js';
export { withShortLivedStates, YoungWeakMap } from './util/memo.js';
export type { Command, DescribeOptions, PeerEntrySpec } from './ops/describe.js';
export { describeAction, nsLabel, peerEntryCommands } from './ops/describe.js';
