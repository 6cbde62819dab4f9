/**
 * Small helpers shared by the header files: bounds checks that fail with a precise `INVALID_PACKET`,
 * field range checks for emitting, and byte-array plumbing. Not part of the public API except
 * {@link Parsed}.
 */
import { PodnetError, fail, isPodnetError, shown } from '../errors.js';

/** What a header parser returns: the header value and the bytes it carries (a copy, never a view). */
export interface Parsed<H> {
  readonly header: H;
  readonly payload: Uint8Array;
}

/** Throws `INVALID_PACKET` unless `bytes` holds at least `len` bytes for `what`. */
export function need(bytes: Uint8Array, len: number, what: string): void {
  if (bytes.length < len) {
    fail('INVALID_PACKET', `${what} truncated: ${bytes.length} bytes, need ${len}`, { layer: what, length: bytes.length, need: len });
  }
}

/** Throws `INVALID_PACKET` unless `value` is an integer in [0, 2^bits). Returns it. */
export function uint(value: number, bits: 8 | 16 | 24 | 32, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** bits) {
    fail('INVALID_PACKET', `${what} ${shown(value)} is not an unsigned ${bits}-bit integer`, { field: what, value });
  }
  return value;
}

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** Writes a canonical MAC at `offset`, failing with `INVALID_PACKET` on anything else. */
export function writeMac(out: Uint8Array, offset: number, mac: string, what: string): void {
  if (typeof mac !== 'string' || !MAC_RE.test(mac)) {
    fail('INVALID_PACKET', `${what} "${shown(mac)}" is not a canonical lower-case MAC address`, { field: what, value: mac });
  }
  for (let i = 0; i < 6; i++) out[offset + i] = parseInt(mac.slice(3 * i, 3 * i + 2), 16);
}

/** A DataView over exactly the bytes of `b` (which may be a view into a larger buffer). */
export function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** A fresh copy of `b[start, end)`, as a plain Uint8Array even when `b` is a Node Buffer. */
export function copy(b: Uint8Array, start = 0, end = b.length): Uint8Array {
  return new Uint8Array(b.subarray(start, end));
}

/** `head` followed by `tail`, in a new array. */
export function concat(head: Uint8Array, tail: Uint8Array): Uint8Array {
  const out = new Uint8Array(head.length + tail.length);
  out.set(head, 0);
  out.set(tail, head.length);
  return out;
}

/** `n` as four hex digits, for messages about EtherTypes and checksums. */
export function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

/**
 * Runs `fn`, prefixing the message of any `PodnetError` it throws with where it happened ("VXLAN inner
 * frame: …") and listing the places, outermost first, in `details.within`.
 */
export function within<T>(where: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!isPodnetError(e)) throw e;
    throw new PodnetError(e.code, `${where}: ${e.message}`, { ...e.details, within: [where, ...((e.details['within'] as string[] | undefined) ?? [])] }, e.hint);
  }
}
