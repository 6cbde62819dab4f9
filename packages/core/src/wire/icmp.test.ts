import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emitIcmp, isIcmpError, parseIcmp } from './icmp.js';
import { icmpHeaderArb } from './testing/arbitraries.js';

const hex = (s: string) => Uint8Array.from(s.split(/\s+/).filter(Boolean), (b) => parseInt(b, 16));

describe('ICMP', () => {
  it('round-trips header and data, checksum verified', () => {
    fc.assert(
      fc.property(icmpHeaderArb, fc.uint8Array({ maxLength: 100 }), (header, payload) => {
        expect(parseIcmp(emitIcmp(header, payload), { verifyChecksum: true })).toEqual({ header, payload });
      }),
    );
  });

  it('checksums a known echo request', () => {
    // Echo request, identifier 0x1234, sequence 1, data "abcd". By hand:
    // 0800 + 1234 + 0001 + 6162 + 6364 = defb, no carry; checksum ~defb = 2104.
    const bytes = emitIcmp({ type: 8, code: 0, rest: 0x1234_0001 }, new TextEncoder().encode('abcd'));
    expect(bytes).toEqual(hex('08 00 21 04 12 34 00 01 61 62 63 64'));
  });

  it('rejects truncated messages and, when verifying, wrong checksums', () => {
    expect(() => parseIcmp(new Uint8Array(7))).toThrow('ICMP header truncated: 7 bytes, need 8');
    const bad = hex('08 00 21 05 12 34 00 01 61 62 63 64');
    expect(parseIcmp(bad).header.type).toBe(8);
    expect(() => parseIcmp(bad, { verifyChecksum: true })).toThrow('ICMP checksum 0x2105 is incorrect (should be 0x2104)');
    expect(() => emitIcmp({ type: 8, code: 0, rest: -1 }, new Uint8Array())).toThrow(/ICMP rest of header -1/);
  });

  it('knows which types are errors quoting a datagram', () => {
    expect([0, 3, 4, 5, 8, 11, 12, 13].filter(isIcmpError)).toEqual([3, 4, 5, 11, 12]);
  });
});
