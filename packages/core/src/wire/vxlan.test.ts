import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { u24 } from './testing/arbitraries.js';
import { emitVxlan, parseVxlan } from './vxlan.js';

describe('VXLAN', () => {
  it('round-trips VNI and inner bytes', () => {
    fc.assert(
      fc.property(u24, fc.uint8Array({ maxLength: 64 }), (vni, payload) => {
        expect(parseVxlan(emitVxlan({ vni }, payload))).toEqual({ header: { vni }, payload });
      }),
    );
  });

  it('sets the I flag and puts the VNI in bytes 4-6', () => {
    expect(emitVxlan({ vni: 0x010203 }, new Uint8Array())).toEqual(Uint8Array.of(0x08, 0, 0, 0, 0x01, 0x02, 0x03, 0));
  });

  it('ignores reserved bits, rejects a missing I flag, truncation and VNIs above 24 bits', () => {
    expect(parseVxlan(Uint8Array.of(0x88, 0xff, 0xff, 0xff, 0, 0, 1, 0xff)).header).toEqual({ vni: 1 });
    expect(() => parseVxlan(Uint8Array.of(0, 0, 0, 0, 0, 0, 1, 0))).toThrow('VXLAN flags 0x00 lack the I flag (0x08): no valid VNI');
    expect(() => parseVxlan(new Uint8Array(7))).toThrow('VXLAN header truncated: 7 bytes, need 8');
    expect(() => emitVxlan({ vni: 2 ** 24 }, new Uint8Array())).toThrow('VXLAN VNI 16777216 is not an unsigned 24-bit integer');
  });
});
