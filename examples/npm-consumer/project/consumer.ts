// A strict TypeScript consumer of the published packages, type-checked against the installed .d.ts
// files with moduleResolution NodeNext and Bundler (tsconfig.nodenext.json, tsconfig.bundler.json).
// If an "exports" or "types" entry pointed at a missing file, the imports below would fail to resolve
// (or become `any`, which the @ts-expect-error lines catch).
import { createSimulator, formatIpv4, isPodnetError, type CheckResult, type Disposition, type Simulator } from '@podnet/core';
import { flannel, seedLabSpec, simulatorFromSpec, type ClusterSpecJson } from '@podnet/cni';
import { checkDesign, type CheckDesignResult } from '@podnet/testing';
import type { testDesign } from '@podnet/testing/vitest';
import { createSession, type Output } from '@podnet/cli';

const sim: Simulator = createSimulator({ podCidr: '10.244.0.0/16', cni: flannel({ backend: 'vxlan' }) });
sim.addNode({ name: 'node-1', ip: '192.168.1.11', podCidr: '10.244.1.0/24' });
sim.addPod({ name: 'pod-a', node: 'node-1', ip: '10.244.1.4' });
const hops: readonly (string | null)[] = sim.traceroute('node-1', '10.244.1.4').hops.map((h) => h.address);
const verdict: CheckResult = sim.check();
const fate: Disposition | undefined = sim.ping('node-1', '10.244.1.4').traces[0]?.disposition;

const spec: ClusterSpecJson = seedLabSpec();
const lab = simulatorFromSpec(spec);
const ips: string[] = lab.pods().map((p) => (p.ip === null ? '-' : formatIpv4(p.ip)));

const campaign: CheckDesignResult = checkDesign(flannel(), { numRuns: 2 });
if (!campaign.ok) console.log(campaign.counterexample.trace?.steps.length);
const shell: Output = createSession().run('kubectl get nodes');
const register: typeof testDesign | null = null; // the subpath's types; running it needs vitest

// The types are real, not `any`: each marked line must be an error (never called: they would throw).
export function typeErrors(): void {
  // @ts-expect-error a node name is a string
  sim.addNode({ name: 42 });
  // @ts-expect-error createSimulator needs a spec
  createSimulator();
  // @ts-expect-error a CheckResult has no `passed`
  void verdict.passed;
}

try {
  sim.addPod({ name: 'pod-a', node: 'node-1' });
} catch (e) {
  if (isPodnetError(e)) console.log(`duplicate pod: ${e.code}`);
}
console.log(hops.join(' '), verdict.ok, fate, ips.length, campaign.ok, shell.status, register);
