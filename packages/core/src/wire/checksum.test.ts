import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIpv4 as ip } from '../addr/ipv4.js';
import { internetChecksum, onesComplementSum, pseudoHeaderSum } from './checksum.js';

describe('internetChecksum', () => {
  it('matches the RFC 1071 §3 worked example', () => {
    // 0001 + f203 + f4f5 + f6f7 = 2ddf0, folded ddf2; the checksum is its complement.
    const words = Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
    expect(onesComplementSum(words)).toBe(0xddf2);
    expect(internetChecksum(words)).toBe(0x220d);
  });

  it('pads an odd last byte with zero', () => {
    expect(onesComplementSum(Uint8Array.of(0x12, 0x34, 0x56))).toBe(0x1234 + 0x5600);
  });

  it('sums data that carries its own checksum to zero', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 2, maxLength: 2000 }), fc.nat({ max: 0x3ffff }), (bytes, initial) => {
        const even = bytes.slice(); // the first word is the checksum field
        even[0] = 0;
        even[1] = 0;
        const sum = internetChecksum(even, initial);
        even[0] = sum >> 8;
        even[1] = sum & 0xff;
        expect(internetChecksum(even, initial)).toBe(0);
      }),
    );
  });

  it('does not overflow on the largest IPv4 payload', () => {
    // 32767 words of ffff fold to ffff (negative zero); the odd last byte adds ff00.
    expect(onesComplementSum(new Uint8Array(65534).fill(0xff))).toBe(0xffff);
    expect(onesComplementSum(new Uint8Array(65535).fill(0xff))).toBe(0xff00);
  });

  it('adds the pseudo-header as 16-bit words', () => {
    // 0af4 + 0104 + 0af4 + 0203 + 0011 + 000a
    expect(pseudoHeaderSum(ip('10.244.1.4'), ip('10.244.2.3'), 17, 10)).toBe(0x190a);
  });
});
