/**
 * Scheduling and pod status, as a user of the lab sees them: the scheduler's and the kubelet's
 * messages, pods that wait and are placed or wired once something frees up.
 */
import { createSimulator, settleState } from '@podnet/core';
import { describe, expect, it } from 'vitest';
import { flannel } from './designs/flannel.js';

const cluster = (nodes: { name: string; maxPods?: number }[], mask = 24) => {
  const sim = createSimulator({ podCidr: '10.244.0.0/16', nodeCidrMaskSize: mask, cni: flannel() });
  for (const n of nodes) sim.addNode(n);
  return sim;
};

describe('the scheduler', () => {
  it('a sandbox retry that fails the same way keeps the pod; one that fails with another error object records it', () => {
    const f = flannel();
    // A CNI error whose code changes with time but whose message does not.
    const design = { ...f, name: 'flaky', podAdded: (s: { now: number }) => ({ error: { cniVersion: '1.0.0', code: s.now < 10_000 ? 11 : 999, msg: 'no IP addresses available' } }) } as unknown as typeof f;
    const sim = createSimulator({ cni: design });
    sim.addNode({ name: 'n1' });
    sim.addPod({ name: 'a' });
    const first = sim.pod('a');
    expect(first.status.phase).toBe('ContainerCreating');
    sim.cordon('n1');
    expect(sim.pod('a')).toBe(first);
    sim.advance(20_000);
    sim.uncordon('n1');
    expect((sim.pod('a').cniResult as { code: number }).code).toBe(999);
    expect(sim.events('a').filter((e) => e.reason === 'FailedCreatePodSandBox')).toHaveLength(1);
  });

  it('retries waiting pods without rewriting them when nothing changed: the state stays the same object', () => {
    const sim = cluster([{ name: 'n1', maxPods: 1 }]);
    sim.addPod({ name: 'a' });
    sim.addPod({ name: 'b' });
    expect(sim.pod('b').status.phase).toBe('Pending');
    expect(settleState(sim.state, sim.design)).toBe(sim.state);
    const before = sim.pod('b');
    sim.apply({ op: 'sysctl.set', ns: 'node/n1', key: 'net.ipv4.ip_forward', value: 1 });
    expect(sim.pod('b')).toBe(before);
    expect(sim.events('b').filter((e) => e.reason === 'FailedScheduling')).toHaveLength(1);
  });

  it('places a pod without a node on the least loaded node, ties by name', () => {
    const sim = cluster([{ name: 'n1' }, { name: 'n2' }, { name: 'n3' }]);
    sim.addPod({ name: 'x', node: 'n1' });
    const placed = ['a', 'b', 'c', 'd'].map((name) => sim.addPod({ name }).node);
    expect(placed).toEqual(['n2', 'n3', 'n1', 'n2']);
    expect(sim.events('a')).toEqual([expect.objectContaining({ type: 'Normal', reason: 'Scheduled', from: 'default-scheduler', message: 'Successfully assigned default/a to n2' })]);
    expect(sim.check().ok).toBe(true);
  });

  it('leaves a pod Pending with the scheduler message when every node is full, and places it when room appears', () => {
    const sim = cluster([{ name: 'n1', maxPods: 1 }, { name: 'n2', maxPods: 1 }, { name: 'n3', maxPods: 1 }]);
    expect(['a', 'b', 'c'].map((name) => sim.addPod({ name }).node)).toEqual(['n1', 'n2', 'n3']);
    const p = sim.addPod({ name: 'd' });
    const message = '0/3 nodes are available: 3 Too many pods. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.';
    expect(p.status).toEqual({ phase: 'Pending', reason: 'Unschedulable', message });
    expect(p.node).toBeNull();
    expect(p.ip).toBeNull();
    expect(sim.events('d').map((e) => e.reason)).toEqual(['FailedScheduling']);
    expect(() => sim.ping('d', '10.244.0.2')).toThrow(expect.objectContaining({ code: 'UNKNOWN_ENDPOINT' }));
    expect(sim.capacity('n1')).toEqual({ allocatablePods: 1, nonTerminatedPods: 1 });

    sim.deletePod('b');
    const d = sim.pod('d');
    expect(d.status.phase).toBe('Running');
    expect(d.node).toBe('n2');
    expect(sim.events('d').map((e) => e.reason)).toEqual(['FailedScheduling', 'Scheduled']);
    expect(sim.check().ok).toBe(true);
  });

  it('with no nodes at all says so, and a node that joins takes the pod', () => {
    const sim = cluster([]);
    expect(sim.addPod({ name: 'a' }).status).toEqual({ phase: 'Pending', reason: 'Unschedulable', message: 'no nodes available to schedule pods' });
    sim.addNode({ name: 'n1' });
    expect(sim.pod('a')).toMatchObject({ node: 'n1', status: { phase: 'Running' } });
    expect(sim.history()).toEqual(['create', 'addPod default/a', 'addNode n1']);
  });

  it('a pod that names a full node is rejected by its kubelet (OutOfpods), and does not count against it', () => {
    const sim = cluster([{ name: 'n1', maxPods: 1 }]);
    sim.addPod({ name: 'a', node: 'n1' });
    const b = sim.addPod({ name: 'b', node: 'n1' });
    expect(b.status).toEqual({
      phase: 'Failed', reason: 'OutOfpods',
      message: "Pod was rejected: Node didn't have enough resource: pods, requested: 1, used: 1, capacity: 1",
    });
    expect(sim.capacity('n1')).toEqual({ allocatablePods: 1, nonTerminatedPods: 1 });
    sim.deletePod('a');
    expect(sim.pod('b').status.phase).toBe('Failed');
    sim.deletePod('b');
    expect(sim.pods()).toEqual([]);
  });
});

