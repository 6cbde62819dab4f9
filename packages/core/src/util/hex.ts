/**
 * Lowercase hex digits of numbers, for the identifiers built at every pod ADD (sandbox IDs, netns
 * paths, MACs): `toString(16).padStart(n, '0')` made two strings per number and was most of the cost of
 * hashing a pod's names.
 */
const DIGITS = '0123456789abcdef';
/** Two hex digits of every byte. */
const BYTE: readonly string[] = Array.from({ length: 256 }, (_, b) => DIGITS[b >>> 4]! + DIGITS[b & 15]!);

/** Two hex digits of a byte (0–255): `b.toString(16).padStart(2, '0')`. */
export function hex8(b: number): string {
  return BYTE[b & 255]!;
}

/** Eight hex digits of an unsigned 32-bit number: `(u >>> 0).toString(16).padStart(8, '0')`. */
export function hex32(u: number): string {
  return BYTE[(u >>> 24) & 255]! + BYTE[(u >>> 16) & 255]! + BYTE[(u >>> 8) & 255]! + BYTE[u & 255]!;
}

/** The char code of the lower-case hex digit of `x`'s low four bits (for strings built with `String.fromCharCode`). */
export function hexDigitCode(x: number): number {
  const d = x & 15;
  return d < 10 ? 48 + d : 87 + d;
}
