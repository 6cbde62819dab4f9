/**
 * A namespace's links as a list, memoized on its (immutable) links record. The record is a dictionary
 * (util/dict.ts), and V8 enumerates a dictionary slowly: `Object.values` of a host's 34 links cost a few
 * microseconds each time, and the forwarding path enumerated the same host's links five times the first
 * time it met it (its local addresses, its NICs, its tunnels, its kernel routes, a bridge's flood plan).
 * At 150,000 pods most namespaces a sampled check probes are met for the first time, so that was a large
 * part of a probe. Only for committed states: a links record an open transition still changes in place
 * would keep the list it had when first asked (the engine and the memoized route tables read committed
 * states only).
 */
import type { Link, NetNs, Node, Route } from '../model/types.js';
import { YoungWeakMap } from '../util/memo.js';

/**
 * What is memoized on a links record: its list, and where ops/routing.ts keeps the namespace's own main
 * table, compiled with `routes` (its address prefix routes come from these links). One memo entry per links
 * record for both, not one each: a sampled check at 150,000 pods meets most of its namespaces for the first
 * time, and each weak map entry is one more for the scavenger to walk.
 */
export interface LinksMemo {
  readonly list: readonly Link[];
  /** The routes `ownTable` was compiled with (null until routing.ts compiles it). */
  ownRoutes: readonly Route[] | null;
  /** routing.ts's compiled own table, opaque here. */
  ownTable: unknown;
  /**
   * The engine's view (engine.ts NsView) last made for a namespace with these links, opaque here: a namespace
   * that changed in its tables but not its links (what a send's commit makes) takes its links' part from it.
   */
  view: unknown;
}

const lists = new YoungWeakMap<object, LinksMemo>();

/**
 * The memo of a namespace's links record (see {@link LinksMemo}); its list is in `Object.values` order
 * (what a for-in over the record visits), built from `Object.keys`, whose keys are already internalized
 * strings: on a dictionary it is the cheaper way to the values.
 */
export function linksMemo(ns: NetNs): LinksMemo {
  const links = ns.links;
  let m = lists.get(links);
  if (m === undefined) {
    const keys = Object.keys(links);
    const out = new Array<Link>(keys.length);
    for (let i = 0; i < keys.length; i++) out[i] = links[keys[i]!]!;
    lists.set(links, (m = { list: out, ownRoutes: null, ownTable: null, view: null }));
  }
  return m;
}

/** The links of a namespace in `Object.values` order, memoized on the record (see {@link linksMemo}). */
export function linkList(ns: NetNs): readonly Link[] {
  return linksMemo(ns).list;
}

const podKeyLists = new YoungWeakMap<object, readonly string[]>();

/**
 * The keys of a node's pods record (`Object.keys` order), memoized on the record. The record is a
 * dictionary of about 30 pods, which `Object.keys` collects and sorts afresh each time (a few microseconds
 * at 150,000 pods, where it is rarely in the CPU cache): a sampled check draws a random pod of a node and
 * then floods that node's bridge, which reads the same keys.
 */
export function podKeys(node: Node): readonly string[] {
  const pods = node.pods;
  let k = podKeyLists.get(pods);
  if (k === undefined) podKeyLists.set(pods, (k = Object.keys(pods)));
  return k;
}
