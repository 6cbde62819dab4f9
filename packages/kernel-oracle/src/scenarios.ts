/**
 * What the oracle runs: the table of designs with a kernel rendering (adding one is one line), the
 * fixed scenarios, and the fast-check arbitrary of random small topologies.
 */
import { bridge, broken, calico, flannel, seedLabSpec } from '@podnet/cni';
import { clusterShapeArb } from '@podnet/testing';
import fc from 'fast-check';
import { faultsArb } from './faults.js';
import type { Churn, OracleDesign, Topology } from './oracle.js';

/** Every design the oracle renders, and the kernel features each needs. */
export const DESIGNS: readonly OracleDesign[] = [
  { name: 'flannel-vxlan', make: () => flannel({ backend: 'vxlan' }), needs: ['bridge', 'br_netfilter', 'vxlan', 'iptables'] },
  { name: 'flannel-host-gw', make: () => flannel({ backend: 'host-gw' }), needs: ['bridge', 'br_netfilter', 'iptables'] },
  { name: 'bridge', make: () => bridge(), needs: ['bridge', 'br_netfilter'] },
  { name: 'calico-none', make: () => calico({ encapsulation: 'none' }), needs: ['iptables'] },
  { name: 'calico-vxlan', make: () => calico({ encapsulation: 'vxlan' }), needs: ['vxlan', 'iptables'] },
  { name: 'calico-ipip', make: () => calico({ encapsulation: 'ipip' }), needs: ['ipip', 'iptables'] },
  { name: 'broken-masquerade', make: () => broken.masquerade(), needs: ['bridge', 'br_netfilter', 'vxlan', 'iptables'] },
  { name: 'broken-overlapping-ipam', make: () => broken.overlappingIpam(), needs: ['bridge', 'br_netfilter', 'vxlan', 'iptables'] },
  { name: 'broken-missing-routes', make: () => broken.missingRoutes(), needs: ['bridge', 'br_netfilter', 'iptables'] },
  { name: 'broken-mtu-mismatch', make: () => broken.mtuMismatch(), needs: ['bridge', 'br_netfilter', 'vxlan', 'iptables'] },
];

/** A fixed scenario: a topology for the designs it names (or every design). */
export interface Scenario {
  readonly topology: Topology;
  /** Design names it applies to; every design when absent. */
  readonly designs?: readonly string[];
}

const twoSegments = (mtuA: number, mtuB: number, router: 'linux' | 'vpc' = 'linux') => ({
  podCidr: '10.244.0.0/16',
  nodeCidrMaskSize: 24,
  underlay: {
    segments: [
      { name: 'rack-a', cidr: '192.168.1.0/24', gateway: '192.168.1.1', mtu: mtuA },
      { name: 'rack-b', cidr: '192.168.2.0/24', gateway: '192.168.2.1', mtu: mtuB },
    ],
    ...(router === 'vpc' ? { router } : {}),
  },
});

/** Three nodes with a pod each, two on rack-a and one on rack-b (both 1500), every pair probed. */
const threeNodesTwoSegments = (router: 'linux' | 'vpc' = 'linux') => ({
  settings: twoSegments(1500, 1500, router),
  nodes: [{ name: 'node-1', segment: 'rack-a' }, { name: 'node-2', segment: 'rack-a' }, { name: 'node-3', segment: 'rack-b' }],
  pods: [{ name: 'pod-a', node: 'node-1' }, { name: 'pod-b', node: 'node-2' }, { name: 'pod-c', node: 'node-3' }],
  maxPairs: 30, mtuPairs: 3,
});

/** The fixed scenarios: the seed lab, host-gw and calico across two segments, two VPC subnets, an MTU mismatch. */
export const SCENARIOS: readonly Scenario[] = [
  (() => {
    const s = seedLabSpec();
    const { nodes, pods, cni: _cni, ...settings } = s;
    return { designs: ['flannel-vxlan'], topology: { label: 'seed lab', settings, nodes, pods, maxPairs: 72, mtuPairs: 4, captures: 3 } };
  })(),
  {
    designs: ['flannel-host-gw'],
    topology: { label: 'host-gw across two segments', ...threeNodesTwoSegments() },
  },
  {
    // calico's labs (scripts/calico.sh): BIRD's recursive next hop through the router for the other rack's
    // node with encapsulation none, felix's VXLAN routes, neighbours and FDB entries across the racks.
    designs: ['calico-none', 'calico-vxlan', 'calico-ipip'],
    topology: { label: 'calico across two segments', ...threeNodesTwoSegments() },
  },
  {
    // underlay.router 'vpc': the router between the subnets keeps the TTL (the kernel's: TTL +1 in PREROUTING).
    designs: ['flannel-vxlan', 'calico-vxlan'],
    topology: { label: 'two VPC subnets (the router keeps the TTL)', ...threeNodesTwoSegments('vpc') },
  },
  {
    topology: {
      label: 'MTU mismatch (rack-a 9000, rack-b 1500)',
      settings: twoSegments(9000, 1500),
      nodes: [{ name: 'node-1', segment: 'rack-a' }, { name: 'node-2', segment: 'rack-a' }, { name: 'node-3', segment: 'rack-b' }],
      pods: [{ name: 'pod-a', node: 'node-1' }, { name: 'pod-b', node: 'node-2' }, { name: 'pod-c', node: 'node-3' }],
      maxPairs: 30, mtuPairs: 6,
    },
  },
];

/**
 * Random small topologies: 1–4 nodes on one or two segments, 0–4 pods each, then sometimes a pod
 * deleted or a node removed (so CNI DEL and a node leaving are replayed too).
 */
export function topologyArb(): fc.Arbitrary<Omit<Topology, 'label'>> {
  return plainArb();
}

/**
 * The same topologies, then 1–3 faults (faults.ts) applied to the running cluster: links down, bounced or
 * given another MTU, routes, neighbours and FDB entries deleted, forwarding off, FORWARD dropping.
 */
export function faultedTopologyArb(): fc.Arbitrary<Omit<Topology, 'label'>> {
  return fc.tuple(plainArb(), faultsArb(3)).map(([t, faults]) => ({ ...t, faults }));
}

function plainArb(): fc.Arbitrary<Omit<Topology, 'label'>> {
  return fc.record({
    shape: clusterShapeArb(),
    nodes: fc.array(fc.record({ segment: fc.nat({ max: 1 }), pods: fc.nat({ max: 4 }) }), { minLength: 1, maxLength: 4 }),
    churn: fc.array(fc.oneof(
      { weight: 3, arbitrary: fc.nat({ max: 15 }).map((pod): Churn => ({ op: 'deletePod', pod })) },
      { weight: 1, arbitrary: fc.nat({ max: 3 }).map((node): Churn => ({ op: 'removeNode', node })) },
    ), { maxLength: 2 }),
    seed: fc.nat(),
  }).map(({ shape, nodes, churn, seed }) => {
    const segs = shape.underlay.segments;
    return {
      settings: shape,
      nodes: nodes.map((n, i) => ({ name: `node-${i + 1}`, segment: segs[n.segment % segs.length]!.name })),
      pods: nodes.flatMap((n, i) => Array.from({ length: n.pods }, (_, j) => ({ name: `pod-${i + 1}-${j + 1}`, node: `node-${i + 1}` }))),
      churn,
      seed,
      maxPairs: 8,
      mtuPairs: 1,
    };
  });
}
