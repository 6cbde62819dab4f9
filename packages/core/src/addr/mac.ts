/** MAC addresses: kept as canonical lower-case `aa:bb:cc:dd:ee:ff` strings, compared by identity. */
import { fail, shown } from '../errors.js';
import { hexDigitCode as digit } from '../util/hex.js';

/** A canonical MAC address string. */
export type Mac = string;

/** The Ethernet broadcast address. */
export const BROADCAST_MAC: Mac = 'ff:ff:ff:ff:ff:ff';
/** The all-zero address ARP requests carry as target hardware address. */
export const ZERO_MAC: Mac = '00:00:00:00:00:00';

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/**
 * Whether `text` is a MAC already in canonical form (six lower-case hex pairs joined by colons): what
 * {@link macFromSeed} makes and most actions carry. Checked by hand: `toLowerCase` then the regular
 * expression made a copy of every MAC a pod's veth pair gets.
 */
function isCanonicalMac(text: string): boolean {
  if (text.length !== 17) return false;
  for (let i = 0; i < 17; i++) {
    const c = text.charCodeAt(i);
    if (i % 3 === 2 ? c !== 58 : !((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

/** Validates and canonicalises a MAC address. Throws `INVALID_MAC`. */
export function parseMac(text: string): Mac {
  if (typeof text === 'string' && isCanonicalMac(text)) return text;
  const lower = typeof text === 'string' ? text.toLowerCase() : '';
  if (!MAC_RE.test(lower)) fail('INVALID_MAC', `"${shown(text)}" is not a MAC address`, { value: text });
  return lower;
}

/** True for group (multicast and broadcast) addresses: the low bit of the first octet. */
export function isMulticastMac(mac: Mac): boolean {
  // The second hex digit of the first octet holds the low bit: odd digits are 1 3 5 7 9 b d f.
  const c = mac.charCodeAt(1);
  return (c <= 57 ? c - 48 : (c | 32) - 87) % 2 === 1;
}

/**
 * A deterministic, locally administered unicast MAC derived from a seed string (FNV-1a), the way a
 * simulation stands in for the kernel's random `eth_random_addr()`: same seed, same MAC.
 */
export function macFromSeed(seed: string): Mac {
  seedHash(seed);
  return hashedMac();
}

/**
 * {@link macFromSeed} of the parts joined by `|` (`macFromSeeds('veth1', 'uid')` is
 * `macFromSeed('veth1|uid')`), without building the joined text: a pod's veth pair asks for two.
 */
export function macFromSeeds(first: string, second: string, third?: string): Mac {
  seedHash(first);
  seedMore(124);
  seedMore(second);
  if (third !== undefined) {
    seedMore(124);
    seedMore(third);
  }
  return hashedMac();
}

/** The two FNV-1a lanes of the seed read so far. */
let h1 = 0;
let h2 = 0;

function seedHash(s: string): void {
  h1 = 0x811c9dc5;
  h2 = 0x01000193;
  seedMore(s);
}

/** More of the seed: a string, or one char code. */
function seedMore(s: string | number): void {
  if (typeof s === 'number') {
    h1 = Math.imul(h1 ^ s, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ s, 0x5bd1e995) >>> 0;
    return;
  }
  let a = h1;
  let b = h2;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x5bd1e995) >>> 0;
  }
  h1 = a;
  h2 = b;
}

/** The MAC of the seed hashed last. */
function hashedMac(): Mac {
  // First octet: locally administered (bit 1 set), unicast (bit 0 clear), as eth_random_addr() does.
  // One flat string of char codes: a template of six pieces is a rope of ten, which the links and CNI
  // results of every pod kept (and parseMac copied).
  const a = ((h1 >>> 24) & 0xfe) | 0x02;
  return String.fromCharCode(
    digit(a >>> 4), digit(a), 58, digit(h1 >>> 20), digit(h1 >>> 16), 58, digit(h1 >>> 12), digit(h1 >>> 8), 58,
    digit(h1 >>> 4), digit(h1), 58, digit(h2 >>> 12), digit(h2 >>> 8), 58, digit(h2 >>> 4), digit(h2),
  );
}

/** Six bytes of a MAC, for emitting frames. */
export function macBytes(mac: Mac): number[] {
  return mac.split(':').map((h) => parseInt(h, 16));
}

/** A MAC from six bytes. */
export function macFromBytes(b: ArrayLike<number>, offset = 0): Mac {
  let s = '';
  for (let i = 0; i < 6; i++) s += (i ? ':' : '') + (b[offset + i]! & 255).toString(16).padStart(2, '0');
  return s;
}
