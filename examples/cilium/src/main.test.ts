import { describe, expect, it } from 'vitest';
import { ciliumExample, datapathSteps, twoNodes } from './cilium.js';

describe('cilium example', () => {
  it('tunnel: the program encapsulates (VXLAN to port 8472), the far side redirects by the endpoint map; no kernel forwarding', () => {
    const steps = datapathSteps(twoNodes('tunnel'));
    expect(steps.map((s) => s.split(': ')[0])).toEqual([
      expect.stringMatching(/^ {2}\[node\/node-1 lxc[0-9a-f]{12}\] vxlan-encap$/),
      '  [node/node-2 cilium_vxlan] vxlan-decap',
      '  [node/node-2 cilium_vxlan] bpf-redirect',
    ]);
    expect(steps[0]).toContain('→ 8472');
  });

  it('native: the kernel forwards on node-1, cil_from_netdev redirects on node-2', () => {
    expect(datapathSteps(twoNodes('native')).map((s) => s.split(': ')[0])).toEqual([expect.stringMatching(/^  \[node\/node-1 lxc[0-9a-f]{12}\] forward$/), '  [node/node-2 eth0] bpf-redirect']);
  });

  it('prints pings, traceroutes with stars where eBPF dropped the expired probe, and holding guarantees', () => {
    const lines = ciliumExample();
    expect(lines).toContain('  default via 10.244.1.1 dev eth0 mtu 1450');
    expect(lines).toContain('traceroute: 1 *   2 10.244.2.3');
    expect(lines).toContain('traceroute: 1 10.244.1.1   2 *   3 10.244.2.3');
    expect(lines).toContain('ping: 64 bytes from 10.244.2.3: icmp_seq=1 ttl=63');
    expect(lines.filter((l) => l === 'guarantees hold: true')).toHaveLength(2);
  });
});
