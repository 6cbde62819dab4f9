/**
 * A design driven by a real CNI configuration file. A conflist only wires pods on a node: the plugins
 * run at CNI ADD / DEL / CHECK. What connects nodes — flanneld's VXLAN device and its routes to every
 * other node, calico's BGP — is a node agent, which a configuration file does not describe. Pass one
 * (`fromConflist(text, { agent: flannelAgent() })`) or leave it out: then pods on different nodes have
 * no path to each other, which is the truth for a plain bridge or ptp network, and the guarantees say so.
 */
import {
  fail, formatIpv4, sandboxId, type ClusterState, type CniDesign, type CniError, type CniResult, type DesignReaction, type Node,
  type Pod, type PodAddReaction, type PodAddRequest,
  YoungWeakMap,
} from '@podnet/core';
import { extendingInPlace } from '../ipam/host-local.js';
import { cniError, parseNetworkConfig, type NetworkConfigList } from './config.js';
import { textMemo } from './memo.js';
import { PodInvocation, type CniInvocation, type IpamStores } from './plugins.js';
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
  /**
   * The agent's periodic loops while the clock runs from `from` to `to` (the design's
   * {@link CniDesign.agentTick}): flanneld re-ensures its iptables rules. `node.cni` is the agent's own node state.
   */
  tick?(state: ClusterState, node: Node, from: number, to: number): DesignReaction;
  /** What the agent does when it starts again on a node (its pod deleted and made again): {@link CniDesign.agentRestarted}. */
  restarted?(state: ClusterState, node: Node): DesignReaction;
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
 * The node with `cni` set to `cni` (`{ ...node, cni }`), each of Node's fields written out. The model's node
 * records come in several hidden classes for the same fields (8 in a flannel property campaign: records made by
 * a spread, by immer's copies, with fields whose representation was generalised), and a spread of objects of
 * more than four classes is V8's generic copy: this copy, made at every CNI ADD, DEL, join and leave of a
 * conflist design with an agent, was ~0.6 % of a steady at-end property run's self time. A literal is one
 * class. `conflist-design.test.ts` holds it to the spread (a field added to Node and not here fails it).
 */
function withCni(node: Node, cni: unknown): Node {
  const { name, ip, segment, podCidr, host, pods, maxPods, created, unschedulable } = node;
  // Two literals, not a conditional spread: `unschedulable` is a key only when the node has one.
  return unschedulable === undefined
    ? { name, ip, segment, podCidr, host, pods, cni, maxPods, created }
    : { name, ip, segment, podCidr, host, pods, cni, maxPods, created, unschedulable };
}

/** A configuration read as libcni reads it, refused as a design refuses it: the list, or the CNI error. */
function readList(text: string): NetworkConfigList | CniError {
  const parsed = parseNetworkConfig(text);
  if (!parsed.ok) return parsed.error;
  return parsed.config;
}

/** A list's error out of {@link readList}, thrown as {@link fromConflist} throws it. */
function refuse(list: NetworkConfigList | CniError): NetworkConfigList {
  if (!('plugins' in list)) fail('CNI_CONFIG_INVALID', `CNI error ${list.code}: ${list.msg}${list.details ? ` (${list.details})` : ''}`, { cniError: list });
  if (!hasRichResults(list.cniVersion)) {
    fail('UNSUPPORTED', `cniVersion ${list.cniVersion}${list.text.includes('"cniVersion"') ? '' : ' (what a configuration without "cniVersion" means)'} gives results of the pre-0.3.0 shape ({ip4, dns}), which a pod's result cannot hold: set "cniVersion" to 0.3.1 or later`, { cniVersion: list.cniVersion });
  }
  return list;
}

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
  const list = refuse(readList(text));
  if (options === null || typeof options !== 'object') fail('INVALID_ARGUMENT', 'options must be an object');
  return listDesign(() => list, {
    name: options.name ?? `conflist:${list.name}`,
    fileName: options.fileName ?? `10-${list.name}.${list.format}`,
    ...(options.agent ? { agent: options.agent } : {}),
  });
}

