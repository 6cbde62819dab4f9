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
import type { Link, NetNs, Node } from '../model/types.js';

const lists = new WeakMap<object, readonly Link[]>();

/**
 * The links of a namespace in `Object.values` order (what a for-in over the record visits), memoized on
 * the record. Built from `Object.keys`, whose keys are already internalized strings: on a dictionary it
 * is the cheaper way to the values.
 */
export function linkList(ns: NetNs): readonly Link[] {
  const links = ns.links;
  let l = lists.get(links);
  if (l === undefined) {
    const keys = Object.keys(links);
    const out = new Array<Link>(keys.length);
    for (let i = 0; i < keys.length; i++) out[i] = links[keys[i]!]!;
    lists.set(links, (l = out));
  }
  return l;
}

const podKeyLists = new WeakMap<object, readonly string[]>();

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
