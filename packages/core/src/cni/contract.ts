/**
 * The CNI contract core exports: what a design (a CNI plugin together with its node agent) is told,
 * and what it answers. A design never forwards packets; it only programs the model with actions,
 * exactly as a real plugin programs a node with netlink.
 */
import type { Ipv4 } from '../addr/ipv4.js';
import type { ClusterState, Node, Pod } from '../model/types.js';
import type { Action } from '../ops/actions.js';

/** The CNI spec's result (SPEC.md "ADD Success"): interfaces, ips, routes, dns. */
export interface CniResult {
  readonly cniVersion: string;
  readonly interfaces: readonly { readonly name: string; readonly mac: string; readonly mtu?: number; readonly sandbox?: string }[];
  /** `version` ("4" or "6") is present in 0.3.x and 0.4.0 results only; 1.0.0 dropped it. */
  readonly ips: readonly { readonly version?: '4' | '6'; readonly address: string; readonly gateway?: string; readonly interface?: number }[];
  readonly routes: readonly { readonly dst: string; readonly gw?: string }[];
  readonly dns: { readonly nameservers?: readonly string[]; readonly domain?: string; readonly search?: readonly string[]; readonly options?: readonly string[] };
}

/** The CNI spec's error object, with its well-known codes (7 invalid network config, 11 try again…). */
export interface CniError {
  readonly cniVersion: string;
  readonly code: number;
  readonly msg: string;
  readonly details?: string;
}

/** What a design answers to a cluster event: actions, and its new state. */
export interface DesignReaction {
  readonly actions: readonly Action[];
  /** The design's new cluster-wide state (omit to keep it). */
  readonly clusterState?: unknown;
  /** The design's new state for the node concerned (omit to keep it). */
  readonly nodeState?: unknown;
}

/** A CNI ADD for one pod. */
export interface PodAddRequest {
  readonly pod: Pod;
  readonly node: Node;
  /** CNI_IFNAME. */
  readonly ifname: string;
  /** CNI_NETNS: the pod's namespace path. */
  readonly netns: string;
  /** CNI_CONTAINERID. */
  readonly containerId: string;
  /** An address the caller pins (CNI_ARGS IP=…), or null to let IPAM choose. */
  readonly requestedIp: Ipv4 | null;
  /**
   * Present when this ADD is one step of a cluster built in one transition (`buildClusterState`): the states
   * between its steps are never seen and share nothing with any other state, and the state the design is
   * given is the same object at every step of the build. A design may then extend in place what it made
   * earlier in the same build (its IPAM store) instead of copying it, registering with
   * {@link BuildStep.undoOnFailure} how to take each such change back. podnet takes them back, last first,
   * when the ADD's final answer is an error, has no node state, gives the pod's interface no address (the
   * sandbox then fails, see {@link PodAddReaction}), or throws: a design that hands the request
   * on to another one and then answers otherwise needs to do nothing more. Absent: the design's state is
   * shared with earlier states and is never changed in place.
   */
  readonly inBuild?: BuildStep | undefined;
}

/** One CNI ADD of a cluster being built in place (see {@link PodAddRequest.inBuild}). */
export interface BuildStep {
  /** Registers how to take back a change made in place, should the ADD's final answer be a failure. */
  undoOnFailure(undo: () => void): void;
}

/**
 * The answer to a CNI ADD: a result, or an error (the pod then never runs). The pod's IP is the first address
 * the result gives the pod's interface (`eth0`): an entry of `ips` whose `interface` indexes an interface of that
 * name, or that names no interface. A result with none fails the sandbox as containerd fails it ("failed to find
 * network info for sandbox"): the pod waits in ContainerCreating and nothing the ADD did is kept.
 */
export type PodAddReaction = (DesignReaction & { readonly result: CniResult }) | { readonly error: CniError };

/** A CNI design. Every method is pure: it reads the state it is given and returns actions. */
export interface CniDesign {
  /** A short name, e.g. `flannel-vxlan`. */
  readonly name: string;
  /** MTU pods get (for the lab's explanations). */
  readonly podMtu?: number;
  /**
   * The node's allocatable pods (kubelet --max-pods) when the design imposes one (the AWS VPC CNI's ENI
   * formula); 110 otherwise. A node spec's own `maxPods` wins.
   */
  maxPods?(node: Node): number;
  /** Called once when a cluster is created. */
  clusterCreated?(state: ClusterState): DesignReaction;
  /** A node joined (its host namespace, eth0 and podCIDR exist). */
  nodeAdded(state: ClusterState, node: Node): DesignReaction;
  /** A node is about to leave (its pods are already deleted). */
  nodeRemoved(state: ClusterState, node: Node): DesignReaction;
  /** CNI ADD. */
  podAdded(state: ClusterState, req: PodAddRequest): PodAddReaction;
  /**
   * CNI DEL: best effort and idempotent. It answers what the plugin itself undoes (IPAM releasing the address,
   * rules and routes it added elsewhere); the runtime then deletes the pod's namespace, and with it, as the
   * kernel does, every veth with an end in it (both ends), the routes through those devices and the neighbour
   * and FDB entries on them. A DEL need not delete the veth or the host's /32 route through it.
   */
  podDeleted(state: ClusterState, pod: Pod, node: Node): DesignReaction;
  /**
   * CNI CHECK for a running pod, as the runtime runs it (libcni CheckNetworkList): each plugin of the
   * list, in order, compares what its ADD created (the pod's stored result, `pod.cniResult`, as
   * `prevResult`) with the namespaces as they are now. Answers `{}` when nothing drifted (or when the list
   * sets `disableCheck`), or `{ error }` with the first plugin's error — e.g. an address or route the ADD
   * installed that a user removed. libcni refuses CHECK for lists older than 0.4.0 (`configuration
   * version "0.3.1" does not support the CHECK command`), which is also an `error`. Pure: changes nothing.
   */
  podChecked?(state: ClusterState, pod: Pod, node: Node): { readonly error?: CniError };
  /** What the node's /etc/cni/net.d holds: file name → content. */
  cniConfig?(state: ClusterState, node: Node): Readonly<Record<string, string>>;
  /**
   * The agent's configuration as its DaemonSet's container environment holds it, name → value (aws-node's
   * `ENABLE_PREFIX_DELEGATION`, `WARM_PREFIX_TARGET`…). Absent when the design cannot be reconfigured.
   */
  readonly settings?: Readonly<Record<string, string>>;
  /**
   * The same design with some settings changed (`null` unsets one), as `kubectl set env` on the agent's
   * DaemonSet changes it: pure, touches no cluster. Throws a PodnetError (`INVALID_SETTING`,
   * `UNSUPPORTED`) for what it refuses. `Simulator.reconfigure` then restarts the agents.
   */
  reconfigure?(changes: Readonly<Record<string, string | null>>): CniDesign;
  /**
   * What the node's agent does when it restarts with this design's settings (the DaemonSet's rolling
   * update): ipamd re-reads its environment and reconciles the warm pool. Existing pods keep their
   * addresses; the kubelet's max-pods is not the agent's to change.
   */
  agentRestarted?(state: ClusterState, node: Node): DesignReaction;
  /**
   * What the node's agent does while the simulated clock runs from `from` to `to` (ms, `from` excluded):
   * its periodic loops, as flanneld re-ensures its iptables rules every `--iptables-resync` seconds and puts
   * back what someone deleted. `state.now` is already `to`. `Simulator.advance` calls it for every node, in
   * name order, in the same change as the clock; a loop that finds everything in place returns no actions.
   */
  agentTick?(state: ClusterState, node: Node, from: number, to: number): DesignReaction;
}
