import { Address4 } from 'ip-address';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPodnetError } from '../errors.js';
import { formatIpv4, parseCidr, parseIpv4 } from './ipv4.js';

/** The parse as first written: the dotted-quad pattern, then each octet checked. */
function reference(text: string): number | string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return `"${text}" is not an IPv4 address`;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255 || (m[i]!.length > 1 && m[i]!.startsWith('0'))) return `"${text}" is not an IPv4 address: octet ${m[i]} is out of range or has a leading zero`;
    n = n * 256 + octet;
  }
  return n >>> 0;
}

const attempt = (text: string): number | string => {
  try {
    return parseIpv4(text);
  } catch (e) {
    if (!isPodnetError(e) || e.code !== 'INVALID_IP') throw e;
    return e.message;
  }
};

describe('parseIpv4', () => {
  it('reads and refuses exactly what the dotted-quad pattern does, with the same messages', () => {
    const near = fc.array(fc.constantFrom('0', '1', '9', '25', '255', '256', '00', '01', '1000', '.', '..', ' ', 'a', '-', '\n', '١'), { maxLength: 9 }).map((p) => p.join(''));
    const octet = fc.constantFrom('0', '7', '10', '99', '100', '255', '256', '999', '00', '01', '010', '1000', '', 'a', ' 1');
    const quads = fc.tuple(fc.array(octet, { minLength: 3, maxLength: 5 }), fc.constantFrom('', '.', ' ', '/24')).map(([o, tail]) => o.join('.') + tail);
    fc.assert(fc.property(fc.oneof(quads, near, fc.string({ maxLength: 20 }), fc.ipV4()), (text) => {
      expect(attempt(text)).toBe(reference(text));
    }), { numRuns: 5000 });
  });

  it('reads back every address it formats', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
      expect(parseIpv4(formatIpv4(n))).toBe(n);
    }));
  });
});

describe('parseCidr', () => {
  it('takes every address parseIpv4 reads without asking ip-address, which agrees', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }), (n, len) => {
      const text = formatIpv4(n);
      expect(Address4.isValid(text)).toBe(true);
      expect(parseCidr(`${text}/${len}`, { strict: false })).toEqual({ addr: len === 0 ? 0 : (n & ((0xffffffff << (32 - len)) >>> 0)) >>> 0, len });
    }));
  });
});