/** Options of {@link fromNodeConfig}. */
export interface NodeConfigOptions {
  /** The design's name. */
  readonly name: string;
  /** The file name in /etc/cni/net.d. */
  readonly fileName: string;
  /** MTU pods get (for the lab's explanations). */
  readonly podMtu?: number;
}

/**
 * A design whose configuration file is written per node, as an installer writes one whose host-local
 * `subnet` is the node's podCIDR: `textOf(node)` is the node's file, run as {@link fromConflist} runs
 * its one file (the same ADD, DEL and CHECK) and returned by `cniConfig()`. Each distinct text is parsed
 * once. A text libcni would refuse, or of a version before 0.3.0, fails that node's CNI ADD and CHECK with
 * the CNI error (and its DEL does nothing), as the runtime would fail on that node only.
 */
export function fromNodeConfig(textOf: (node: Node) => string, options: NodeConfigOptions): CniDesign {
  if (typeof textOf !== 'function') fail('INVALID_ARGUMENT', 'textOf must be a function of the node');
  return listDesign((node) => {
    const list = parsedMemo(textOf(node));
    if (!('plugins' in list) || hasRichResults(list.cniVersion)) return list;
    // podnet's refusal, not the runtime's (a Go error without a CNI code, 0 here), as fromConflist's UNSUPPORTED.
    return cniError(list.cniVersion, 0, `cniVersion ${list.cniVersion} gives results of the pre-0.3.0 shape ({ip4, dns}), which a pod's result cannot hold`);
  }, options, textOf);
}

const parsedMemo = textMemo(readList, 1000);

/** What {@link listDesign} is told besides the node's list. */
interface ListDesignOptions {
  readonly name: string;
  readonly fileName: string;
  readonly agent?: NodeAgent;
  readonly podMtu?: number;
}

/**
 * The design both {@link fromConflist} and {@link fromNodeConfig} are: `listOf(node)` is the list the
 * runtime runs on that node (or the CNI error that stops it), `textOf(node)` its file.
 */
