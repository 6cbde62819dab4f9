/**
 * A listening socket's side of a TCP connection, as the kernel answers it (measured with netcat-openbsd against
 * `nc -lk 80` on Linux 6.18: packages/cli/scripts/nc-formats.sh, its fixture packages/cli/src/__fixtures__/nc-formats.txt):
 * a SYN gets a SYN/ACK (id 0, DF), a FIN a FIN/ACK, an ACK nothing; and a connected socket
 * (`SendOptions.socket`) takes the SYN/ACK that would otherwise meet a RST for a closed port.
 */
import { describe, expect, it } from 'vitest';
import { bare } from '../cni/testing/bare.js';
import { addNodeState, createClusterState } from '../model/cluster.js';
import { getNs } from '../model/lookup.js';
import { applyActions } from '../ops/actions.js';
import { IPPROTO_TCP, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type Ipv4Packet } from '../wire/packet.js';
import { ipv4, tcpSyn } from './build.js';
import { send } from './engine.js';

const settings = { podCidr: '10.244.0.0/16', underlay: { segments: [{ name: 'dc1', cidr: '172.16.0.0/24', gateway: '172.16.0.1' }] } };
const built = [['a', 'dc1'], ['b', 'dc1']].reduce((st, [n, seg]) => addNodeState(st, { name: `node-${n!}`, segment: seg! }, bare).state, createClusterState(settings, bare));
const base = applyActions(built, [{ op: 'listen', ns: 'node/node-b', protocol: 'tcp', port: 80 }]);
const A = 'node/node-a';
const B = 'node/node-b';
const bIp = Object.values(getNs(base, B).links).find((l) => l.kind === 'physical')!.addrs[0]!.ip;
const aIp = Object.values(getNs(base, A).links).find((l) => l.kind === 'physical')!.addrs[0]!.ip;

function segment(flags: number, seq: number, ack: number): Ipv4Packet {
  return ipv4(bIp, { kind: 'tcp', srcPort: 40000, dstPort: 80, seq, ack, flags, window: 64, payload: { kind: 'raw', length: 0 } }, IPPROTO_TCP, { src: aIp, df: true });
}

describe('a listening socket answers', () => {
  it('a SYN with a SYN/ACK from the kernel (id 0, DF), the same for a retransmitted SYN', () => {
    const t = send(base, A, tcpSyn(bIp, 80, { srcPort: 40000 }), { socket: true }).trace;
    expect(t.fates.find((f) => f.packet === 1)).toMatchObject({ ns: B, disposition: 'delivered' });
    const back = t.fates.filter((f) => f.role === 'tcp-reply');
    expect(back).toHaveLength(1);
    expect(back[0]).toMatchObject({ ns: A, disposition: 'delivered' });
    expect(back[0]!.ip!.payload).toMatchObject({ kind: 'tcp', srcPort: 80, dstPort: 40000, flags: TCP_SYN | TCP_ACK, ack: 2, window: 64308 });
    expect(back[0]!.ip!.header).toMatchObject({ id: 0, df: true, src: bIp, dst: aIp });
    const again = send(base, A, tcpSyn(bIp, 80, { srcPort: 40000 }), { socket: true }).trace.fates.find((f) => f.role === 'tcp-reply');
    expect(again!.ip!.payload).toMatchObject({ seq: (back[0]!.ip!.payload as { seq: number }).seq });
  });

  it('a FIN with a FIN/ACK (the application closes at end of file), an ACK with nothing', () => {
    const fin = send(base, A, segment(TCP_FIN | TCP_ACK, 2, 1001), { socket: true }).trace.fates.filter((f) => f.role === 'tcp-reply');
    expect(fin.map((f) => f.ip!.payload)).toMatchObject([{ flags: TCP_FIN | TCP_ACK, seq: 1001, ack: 3, window: 63 }]);
    expect(send(base, A, segment(TCP_ACK, 2, 1001), { socket: true }).trace.fates.filter((f) => f.role === 'tcp-reply' || f.role === 'tcp-reset')).toEqual([]);
  });

  it('without a connected socket the SYN/ACK meets the sender\'s RST, as a closed port answers', () => {
    const t = send(base, A, tcpSyn(bIp, 80, { srcPort: 40000 })).trace;
    expect(t.fates.find((f) => f.role === 'tcp-reply')).toMatchObject({ ns: A, disposition: 'tcpReset' });
    expect(t.fates.find((f) => f.role === 'tcp-reset')!.ip!.payload).toMatchObject({ flags: TCP_RST | TCP_ACK, srcPort: 40000 });
  });

  it('refuses a socket option that is not a boolean', () => {
    expect(() => send(base, A, tcpSyn(bIp, 80), { socket: 'yes' as unknown as boolean })).toThrow(/socket must be true or false/);
  });
});
