import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIpv4 as ip } from '../addr/ipv4.js';
import { ipv4Arb, udpHeaderArb } from './testing/arbitraries.js';
import { emitUdp, parseUdp } from './udp.js';

const hex = (s: string) => Uint8Array.from(s.split(/\s+/).filter(Boolean), (b) => parseInt(b, 16));
const pseudo = { src: ip('10.244.1.4'), dst: ip('10.244.2.3') };

describe('UDP', () => {
  it('round-trips header and payload, checksum verified', () => {
    fc.assert(
      fc.property(udpHeaderArb, fc.uint8Array({ maxLength: 100 }), ipv4Arb, ipv4Arb, (header, payload, src, dst) => {
        expect(parseUdp(emitUdp(header, payload, { src, dst }), { verifyChecksum: { src, dst } })).toEqual({ header, payload });
      }),
    );
  });

  it('checksums with the pseudo-header (known answer)', () => {
    // Pseudo-header 0af4+0104+0af4+0203+0011+000a = 190a; header 9c40+0035+000a = 9c7f; data 0102.
    // 190a + 9c7f + 0102 = b68b; checksum ~b68b = 4974.
    expect(emitUdp({ srcPort: 40000, dstPort: 53 }, Uint8Array.of(1, 2), pseudo)).toEqual(hex('9c 40 00 35 00 0a 49 74 01 02'));
  });

  it('sends a computed zero checksum as 0xffff (RFC 768)', () => {
    // Same as above with data 4a76: 190a + 9c7f + 4a76 = ffff, whose complement is 0.
    const bytes = emitUdp({ srcPort: 40000, dstPort: 53 }, Uint8Array.of(0x4a, 0x76), pseudo);
    expect(bytes.subarray(6, 8)).toEqual(Uint8Array.of(0xff, 0xff));
    expect(parseUdp(bytes, { verifyChecksum: pseudo }).header.dstPort).toBe(53);
  });

  it('sends checksum 0 when told to (VXLAN) and accepts 0 as "no checksum"', () => {
    const bytes = emitUdp({ srcPort: 40000, dstPort: 8472 }, Uint8Array.of(1, 2), { ...pseudo, checksum: false });
    expect(bytes).toEqual(hex('9c 40 21 18 00 0a 00 00 01 02'));
    expect(parseUdp(bytes, { verifyChecksum: { src: 1, dst: 2 } }).payload).toEqual(Uint8Array.of(1, 2));
  });

  it('rejects bad lengths and, when verifying, wrong checksums', () => {
    const good = hex('9c 40 00 35 00 0a 49 74 01 02');
    expect(() => parseUdp(good.subarray(0, 7))).toThrow('UDP header truncated: 7 bytes, need 8');
    expect(() => parseUdp(good.subarray(0, 9))).toThrow('UDP datagram truncated: length 10, only 9 bytes present');
    expect(() => parseUdp(Uint8Array.from([...good, 0]))).toThrow('UDP length 10 does not match the 11-byte IP payload');
    expect(() => parseUdp(hex('9c 40 00 35 00 07 49 74'))).toThrow('UDP length 7 is shorter than the 8-byte header');
    const bad = good.slice();
    bad[9] = 3;
    expect(parseUdp(bad).payload).toEqual(Uint8Array.of(1, 3));
    expect(() => parseUdp(bad, { verifyChecksum: pseudo })).toThrow('UDP checksum 0x4974 is incorrect (should be 0x4973)');
    expect(() => emitUdp({ srcPort: 40000, dstPort: 53 }, new Uint8Array(65528), pseudo)).toThrow('UDP length 65536 is not an unsigned 16-bit integer');
  });
});
