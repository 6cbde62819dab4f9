/**
 * The Kubernetes objects the lab shell shows: nodes and pods as the API server returns them, the CNI's
 * own DaemonSet pods named as the real installs name them, and container IDs as containerd makes them.
 */
import { formatCidr, formatIpv4, sandboxId, type Node, type Pod, type PodSpec, type Simulator } from '@podnet/core';
import { fnv, kubeSuffix, rfc3339 } from './format.js';

/** The cluster's version and node OS, as `kubectl get nodes -o wide` prints them. */
export const KUBE_VERSION = 'v1.31.4';
export const NODE_OS = { osImage: 'Ubuntu 24.04.1 LTS', kernelVersion: '6.8.0-49-generic', containerRuntimeVersion: 'containerd://1.7.24' };

/** How a CNI's node agent is installed: its namespace, DaemonSet name, container and image. */
export interface CniDaemonSet {
  readonly namespace: string;
  readonly name: string;
  readonly container: string;
  readonly image: string;
}

/**
 * The DaemonSet a design's real project installs, derived from the design's name: flannel's
 * kube-flannel.yml (namespace kube-flannel since flannel v0.20, DaemonSet kube-flannel-ds), calico's
 * manifest (calico-node in kube-system), cilium's (cilium in kube-system), the AWS VPC CNI's (aws-node in
 * kube-system). Designs without a node agent of their own (the bridge plugin with a static config, kubenet)
 * or whose project podnet does not know get none: null.
 */
export function cniDaemonSet(designName: string): CniDaemonSet | null {
  if (designName.startsWith('flannel')) return { namespace: 'kube-flannel', name: 'kube-flannel-ds', container: 'kube-flannel', image: 'ghcr.io/flannel-io/flannel:v0.26.1' };
  if (designName.startsWith('calico')) return { namespace: 'kube-system', name: 'calico-node', container: 'calico-node', image: 'docker.io/calico/node:v3.29.1' };
  if (designName.startsWith('cilium')) return { namespace: 'kube-system', name: 'cilium', container: 'cilium-agent', image: 'quay.io/cilium/cilium:v1.16.4' };
  if (designName.startsWith('aws')) return { namespace: 'kube-system', name: 'aws-node', container: 'aws-node', image: '602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.19.0' };
  return null;
}

/**
 * The node agents every node runs, as hostNetwork pod specs: kube-proxy and the CNI's DaemonSet pod.
 * They use the node's IP (no pod address) and count against the node's allocatable pods, as they do
 * in a real cluster.
 */
export function nodeAgentSpecs(designName: string, nodes: readonly string[]): PodSpec[] {
  const ds = cniDaemonSet(designName);
  return nodes.flatMap((node) => [
    { namespace: 'kube-system', name: `kube-proxy-${kubeSuffix(`kube-proxy|${node}`)}`, container: 'kube-proxy', image: `registry.k8s.io/kube-proxy:${KUBE_VERSION}`, app: 'kube-proxy' },
    ...(ds ? [{ namespace: ds.namespace, name: `${ds.name}-${kubeSuffix(`${ds.name}|${node}`)}`, container: ds.container, image: ds.image, app: ds.name }] : []),
  ].map((a) => ({
    name: a.name, namespace: a.namespace, node, hostNetwork: true,
    containers: [{ name: a.container, image: a.image }], labels: { 'k8s-app': a.app, 'controller-revision-hash': kubeSuffix(a.app, 10) },
  })));
}

/**
 * The pod a DaemonSet makes again on the node of `pod`, one of its own that was deleted (a new name suffix, the
 * same node, labels and container), or null when `pod` is not a node agent's.
 */
export function agentPodAgain(designName: string, pod: Pod): PodSpec | null {
  if (pod.node === null) return null;
  const app = pod.labels['k8s-app'];
  const spec = nodeAgentSpecs(designName, [pod.node]).find((s) => s.labels?.['k8s-app'] === app && s.namespace === pod.namespace);
  return spec === undefined ? null : { ...spec, name: `${spec.name.slice(0, spec.name.lastIndexOf('-'))}-${kubeSuffix(`${pod.name}|again`)}` };
}

/** Adds the node agents ({@link nodeAgentSpecs}) to a running simulator; nodes that have them are skipped. */
export function installNodeAgents(sim: Simulator): void {
  for (const spec of nodeAgentSpecs(sim.design.name, sim.nodes().map((n) => n.name))) {
    if (!sim.has(`${spec.namespace}/${spec.name}`)) sim.addPod(spec);
  }
}

