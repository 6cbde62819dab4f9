import { describe, expect, it } from 'vitest';
import { capacities, enis, ipExhaustion, m5Cluster, onePodMore } from './ip-exhaustion.js';

describe('ip exhaustion on m5.large nodes', () => {
  it('29 pods fill each node: 27 on the 3 ENIs\' 27 secondary addresses, 2 on the host network', () => {
    const sim = m5Cluster({ pods: 81 });
    expect(capacities(sim)).toEqual(['node-1', 'node-2', 'node-3'].map((n) => `  ${n}: Allocatable pods 29, Non-terminated Pods 29`));
    expect(enis(sim, 'node-1').map((l) => l.replace(/eni-\w+/, 'eni'))).toEqual([
      '  eni (device 0): 9 secondary addresses', '  eni (device 1): 9 secondary addresses', '  eni (device 2): 9 secondary addresses',
    ]);
    expect(sim.check().ok).toBe(true);
  });

  it('the 88th pod stays Pending with the scheduler\'s message; with max pods raised, CNI ADD fails with aws-cni\'s error', () => {
    expect(onePodMore(m5Cluster({ pods: 81 }), 'web-81')).toBe(
      'Pending: 0/3 nodes are available: 3 Too many pods. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
    );
    expect(onePodMore(m5Cluster({ pods: 81, maxPods: 40 }), 'web-81')).toMatch(
      /^ContainerCreating: Failed to create pod sandbox: .* failed \(add\): add cmd: failed to assign an IP address to container: AssignPodIPv4Address: no available IP\/Prefix addresses$/,
    );
  });

  it('prefix delegation: the 88th pod runs, and a node takes up to 110', () => {
    const sim = m5Cluster({ pods: 81, prefixDelegation: true });
    expect(onePodMore(sim, 'web-81')).toBe('Running on node-1');
    expect(sim.capacity('node-1').allocatablePods).toBe(110);
    expect(sim.check().ok).toBe(true);
  });

  it('prints the story', () => {
    const lines = ipExhaustion();
    expect(lines[0]).toBe('m5.large: 3 ENIs × 10 IPv4 addresses each → max pods 3 × (10 − 1) + 2 = 29');
    expect(lines).toContain('  Pending: 0/3 nodes are available: 3 Too many pods. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.');
    expect(lines).toContain('  Running on node-1');
    expect(lines).toContain('the guarantees hold: true');
  });
});
