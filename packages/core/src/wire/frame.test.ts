import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIpv4 as ip } from '../addr/ipv4.js';
import { emitFrame, icmpErrorQuote, packetBytesHex, parseFrame, quoteForwarded } from './frame.js';
import { ICMP_QUOTE_MAX, REJECT_QUOTE_MAX } from './icmp.js';
import { frameLength, type Frame, type IcmpMessage, type Ipv4Packet, type UdpDatagram } from './packet.js';
import { frameArb, ipv4PacketArb, withBytes } from './testing/arbitraries.js';

const MAC_A = '02:42:0a:f4:01:04';
const MAC_B = '02:42:0a:f4:01:01';

function packet(src: string, dst: string, payload: Ipv4Packet['payload'], protocol: number, payloadLength: number): Ipv4Packet {
  return { kind: 'ipv4', header: { tos: 0, totalLength: 20 + payloadLength, id: 0x1c46, df: true, ttl: 64, protocol, src: ip(src), dst: ip(dst) }, payload };
}
const ipFrame = (p: Ipv4Packet): Frame => ({ eth: { dst: MAC_B, src: MAC_A, ethertype: 0x0800 }, payload: p });
const echo: IcmpMessage = { kind: 'icmp', type: 8, code: 0, rest: 0x00010001, data: { kind: 'raw', length: 56 } };
const echoPacket = packet('10.244.1.4', '10.244.2.3', echo, 1, 64);
/** A full-size UDP datagram from a pod: 1500 bytes on the wire. */
const bigUdp: UdpDatagram = { kind: 'udp', srcPort: 40000, dstPort: 9000, payload: { kind: 'raw', length: 1472 } };
const bigPacket = packet('10.244.1.4', '10.244.2.3', bigUdp, 17, 1480);

