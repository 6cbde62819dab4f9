/**
 * The lesson's IP-exhaustion story on the AWS VPC CNI: an m5.large has 3 ENIs of 10 addresses, so it runs
 * 3 × (10 − 1) + 2 = 29 pods (27 on ENI addresses, 2 host-network); the 30th does not fit. Prefix
 * delegation hands out /28 prefixes instead of single addresses and lifts the limit to EKS's cap of 110.
 */
import { awsMaxPods, awsVpc, instanceLimits, type AwsNodeState } from '@podnet/cni';
import { createSimulator, isPodnetError, type Simulator } from '@podnet/core';

const VPC = { segments: [{ name: 'subnet-a', cidr: '10.0.0.0/16', gateway: '10.0.0.1', mtu: 9001 }] };

/** One m5.large node with aws-node and kube-proxy (host network) and `pods` pods on ENI addresses. */
export function m5Large(options: { prefixDelegation?: boolean; pods: number; maxPods?: number }): Simulator {
  const pd = options.prefixDelegation ?? false;
  const maxPods = options.maxPods ?? awsMaxPods('m5.large', { prefixDelegation: pd });
  return createSimulator({
    underlay: VPC,
    cni: awsVpc({ instanceType: 'm5.large', prefixDelegation: pd }),
    nodes: [{ name: 'node-1', maxPods }],
    pods: [
      { name: 'aws-node', namespace: 'kube-system', node: 'node-1', hostNetwork: true },
      { name: 'kube-proxy', namespace: 'kube-system', node: 'node-1', hostNetwork: true },
      ...Array.from({ length: options.pods }, (_, i) => ({ name: `web-${i}`, node: 'node-1' })),
    ],
  });
}

/** What the node's ENIs hold, one line per ENI. */
export function enis(sim: Simulator): string[] {
  const st = sim.node('node-1').cni as AwsNodeState;
  return st.enis.map((e) => `  ${e.id} (device ${e.deviceIndex}): ${e.slots.length} ${e.slots[0]?.includes('/') ? 'prefixes' : 'secondary addresses'}`);
}

/** Tries to add one more pod; the error a user sees, or null. */
export function onePodMore(sim: Simulator, name: string): string | null {
  try {
    sim.addPod({ name, node: 'node-1' });
    return null;
  } catch (e) {
    if (isPodnetError(e)) return `${e.code}: ${e.message}`;
    throw e;
  }
}

/** What `pnpm run example` prints. */
export function ipExhaustion(): string[] {
  const { enis: n, ipv4PerEni } = instanceLimits('m5.large');
  const out = [`m5.large: ${n} ENIs × ${ipv4PerEni} IPv4 addresses each → max pods ${n} × (${ipv4PerEni} − 1) + 2 = ${awsMaxPods('m5.large')}`, ''];

  const full = m5Large({ pods: 27 });
  out.push(`node-1 runs ${Object.keys(full.node('node-1').pods).length} pods (aws-node and kube-proxy on the host network, 27 on ENI addresses):`, ...enis(full));
  out.push('', 'the 30th pod:', `  ${onePodMore(full, 'web-27')}`);

  const raised = m5Large({ pods: 27, maxPods: 40 });
  out.push('', 'with kubelet --max-pods=40 the pod is admitted, but ipamd has no address left for it:', `  ${onePodMore(raised, 'web-27')}`);

  const pd = m5Large({ pods: 28, prefixDelegation: true });
  out.push('', `prefix delegation (ENABLE_PREFIX_DELEGATION=true): max pods ${awsMaxPods('m5.large', { prefixDelegation: true })} (3 × (9 × 16) + 2 = 434, capped at 110 below 30 vCPUs)`);
  out.push(`node-1 runs ${Object.keys(pd.node('node-1').pods).length} pods:`, ...enis(pd));
  out.push(`the guarantees hold: ${pd.check().ok}`);
  return out;
}
