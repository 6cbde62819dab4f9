/**
 * Every design of @podnet/cni under checkDesign, at both check levels: the working ones keep the network
 * model over 200 runs (PODNET_CAMPAIGN_RUNS=N for a longer, opt-in campaign); the broken ones are caught,
 * and their counterexamples shrink to the essence — the same sizes at both levels, pinned here.
 */
import { awsVpc, bridge, broken, calico, cilium, flannel, nativeVpc } from '@podnet/cni';
import type { CniDesign } from '@podnet/core';
import { describe, expect, it } from 'vitest';
import { checkDesign, type CheckDesignOptions } from './check-design.js';
import type { CheckLevel } from './runner.js';

const LEVELS: readonly CheckLevel[] = ['every-change', 'at-end'];

const RUNS = Number(process.env['PODNET_CAMPAIGN_RUNS'] ?? 200);
const progress = RUNS > 1000 ? { onProgress: (p: { runs: number; numRuns: number; elapsedMs: number }) => console.log(`  ${p.runs}/${p.numRuns} runs, ${(p.elapsedMs / 1000).toFixed(0)} s`) } : {};

/**
 * Each working design with what it needs of the cluster (one L2 segment for direct routing, one node for
 * bridge); those that span segments run behind a Linux router or a cloud VPC's (`router: 'both'`).
 */
const WORKING: [string, () => CniDesign, CheckDesignOptions][] = [
  ['flannel vxlan', () => flannel({ backend: 'vxlan' }), { router: 'both' }],
  ['flannel host-gw (one segment: its routes need the next node on-link)', () => flannel({ backend: 'host-gw' }), { segments: 1 }],
  ['calico none (one segment, no ToR peering)', () => calico({ encapsulation: 'none' }), { segments: 1 }],
  ['calico ipip', () => calico({ encapsulation: 'ipip' }), { router: 'both' }],
  ['calico vxlan', () => calico({ encapsulation: 'vxlan' }), { router: 'both' }],
  ['cilium tunnel', () => cilium({ routing: 'tunnel' }), { router: 'both' }],
  ['cilium native (one segment: auto-direct-node-routes)', () => cilium({ routing: 'native' }), { segments: 1 }],
  ['aws-vpc m5.large', () => awsVpc({ instanceType: 'm5.large' }), { router: 'both' }],
  ['native-vpc gke', () => nativeVpc({ provider: 'gke' }), { router: 'both' }],
  ['native-vpc azure', () => nativeVpc({ provider: 'azure' }), { router: 'both' }],
  ['bridge (single node)', () => bridge(), { maxNodes: 1 }],
];

for (const checks of LEVELS) describe(`working designs keep the network model (checkDesign, ${RUNS} runs each, checks: ${checks})`, () => {
  for (const [name, make, options] of WORKING) {
    it(name, () => {
      const r = checkDesign(make(), { numRuns: RUNS, checks, ...options, ...progress });
      if (!r.ok) expect.fail(r.toString());
      expect(r.runs).toBe(RUNS);
    }, 600_000);
  }
});

for (const checks of LEVELS) describe(`broken designs are caught, shrunk to the essence (checks: ${checks})`, () => {
  const events = (r: ReturnType<typeof checkDesign>) => (r.ok ? [] : r.counterexample.events.map((e) => e.split(' ')[0]).sort());
  const campaign = (design: CniDesign, options: CheckDesignOptions) => checkDesign(design, { ...options, checks });

  it('missingRoutes: two nodes, one pod on each; the probe dies at the underlay router', () => {
    const r = campaign(broken.missingRoutes(), { numRuns: 200, segments: 1 });
    if (r.ok) expect.fail('not caught');
    if (checks === 'every-change') expect(events(r)).toEqual(['addNode', 'addNode', 'addPod', 'addPod']);
    else {
      // At-end has no probe after the fourth event: the essence is the issue's own — two nodes, one pod on
      // each, and the one packet between them that died.
      expect(events(r)).toEqual(['addNode', 'addNode', 'addPod', 'addPod', 'send']);
      expect(r.counterexample.events.at(-1)).toMatch(/^send \w+ pod-\d+ → pod-\d+ .*: noRoute$/);
    }
    expect(r.counterexample.kind).toBe('no-nat');
    expect(r.counterexample.trace?.disposition).toBe('noRoute');
  });

  it('masquerade: one node, two pods; the receiver sees the bridge\'s address', () => {
    // br_netfilter (net.bridge.bridge-nf-call-iptables = 1, as on Kubernetes nodes): frames bridged between
    // two pods of a node pass nat POSTROUTING, whose MASQUERADE rewrites them to cni0's address, so the
    // counterexample needs one node, no longer two (docs/kernel-oracle.md, measured in namespaces).
    const r = campaign(broken.masquerade(), { numRuns: 200 });
    if (r.ok) expect.fail('not caught');
    expect(events(r)).toEqual(['addNode', 'addPod', 'addPod']);
    expect(r.counterexample.kind).toBe('no-nat');
    expect(r.counterexample.explanation).toMatch(/carries source 10\.0\.0\.1 at node\/node-1 cni0/);
  });

  it('overlappingIpam: two nodes and one pod on the second, which its own node cannot reach', () => {
    // Every node hands out the first node's block: on node-2, flanneld's route to that block (added when
    // node-2 joined) comes before cni0's prefix route of the same block (added at its first pod), so, as in
    // Linux (docs/kernel-oracle.md), node-2 sends its own pod's traffic over flannel.1 to node-1.
    const r = campaign(broken.overlappingIpam(), { numRuns: 200 });
    if (r.ok) expect.fail('not caught');
    if (checks === 'at-end') {
      // Reachability waits for the final audit at this level, so what shrinks furthest is the address
      // check run after every change: both nodes' cni0 take the same gateway once each wires a pod.
      expect(events(r)).toEqual(['addNode', 'addNode', 'addPod', 'addPod']);
      expect(r.counterexample.kind).toBe('unique-ip');
      expect(r.counterexample.explanation).toMatch(/^10\.0\.0\.1 is assigned 2 times \(node\/node-1 cni0, node\/node-2 cni0\)/);
    } else {
      expect(events(r)).toEqual(['addNode', 'addNode', 'addPod']);
      expect(r.counterexample.kind).toBe('node-reaches-pods');
      expect(r.counterexample.explanation).toMatch(/^node node-2 cannot reach its pod default\/pod-1/);
    }
  });

  it('mtuMismatch: two pods on two nodes and one full-size packet', () => {
    const r = campaign(broken.mtuMismatch(), { numRuns: 200 });
    if (r.ok) expect.fail('not caught');
    expect(r.counterexample.kind).toBe('mtu');
    expect(events(r)).toEqual(['addNode', 'addNode', 'addPod', 'addPod', 'send']);
    expect(r.counterexample.trace?.disposition).toBe('fragmentationNeeded');
  });
});
