import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIpv4 as ip } from '../addr/ipv4.js';
import { emitTcp, parseTcp } from './tcp.js';
import { ipv4Arb, tcpHeaderArb } from './testing/arbitraries.js';

const hex = (s: string) => Uint8Array.from(s.split(/\s+/).filter(Boolean), (b) => parseInt(b, 16));
const pseudo = { src: ip('10.244.1.4'), dst: ip('10.244.2.3') };

// SYN 40000 → 80, seq 1, window 0xfaf0. By hand: pseudo-header 0af4+0104+0af4+0203+0006+0014 = 1909;
// header 9c40+0050+0000+0001+0000+0000+5002+faf0 = 1e783 → e784; e784 + 1909 = 1008d → 008e;
// checksum ~008e = ff71.
const syn = { srcPort: 40000, dstPort: 80, seq: 1, ack: 0, flags: 0x02, window: 0xfaf0 };
const synBytes = hex('9c 40 00 50 00 00 00 01 00 00 00 00 50 02 fa f0 ff 71 00 00');

describe('TCP', () => {
  it('round-trips header and payload, checksum verified', () => {
    fc.assert(
      fc.property(tcpHeaderArb, fc.uint8Array({ maxLength: 100 }), ipv4Arb, ipv4Arb, (header, payload, src, dst) => {
        expect(parseTcp(emitTcp(header, payload, { src, dst }), { verifyChecksum: { src, dst } })).toEqual({ header, payload });
      }),
    );
  });

  it('emits a known SYN with data offset 5 and urgent pointer 0', () => {
    expect(emitTcp(syn, new Uint8Array(), pseudo)).toEqual(synBytes);
    expect(parseTcp(synBytes, { verifyChecksum: pseudo })).toEqual({ header: syn, payload: new Uint8Array() });
  });

  it('rejects truncation, options and, when verifying, wrong checksums', () => {
    expect(() => parseTcp(synBytes.subarray(0, 19))).toThrow('TCP header truncated: 19 bytes, need 20');
    const options = synBytes.slice();
    options[12] = 0x60;
    expect(() => parseTcp(options)).toThrow('TCP data offset 6: TCP options are not supported (data offset must be 5)');
    options[12] = 0x40;
    expect(() => parseTcp(options)).toThrow('TCP data offset 4 is below the minimum of 5 (20 bytes)');
    expect(() => parseTcp(synBytes, { verifyChecksum: { ...pseudo, dst: ip('10.244.2.4') } })).toThrow('TCP checksum 0xff71 is incorrect (should be 0xff70)');
    expect(() => emitTcp({ ...syn, flags: 0x100 }, new Uint8Array(), pseudo)).toThrow('TCP flags 256 is not an unsigned 8-bit integer');
  });
});
