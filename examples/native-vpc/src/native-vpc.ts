/**
 * Native VPC routing (GKE VPC-native, AKS kubenet): pods are addressed from ranges the cloud routes, so the
 * cloud route table — podnet's underlay router — holds one route per node, added as a node joins and
 * removed as it leaves. A pod on another node is reached through the VPC router, without encapsulation.
 */
import { formatIpv4, ipRoute, type Simulator } from '@podnet/core';
import { nativeVpc } from '@podnet/cni';
import { createSimulator } from '@podnet/core';

export function cluster(provider: 'gke' | 'azure'): Simulator {
  return createSimulator({
    podCidr: '10.4.0.0/14', nodeCidrMaskSize: 24, cni: nativeVpc({ provider }),
    underlay: { segments: [{ name: 'vpc', cidr: '10.0.0.0/20', gateway: '10.0.0.1', mtu: 1460 }] },
    nodes: [{ name: 'node-1' }, { name: 'node-2' }],
    pods: [{ name: 'web', node: 'node-1' }, { name: 'db', node: 'node-2' }],
  });
}

/** What `pnpm run example` prints. */
export function nativeVpcExample(): string[] {
  const out: string[] = [];
  for (const provider of ['gke', 'azure'] as const) {
    const sim = cluster(provider);
    out.push(`-- ${provider}: the cloud route table (the underlay router)`, ...ipRoute(sim.state, 'underlay').filter((l) => l.startsWith('10.4.')));
    const db = formatIpv4(sim.pod('db').ip!);
    out.push(`traceroute web → db (${db}): ${sim.traceroute('web', db).hops.map((h) => h.address ?? '*').join(' → ')}`);
    sim.removeNode('node-2');
    out.push(`after node-2 leaves: ${ipRoute(sim.state, 'underlay').filter((l) => l.startsWith('10.4.')).join('; ')}`);
    out.push(`guarantees: ${sim.check().ok ? 'hold' : 'broken'}`, '');
  }
  return out;
}
