/** Reading the model: resolving namespace ids, nodes and pods. Pure, O(1). */
import { fail, shown } from '../errors.js';
import { shardGet } from '../util/shards.js';
import type { ClusterState, NetNs, Node, NsId, Pod } from './types.js';

/** The id of a node's host namespace. */
export const hostNsId = (node: string): NsId => `node/${node}`;
/** The id of a pod's namespace. */
export const podNsId = (podKey: string): NsId => `pod/${podKey}`;
/** The id of the underlay router's namespace. */
export const UNDERLAY_NS: NsId = 'underlay';

/** Where a namespace id points. */
export type NsLocation =
  | { readonly kind: 'node'; readonly node: string }
  | { readonly kind: 'pod'; readonly node: string; readonly pod: string }
  | { readonly kind: 'underlay' };

/** Resolves a namespace id to its place in the tree, or null when nothing is there. */
export function locateNs(state: ClusterState, id: NsId): NsLocation | null {
  if (typeof id !== 'string') return null;
  if (id === UNDERLAY_NS) return { kind: 'underlay' };
  if (id.startsWith('node/')) {
    const node = id.slice(5);
    return shardGet(state.nodes, node) ? { kind: 'node', node } : null;
  }
  if (id.startsWith('pod/')) {
    const pod = id.slice(4);
    const node = shardGet(state.podIndex, pod);
    if (node === undefined) return null;
    const p = shardGet(state.nodes, node)?.pods[pod];
    return p?.netns ? { kind: 'pod', node, pod } : null;
  }
  return null;
}

/** The namespace with this id, or undefined. */
export function findNs(state: ClusterState, id: NsId): NetNs | undefined {
  if (typeof id !== 'string') return undefined;
  if (id === UNDERLAY_NS) return state.underlay.router;
  if (id.startsWith('node/')) return shardGet(state.nodes, id.slice(5))?.host;
  if (id.startsWith('pod/')) {
    const key = id.slice(4);
    const node = shardGet(state.podIndex, key);
    if (node === undefined) return undefined;
    return shardGet(state.nodes, node)?.pods[key]?.netns ?? undefined;
  }
  return undefined;
}

/** The namespace with this id; throws `NAMESPACE_NOT_FOUND`. */
export function getNs(state: ClusterState, id: NsId): NetNs {
  const ns = findNs(state, id);
  if (!ns) fail('NAMESPACE_NOT_FOUND', `no network namespace "${shown(id)}"`, { ns: id });
  return ns;
}

/** The node with this name, or undefined. */
export function findNode(state: ClusterState, name: string): Node | undefined {
  return typeof name === 'string' ? shardGet(state.nodes, name) : undefined;
}

/** The node with this name; throws `NODE_NOT_FOUND`. */
export function getNode(state: ClusterState, name: string): Node {
  const n = findNode(state, name);
  if (!n) fail('NODE_NOT_FOUND', `node "${shown(name)}" not found`, { node: name });
  return n;
}

/** Normalises a pod reference: `name` means `default/name`. */
export function podKeyOf(ref: string): string {
  return ref.includes('/') ? ref : `default/${ref}`;
}

/** The pod with this key (`ns/name`, or `name` in default), or undefined. */
export function findPod(state: ClusterState, ref: string): Pod | undefined {
  if (typeof ref !== 'string') return undefined;
  const key = podKeyOf(ref);
  const node = shardGet(state.podIndex, key);
  if (node !== undefined) return shardGet(state.nodes, node)?.pods[key];
  const waiting = state.waiting;
  return hasKeys(waiting) && Object.prototype.hasOwnProperty.call(waiting, key) ? waiting[key] : undefined;
}

/**
 * Whether a record has any key. Asked before a key is looked up in the waiting pods, which are mostly none:
 * a lookup by a key never used as a property name (a new pod's, which every pod add asks about) first looks
 * the key up in V8's string table, and that miss was 4 % of a flannel bulk build; the for-in of an empty
 * record reads no string.
 */
function hasKeys(record: object): boolean {
  for (const _ in record) return true;
  return false;
}

/** The pod with this key; throws `POD_NOT_FOUND`. */
export function getPod(state: ClusterState, ref: string): Pod {
  const p = findPod(state, ref);
  if (!p) fail('POD_NOT_FOUND', `pod "${shown(ref)}" not found`, { pod: ref });
  return p;
}

/** The namespace a pod's containers run in (the node's for hostNetwork pods). */
export function podNs(state: ClusterState, pod: Pod): NetNs {
  if (pod.netns) return pod.netns;
  if (!pod.hostNetwork || pod.node === null) fail('POD_NOT_RUNNING', `pod ${pod.key} is ${pod.status.phase}: it has no network namespace`, { pod: pod.key });
  return getNode(state, pod.node).host;
}

/** The node a namespace belongs to (null for the underlay). */
export function nodeOfNs(state: ClusterState, id: NsId): string | null {
  const loc = locateNs(state, id);
  return loc && loc.kind !== 'underlay' ? loc.node : null;
}
