/**
 * A design driven by a real CNI configuration file. A conflist only wires pods on a node: the plugins
 * run at CNI ADD / DEL / CHECK. What connects nodes — flanneld's VXLAN device and its routes to every
 * other node, calico's BGP — is a node agent, which a configuration file does not describe. Pass one
 * (`fromConflist(text, { agent: flannelAgent() })`) or leave it out: then pods on different nodes have
 * no path to each other, which is the truth for a plain bridge or ptp network, and the guarantees say so.
 */
import {
  fail, formatIpv4, netnsPath, sandboxId, type ClusterState, type CniDesign, type CniError, type CniResult, type DesignReaction, type Node,
  type Pod, type PodAddReaction, type PodAddRequest,
} from '@podnet/core';
import { parseNetworkConfig, type NetworkConfigList } from './config.js';
import type { CniInvocation, IpamStores } from './plugins.js';
import { hasRichResults } from './result.js';
import { addNetworkList, checkNetworkList, delNetworkList } from './runtime.js';

/**
 * The node-agent half of a design (flanneld, a BGP speaker…): it reacts to cluster and node events
 * with actions, like a design, and may write files on the node that the plugins read.
 */
export interface NodeAgent {
  /** E.g. `flanneld`. */
  readonly name: string;
  /** MTU pods get, when the agent decides it. */
  readonly podMtu?: number;
  clusterCreated?(state: ClusterState): DesignReaction;
  /** `node.cni` is the agent's own node state. */
  nodeAdded(state: ClusterState, node: Node): DesignReaction;
  /** `node.cni` is the agent's own node state. */
  nodeRemoved(state: ClusterState, node: Node): DesignReaction;
  /** Files the agent keeps on the node (path → content), e.g. /run/flannel/subnet.env. */
  files?(state: ClusterState, node: Node): Readonly<Record<string, string>>;
}

/** Options of {@link fromConflist}. */
export interface ConflistOptions {
  /** The node agent that connects nodes (none: pods reach only pods of their own node). */
  readonly agent?: NodeAgent;
  /** The design's name (default `conflist:<network name>`). */
  readonly name?: string;
  /** The file name in /etc/cni/net.d (default `10-<network name>.conflist`, or `.conf` for a single config). */
  readonly fileName?: string;
}

/** A conflist design's per-node state: the agent's, and the plugins' IPAM stores. */
interface ConflistNodeState {
  readonly agent: unknown;
  readonly ipam: IpamStores;
}

const EMPTY_NODE: ConflistNodeState = { agent: null, ipam: {} };

/**
 * Reads a CNI configuration (a `.conflist`, or a single `.conf`) and makes it a design: CNI ADD, DEL and
 * CHECK run its plugins as libcni runs a list; `cniConfig()` returns the file as given. Throws
 * `CNI_CONFIG_INVALID` (with the CNI error object in `details.cniError`) when libcni or the plugins'
 * skel would refuse the file, and `UNSUPPORTED` for versions before 0.3.0, whose results have no
 * `ips` list for the pod to be addressed from.
 *
 * @example
 * const design = fromConflist(text, { agent: flannelAgent() });
 * const sim = createSimulator({ podCidr: '10.244.0.0/16', cni: design });
 */
