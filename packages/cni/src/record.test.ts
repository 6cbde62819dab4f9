import { createSimulator } from '@podnet/core';
import { describe, expect, it } from 'vitest';
import { flannel } from './designs/flannel.js';
import { recordActions } from './record.js';

describe('recordActions', () => {
  it('keeps every action the design answered with, and builds the same cluster', () => {
    const { design, actions } = recordActions(flannel());
    const sim = createSimulator({ cni: design });
    const plain = createSimulator({ cni: flannel() });
    for (const s of [sim, plain]) {
      s.addNode({ name: 'node-1' });
      s.addPod({ name: 'a', node: 'node-1' });
      s.deletePod('a');
    }
    expect(actions.map((a) => a.op)).toEqual(expect.arrayContaining(['link.add', 'peerset.put', 'addr.add', 'route.add', 'link.del']));
    // The bridge plugin's DEL removes the container's end (ip link del eth0 in the pod), which takes the veth pair.
    expect(actions.at(-1)).toEqual({ op: 'link.del', ns: 'pod/default/a', name: 'eth0' });
    expect(sim.state.nodes).toEqual(plain.state.nodes);
  });
});
