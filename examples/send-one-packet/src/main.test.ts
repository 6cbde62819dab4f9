import { describe, expect, it } from 'vitest';
import { pingPodF, printTrace, sendOnePacket } from './send-one-packet.js';

describe('send one packet', () => {
  it('delivers the echo request to pod-f and the reply back to pod-a', () => {
    const trace = pingPodF();
    expect(trace.disposition).toBe('delivered');
    expect(trace.violations).toEqual([]);
    expect(trace.fates.map((f) => [f.packet, f.role, f.disposition, f.ns])).toEqual([
      [1, 'original', 'delivered', 'pod/default/pod-f'],
      [2, 'arp', 'delivered', 'node/node-1'],
      [3, 'arp', 'delivered', 'pod/default/pod-a'],
      [4, 'arp', 'delivered', 'node/node-3'],
      [5, 'arp', 'delivered', 'node/node-1'],
      [6, 'arp', 'notForUs', 'pod/default/pod-e'],
      [7, 'arp', 'delivered', 'node/node-3'],
      [8, 'echo-reply', 'delivered', 'pod/default/pod-a'],
    ]);
    // The request crosses node-1 → underlay → node-3 inside VXLAN, and pod-f sees pod-a's own IP.
    const request = trace.steps.filter((s) => s.packet === 1);
    expect(request.map((s) => s.kind)).toEqual([
      'send', 'route', 'neighbour', 'veth', 'receive', 'bridge-local', 'forward', 'transmit', 'vxlan-encap', 'route',
      'neighbour', 'segment', 'receive', 'vxlan-decap', 'receive', 'forward', 'neighbour', 'bridge-forward', 'veth',
      'receive', 'deliver',
    ]);
    expect(request.at(-1)!.ns).toBe('pod/default/pod-f');
    expect(request.at(-1)!.ip!.header.src).toBe(0x0af40104); // 10.244.1.4
  });

  it('prints each step with index, packet, ns, dev, kind and note', () => {
    const lines = printTrace(pingPodF());
    expect(lines).toContain('#   pkt  ns                 dev           kind            note');
    expect(lines).toContain('0   1    pod/default/pod-a  -             send            pod/default/pod-a sends 0.0.0.0 > 10.244.3.9: ICMP echo request, length 64');
    // Step 21: pod-a's ARP request for its gateway comes back to it by hairpin first (two steps: the veth, the receive).
    expect(lines).toContain('21  1    node/node-1        flannel.1     vxlan-encap     flannel.1 encapsulates: VXLAN VNI 1, UDP 40619 → 8472, outer 192.168.1.11 → 192.168.1.13 (+50 bytes)');
    expect(lines).toContain("trace.disposition = 'delivered'   (the fate of packet 1, the echo request)");
    expect(lines).toContain('8       echo-reply  delivered    pod/default/pod-a  10.244.3.9 > 10.244.1.4: ICMP echo reply, length 64');
  });

  it('reads the fates the way ping does', () => {
    const lines = sendOnePacket();
    expect(lines).toContain("  reply.disposition === 'delivered' && reply.ns === 'pod/default/pod-a'  →  true");
    expect(lines.at(-1)).toBe('  so ping would print: 64 bytes from 10.244.3.9: icmp_seq=1 ttl=62');
  });
});
