/**
 * The agents' loops (CniDesign.agentTick: flanneld's iptables resync and host-gw route check, calico-node's
 * BIRD scan and felix refresh) are changes like any other: after faults on what the agents own and the clock
 * running, the simulator's incremental verdict must equal a full audit of the same state, and the loops must
 * put back what they own.
 */
import { ipRoute, type Action, type Simulator } from '@podnet/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { simulatorFromSpec, type ClusterSpecJson } from './spec.js';

const DESIGNS: readonly ClusterSpecJson['cni'][] = [
  { type: 'flannel', backend: 'vxlan' },
  { type: 'flannel', backend: 'host-gw' },
  { type: 'calico', encapsulation: 'none' },
  { type: 'calico', encapsulation: 'vxlan' },
];

/** A fault on what an agent owns on node `n` of the cluster: a peer route, flanneld's jump or POSTROUTING. */
function fault(sim: Simulator, n: number, kind: number): Action[] {
  const nodes = sim.nodes();
  const node = nodes[n % nodes.length]!.name;
  const ns = `node/${node}`;
  if (kind === 0) {
    const line = ipRoute(sim.state, ns).find((l) => / via /.test(l) && !l.startsWith('default'));
    if (line === undefined) return [];
    const dev = /dev (\S+)/.exec(line)![1]!;
    return [{ op: 'route.del', ns, dst: line.split(' ')[0]!, via: /via (\S+)/.exec(line)![1]!, dev, ...(line.includes('onlink') ? { onlink: true } : {}) }];
  }
  if (kind === 1) return [{ op: 'chain.flush', ns, table: 'nat', chain: 'POSTROUTING' }];
  return sim.node(node).host.rules.some((r) => r.chain === 'FORWARD' && r.jump === 'FLANNEL-FWD')
    ? [{ op: 'rule.del', ns, rule: { table: 'filter', chain: 'FORWARD', target: 'JUMP', jump: 'FLANNEL-FWD', comment: 'flanneld forward' } }]
    : [];
}

describe('the agents\' loops as the clock runs, held to a full audit', () => {
  for (const cni of DESIGNS) {
    it(`${cni.type} ${'backend' in cni ? cni.backend : 'encapsulation' in cni ? cni.encapsulation : ''}: faults and waits keep the incremental verdict equal to an audit; 90 s later every route is back`, () => {
      const step = fc.oneof(
        fc.record({ n: fc.nat(3), kind: fc.nat(2) }).map((f) => ({ fault: f })),
        fc.constantFrom(500, 2_000, 5_000, 10_000, 90_000).map((ms) => ({ wait: ms })),
      );
      fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 8 }), (steps) => {
        const sim = simulatorFromSpec({
          podCidr: '10.244.0.0/16', cni,
          nodes: [{ name: 'node-1' }, { name: 'node-2' }, { name: 'node-3' }],
          pods: [{ name: 'a', node: 'node-1' }, { name: 'b', node: 'node-2' }, { name: 'c', node: 'node-3' }],
        } as ClusterSpecJson);
        const routes = ipRoute(sim.state, 'node/node-1');
        for (const s of steps) {
          if ('fault' in s) {
            const actions = fault(sim, s.fault.n, s.fault.kind);
            if (actions.length > 0) sim.apply(actions);
          } else sim.advance(s.wait);
          expect(sim.violations.map((v) => v.key)).toEqual(sim.check().violations.map((v) => v.key));
        }
        // The loops that put back routes: host-gw every 10 s, BIRD every 2 s, felix every 90 s (VXLAN
        // flannel has none: its routes come back only with flanneld's restart).
        sim.advance(90_000);
        if (!(cni.type === 'flannel' && cni.backend === 'vxlan')) expect(ipRoute(sim.state, 'node/node-1')).toEqual(routes);
        else sim.restartAgents();
        expect(ipRoute(sim.state, 'node/node-1')).toEqual(routes);
        expect(sim.check().ok).toBe(true);
      }), { numRuns: 15, seed: 20261128 });
    }, 120_000);
  }
});