/** What kubectl shows in STATUS: the phase, or the waiting reason. */
export function podStatusText(p: Pod): string {
  return p.status.phase === 'Failed' && p.status.reason ? p.status.reason : p.status.phase;
}

/** A container's ID as containerd makes it (64 hex digits); crictl shows the first 13. */
export function containerId(pod: Pod, container: string): string {
  const base = sandboxId(pod);
  let out = '';
  for (let i = 0; out.length < 64; i++) out += fnv(`${base}|${container}|${i}`).toString(16).padStart(8, '0');
  return out;
}

/** The Node object as `kubectl get node -o json` returns it (the fields podnet models). */
export function nodeObject(sim: Simulator, n: Node): Record<string, unknown> {
  const cidr = n.podCidr ? formatCidr(n.podCidr) : undefined;
  const pods = String(n.maxPods);
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      creationTimestamp: rfc3339(n.created),
      labels: { 'kubernetes.io/arch': 'amd64', 'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux' },
      name: n.name,
      uid: uuid(`node|${n.name}`),
    },
    spec: {
      ...(cidr ? { podCIDR: cidr, podCIDRs: [cidr] } : {}),
      ...(n.unschedulable ? { taints: [{ effect: 'NoSchedule', key: 'node.kubernetes.io/unschedulable', timeAdded: rfc3339(n.created) }], unschedulable: true } : {}),
    },
    status: {
      addresses: [{ address: formatIpv4(n.ip), type: 'InternalIP' }, { address: n.name, type: 'Hostname' }],
      allocatable: { pods },
      capacity: { pods },
      conditions: [{ lastTransitionTime: rfc3339(n.created), message: 'kubelet is posting ready status', reason: 'KubeletReady', status: 'True', type: 'Ready' }],
      nodeInfo: { architecture: 'amd64', containerRuntimeVersion: NODE_OS.containerRuntimeVersion, kernelVersion: NODE_OS.kernelVersion, kubeletVersion: KUBE_VERSION, operatingSystem: 'linux', osImage: NODE_OS.osImage },
    },
  };
}

/** The Pod object as `kubectl get pod -o json` returns it (the fields podnet models). */
export function podObject(sim: Simulator, p: Pod, restartPolicy = 'Always', args?: readonly string[]): Record<string, unknown> {
  const node = p.node === null ? undefined : sim.node(p.node);
  const running = p.status.phase === 'Running';
  const status: Record<string, unknown> = { phase: p.status.phase === 'ContainerCreating' ? 'Pending' : p.status.phase };
  if (p.status.reason && p.status.phase !== 'ContainerCreating') status['reason'] = p.status.reason;
  if (p.status.message && p.status.phase !== 'ContainerCreating') status['message'] = p.status.message;
  if (p.status.phase === 'Pending') status['conditions'] = [{ message: p.status.message, reason: 'Unschedulable', status: 'False', type: 'PodScheduled' }];
  if (node) status['hostIP'] = formatIpv4(node.ip);
  if (p.ip !== null) { status['podIP'] = formatIpv4(p.ip); status['podIPs'] = [{ ip: formatIpv4(p.ip) }]; }
  if (p.node !== null) {
    status['containerStatuses'] = p.containers.map((c) => ({
      ...(running ? { containerID: `containerd://${containerId(p, c.name)}` } : {}),
      image: c.image, name: c.name, ready: running, restartCount: 0,
      state: running ? { running: { startedAt: rfc3339(p.created) } } : { waiting: { reason: 'ContainerCreating' } },
    }));
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { creationTimestamp: rfc3339(p.created), ...(Object.keys(p.labels).length ? { labels: { ...p.labels } } : {}), name: p.name, namespace: p.namespace, uid: p.uid },
    spec: {
      containers: p.containers.map((c) => ({
        ...(args && args.length ? { args: [...args] } : {}), image: c.image, name: c.name,
        ...(c.ports.length ? { ports: c.ports.map((x) => ({ containerPort: x.port, protocol: x.protocol })) } : {}),
      })),
      ...(p.hostNetwork ? { hostNetwork: true } : {}),
      ...(p.node !== null ? { nodeName: p.node } : {}),
      restartPolicy,
    },
    status,
  };
}

/** A UUID-shaped identifier derived from a seed. */
export function uuid(seed: string): string {
  let h = '';
  for (let i = 0; h.length < 32; i++) h += fnv(`${seed}|${i}`).toString(16).padStart(8, '0');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
