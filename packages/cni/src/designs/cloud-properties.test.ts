/**
 * The three guarantees hold for the cloud designs on generated clusters: 1–8 nodes (some on a second
 * subnet), pods added and deleted in random order, nodes leaving and joining. After every change the
 * simulator's incremental check must find nothing, and at the end a full audit must agree.
 */
import { audit, createSimulator, isPodnetError, type CniDesign, type Simulator } from '@podnet/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { awsMaxPods, awsVpc } from './aws-vpc.js';
import { cilium } from './cilium.js';
import { nativeVpc } from './native-vpc.js';

type Op = { t: 'add'; pod: number; node: number } | { t: 'del'; pod: number } | { t: 'drain'; node: number } | { t: 'join'; node: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('add' as const), pod: fc.integer({ min: 0, max: 15 }), node: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('del' as const), pod: fc.integer({ min: 0, max: 15 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('drain' as const), node: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('join' as const), node: fc.integer({ min: 0, max: 7 }) }) },
);

const SUBNETS = { segments: [{ name: 'subnet-a', cidr: '10.0.0.0/16', gateway: '10.0.0.1', mtu: 9001 }, { name: 'subnet-b', cidr: '10.1.0.0/16', gateway: '10.1.0.1', mtu: 9001 }] };

/** Designs, each with the cluster settings it needs and whether it spans subnets (native routing needs one L2). */
const designs: { name: string; make: () => CniDesign; podCidr: string; twoSubnets: boolean; maxPods?: number }[] = [
  { name: 'awsVpc m5.large', make: () => awsVpc({ instanceType: 'm5.large' }), podCidr: '10.244.0.0/16', twoSubnets: true, maxPods: awsMaxPods('m5.large') },
  { name: 'awsVpc t3.small, prefix delegation', make: () => awsVpc({ instanceType: 't3.small', prefixDelegation: true }), podCidr: '10.244.0.0/16', twoSubnets: true, maxPods: awsMaxPods('t3.small', { prefixDelegation: true }) },
  { name: 'awsVpc WARM_IP_TARGET=1', make: () => awsVpc({ instanceType: 't3.medium', warmIpTarget: 1 }), podCidr: '10.244.0.0/16', twoSubnets: true, maxPods: awsMaxPods('t3.medium') },
  { name: 'nativeVpc gke', make: () => nativeVpc({ provider: 'gke' }), podCidr: '10.4.0.0/14', twoSubnets: true },
  { name: 'nativeVpc azure', make: () => nativeVpc({ provider: 'azure' }), podCidr: '10.4.0.0/14', twoSubnets: true },
  { name: 'cilium tunnel', make: () => cilium({ routing: 'tunnel' }), podCidr: '10.244.0.0/16', twoSubnets: true },
  { name: 'cilium native', make: () => cilium({ routing: 'native' }), podCidr: '10.244.0.0/16', twoSubnets: false },
];

function apply(sim: Simulator, op: Op, nodes: number, twoSubnets: boolean, maxPods: number | undefined): void {
  const node = (i: number) => `node-${i % nodes}`;
  try {
    if (op.t === 'add') sim.addPod({ name: `p-${op.pod}`, node: node(op.node) });
    else if (op.t === 'del') sim.deletePod(`p-${op.pod}`);
    else if (op.t === 'drain') sim.removeNode(node(op.node));
    else sim.addNode({ name: node(op.node), ...(twoSubnets && op.node % 2 ? { segment: 'subnet-b' } : {}), ...(maxPods ? { maxPods } : {}) });
  } catch (e) {
    // Adding a pod that exists, deleting one that does not, a node that is gone or already there: typed refusals.
    if (!isPodnetError(e) || !['DUPLICATE_NAME', 'POD_NOT_FOUND', 'NODE_NOT_FOUND', 'IP_EXHAUSTED'].includes(e.code)) throw e;
  }
}

describe('cloud designs keep the three guarantees on generated clusters', () => {
  for (const d of designs) {
    it(d.name, () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 8 }), fc.array(opArb, { minLength: 1, maxLength: 10 }), (nodes, ops) => {
          const sim = createSimulator({ podCidr: d.podCidr, underlay: SUBNETS, cni: d.make() });
          for (let i = 0; i < nodes; i++) apply(sim, { t: 'join', node: i }, nodes, d.twoSubnets, d.maxPods);
          for (const op of ops) {
            apply(sim, op, nodes, d.twoSubnets, d.maxPods);
            expect(sim.violations).toEqual([]);
          }
          expect(audit(sim.state).violations).toEqual([]);
        }),
        { numRuns: 8 },
      );
    });
  }
});

describe('the cluster spec names the cloud designs', () => {
  it('builds each from plain JSON, and refuses bad options with INVALID_ARGUMENT', async () => {
    const { designFromSpec } = await import('../spec.js');
    expect(designFromSpec({ type: 'cilium', routing: 'native' }).name).toBe('cilium-native');
    expect(designFromSpec({ type: 'aws-vpc', instanceType: 'm5.large', prefixDelegation: true }).name).toBe('aws-vpc-prefix');
    expect(designFromSpec({ type: 'native-vpc', provider: 'azure' }).name).toBe('azure-kubenet');
    expect(() => designFromSpec({ type: 'aws-vpc', instanceType: 'x9.tiny' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
