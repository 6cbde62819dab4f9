import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emitEthernet, parseEthernet } from './ethernet.js';
import { ethernetHeaderArb } from './testing/arbitraries.js';

const hex = (s: string) => Uint8Array.from(s.split(/\s+/).filter(Boolean), (b) => parseInt(b, 16));

describe('Ethernet', () => {
  it('round-trips header and payload', () => {
    fc.assert(
      fc.property(ethernetHeaderArb, fc.uint8Array({ maxLength: 64 }), (header, payload) => {
        expect(parseEthernet(emitEthernet(header, payload))).toEqual({ header, payload });
      }),
    );
  });

  it('lays out destination, source, EtherType', () => {
    const bytes = emitEthernet({ dst: 'ff:ff:ff:ff:ff:ff', src: '02:42:ac:11:00:02', ethertype: 0x0806 }, Uint8Array.of(0xaa));
    expect(bytes).toEqual(hex('ff ff ff ff ff ff 02 42 ac 11 00 02 08 06 aa'));
  });

  it('rejects truncated headers, 802.3 lengths, VLAN tags and bad MACs', () => {
    expect(() => parseEthernet(new Uint8Array(13))).toThrow('Ethernet header truncated: 13 bytes, need 14');
    expect(() => parseEthernet(hex('ff ff ff ff ff ff 02 42 ac 11 00 02 00 2e'))).toThrow(/802\.3 length field/);
    expect(() => parseEthernet(hex('ff ff ff ff ff ff 02 42 ac 11 00 02 81 00'))).toThrow(/802\.1Q/);
    expect(() => emitEthernet({ dst: 'FF:FF:FF:FF:FF:FF', src: '02:42:ac:11:00:02', ethertype: 0x0800 }, new Uint8Array())).toThrow(
      expect.objectContaining({ code: 'INVALID_PACKET', message: expect.stringContaining('Ethernet destination "FF:FF:FF:FF:FF:FF"') }),
    );
    expect(() => emitEthernet({ dst: 'ff:ff:ff:ff:ff:ff', src: '02:42:ac:11:00:02', ethertype: 0x10000 }, new Uint8Array())).toThrow(/EtherType 65536 is not an unsigned 16-bit integer/);
  });
});
