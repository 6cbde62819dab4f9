/**
 * Martians in real designs: whatever a pod puts in the source of a packet it sends (a raw socket sends the
 * header it is given), the next IPv4 input drops a multicast, limited-broadcast or loopback source
 * (ip_route_input_slow, measured by packages/cli/scripts/martian-formats.sh; core's dataplane/martian.ts),
 * so no other pod ever takes one in — however the design routes it (veth to the node, a tunnel, eBPF).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSimulator, icmpEcho, podNsId, type CniDesign, type Ipv4 } from '@podnet/core';
import { bridge, calico, cilium, flannel } from './index.js';

const designs: [string, () => CniDesign][] = [
  ['flannel vxlan', () => flannel()], ['flannel host-gw', () => flannel({ backend: 'host-gw' })],
  ['calico ipip', () => calico()], ['calico none', () => calico({ encapsulation: 'none' })],
  ['cilium tunnel', () => cilium()], ['cilium native', () => cilium({ routing: 'native' })], ['bridge', () => bridge()],
];

const martianSource = fc.oneof(
  fc.integer({ min: 0xe0000000, max: 0xefffffff }).map((a) => a >>> 0),
  fc.constant(0xffffffff),
  fc.integer({ min: 0x7f000000, max: 0x7fffffff }),
);

describe('no pod takes in a packet with a martian source', () => {
  for (const [name, design] of designs) {
    it(`${name}: sent from any pod to any pod, node or other address, it is dropped as a martian`, () => {
      const sim = createSimulator({ podCidr: '10.244.0.0/16', cni: design(), checks: 'off' });
      const nodes = name === 'bridge' ? 1 : 2;
      for (let i = 1; i <= nodes; i++) sim.addNode({ name: `node-${i}` });
      for (let i = 0; i < 4; i++) sim.addPod({ name: `p${i}`, node: `node-${(i % nodes) + 1}` });
      const pods = sim.pods();
      const podIps = pods.map((p) => p.ip!);
      const nodeIps = sim.nodes().map((n) => n.ip);
      fc.assert(fc.property(fc.nat(pods.length - 1), martianSource, fc.oneof(fc.constantFrom<Ipv4>(...podIps, ...nodeIps), fc.integer({ min: 0x01000000, max: 0xdfffffff })), (from, src, dst) => {
        // The sender's own addresses (and 127/8) go over its loopback, never through an IPv4 input.
        fc.pre(dst !== pods[from]!.ip && dst >>> 24 !== 127);
        const t = sim.send(`default/${pods[from]!.name}`, icmpEcho(dst, { src }), { record: false });
        const intoPods = t.fates.filter((f) => f.disposition === 'delivered' && f.ns.startsWith('pod/') && f.ns !== podNsId(`default/${pods[from]!.name}`));
        expect(intoPods).toEqual([]);
        expect(t.disposition === 'martianSource' || t.disposition === 'martianDestination' || t.disposition === 'noRoute' || t.disposition === 'neighbourUnreachable').toBe(true);
      }), { numRuns: 60 });
    });
  }
});
