/**
 * The one maker of a namespace record with NetNs's required fields. Every namespace podnet makes or rewrites
 * whole (model/cluster.ts's empty namespaces, the engine's commit of what a packet taught) goes through it, so
 * that they all list the fields in one order: V8 then gives them one hidden class, and every reader of states
 * stays monomorphic (a second order, or a spread at a site of its own, made readers polymorphic and cost a
 * property run 8–10 %).
 */
import type { ConntrackEntry, FdbEntry, Link, NeighEntry, NetNs, NfChain, NfRule, PeerSetRef, Route, Sysctls } from './types.js';

export function netNsRecord(
  id: string,
  links: Readonly<Record<string, Link>>,
  routes: readonly Route[],
  neigh: Readonly<Record<string, NeighEntry>>,
  fdb: Readonly<Record<string, FdbEntry>>,
  sysctl: Sysctls,
  rules: readonly NfRule[],
  nfChains: readonly string[],
  nfDropPolicy: readonly NfChain[],
  conntrack: readonly ConntrackEntry[],
  peerSets: readonly PeerSetRef[],
  listening: readonly string[],
  pmtu: NetNs['pmtu'],
  redirectPeers: NetNs['redirectPeers'],
  icmpPeers: NetNs['icmpPeers'],
  nextIfindex: number,
): NetNs {
  return { id, links, routes, neigh, fdb, sysctl, rules, nfChains, nfDropPolicy, conntrack, peerSets, listening, pmtu, redirectPeers, icmpPeers, nextIfindex };
}