describe('cordoned nodes (spec.unschedulable)', () => {
  it('the scheduler skips them and says so, sorted with the other reasons as kube-scheduler sorts them; running pods stay; uncordon places the waiting pod', () => {
    const sim = cluster([{ name: 'n1', maxPods: 1 }, { name: 'n2', maxPods: 1 }, { name: 'n3', maxPods: 2 }]);
    sim.addPod({ name: 'a', node: 'n1' });
    sim.addPod({ name: 'b', node: 'n2' });
    sim.addPod({ name: 'c', node: 'n3' });
    sim.cordon('n3');
    expect(sim.node('n3').unschedulable).toBe(true);
    expect(sim.pod('c').status.phase).toBe('Running');
    const p = sim.addPod({ name: 'd' });
    expect(p.status.message).toBe('0/3 nodes are available: 1 node(s) were unschedulable, 2 Too many pods. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.');
    // Cordoning again is no change and leaves no history entry.
    const h = sim.history().length;
    sim.cordon('n3');
    expect(sim.history().length).toBe(h);
    // A pod bound to the node by name bypasses the scheduler, as the kubelet admits it (DaemonSet pods do this).
    expect(sim.addPod({ name: 'e', node: 'n3' }).status.phase).toBe('Running');
    sim.deletePod('e');
    expect(sim.pod('d').status.phase).toBe('Pending');
    sim.uncordon('n3');
    expect(sim.pod('d')).toMatchObject({ node: 'n3', status: { phase: 'Running' } });
    expect(sim.node('n3').unschedulable).toBeUndefined();
    sim.undo();
    expect(sim.node('n3').unschedulable).toBe(true);
    expect(() => sim.cordon('nope')).toThrow(expect.objectContaining({ code: 'NODE_NOT_FOUND' }));
  });

  it('all nodes cordoned: only the unschedulable reason', () => {
    const sim = cluster([{ name: 'n1' }, { name: 'n2' }]);
    sim.cordon('n1');
    sim.cordon('n2');
    expect(sim.addPod({ name: 'x' }).status.message).toBe('0/2 nodes are available: 2 node(s) were unschedulable. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.');
  });
});

describe('CNI ADD failures', () => {
  it('leave the pod ContainerCreating with the kubelet event text, and it runs once an address is free', () => {
    const sim = cluster([{ name: 'n1' }], 29);
    for (let i = 0; i < 5; i++) sim.addPod({ name: `p${i}`, node: 'n1' });
    expect(sim.pods().map((p) => p.ip)).toEqual([2, 3, 4, 5, 6].map((h) => (0x0af40000 | h) >>> 0));
    const p = sim.addPod({ name: 'p5', node: 'n1' });
    expect(p.status.phase).toBe('ContainerCreating');
    expect(p.status.reason).toBe('FailedCreatePodSandBox');
    expect(p.status.message).toMatch(/^Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "[0-9a-f]{64}": plugin type="flannel" name="cbr0" failed \(add\): failed to delegate add: failed to allocate for range 0: no IP addresses available in range set: 10\.244\.0\.1-10\.244\.0\.6$/);
    expect(p.ip).toBeNull();
    expect(sim.capacity('n1').nonTerminatedPods).toBe(6);
    expect(sim.check().ok).toBe(true);

    sim.deletePod('p2');
    expect(sim.pod('p5')).toMatchObject({ status: { phase: 'Running' } });
    // host-local round robin: the freed .4 is not handed out again while the range has been walked once.
    expect(sim.pod('p5').ip).toBe((0x0af40000 | 4) >>> 0);
    expect(sim.events('p5').map((e) => e.reason)).toEqual(['FailedCreatePodSandBox']);
    expect(sim.check().ok).toBe(true);
  });

  it('a pinned address the design refuses is bad input: a typed error and no change', () => {
    const sim = cluster([{ name: 'n1' }]);
    const before = sim.state;
    expect(() => sim.addPod({ name: 'x', node: 'n1', ip: '10.244.9.9' })).toThrow(expect.objectContaining({ code: 'IP_OUTSIDE_RANGE' }));
    expect(sim.state).toBe(before);
  });

  it('the bulk builder gives waiting pods the same status as adding them one by one', () => {
    const spec = { podCidr: '10.244.0.0/16', nodeCidrMaskSize: 29, cni: flannel(), nodes: [{ name: 'n1' }], pods: [0, 1, 2, 3, 4, 5].map((i) => ({ name: `p${i}` })) };
    const bulk = createSimulator(spec);
    const one = createSimulator({ ...spec, pods: [] });
    for (const p of spec.pods) one.addPod(p);
    expect(bulk.pods().map((p) => [p.key, p.node, p.ip, p.status.phase])).toEqual(one.pods().map((p) => [p.key, p.node, p.ip, p.status.phase]));
    expect(bulk.pod('p5').status.phase).toBe('ContainerCreating');
    expect(bulk.events('p5').map((e) => e.reason)).toEqual(['Scheduled', 'FailedCreatePodSandBox']);
  });
});
