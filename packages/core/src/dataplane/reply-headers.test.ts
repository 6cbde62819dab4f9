/**
 * The IPv4 headers of the packets the kernel makes itself, where Linux's values are deterministic, pinned to
 * tcpdump -v on Linux 6.18 (packages/cli/scripts/tcpdump-verbose.sh, its fixture
 * packages/cli/src/__fixtures__/tcpdump-verbose.txt): ICMP errors carry `tos 0xc0` (icmp_send: the quoted
 * packet's RT_TOS bits with precedence "internetwork control") and no DF; a RST answering a SYN to a closed
 * port carries `id 0` and DF (tcp_v4_send_reset's control socket).
 */
import { describe, expect, it } from 'vitest';
import { bare } from '../cni/testing/bare.js';
import { addNodeState, createClusterState } from '../model/cluster.js';
import { getNs } from '../model/lookup.js';
import { ICMP_TIME_EXCEEDED, TCP_ACK, TCP_RST, type Ipv4Packet } from '../wire/packet.js';
import { tcpSyn, udpPacket } from './build.js';
import { send } from './engine.js';

const settings = { podCidr: '10.244.0.0/16', underlay: { segments: [{ name: 'dc1', cidr: '172.16.0.0/24', gateway: '172.16.0.1' }, { name: 'dc2', cidr: '172.16.1.0/24', gateway: '172.16.1.1' }] } };
const base = [['a', 'dc1'], ['b', 'dc2']].reduce((st, [n, seg]) => addNodeState(st, { name: `node-${n!}`, segment: seg! }, bare).state, createClusterState(settings, bare));
const A = 'node/node-a';
const bIp = Object.values(getNs(base, 'node/node-b').links).find((l) => l.kind === 'physical')!.addrs[0]!.ip;

/** The packets of `role` delivered back to node-a. */
function back(p: Ipv4Packet, role: string): Ipv4Packet[] {
  return send(base, A, p).trace.fates.filter((f) => f.ns === A && f.role === role && f.disposition === 'delivered').map((f) => f.ip!);
}

describe('headers of the packets the kernel makes', () => {
  it('an ICMP error: tos 0xc0 with the quoted packet\'s TOS bits, no DF, ttl 64 from its sender', () => {
    // Measured: time exceeded for traceroute's tos 0x0 probe prints `tos 0xc0, ttl 64, …, flags [none]`.
    // Other TOS values follow icmp_send's RT_TOS(tos) | IPTOS_PREC_INTERNETCONTROL (not measured).
    for (const [tos, want] of [[0, 0xc0], [0x10, 0xd0], [0xb8, 0xd8]] as const) {
      const [err] = back(udpPacket(bIp, 33434, { ttl: 1, tos }), 'icmp-error');
      expect(err?.payload).toMatchObject({ kind: 'icmp', type: ICMP_TIME_EXCEEDED });
      expect(err!.header).toMatchObject({ tos: want, df: false, ttl: 64 });
      // The quote keeps the probe's own TOS.
      expect(err!.payload).toMatchObject({ data: { header: { tos } } });
    }
  });

  it('a RST for a SYN to a closed port: id 0 and DF', () => {
    // Measured: `IP (tos 0x0, ttl 62, id 0, offset 0, flags [DF], proto TCP (6), length 40)` … `Flags [R.]`.
    const [rst] = back(tcpSyn(bIp, 80, { srcPort: 47556 }), 'tcp-reset');
    expect(rst?.payload).toMatchObject({ kind: 'tcp', flags: TCP_RST | TCP_ACK, srcPort: 80, dstPort: 47556, ack: 2 });
    expect(rst!.header).toMatchObject({ id: 0, df: true, tos: 0 });
  });
});
