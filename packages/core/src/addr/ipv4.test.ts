import { Address4 } from 'ip-address';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPodnetError, PodnetError } from '../errors.js';
import { formatIpv4, networkOf, parseCidr, parseIfAddr, parseIpv4, type Cidr } from './ipv4.js';

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

/** parseCidr as it was before its fast path: ip-address validates every address first. */
function referenceParseCidr(text: string, strict = true): Cidr {
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  if (!Address4.isValid(addrText)) throw new PodnetError('INVALID_CIDR', `"${text}" is not a prefix: "${addrText}" is not an IPv4 address`);
  const lenText = slash < 0 ? '32' : text.slice(slash + 1);
  if (!/^\d{1,2}$/.test(lenText) || Number(lenText) > 32) throw new PodnetError('INVALID_CIDR', `"${text}" has an invalid prefix length "${lenText}" (0 to 32)`);
  let addr: number;
  try {
    addr = parseIpv4(addrText);
  } catch {
    throw new PodnetError('INVALID_CIDR', `"${text}" is not a prefix: "${addrText}" is not an IPv4 address`);
  }
  const len = Number(lenText);
  const net = networkOf(addr, len);
  if (net !== addr && strict) throw new PodnetError('INVALID_CIDR', `"${text}" has host bits set: the network is ${formatIpv4(net)}/${len}`);
  return { addr: net, len };
}

function outcome(f: () => Cidr): string {
  try {
    return JSON.stringify(f());
  } catch (e) {
    return e instanceof PodnetError ? `${e.code}: ${e.message}` : `untyped: ${String(e)}`;
  }
}

/** Texts near the grammar: octets with leading zeros, out of range, hex, spaces, missing parts, odd lengths. */
const octet = fc.oneof(fc.integer({ min: 0, max: 255 }).map(String), fc.constantFrom('0', '00', '010', '256', '999', '0x1', '1e2', '', ' 1', '-1', '1234'));
const prefixText = fc.oneof(
  fc.tuple(octet, octet, octet, octet, fc.option(fc.oneof(fc.integer({ min: 0, max: 40 }).map(String), fc.constantFrom('', '08', '024', 'x', '3 ')), { nil: undefined }))
    .map(([a, b, c, d, len]) => `${a}.${b}.${c}.${d}${len === undefined ? '' : `/${len}`}`),
  fc.tuple(octet, octet, octet).map(([a, b, c]) => `${a}.${b}.${c}`),
  fc.string({ maxLength: 20 }),
);

describe('parseCidr', () => {
  it('takes every address parseIpv4 reads without asking ip-address, which agrees', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }), (n, len) => {
      const text = formatIpv4(n);
      expect(Address4.isValid(text)).toBe(true);
      expect(parseCidr(`${text}/${len}`, { strict: false })).toEqual({ addr: len === 0 ? 0 : (n & ((0xffffffff << (32 - len)) >>> 0)) >>> 0, len });
    }));
  });

  it('gives what ip-address-first validation gave, value or typed error, for any text', () => {
    fc.assert(fc.property(prefixText, fc.boolean(), (text, strict) => {
      expect(outcome(() => parseCidr(text, { strict }))).toBe(outcome(() => referenceParseCidr(text, strict)));
    }), { numRuns: 3000, seed: 7 });
  });

  it('reads an interface address (host bits kept) as the prefix parse and parseIpv4 read it, or fails as they fail', () => {
    const reference = (text: string) => {
      const { len } = referenceParseCidr(text, false);
      const slash = text.indexOf('/');
      return { ip: parseIpv4(slash < 0 ? text : text.slice(0, slash)), len };
    };
    const result = (f: () => unknown): string => {
      try {
        return JSON.stringify(f());
      } catch (e) {
        return e instanceof PodnetError ? `${e.code}: ${e.message}` : `untyped: ${String(e)}`;
      }
    };
    fc.assert(fc.property(prefixText, (text) => {
      expect(result(() => parseIfAddr(text))).toBe(result(() => reference(text)));
    }), { numRuns: 3000, seed: 8 });
  });

  it('reads the prefixes actions carry', () => {
    expect(parseCidr('10.244.1.0/24')).toEqual({ addr: 0x0af40100, len: 24 });
    expect(parseCidr('10.244.1.7')).toEqual({ addr: 0x0af40107, len: 32 });
    expect(() => parseCidr('10.244.1.7/24')).toThrow(expect.objectContaining({ code: 'INVALID_CIDR', message: '"10.244.1.7/24" has host bits set: the network is 10.244.1.0/24' }));
    expect(() => parseCidr('10.244.01.0/24')).toThrow(expect.objectContaining({ code: 'INVALID_CIDR' }));
  });
});
