/**
 * flannel's host-gw backend, twice: on one L2 segment, where every node routes every other node's pod subnet
 * through that node's address, and with node-3 moved to a second segment behind a router, where the kernel
 * refuses those routes ("Nexthop has invalid gateway"), flanneld logs the failure, and the guarantees show
 * which pods can no longer reach each other — and why.
 */
import { flanneldLog, hostGwLabSpec, simulatorFromSpec } from '@podnet/cni';
import { ipRoute, refusedPeerRoutes, type Simulator } from '@podnet/core';

/** The seed lab's nodes and pods with host-gw: on one segment, or with node-3 on a second one. */
export function hostGwLab(segments: 1 | 2): Simulator {
  return simulatorFromSpec(hostGwLabSpec({ segments }));
}

/** What a student would look at on each lab, as text. */
export function flannelHostGw(): string[] {
  const out: string[] = [];
  const one = hostGwLab(1);
  out.push('== one segment: rack-a 192.168.1.0/24, node-1..3 ==', '$ ip route   (node-1)');
  out.push(...ipRoute(one.state, 'node/node-1').map((l) => `  ${l}`));
  out.push('$ traceroute -n 10.244.3.9   (from pod-a)', ...one.traceroute('pod-a', '10.244.3.9').lines.map((l) => `  ${l}`));
  const full = one.ping('pod-a', '10.244.3.9', { size: 1472 });
  out.push('$ ping -M do -s 1472 10.244.3.9   (no encapsulation: the pod MTU is the underlay MTU)', `  ${full.lines[1]}`);
  out.push(`sim.check().ok = ${String(one.check().ok)}`);

  const two = hostGwLab(2);
  out.push('', '== two segments: node-3 on rack-b 192.168.2.0/24, behind the underlay router ==', '$ ip route   (node-1)');
  out.push(...ipRoute(two.state, 'node/node-1').map((l) => `  ${l}`));
  for (const n of ['node-1', 'node-3']) {
    out.push(`refused on ${n}:`);
    for (const r of refusedPeerRoutes(two.state, two.node(n).host)) out.push(`  ${r.owner}'s route: ${r.error} (${r.errno})`);
    out.push(`flanneld on ${n}:`, ...flanneldLog(two.state, n).map((l) => `  ${l}`));
  }
  out.push('$ ping -c 1 10.244.3.2   (from pod-a)', ...two.ping('pod-a', '10.244.3.2').lines.filter((l) => l !== '').map((l) => `  ${l}`));
  out.push('$ ping -c 1 10.244.3.2   (from node-1)', `  ${two.ping('node-1', '10.244.3.2').lines[1]}`);
  const v = two.check();
  out.push(`sim.check(): ok = ${String(v.ok)}, ${v.violations.length} violations; the first:`, `  ${v.violations[0]!.explanation}`);
  return out;
}
