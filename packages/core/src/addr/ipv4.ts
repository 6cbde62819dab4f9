/**
 * IPv4 addresses and prefixes. Strings from users are validated once, here at the edge (with
 * ip-address), and become plain unsigned 32-bit numbers: inner code compares and masks numbers and never
 * parses a string on the forwarding path.
 */
import { Address4 } from 'ip-address';
import { fail, shown } from '../errors.js';

/** An IPv4 address as an unsigned 32-bit integer (10.244.1.4 → 0x0af40104). */
export type Ipv4 = number;

/** A validated IPv4 prefix: `addr` has no bits set beyond `len`. */
export interface Cidr {
  readonly addr: Ipv4;
  readonly len: number;
}

const DOTTED = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/**
 * Four decimal octets (0–255, no leading zeros) separated by dots, read in one pass: the number, or -1
 * for any other text (which {@link parseIpv4} then refuses with its message).
 */
function scanDotted(text: string, end = text.length): number {
  let n = 0;
  let i = 0;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (i >= end || text.charCodeAt(i) !== 46) return -1;
      i++;
    }
    const start = i;
    let octet = 0;
    for (; i < end && i - start < 4; i++) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      octet = octet * 10 + (c - 48);
    }
    const digits = i - start;
    if (digits === 0 || digits > 3 || octet > 255 || (digits > 1 && text.charCodeAt(start) === 48)) return -1;
    n = n * 256 + octet;
  }
  return i === end ? n : -1;
}

/** Parses dotted-quad IPv4 text. Throws `INVALID_IP`. */
export function parseIpv4(text: string): Ipv4 {
  // Our own strict parse (four decimal octets, no leading zeros) is on every action's path; ip-address
  // validates the prefixes users write (parseCidr), where its wider grammar gives better messages.
  if (typeof text === 'string') {
    const n = scanDotted(text);
    if (n >= 0) return n;
  }
  const m = typeof text === 'string' ? DOTTED.exec(text) : null;
  if (!m) fail('INVALID_IP', `"${shown(text)}" is not an IPv4 address`, { value: text });
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255 || (m[i]!.length > 1 && m[i]!.startsWith('0'))) {
      fail('INVALID_IP', `"${text}" is not an IPv4 address: octet ${m[i]} is out of range or has a leading zero`, { value: text });
    }
    n = n * 256 + octet;
  }
  return n >>> 0;
}

/** Formats a numeric IPv4 address as dotted quad. */
export function formatIpv4(ip: Ipv4): string {
  return `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;
}

/** The netmask of a prefix length, as a number (24 → 0xffffff00). */
export function maskOf(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** The network address of `ip` under a prefix length. */
export function networkOf(ip: Ipv4, len: number): Ipv4 {
  return (ip & maskOf(len)) >>> 0;
}

/** The broadcast address of `ip` under a prefix length. */
export function broadcastOf(ip: Ipv4, len: number): Ipv4 {
  return (ip | ~maskOf(len)) >>> 0;
}

/** True when `ip` lies inside `cidr`. */
export function cidrContains(cidr: Cidr, ip: Ipv4): boolean {
  return ((ip & maskOf(cidr.len)) >>> 0) === cidr.addr;
}

/** True when two prefixes share at least one address. */
export function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  const len = Math.min(a.len, b.len);
  return networkOf(a.addr, len) === networkOf(b.addr, len);
}

/** The number of addresses in a prefix. */
export function cidrSize(c: Cidr): number {
  return 2 ** (32 - c.len);
}

/** Builds a prefix from numbers, clearing host bits. */
export function cidr(addr: Ipv4, len: number): Cidr {
  return { addr: networkOf(addr, len), len };
}

/**
 * Parses `a.b.c.d/len`. With `strict` (the default) host bits are an error (`INVALID_CIDR`), as
 * Kubernetes and the CNI plugins reject them; without it, they are cleared. A bare address is a /32.
 */
export function parseCidr(text: string, options: { strict?: boolean } = {}): Cidr {
  // What actions carry (`a.b.c.d/len`) read in one pass; anything else, and every error, below.
  const len = typeof text === 'string' ? scanPrefix(text) : -1;
  if (len >= 0) {
    const addr = scanned;
    const net = networkOf(addr, len);
    if (net === addr || options.strict === false) return { addr: net, len };
  }
  return parseCidrText(text, options);
}

/** The address {@link scanPrefix} read last. */
let scanned = 0;

/**
 * `a.b.c.d/len` (four octets as {@link scanDotted} reads them, a length of one or two digits up to 32) or a
 * bare dotted quad (a /32): the length, with the address left in {@link scanned}; -1 for any other text.
 */
function scanPrefix(text: string): number {
  const slash = text.indexOf('/');
  const end = slash < 0 ? text.length : slash;
  const addr = scanDotted(text, end);
  if (addr < 0) return -1;
  let len = 32;
  if (slash >= 0) {
    const digits = text.length - slash - 1;
    if (digits < 1 || digits > 2) return -1;
    len = 0;
    for (let i = slash + 1; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) return -1;
      len = len * 10 + (c - 48);
    }
    if (len > 32) return -1;
  }
  scanned = addr;
  return len;
}

function parseCidrText(text: string, options: { strict?: boolean }): Cidr {
  if (typeof text !== 'string') fail('INVALID_CIDR', `${shown(text)} is not a prefix`, { value: text });
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  // A plain dotted quad (what every action carries) is valid to ip-address too: only other texts ask it.
  if (scanDotted(addrText) < 0 && !Address4.isValid(addrText)) fail('INVALID_CIDR', `"${text}" is not a prefix: "${addrText}" is not an IPv4 address`, { value: text });
  const lenText = slash < 0 ? '32' : text.slice(slash + 1);
  if (!/^\d{1,2}$/.test(lenText) || Number(lenText) > 32) {
    fail('INVALID_CIDR', `"${text}" has an invalid prefix length "${lenText}" (0 to 32)`, { value: text });
  }
  let addr: Ipv4;
  try {
    addr = parseIpv4(addrText);
  } catch {
    return fail('INVALID_CIDR', `"${text}" is not a prefix: "${addrText}" is not an IPv4 address`, { value: text });
  }
  const len = Number(lenText);
  const net = networkOf(addr, len);
  if (net !== addr && options.strict !== false) {
    fail('INVALID_CIDR', `"${text}" has host bits set: the network is ${formatIpv4(net)}/${len}`, { value: text, network: `${formatIpv4(net)}/${len}` });
  }
  return { addr: net, len };
}

/** Formats a prefix as `a.b.c.d/len`. */
export function formatCidr(c: Cidr): string {
  return `${formatIpv4(c.addr)}/${c.len}`;
}

/** A prefix as iproute2 prints one in a route or a rule: a /32 as its bare address, others `a.b.c.d/len`. */
export function formatPrefix(c: Cidr): string {
  return c.len === 32 ? formatIpv4(c.addr) : formatCidr(c);
}

/** An address with its prefix length, as `ip addr` shows it: `10.244.1.1/24`. */
export interface IfAddrText {
  readonly ip: Ipv4;
  readonly len: number;
}

/** Parses `a.b.c.d/len` keeping host bits (an interface address). */
export function parseIfAddr(text: string): IfAddrText {
  const len = typeof text === 'string' ? scanPrefix(text) : -1;
  if (len >= 0) return { ip: scanned, len };
  const c = parseCidr(text, { strict: false });
  const slash = text.indexOf('/');
  return { ip: parseIpv4(slash < 0 ? text : text.slice(0, slash)), len: c.len };
}
