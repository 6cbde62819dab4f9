import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMulticastMac, parseMac } from './mac.js';

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
