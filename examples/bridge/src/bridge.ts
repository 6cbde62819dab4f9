/**
 * The CNI reference bridge plugin alone: on one node it is all a cluster needs; on two nodes nothing tells a
 * node where the other's pods are, and the guarantees say so — the reason a multi-node cluster needs a
 * design (flannel, calico…) on top of the plugins.
 */
import { createSimulator, formatIpv4, type Simulator } from '@podnet/core';
import { bridge } from '@podnet/cni';

export function cluster(nodes: number): Simulator {
  return createSimulator({
    cni: bridge(),
    nodes: Array.from({ length: nodes }, (_, i) => ({ name: `node-${i + 1}` })),
    pods: Array.from({ length: nodes * 2 }, (_, i) => ({ name: `pod-${i + 1}`, node: `node-${(i % nodes) + 1}` })),
  });
}

/** What `pnpm run example` prints. */
export function bridgeExample(): string[] {
  const one = cluster(1);
  const out = ['-- one node', `pod-1 → pod-2: ${one.ping('pod-1', formatIpv4(one.pod('pod-2').ip!)).ok ? 'reply' : 'no reply'}`, `guarantees: ${one.check().ok ? 'hold' : 'broken'}`, ''];
  const two = cluster(2);
  const verdict = two.check();
  out.push('-- two nodes', `pod-1 (node-1) → pod-2 (node-2): ${two.ping('pod-1', formatIpv4(two.pod('pod-2').ip!)).lines.find((l) => l.includes('transmitted'))}`);
  out.push(`guarantees: ${verdict.ok ? 'hold' : `broken, ${verdict.violations.length} violations, e.g.`}`);
  if (!verdict.ok) out.push(`  ${verdict.violations[0]!.explanation}`);
  return out;
}
