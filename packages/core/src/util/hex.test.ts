import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hex32, hex8 } from './hex.js';

describe('hex digits', () => {
  it('are toString(16) padded with zeros, for every byte and any 32-bit number', () => {
    for (let b = 0; b < 256; b++) expect(hex8(b)).toBe(b.toString(16).padStart(2, '0'));
    fc.assert(fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }), (n) => {
      expect(hex32(n)).toBe((n >>> 0).toString(16).padStart(8, '0'));
    }), { numRuns: 2000 });
    expect(hex32(0)).toBe('00000000');
    expect(hex32(0xffffffff)).toBe('ffffffff');
  });
});
