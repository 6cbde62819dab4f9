/**
 * immer drafts (a proxy, a copy, a finalisation) every object read through a draft, written or not. The
 * transitions read what they only look at as plain data; these count the drafts immer makes (its
 * `Proxy.revocable`, with the `modified_` flag util/immer.ts's snapshot reads) and require each one written.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { addPodState, buildClusterState, createSimulator, icmpEcho, removeNodeState, send, type ClusterState } from '@podnet/core';
import { flannel } from './index.js';

afterEach(() => vi.restoreAllMocks());

/**
 * Runs `f`, returning its value and how many drafts it made and left unwritten. That immer makes its drafts
 * with Proxy.revocable (so a count of 0 below means no draft) is checked in core's ops/actions.test.ts.
 */
function counted<T>(f: () => T): { value: T; drafts: number; unwritten: number } {
  const states: { modified_: boolean }[] = [];
  const revocable = Proxy.revocable;
  vi.spyOn(Proxy, 'revocable').mockImplementation((target, handler) => {
    states.push((Array.isArray(target) ? target[0] : target) as { modified_: boolean });
    return revocable(target, handler);
  });
  const value = f();
  vi.restoreAllMocks();
  return { value, drafts: states.length, unwritten: states.filter((x) => x.modified_ !== true).length };
}

const settings = { podCidr: '10.244.0.0/16' };
const nodes = [{ name: 'node-1' }, { name: 'node-2' }];
const pods = ['a', 'b', 'c'].map((x) => ({ name: `pod-${x}`, node: 'node-1' }));

describe('transitions draft only what they write', () => {
  it('a node leaving with several pods', () => {
    const design = flannel();
    const s = addPodState(buildClusterState(settings, design, nodes, pods), { name: 'pod-d', node: 'node-2' }, design).state;
    const { value, drafts, unwritten } = counted(() => removeNodeState(s, 'node-1', design).state);
    // The transition copies the root and what it writes as plain data (core util/immer.ts transition): no draft at all.
    expect(drafts).toBe(0);
    expect(unwritten).toBe(0);
    expect(value.podCount).toBe(1);
  });

  it('a packet committing what it taught the namespaces (ARP, FDB)', () => {
    const sim = createSimulator({ ...settings, cni: flannel(), nodes, pods: [...pods, { name: 'pod-d', node: 'node-2' }] });
    const state: ClusterState = sim.state;
    const a = sim.pod('pod-a');
    const d = sim.pod('pod-d');
    const { value, drafts, unwritten } = counted(() => send(state, `pod/${a.key}`, icmpEcho(d.ip!)));
    expect(value.trace.disposition).toBe('delivered');
    expect(value.state).not.toBe(state); // it learnt ARP and FDB entries: a new state
    // The commit copies what it changes as plain data (dataplane/engine.ts Run.commit): no draft at all.
    expect(drafts).toBe(0);
    expect(unwritten).toBe(0);
  });
});
