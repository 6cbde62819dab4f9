/**
 * An action the kernel would refuse, in a design's reaction or in a list someone applies: the error keeps its
 * code, hint and the kernel's words, and says which action of the list it was (details `actionIndex`, `action`)
 * and, for a design, which hook for which node or pod — a design author reading "Nexthop has invalid gateway"
 * alone had to guess which of the design's routes it was (found by the author28 helper). The state stays as
 * it was.
 */
import { describe, expect, it } from 'vitest';
import type { CniDesign } from '../cni/contract.js';
import { isPodnetError } from '../errors.js';
import { createSimulator } from '../sim/simulator.js';

const design: CniDesign = {
  name: 'off-link',
  nodeAdded: (_s, n) => ({
    actions: [
      { op: 'sysctl.set', ns: `node/${n.name}`, key: 'net.ipv4.ip_forward', value: 1 },
      { op: 'route.add', ns: `node/${n.name}`, dst: '10.99.0.0/16', via: '172.16.0.1' },
    ],
  }),
  nodeRemoved: () => ({ actions: [] }),
  podAdded: () => ({ error: { cniVersion: '1.0.0', code: 11, msg: 'none' } }),
  podDeleted: () => ({ actions: [] }),
};

function thrown(f: () => void): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('did not throw');
}

describe('a refused action names its place', () => {
  it('in a design\'s reaction: the hook, the node, the action\'s place and kind, then the kernel\'s words', () => {
    const sim = createSimulator({ podCidr: '10.244.0.0/16', cni: design });
    const before = sim.state;
    const e = thrown(() => sim.addNode({ name: 'node-1' }));
    if (!isPodnetError(e, 'INVALID_GATEWAY')) throw e;
    expect(e.message).toBe('nodeAdded for node-1: action 2 of 2 (route.add in node/node-1) was refused: Error: Nexthop has invalid gateway (172.16.0.1 is not on a subnet of any device in node/node-1)');
    expect(e.details).toMatchObject({ actionIndex: 1, hook: 'nodeAdded', subject: 'node-1', action: { op: 'route.add', via: '172.16.0.1' } });
    expect(e.hint).toMatch(/onlink/);
    expect(sim.state).toBe(before);
  });

  it('in a list applied by hand: the kernel\'s words as they were, and which action in the details', () => {
    const sim = createSimulator({ podCidr: '10.244.0.0/16', cni: { ...design, nodeAdded: () => ({ actions: [] }) }, nodes: [{ name: 'node-1' }] });
    const before = sim.state;
    const e = thrown(() => sim.apply([
      { op: 'route.add', ns: 'node/node-1', dst: '10.98.0.0/16', dev: 'eth0' },
      { op: 'route.add', ns: 'node/node-1', dst: '10.99.0.0/16', via: '172.16.0.1' },
    ]));
    if (!isPodnetError(e, 'INVALID_GATEWAY')) throw e;
    expect(e.message).toMatch(/^Error: Nexthop has invalid gateway/);
    expect(e.details).toMatchObject({ actionIndex: 1, action: { dst: '10.99.0.0/16' } });
    expect(sim.state).toBe(before);
  });
});
