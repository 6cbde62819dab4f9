import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIpv4 as ip } from '../addr/ipv4.js';
import { emitArp, parseArp } from './arp.js';
import type { ArpPacket } from './packet.js';
import { arpArb } from './testing/arbitraries.js';

const hex = (s: string) => Uint8Array.from(s.split(/\s+/).filter(Boolean), (b) => parseInt(b, 16));

// "Who has 10.244.1.1? Tell 10.244.1.4", as a pod asks for its gateway.
const request: ArpPacket = { kind: 'arp', op: 1, senderMac: '02:42:ac:11:00:02', senderIp: ip('10.244.1.4'), targetMac: '00:00:00:00:00:00', targetIp: ip('10.244.1.1') };
const requestBytes = hex(`
  00 01 08 00 06 04 00 01
  02 42 ac 11 00 02 0a f4 01 04
  00 00 00 00 00 00 0a f4 01 01`);

describe('ARP', () => {
  it('round-trips', () => {
    fc.assert(fc.property(arpArb, (p) => {
        expect(parseArp(emitArp(p))).toEqual(p);
      }));
  });

  it('emits and parses a known request', () => {
    expect(emitArp(request)).toEqual(requestBytes);
    expect(parseArp(requestBytes)).toEqual(request);
  });

  it('ignores Ethernet padding after the 28 bytes', () => {
    expect(parseArp(Uint8Array.from([...requestBytes, ...new Uint8Array(18)]))).toEqual(request);
  });

  it('rejects truncated, non-Ethernet/IPv4 and unknown operations', () => {
    expect(() => parseArp(requestBytes.subarray(0, 27))).toThrow('ARP packet truncated: 27 bytes, need 28');
    const ipv6 = requestBytes.slice();
    ipv6[2] = 0x86;
    ipv6[3] = 0xdd;
    expect(() => parseArp(ipv6)).toThrow(/is not Ethernet\/IPv4/);
    const rarp = requestBytes.slice();
    rarp[7] = 3;
    expect(() => parseArp(rarp)).toThrow('ARP operation 3 is neither 1 (request) nor 2 (reply)');
    expect(() => emitArp({ ...request, op: 3 as 1 })).toThrow(/ARP operation 3/);
    expect(() => emitArp({ ...request, targetIp: -1 })).toThrow(/ARP target IP -1/);
  });
});
