import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIpv4 as ip } from '../addr/ipv4.js';
import { emitIpv4, emitIpv4Header, parseIpv4, parseIpv4Header } from './ipv4.js';
import type { Ipv4Header } from './packet.js';
import { ipv4HeaderArb } from './testing/arbitraries.js';

const hex = (s: string) => Uint8Array.from(s.split(/\s+/).filter(Boolean), (b) => parseInt(b, 16));

// The classic example (Wikipedia "IPv4 header checksum"): UDP, 115 bytes, DF, TTL 64,
// 192.168.0.1 → 192.168.0.199, checksum 0xb861.
const known: Ipv4Header = { tos: 0, totalLength: 0x73, id: 0, df: true, ttl: 64, protocol: 17, src: ip('192.168.0.1'), dst: ip('192.168.0.199') };
const knownBytes = hex('45 00 00 73 00 00 40 00 40 11 b8 61 c0 a8 00 01 c0 a8 00 c7');

describe('IPv4 header', () => {
  it('round-trips every header, checksum verified', () => {
    fc.assert(fc.property(ipv4HeaderArb, (h) => {
        expect(parseIpv4Header(emitIpv4Header(h), { verifyChecksum: true })).toEqual(h);
      }));
  });

  it('round-trips header and payload', () => {
    fc.assert(
      fc.property(ipv4HeaderArb, fc.uint8Array({ maxLength: 100 }), (h, payload) => {
        const header = { ...h, totalLength: 20 + payload.length };
        expect(parseIpv4(emitIpv4(header, payload), { verifyChecksum: true })).toEqual({ header, payload });
      }),
    );
  });

  it('emits the known header with checksum 0xb861', () => {
    expect(emitIpv4Header(known)).toEqual(knownBytes);
    expect(parseIpv4Header(knownBytes, { verifyChecksum: true })).toEqual(known);
  });

  it('rejects a wrong checksum only when asked to verify', () => {
    const bad = knownBytes.slice();
    bad[11] = 0x62;
    expect(parseIpv4Header(bad)).toEqual(known);
    expect(() => parseIpv4Header(bad, { verifyChecksum: true })).toThrow('IPv4 header checksum 0xb862 is incorrect (should be 0xb861)');
  });

  it('names what is wrong with malformed headers', () => {
    const at = (i: number, v: number) => {
      const b = knownBytes.slice();
      b[i] = v;
      return b;
    };
    expect(() => parseIpv4Header(knownBytes.subarray(0, 19))).toThrow('IPv4 header truncated: 19 bytes, need 20');
    expect(() => parseIpv4Header(at(0, 0x65))).toThrow('IPv4 header has version 6, expected 4');
    expect(() => parseIpv4Header(at(0, 0x46))).toThrow('IPv4 IHL 6: IP options are not supported (IHL must be 5)');
    expect(() => parseIpv4Header(at(0, 0x44))).toThrow('IPv4 IHL 4 is below the minimum of 5 (20 bytes)');
    expect(() => parseIpv4Header(at(3, 0x13).fill(0, 2, 3))).toThrow('IPv4 total length 19 is shorter than the 20-byte header');
    expect(() => parseIpv4Header(at(6, 0x20))).toThrow('IPv4 fragments are not supported (MF 1, offset 0)');
    expect(() => parseIpv4Header(at(7, 0x01))).toThrow('IPv4 fragments are not supported (MF 0, offset 8)');
    expect(() => parseIpv4Header(at(6, 0xc0))).toThrow(/reserved flag bit/);
    expect(() => parseIpv4(knownBytes)).toThrow('IPv4 packet truncated: total length 115, only 20 bytes present');
  });

  it('drops link-layer padding after Total Length', () => {
    const h = { ...known, totalLength: 22 };
    const bytes = Uint8Array.from([...emitIpv4(h, Uint8Array.of(1, 2)), 0, 0, 0, 0]);
    expect(parseIpv4(bytes)).toEqual({ header: h, payload: Uint8Array.of(1, 2) });
  });

  it('refuses to emit inconsistent or out-of-range fields', () => {
    expect(() => emitIpv4(known, new Uint8Array(10))).toThrow('IPv4 total length 115 does not match the 20-byte header plus 10 payload bytes');
    expect(() => emitIpv4Header({ ...known, ttl: 256 })).toThrow(expect.objectContaining({ code: 'INVALID_PACKET', message: 'IPv4 TTL 256 is not an unsigned 8-bit integer' }));
    expect(() => emitIpv4Header({ ...known, src: 2 ** 32 })).toThrow(/IPv4 source 4294967296/);
    expect(() => emitIpv4Header({ ...known, totalLength: 19 })).toThrow(/shorter than the 20-byte header/);
  });
});