export function fromConflist(text: string, options: ConflistOptions = {}): CniDesign {
  const parsed = parseNetworkConfig(text);
  if (!parsed.ok) {
    const e = parsed.error;
    fail('CNI_CONFIG_INVALID', `CNI error ${e.code}: ${e.msg}${e.details ? ` (${e.details})` : ''}`, { cniError: e });
  }
  const list: NetworkConfigList = parsed.config;
  if (!hasRichResults(list.cniVersion)) {
    fail('UNSUPPORTED', `cniVersion ${list.cniVersion}${list.text.includes('"cniVersion"') ? '' : ' (what a configuration without "cniVersion" means)'} gives results of the pre-0.3.0 shape ({ip4, dns}), which a pod's result cannot hold: set "cniVersion" to 0.3.1 or later`, { cniVersion: list.cniVersion });
  }
  if (options === null || typeof options !== 'object') fail('INVALID_ARGUMENT', 'options must be an object');
  const agent = options.agent;
  const fileName = options.fileName ?? `10-${list.name}.${list.format}`;
  const nodeState = (node: Node): ConflistNodeState => (node.cni as ConflistNodeState | null) ?? EMPTY_NODE;
  const asAgentNode = (node: Node): Node => ({ ...node, cni: nodeState(node).agent });
  const wrap = (r: DesignReaction, base: ConflistNodeState): DesignReaction => ({
    actions: r.actions,
    ...('clusterState' in r ? { clusterState: r.clusterState } : {}),
    nodeState: { agent: 'nodeState' in r ? r.nodeState : base.agent, ipam: base.ipam } satisfies ConflistNodeState,
  });
  const invocation = (state: ClusterState, node: Node, pod: Pod, containerId: string, netns: string, ifname: string, requested: string | null): CniInvocation => ({
    state, node, podKey: pod.key, podUid: pod.uid, podNetns: pod.netns, containerId, netns, ifname,
    args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${pod.namespace};K8S_POD_NAME=${pod.name};K8S_POD_INFRA_CONTAINER_ID=${containerId};K8S_POD_UID=${pod.uid}${requested === null ? '' : `;IP=${requested}`}`,
    files: agent?.files?.(state, asAgentNode(node)) ?? {},
  });

  const design: CniDesign = {
    name: options.name ?? `conflist:${list.name}`,
    ...(agent?.podMtu === undefined ? {} : { podMtu: agent.podMtu }),
    ...(agent?.clusterCreated ? { clusterCreated: (state: ClusterState) => agent.clusterCreated!(state) } : {}),
    nodeAdded(state, node): DesignReaction {
      const base = nodeState(node);
      return agent ? wrap(agent.nodeAdded(state, asAgentNode(node)), base) : { actions: [], nodeState: base };
    },
    nodeRemoved(state, node): DesignReaction {
      return agent ? wrap(agent.nodeRemoved(state, asAgentNode(node)), nodeState(node)) : { actions: [] };
    },
    podAdded(state, req: PodAddRequest): PodAddReaction {
      const st = nodeState(req.node);
      const ip = req.requestedIp === null ? null : formatIpv4(req.requestedIp);
      const r = addNetworkList(list, invocation(state, req.node, req.pod, req.containerId, req.netns, req.ifname, ip), st.ipam);
      if (!r.ok) return { error: r.error };
      if (r.result === null) return { error: { cniVersion: list.cniVersion, code: 0, msg: `plugin type="${list.plugins.at(-1)!.type}" returned no result` } };
      return { actions: r.actions, result: r.result, nodeState: { agent: st.agent, ipam: r.stores } satisfies ConflistNodeState };
    },
    podDeleted(state, pod, node): DesignReaction {
      const st = nodeState(node);
      const r = delNetworkList(list, invocation(state, node, pod, sandboxId(pod), netnsPath(pod), 'eth0', null), st.ipam, (pod.cniResult as CniResult | null) ?? null);
      // A DEL that fails leaves the node as it is (kubelet would retry it); the plugins here only fail on
      // configurations that ADD refused already.
      if (!r.ok) return { actions: [] };
      return { actions: r.actions, nodeState: { agent: st.agent, ipam: r.stores } satisfies ConflistNodeState };
    },
    podChecked(state, pod, node): { readonly error?: CniError } {
      const r = checkNetworkList(list, invocation(state, node, pod, sandboxId(pod), netnsPath(pod), 'eth0', null), nodeState(node).ipam, (pod.cniResult as CniResult | null) ?? null);
      return r.ok ? {} : { error: r.error };
    },
    cniConfig(): Record<string, string> {
      return { [fileName]: list.text };
    },
  };
  return design;
}
