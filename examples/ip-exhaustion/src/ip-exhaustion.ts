/**
 * The lesson's IP-exhaustion story on the AWS VPC CNI: an m5.large has 3 ENIs of 10 addresses, so it runs
 * 3 × (10 − 1) + 2 = 29 pods (27 on ENI addresses, aws-node and kube-proxy on the host network). On a
 * three-node cluster the 88th pod fits nowhere and stays Pending with the scheduler's message; raising
 * --max-pods only moves the failure to CNI ADD (ipamd has no address left); prefix delegation hands out /28
 * prefixes instead of single addresses and lifts the limit to EKS's cap of 110.
 */
import { awsMaxPods, awsVpc, instanceLimits, type AwsNodeState } from '@podnet/cni';
import { createSimulator, type Simulator } from '@podnet/core';

const VPC = { segments: [{ name: 'subnet-a', cidr: '10.0.0.0/16', gateway: '10.0.0.1', mtu: 9001 }] };
const NODES = ['node-1', 'node-2', 'node-3'];

/** Three m5.large nodes with aws-node and kube-proxy each (host network) and `pods` web pods placed by the scheduler. */
export function m5Cluster(options: { prefixDelegation?: boolean; pods: number; maxPods?: number }): Simulator {
  const pd = options.prefixDelegation ?? false;
  return createSimulator({
    underlay: VPC,
    cni: awsVpc({ instanceType: 'm5.large', prefixDelegation: pd }),
    // Without maxPods the design sets it (EKS's bootstrap does, from the ENI formula).
    nodes: NODES.map((name) => (options.maxPods === undefined ? { name } : { name, maxPods: options.maxPods! })),
    pods: [
      ...NODES.flatMap((node) => [
        { name: `aws-node-${node.slice(5)}`, namespace: 'kube-system', node, hostNetwork: true },
        { name: `kube-proxy-${node.slice(5)}`, namespace: 'kube-system', node, hostNetwork: true },
      ]),
      ...Array.from({ length: options.pods }, (_, i) => ({ name: `web-${i}` })),
    ],
  });
}

/** What a node's ENIs hold, one line per ENI. */
export function enis(sim: Simulator, node: string): string[] {
  const st = sim.node(node).cni as AwsNodeState;
  return st.enis.map((e) => `  ${e.id} (device ${e.deviceIndex}): ${e.slots.length} ${e.slots[0]?.includes('/') ? 'prefixes' : 'secondary addresses'}`);
}

/** Adds one more pod for the scheduler to place; what `kubectl get pod` and its events would tell. */
export function onePodMore(sim: Simulator, name: string): string {
  const p = sim.addPod({ name });
  return p.status.phase === 'Running' ? `Running on ${p.node}` : `${p.status.phase}: ${p.status.message}`;
}

/** `kubectl describe node` for each node: allocatable pods against non-terminated pods. */
export function capacities(sim: Simulator): string[] {
  return NODES.map((n) => {
    const c = sim.capacity(n);
    return `  ${n}: Allocatable pods ${c.allocatablePods}, Non-terminated Pods ${c.nonTerminatedPods}`;
  });
}

/** What `pnpm run example` prints. */
export function ipExhaustion(): string[] {
  const { enis: n, ipv4PerEni } = instanceLimits('m5.large');
  const out = [`m5.large: ${n} ENIs × ${ipv4PerEni} IPv4 addresses each → max pods ${n} × (${ipv4PerEni} − 1) + 2 = ${awsMaxPods('m5.large')}`, ''];

  const full = m5Cluster({ pods: 81 });
  out.push('three nodes, 81 web pods placed by the scheduler (27 a node on ENI addresses):', ...capacities(full), 'node-1\'s ENIs:', ...enis(full, 'node-1'));
  out.push('', 'the 88th pod:', `  ${onePodMore(full, 'web-81')}`);

  const raised = m5Cluster({ pods: 81, maxPods: 40 });
  out.push('', 'with kubelet --max-pods=40 the pod is placed, but ipamd has no address left for it:', `  ${onePodMore(raised, 'web-81')}`);

  const pd = m5Cluster({ pods: 81, prefixDelegation: true });
  out.push('', `prefix delegation (ENABLE_PREFIX_DELEGATION=true): max pods ${awsMaxPods('m5.large', { prefixDelegation: true })} (3 × (9 × 16) + 2 = 434, capped at 110 below 30 vCPUs)`);
  out.push('the 88th pod:', `  ${onePodMore(pd, 'web-81')}`, 'node-1\'s ENIs:', ...enis(pd, 'node-1'));
  out.push(`the guarantees hold: ${pd.check().ok}`);
  return out;
}
