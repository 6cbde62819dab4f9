/**
 * A command of our own, next to `clusterCommands()`: ptp's bookkeeping, which the three guarantees only see
 * indirectly or never. On every node:
 *
 * - the host table holds exactly one `/32 dev <veth>` route per running pod, to that pod's address through
 *   the host end of that pod's veth (a stale /32 for a deleted pod's address harms nobody until the address
 *   is reused);
 * - the design's IPAM (the node's design state) holds exactly the running pods' addresses: an address
 *   not released at CNI DEL breaks no guarantee, it only shrinks the node's pool until ADD fails with
 *   "no IP addresses available" — pods stuck in ContainerCreating, which the guarantees do not probe.
 */
import { formatIpv4, shardValues } from '@podnet/core';
import type { ClusterModel, ClusterRun } from '@podnet/testing';
import fc from 'fast-check';
import { hostVethName, type PtpNodeState } from './ptp.js';

/** The mismatches on every node: routes without their pod, pods without their route. */
export function hostRouteMismatches(run: ClusterRun): string[] {
  const out: string[] = [];
  for (const node of shardValues(run.sim.state.nodes)) {
    const want = new Map<string, string>();
    for (const pod of Object.values(node.pods)) {
      if (pod.status.phase === 'Running' && pod.ip !== null && !pod.hostNetwork) want.set(formatIpv4(pod.ip), hostVethName(pod));
    }
    const have = new Map<string, string>();
    for (const r of node.host.routes) {
      if (r.dst.len === 32 && r.via === null && r.dev !== null && r.dev.startsWith('veth')) have.set(formatIpv4(r.dst.addr), r.dev);
    }
    for (const [ip, dev] of want) if (have.get(ip) !== dev) out.push(`${node.name}: pod ${ip} has no route \`${ip} dev ${dev}\``);
    for (const [ip, dev] of have) if (!want.has(ip)) out.push(`${node.name}: stale route \`${ip} dev ${dev}\` (no running pod has ${ip})`);
    const taken = (node.cni as PtpNodeState | null)?.taken ?? {};
    for (const ip of Object.keys(taken)) if (!want.has(ip)) out.push(`${node.name}: IPAM still holds ${ip} for ${taken[ip]}, which no running pod has`);
    for (const ip of want.keys()) if (taken[ip] === undefined) out.push(`${node.name}: pod ${ip} runs, but IPAM does not hold its address`);
  }
  return out;
}

export class HostRoutesMatchPods implements fc.Command<ClusterModel, ClusterRun> {
  check(): boolean {
    return true;
  }

  run(_model: ClusterModel, real: ClusterRun): void {
    const bad = hostRouteMismatches(real);
    if (bad.length > 0) throw new Error(`host routes or IPAM do not match the pods:\n${bad.join('\n')}`);
  }

  toString(): string {
    return 'hostRoutesMatchPods';
  }
}

/** For `fc.commands([...clusterCommands(), hostRoutesMatchPodsArb])`. */
export const hostRoutesMatchPodsArb: fc.Arbitrary<HostRoutesMatchPods> = fc.constant(new HostRoutesMatchPods());
