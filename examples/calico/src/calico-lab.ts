/**
 * calico on two racks: what encapsulation changes. The same five pods on three nodes (node-1 and
 * node-2 on rack-a, node-3 on rack-b), wired by calico with encapsulation none, none with the racks'
 * router peering BGP (ToR), and IPIP CrossSubnet.
 */
import { formatIpv4, ipRoute, type Simulator } from '@podnet/core';
import { calicoBlocks, calicoNodeStatus, simulatorFromSpec, type CalicoOptions } from '@podnet/cni';

/** The two-rack cluster with one calico configuration. */
export function twoRacks(options: CalicoOptions): Simulator {
  return simulatorFromSpec({
    podCidr: '10.244.0.0/16',
    underlay: {
      segments: [
        { name: 'rack-a', cidr: '192.168.1.0/24', gateway: '192.168.1.1' },
        { name: 'rack-b', cidr: '192.168.2.0/24', gateway: '192.168.2.1' },
      ],
    },
    cni: { type: 'calico', ...options },
    nodes: [
      { name: 'node-1', ip: '192.168.1.11', segment: 'rack-a' },
      { name: 'node-2', ip: '192.168.1.12', segment: 'rack-a' },
      { name: 'node-3', ip: '192.168.2.13', segment: 'rack-b' },
    ],
    pods: [
      { name: 'web', node: 'node-1' }, { name: 'api', node: 'node-1' },
      { name: 'cache', node: 'node-2' }, { name: 'db', node: 'node-3' }, { name: 'queue', node: 'node-3' },
    ],
  });
}

/** What a person would look at: node-1's routes, a traceroute from web to db, and the verdict. */
export function report(title: string, sim: Simulator): string[] {
  const db = formatIpv4(sim.pod('db').ip!);
  const trace = sim.traceroute('web', db, { maxHops: 6 });
  const verdict = sim.check();
  return [
    `== ${title}`,
    'ip route on node-1:',
    ...ipRoute(sim.state, 'node/node-1').map((l) => `  ${l}`),
    `traceroute web → db (${db}): ${trace.hops.map((h) => h.address ?? '*').join(' → ')}`,
    `guarantees: ${verdict.ok ? 'all hold' : `${verdict.violations.length} violations, e.g. ${verdict.violations[0]!.explanation}`}`,
  ];
}

/** The three configurations side by side, then the IPAM blocks and BGP sessions of the last. */
export function calicoLab(): string[] {
  const none = twoRacks({ encapsulation: 'none' });
  const tor = twoRacks({ encapsulation: 'none', bgp: { peerWithUnderlay: true } });
  const ipip = twoRacks({ encapsulation: 'ipip', ipipMode: 'CrossSubnet' });
  return [
    ...report('encapsulation none, no ToR peering', none),
    ...report('encapsulation none, the racks\' router peers BGP', tor),
    ...report('IPIP CrossSubnet', ipip),
    '== IPAM blocks (IPIP CrossSubnet)',
    ...calicoBlocks(ipip.state).map((b) => `  ${b.cidr} affinity ${b.affinity} in use ${b.inUse}/${b.size}`),
    '== calicoctl node status on node-3',
    calicoNodeStatus(ipip.state, 'node-3'),
  ];
}