describe('emitFrame / parseFrame', () => {
  it('round-trip every generated frame, checksums verified (raw payloads come back with their bytes)', () => {
    fc.assert(
      fc.property(frameArb(), (f) => {
        const bytes = emitFrame(f);
        expect(bytes.length).toBe(frameLength(f));
        expect(parseFrame(bytes, { verifyChecksums: true })).toEqual(withBytes(f));
      }),
    );
  });

  it('round-trip deeper nestings too', () => {
    fc.assert(
      fc.property(frameArb(4), (f) => {
        expect(parseFrame(emitFrame(f), { verifyChecksums: true })).toEqual(withBytes(f));
      }),
      { numRuns: 30 },
    );
  });

  it('emits an ICMP echo request with known header bytes', () => {
    const small = packet('10.244.1.4', '10.244.2.3', { ...echo, data: { kind: 'raw', length: 4, bytes: new TextEncoder().encode('abcd') }, rest: 0x12340001 }, 1, 12);
    const hex = packetBytesHex(ipFrame(small));
    // Ethernet; IPv4 (checksum by hand: 4500+0020+1c46+4000+4001+0af4+0104+0af4+0203 = fa56, ~ = 05a9);
    // ICMP as in icmp.test.ts.
    expect(hex).toBe(
      [
        '02 42 0a f4 01 01 02 42 0a f4 01 04 08 00 45 00',
        '00 20 1c 46 40 00 40 01 05 a9 0a f4 01 04 0a f4',
        '02 03 08 00 21 04 12 34 00 01 61 62 63 64',
      ].join('\n'),
    );
  });

  it('cut an ICMP error quote at 548 bytes (576 in all), as Linux __icmp_send does', () => {
    // "Fragmentation needed, next-hop MTU 1450" about a 1500-byte datagram, the full datagram given.
    const fragNeeded: IcmpMessage = { kind: 'icmp', type: 3, code: 4, rest: 1450, data: bigPacket };
    const errorPacket = packet('10.244.2.1', '10.244.1.4', fragNeeded, 1, 8 + ICMP_QUOTE_MAX);
    const bytes = emitFrame(ipFrame(errorPacket));
    expect(bytes.length).toBe(14 + 576);
    const parsed = parseFrame(bytes, { verifyChecksums: true });
    const quote = icmpErrorQuote(bigPacket);
    expect(quote.header).toEqual(bigPacket.header); // Total Length still 1500
    expect(quote.payload).toEqual({ kind: 'raw', length: 528, bytes: emitFrame(ipFrame(bigPacket)).subarray(14 + 20, 14 + 548) });
    const cut = ipFrame({ ...errorPacket, payload: { ...fragNeeded, data: quote } });
    expect(parsed).toEqual(cut);
    // The value from icmpErrorQuote emits the same bytes.
    expect(emitFrame(cut)).toEqual(bytes);
  });

  it('keep a quote that fits whole, decoded', () => {
    const small = packet('10.244.1.4', '10.244.2.3', { ...bigUdp, payload: { kind: 'raw', length: 100 } }, 17, 108);
    expect(icmpErrorQuote(small)).toBe(small);
    const unreachable: IcmpMessage = { kind: 'icmp', type: 3, code: 3, rest: 0, data: small };
    const f = ipFrame(packet('10.244.2.3', '10.244.1.4', unreachable, 1, 8 + 128));
    expect(parseFrame(emitFrame(f), { verifyChecksums: true })).toEqual(withBytes(f));
  });

  it('quote what the emitted datagram holds, at and around the limit too (the engine\'s quote of a datagram that fits does not emit it to measure it)', () => {
    /** The quote as the emitted bytes make it: the datagram itself when they fit, else its header and the first bytes. */
    const reference = (p: Ipv4Packet, max: number): Ipv4Packet => {
      const bytes = emitFrame(ipFrame(p)).subarray(14);
      return bytes.length <= max ? p : { kind: 'ipv4', header: p.header, payload: { kind: 'raw', length: max - 20, bytes: bytes.slice(20, max) } };
    };
    const max = fc.constantFrom(ICMP_QUOTE_MAX, REJECT_QUOTE_MAX, 20, 28, 64);
    // UDP datagrams of max − 3 … max + 3 bytes, and generated datagrams of every kind (ICMP errors quoting others among them).
    const around = max.chain((m) => fc.tuple(fc.integer({ min: Math.max(28, m - 3), max: Math.max(28, m) + 3 }).map((n) => packet('10.244.1.4', '10.244.2.3', { ...bigUdp, payload: { kind: 'raw', length: n - 28 } }, 17, n - 20)), fc.constant(m)));
    fc.assert(
      fc.property(fc.oneof(around, fc.tuple(ipv4PacketArb(), max)), ([p, m]) => {
        const want = reference(p, m);
        for (const quote of [icmpErrorQuote, quoteForwarded]) {
          if (want === p) expect(quote(p, m)).toBe(p);
          else expect(quote(p, m)).toEqual(want);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('refuse, as a public function, to quote a datagram that fits but cannot be emitted', () => {
    const bad = packet('10.244.1.4', '10.244.2.3', { ...bigUdp, srcPort: 70000, payload: { kind: 'raw', length: 100 } }, 17, 108);
    expect(() => icmpErrorQuote(bad)).toThrow(expect.objectContaining({ code: 'INVALID_PACKET' }));
  });

  it('quote 536 bytes for the iptables REJECT target when asked', () => {
    const quote = icmpErrorQuote(bigPacket, REJECT_QUOTE_MAX);
    expect(quote.payload).toMatchObject({ kind: 'raw', length: 516 });
    const f = ipFrame(packet('10.96.0.10', '10.244.1.4', { kind: 'icmp', type: 3, code: 3, rest: 0, data: quote }, 1, 8 + 536));
    expect(emitFrame(f).length).toBe(14 + 20 + 8 + 536);
    expect(parseFrame(emitFrame(f))).toEqual(f);
    expect(() => icmpErrorQuote(bigPacket, 19)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('decode UDP as VXLAN only on the VXLAN ports', () => {
    const inner = ipFrame(echoPacket);
    const vxlan = (dstPort: number): UdpDatagram => ({ kind: 'udp', srcPort: 50000, dstPort, payload: { kind: 'vxlan', vni: 1, inner } });
    const outer = (dstPort: number) => ipFrame(packet('192.168.1.11', '192.168.1.12', vxlan(dstPort), 17, 8 + 8 + 14 + 84));
    expect(parseFrame(emitFrame(outer(8472)))).toEqual(withBytes(outer(8472)));
    expect(parseFrame(emitFrame(outer(4789)))).toEqual(withBytes(outer(4789)));
    expect(parseFrame(emitFrame(outer(4790)), { vxlanPorts: [4790] })).toEqual(withBytes(outer(4790)));
    const asRaw = parseFrame(emitFrame(outer(8472)), { vxlanPorts: [] });
    expect(asRaw.payload).toMatchObject({ payload: { kind: 'udp', payload: { kind: 'raw', length: 106 } } });
    // The outer UDP checksum is computed, as Linux's VXLAN device does by default (udpcsum), and verifies.
    expect(emitFrame(outer(8472)).subarray(14 + 20 + 6, 14 + 20 + 8)).not.toEqual(Uint8Array.of(0, 0));
    expect(parseFrame(emitFrame(outer(8472)), { verifyChecksums: true })).toEqual(withBytes(outer(8472)));
  });

  it('drop Ethernet padding', () => {
    const arp: Frame = { eth: { dst: 'ff:ff:ff:ff:ff:ff', src: MAC_A, ethertype: 0x0806 }, payload: { kind: 'arp', op: 1, senderMac: MAC_A, senderIp: ip('10.244.1.4'), targetMac: '00:00:00:00:00:00', targetIp: ip('10.244.1.1') } };
    const tiny = ipFrame(packet('10.244.1.4', '10.244.2.3', { kind: 'raw', length: 2 }, 253, 2));
    for (const f of [arp, tiny]) {
      const padded = new Uint8Array(60);
      padded.set(emitFrame(f));
      expect(parseFrame(padded)).toEqual(withBytes(f));
    }
  });

  it('name the nested layer in errors', () => {
    const overVxlan = (inner: Frame) => ipFrame(packet('192.168.1.11', '192.168.1.12', { kind: 'udp', srcPort: 50000, dstPort: 8472, payload: { kind: 'vxlan', vni: 1, inner } }, 17, 114));
    const inner = ipFrame(echoPacket);
    const bytes = emitFrame(overVxlan(inner));
    const at = 14 + 20 + 8 + 8 + 14 + 10; // inner IPv4 checksum
    bytes[at] = bytes[at]! ^ 0xff;
    bytes.fill(0, 14 + 20 + 6, 14 + 20 + 8); // outer UDP checksum 0 ("none"): the inner layer's error is reported
    expect(parseFrame(bytes)).toBeTruthy();
    expect(() => parseFrame(bytes, { verifyChecksums: true })).toThrow(
      expect.objectContaining({ code: 'INVALID_PACKET', message: expect.stringMatching(/^VXLAN inner frame: IPv4 header checksum 0x.... is incorrect/), details: expect.objectContaining({ within: ['VXLAN inner frame'] }) }),
    );
    expect(() => emitFrame(overVxlan({ ...inner, eth: { ...inner.eth, ethertype: 0x0806 } }))).toThrow(/^VXLAN inner frame: Ethernet EtherType 0x0806 does not match its ipv4 payload \(0x0800\)$/);
  });

  it('refuse values that would not parse back the same', () => {
    const frame = ipFrame(echoPacket);
    const withPayload = (payload: Ipv4Packet['payload'], protocol = 1, length = 64) => ipFrame(packet('10.244.1.4', '10.244.2.3', payload, protocol, length));
    expect(() => emitFrame({ ...frame, eth: { ...frame.eth, ethertype: 0x86dd } })).toThrow('Ethernet EtherType 0x86dd does not match its ipv4 payload (0x0800)');
    expect(() => emitFrame(withPayload(echo, 17))).toThrow('IPv4 protocol 17 does not match its icmp payload (protocol 1)');
    expect(() => emitFrame(withPayload(echo, 1, 65))).toThrow('IPv4 total length 85 does not match the 20-byte header plus 64 payload bytes');
    expect(() => emitFrame(withPayload({ kind: 'raw', length: 8 }, 17, 8))).toThrow(/IPv4 protocol 17 with a raw payload: give it as a UdpDatagram/);
    expect(() => emitFrame(withPayload({ kind: 'raw', length: 3, bytes: new Uint8Array(2) }, 99, 3))).toThrow('IPv4 raw payload has length 3 but 2 bytes');
    expect(() => emitFrame(withPayload({ ...echo, data: echoPacket }, 1, 8 + 84))).toThrow(/ICMP type 8 is not an error/);
    expect(() => emitFrame(withPayload({ ...echo, type: 11, data: { kind: 'raw', length: 28 } }, 1, 36))).toThrow(/ICMP error type 11 must quote the offending datagram as an Ipv4Packet/);
    // An ICMP error counting the whole 1500-byte datagram in its Total Length.
    expect(() => emitFrame(withPayload({ kind: 'icmp', type: 3, code: 4, rest: 1450, data: bigPacket }, 1, 8 + 1500))).toThrow(
      'IPv4 total length 1528 does not match the 20-byte header plus the 556-byte ICMP error: its quote counts the bytes emitted, at most 548 (see icmpErrorQuote), not the quoted datagram\'s Total Length',
    );
    // A raw tail is a cut quote only inside an ICMP error.
    const cut = icmpErrorQuote(bigPacket);
    expect(() => emitFrame(ipFrame(cut))).toThrow(
      "IPv4 total length 1500 does not match the 20-byte header plus 528 raw payload bytes (a short raw payload is valid only as the cut tail of an ICMP error's quote)",
    );
  });

  it('reject malformed bytes with precise messages', () => {
    const bytes = emitFrame(ipFrame(echoPacket));
    expect(() => parseFrame(bytes.subarray(0, 40))).toThrow('IPv4 packet truncated: total length 84, only 26 bytes present');
    const ipv6 = bytes.slice();
    ipv6[12] = 0x86;
    ipv6[13] = 0xdd;
    expect(() => parseFrame(ipv6)).toThrow('Ethernet EtherType 0x86dd is not supported (IPv4 0x0800 and ARP 0x0806 are)');
    const badIcmp = bytes.slice();
    badIcmp[14 + 20 + 8] = 1;
    expect(() => parseFrame(badIcmp, { verifyChecksums: true })).toThrow(/^ICMP checksum 0x.... is incorrect/);
    // An ICMP error must quote at least an IPv4 header.
    // Emit an echo with 12 bytes of data and turn it into a time exceeded (type 11).
    const shortBytes = emitFrame(ipFrame(packet('10.244.2.1', '10.244.1.4', { kind: 'icmp', type: 8, code: 0, rest: 0, data: { kind: 'raw', length: 12 } }, 1, 20)));
    shortBytes[14 + 20] = 11;
    expect(() => parseFrame(shortBytes)).toThrow('ICMP error quote: IPv4 header truncated: 12 bytes, need 20');
    // A quote longer than the quoted datagram (RFC 4884 extensions) is not modelled.
    const small = packet('10.244.1.4', '10.244.2.3', { kind: 'raw', length: 8 }, 99, 8);
    const longQuote = emitFrame(ipFrame(packet('10.244.2.1', '10.244.1.4', { kind: 'icmp', type: 11, code: 0, rest: 0, data: small }, 1, 8 + 28)));
    longQuote[14 + 20 + 8 + 3] = 27; // quoted Total Length 28 → 27
    expect(() => parseFrame(longQuote)).toThrow('ICMP error quote: the quote holds 28 bytes of a 27-byte datagram (ICMP extensions, RFC 4884, are not supported)');
    // IPIP: the inner Total Length must fill the outer payload.
    const ipip = emitFrame(ipFrame(packet('192.168.1.11', '192.168.1.12', echoPacket, 4, 84)));
    ipip[14 + 20 + 3] = 83;
    expect(() => parseFrame(ipip)).toThrow('IPIP inner packet: IPv4 total length 83 does not match the 84 bytes the outer packet carries');
  });
});