function listDesign(listOf: (node: Node) => NetworkConfigList | CniError, options: ListDesignOptions, textOf?: (node: Node) => string): CniDesign {
  const { agent, fileName } = options;
  const podMtu = options.podMtu ?? agent?.podMtu;
  const nodeState = (node: Node): ConflistNodeState => (node.cni as ConflistNodeState | null) ?? EMPTY_NODE;
  const asAgentNode = (node: Node): Node => withCni(node, nodeState(node).agent);
  /** {@link NodeAgent.tick}'s nodes, by the node they show the agent: nodes are immutable and live across states. */
  const tickNodes = new YoungWeakMap<Node, Node>();
  const wrap = (r: DesignReaction, base: ConflistNodeState): DesignReaction => {
    const nodeState: ConflistNodeState = { agent: 'nodeState' in r ? r.nodeState : base.agent, ipam: base.ipam };
    // Two literals, not a conditional spread (a literal gaining keys through a spread is V8's slow path).
    return 'clusterState' in r ? { actions: r.actions, clusterState: r.clusterState, nodeState } : { actions: r.actions, nodeState };
  };
  // CNI_ARGS is `IgnoreUnknown=1;K8S_POD_NAMESPACE=…;K8S_POD_NAME=…;K8S_POD_INFRA_CONTAINER_ID=…;K8S_POD_UID=…[;IP=…]`, built when read.
  // CNI_NETNS null: the pod's own path, made when a plugin reads it.
  const invocation = (state: ClusterState, node: Node, pod: Pod, containerId: string, netns: string | null, ifname: string, requested: string | null): CniInvocation =>
    new PodInvocation(state, node, pod, containerId, netns, ifname, requested, agent?.files?.(state, asAgentNode(node)) ?? {});

  const design: CniDesign = {
    name: options.name,
    ...(podMtu === undefined ? {} : { podMtu }),
    ...(agent?.clusterCreated ? { clusterCreated: (state: ClusterState) => agent.clusterCreated!(state) } : {}),
    nodeAdded(state, node): DesignReaction {
      const base = nodeState(node);
      return agent ? wrap(agent.nodeAdded(state, asAgentNode(node)), base) : { actions: [], nodeState: base };
    },
    nodeRemoved(state, node): DesignReaction {
      return agent ? wrap(agent.nodeRemoved(state, asAgentNode(node)), nodeState(node)) : { actions: [] };
    },
    ...(agent?.restarted ? {
      agentRestarted(state: ClusterState, node: Node): DesignReaction {
        return wrap(agent.restarted!(state, asAgentNode(node)), nodeState(node));
      },
    } : {}),
    ...(agent?.tick ? {
      agentTick(state: ClusterState, node: Node, from: number, to: number): DesignReaction {
        // Asked of every node each time the clock moves: the agent's view of a node is kept per node object.
        let seen = tickNodes.get(node);
        if (seen === undefined) tickNodes.set(node, (seen = asAgentNode(node)));
        const r = agent.tick!(state, seen, from, to);
        // Nothing done, nothing to store: the clock alone moves (the simulator drafts nothing).
        return r.actions.length === 0 && !('nodeState' in r) && !('clusterState' in r) ? r : wrap(r, nodeState(node));
      },
    } : {}),
    podAdded(state, req: PodAddRequest): PodAddReaction {
      const list = listOf(req.node);
      if (!('plugins' in list)) return { error: list };
      const st = nodeState(req.node);
      const ip = req.requestedIp === null ? null : formatIpv4(req.requestedIp);
      const inv = invocation(state, req.node, req.pod, req.containerId, req.netns, req.ifname, ip);
      // In a build, host-local extends the stores it made in this build in place; an ADD that fails (or
      // answers no result) takes its reservations back.
      const r = req.inBuild !== undefined
        ? extendingInPlace(state, req.inBuild, () => addNetworkList(list, inv, st.ipam), (x) => !x.ok || x.result === null)
        : addNetworkList(list, inv, st.ipam);
      if (!r.ok) return { error: r.error };
      if (r.result === null) return { error: { cniVersion: list.cniVersion, code: 0, msg: `plugin type="${list.plugins.at(-1)!.type}" returned no result` } };
      return { actions: r.actions, result: r.result, nodeState: r.stores === st.ipam && st !== EMPTY_NODE ? st : { agent: st.agent, ipam: r.stores } satisfies ConflistNodeState };
    },
    podDeleted(state, pod, node): DesignReaction {
      const list = listOf(node);
      // A DEL that fails leaves the node as it is (kubelet would retry it); the plugins here only fail on
      // configurations that ADD refused already.
      if (!('plugins' in list)) return { actions: [] };
      const st = nodeState(node);
      const r = delNetworkList(list, invocation(state, node, pod, sandboxId(pod), null, 'eth0', null), st.ipam, (pod.cniResult as CniResult | null) ?? null);
      if (!r.ok) return { actions: [] };
      return { actions: r.actions, nodeState: { agent: st.agent, ipam: r.stores } satisfies ConflistNodeState };
    },
    podChecked(state, pod, node): { readonly error?: CniError } {
      const list = listOf(node);
      if (!('plugins' in list)) return { error: list };
      const r = checkNetworkList(list, invocation(state, node, pod, sandboxId(pod), null, 'eth0', null), nodeState(node).ipam, (pod.cniResult as CniResult | null) ?? null);
      return r.ok ? {} : { error: r.error };
    },
    cniConfig(state, node): Record<string, string> {
      void state;
      return { [fileName]: textOf ? textOf(node) : (listOf(node) as NetworkConfigList).text };
    },
  };
  return design;
}
