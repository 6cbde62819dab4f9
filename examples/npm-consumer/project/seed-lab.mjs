// The seed lab as a user builds it from the published packages: createSimulator with flannel's VXLAN
// backend, three nodes, pods A–F, then what a user notices (DESIGN.md's example). Plain JavaScript, no
// Node API: app.mjs runs it in Node, browser.mjs in Chromium through an esbuild bundle.
import { createSimulator, formatIpv4 } from '@podnet/core';
import { flannel } from '@podnet/cni';

function same(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

/** Builds the seed lab, checks what a user would notice, and returns it. Throws on any difference. */
export function runSeedLab() {
  const sim = createSimulator({ podCidr: '10.244.0.0/16', cni: flannel({ backend: 'vxlan' }) });
  sim.addNode({ name: 'node-1', ip: '192.168.1.11', podCidr: '10.244.1.0/24' });
  sim.addNode({ name: 'node-2', ip: '192.168.1.12', podCidr: '10.244.2.0/24' });
  sim.addNode({ name: 'node-3', ip: '192.168.1.13', podCidr: '10.244.3.0/24' });
  const pods = [['pod-a', 'node-1', '10.244.1.4'], ['pod-b', 'node-1', '10.244.1.5'], ['pod-c', 'node-2', '10.244.2.3'],
    ['pod-d', 'node-2', '10.244.2.7'], ['pod-e', 'node-3', '10.244.3.2'], ['pod-f', 'node-3', '10.244.3.9']];
  for (const [name, node, ip] of pods) sim.addPod({ name, node, ip });

  const hops = sim.traceroute('pod-a', '10.244.2.3').hops.map((h) => h.address);
  same(hops, ['10.244.1.1', '10.244.2.0', '10.244.2.3'], 'traceroute pod-a → 10.244.2.3');
  const ping = sim.ping('node-1', '10.244.1.4').ok;
  same(ping, true, 'ping node-1 → pod-a');
  const check = sim.check();
  same(check, { ok: true, violations: [] }, 'sim.check()');
  const podIps = sim.pods().map((p) => `${p.name} ${p.ip === null ? '-' : formatIpv4(p.ip)} ${p.node}`);
  same(podIps.length, 6, 'pods');
  return { hops, ping, check, podIps };
}
