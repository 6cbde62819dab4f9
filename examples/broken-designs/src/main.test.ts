import { describe, expect, it } from 'vitest';
import { brokenDesigns, CASES, twoNodes } from './broken-designs.js';

describe('broken designs', () => {
  it('each working counterpart keeps every guarantee; each broken design but the MTU one breaks one', () => {
    for (const c of CASES) {
      expect(twoNodes(c.working()).check().ok, c.mistake).toBe(true);
      expect(twoNodes(c.design()).check().ok, c.mistake).toBe(c.mistake === 'mtuMismatch');
    }
  });

  it('prints, per design, the guarantee that caught it and why', () => {
    const lines = brokenDesigns();
    // The first pair masquerade breaks is two pods of one node: their bridged frames pass the node's nat
    // POSTROUTING (br_netfilter, net.bridge.bridge-nf-call-iptables = 1 as on Kubernetes nodes), whose
    // MASQUERADE gives them cni0's address.
    expect(lines).toContain('  [no-nat] a packet from pod IP 10.244.0.2 to pod IP 10.244.0.3 carries source 10.244.0.1 at node/node-1 cni0: its source was rewritten (NAT), so the receiver cannot see who sent it');
    expect(lines).toContain('  [unique-ip] 10.244.0.1 is assigned 2 times (node/node-1 cni0, node/node-2 cni0): every pod needs an IP no other pod or host uses, or packets for it reach the wrong place');
    expect(lines).toContain('  [no-nat] pod default/a cannot reach pod default/c (10.244.1.2): the request ended as noRoute at underlay (no route to 10.244.1.2 in underlay); node/node-1 routed it by `default via 192.168.1.1 dev eth0`');
    expect(lines.slice(-3)).toEqual([
      'ping -M do -s 1472 10.244.1.2 from a: fragmentationNeeded',
      '  From 10.244.0.1 icmp_seq=1 Frag needed and DF set (mtu = 1450)',
      '  ping: local error: message too long, mtu=1450',
    ]);
  });
});
