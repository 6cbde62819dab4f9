import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMulticastMac, macFromSeed, macFromSeeds, parseMac } from './mac.js';

describe('isMulticastMac', () => {
  it('is the low bit of the first octet, for every MAC in either case', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 6, maxLength: 6 }), fc.boolean(), (octets, upper) => {
      const text = octets.map((o) => o.toString(16).padStart(2, '0')).join(':');
      expect(isMulticastMac(upper ? text.toUpperCase() : text)).toBe((octets[0]! & 1) === 1);
    }));
  });

  it('knows broadcast, IPv4 multicast and unicast addresses', () => {
    expect(isMulticastMac(parseMac('ff:ff:ff:ff:ff:ff'))).toBe(true);
    expect(isMulticastMac(parseMac('01:00:5e:00:00:01'))).toBe(true);
    expect(isMulticastMac(parseMac('33:33:00:00:00:01'))).toBe(true);
    expect(isMulticastMac(parseMac('0a:58:0a:f4:01:04'))).toBe(false);
  });
});

describe('parseMac', () => {
  it('accepts six hex pairs in either case as the lower-case MAC, and refuses the rest with INVALID_MAC', () => {
    // A canonical MAC is taken as it is (a scan by hand); any other text goes through the regular expression.
    const hex = fc.constantFrom(...'0123456789abcdefABCDEFgG:- '.split(''));
    fc.assert(fc.property(fc.oneof(
      fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 6, maxLength: 6 }).chain((o) => fc.constantFrom(':', '-', '').map((sep) => o.map((b) => b.toString(16).padStart(2, '0')).join(sep))),
      fc.string({ unit: hex, minLength: 15, maxLength: 19 }),
    ), fc.boolean(), (text, upper) => {
      const t = upper ? text.toUpperCase() : text;
      const valid = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(t.toLowerCase());
      if (valid) expect(parseMac(t)).toBe(t.toLowerCase());
      else expect(() => parseMac(t)).toThrow(expect.objectContaining({ code: 'INVALID_MAC' }));
    }), { numRuns: 2000 });
  });
});

describe('macFromSeed', () => {
  /** FNV-1a in two lanes, the bytes printed with toString(16) (how it was written first). */
  const reference = (seed: string): string => {
    let h1 = 0x811c9dc5;
    let h2 = 0x01000193;
    for (let i = 0; i < seed.length; i++) {
      const c = seed.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
      h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
    }
    return [((h1 >>> 24) & 0xfe) | 0x02, (h1 >>> 16) & 255, (h1 >>> 8) & 255, h1 & 255, (h2 >>> 8) & 255, h2 & 255].map((b) => b.toString(16).padStart(2, '0')).join(':');
  };

  it('gives every seed the MAC it always gave: a locally administered unicast address', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), (seed) => {
      const mac = macFromSeed(seed);
      expect(mac).toBe(reference(seed));
      expect(parseMac(mac)).toBe(mac);
      expect(isMulticastMac(mac)).toBe(false);
    }), { numRuns: 1000 });
    expect(macFromSeed('flannel.1|node-1')).toBe(reference('flannel.1|node-1'));
  });

  it('of parts is the MAC of the parts joined by |', () => {
    const part = fc.string({ unit: 'grapheme', maxLength: 30 });
    fc.assert(fc.property(part, part, fc.option(part, { nil: undefined }), (a, b, c) => {
      expect(macFromSeeds(a, b, c)).toBe(reference(c === undefined ? `${a}|${b}` : `${a}|${b}|${c}`));
      expect(macFromSeed(a)).toBe(reference(a));
    }), { numRuns: 1000 });
  });
});
