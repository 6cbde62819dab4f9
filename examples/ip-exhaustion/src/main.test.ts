import { describe, expect, it } from 'vitest';
import { enis, ipExhaustion, m5Large, onePodMore } from './ip-exhaustion.js';

describe('ip exhaustion on an m5.large', () => {
  it('29 pods fill the node: 27 on the 3 ENIs\' 27 secondary addresses, 2 on the host network', () => {
    const sim = m5Large({ pods: 27 });
    expect(Object.keys(sim.node('node-1').pods)).toHaveLength(29);
    expect(enis(sim).map((l) => l.replace(/eni-\w+/, 'eni'))).toEqual([
      '  eni (device 0): 9 secondary addresses', '  eni (device 1): 9 secondary addresses', '  eni (device 2): 9 secondary addresses',
    ]);
    expect(sim.check().ok).toBe(true);
  });

  it('the 30th pod does not fit (max pods 29); with max pods raised, CNI ADD fails with aws-cni\'s error', () => {
    // Until the scheduler lands, the refusal is the node's max-pods check; the scheduler will leave the pod Pending.
    expect(onePodMore(m5Large({ pods: 27 }), 'web-27')).toMatch(/^IP_EXHAUSTED: .*29 pods/);
    expect(onePodMore(m5Large({ pods: 27, maxPods: 40 }), 'web-27')).toBe(
      'CNI_FAILED: CNI ADD for pod default/web-27 failed: add cmd: failed to assign an IP address to container (AssignPodIPv4Address: no available IP/Prefix addresses)',
    );
  });

  it('prefix delegation: the same node takes the 30th pod, and up to 110', () => {
    const sim = m5Large({ pods: 28, prefixDelegation: true });
    expect(Object.keys(sim.node('node-1').pods)).toHaveLength(30);
    expect(sim.check().ok).toBe(true);
    expect(onePodMore(m5Large({ pods: 108, prefixDelegation: true }), 'web-108')).toMatch(/^IP_EXHAUSTED: .*110 pods/);
  });

  it('prints the story', () => {
    const lines = ipExhaustion();
    expect(lines[0]).toBe('m5.large: 3 ENIs × 10 IPv4 addresses each → max pods 3 × (10 − 1) + 2 = 29');
    expect(lines).toContain('the guarantees hold: true');
    expect(lines.some((l) => l.includes('add cmd: failed to assign an IP address to container'))).toBe(true);
  });
});
