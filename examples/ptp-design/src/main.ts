/**
 * The reference CNI `ptp` plugin's shape with static host routes, written from the docs and tested with
 * @podnet/testing: `pnpm --filter @podnet-examples/ptp-design example`.
 */
import { createSimulator, ipRoute } from '@podnet/core';
import { checkDesign } from '@podnet/testing';
import { ptp } from './ptp.js';

// What the design installs, as `ip route` shows it, and a packet across.
const sim = createSimulator({ podCidr: '10.244.0.0/16', cni: ptp() });
sim.addNode({ name: 'node-1', ip: '192.168.1.11', podCidr: '10.244.1.0/24' });
sim.addNode({ name: 'node-2', ip: '192.168.1.12', podCidr: '10.244.2.0/24' });
sim.addPod({ name: 'pod-a', node: 'node-1' });
sim.addPod({ name: 'pod-c', node: 'node-2' });
console.log('node-1 $ ip route');
console.log(ipRoute(sim.state, 'node/node-1').map((l) => `  ${l}`).join('\n'));
console.log('pod-a $ ip route');
console.log(ipRoute(sim.state, 'pod/default/pod-a').map((l) => `  ${l}`).join('\n'));
console.log('pod-a $ traceroute 10.244.2.2 →', sim.traceroute('pod-a', '10.244.2.2').hops.map((h) => h.address).join(' → '));
console.log();

// Static routes via the other nodes' IPs: one L2 segment.
let failures = 0;
for (const checks of ['every-change', 'at-end'] as const) {
  const r = checkDesign(ptp(), { numRuns: 300, segments: 1, checks });
  console.log(String(r));
  if (!r.ok) failures++;
}
console.log();

// Two realistic mistakes, one at a time.
for (const [what, bugs] of [['bug 1: no gateway address on the host veth', { noGatewayAddress: true }], ['bug 2: pod MTU 9000 on a 1500-byte underlay', { podMtu: 9000 }]] as const) {
  const r = checkDesign(ptp(bugs), { numRuns: 300, segments: 1 });
  console.log(`## ${what}`);
  console.log(String(r));
  console.log();
  if (r.ok) failures++;
}
if (failures > 0) process.exit(1);
