/**
 * tcpdump over the simulated wire: which frames an interface sees, pcap-filter(7) expressions (host,
 * net, port, icmp, udp, tcp, arp, ip, src/dst, and/or/not, parentheses) matched on the outer headers as
 * BPF matches them, tcpdump's `-n` line format with `-e`, `-v`/`-vv` and `-x`/`-xx`/`-X`/`-XX`, and pcap
 * files for `-w`.
 */
import {
  cidrContains, emitFrame, fail, shown, formatIpv4, ICMP_DEST_UNREACH, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, ICMP_REDIRECT, ICMP_TIME_EXCEEDED,
  internetChecksum, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, isIcmpError, parseCidr, parseIpv4, pseudoHeaderSum, type Frame,
  type IcmpMessage, type Ipv4Packet, type NsId, type RawPayload, type Step, type Trace,
} from '@podnet/core';
import { timeOfDay } from './format.js';

/** A parsed capture filter. */
export type Filter =
  | { readonly k: 'true' }
  | { readonly k: 'and' | 'or'; readonly a: Filter; readonly b: Filter }
  | { readonly k: 'not'; readonly a: Filter }
  | { readonly k: 'proto'; readonly p: 'icmp' | 'udp' | 'tcp' | 'arp' | 'ip' }
  | { readonly k: 'host'; readonly dir: FilterDirection; readonly ip: number }
  | { readonly k: 'net'; readonly dir: FilterDirection; readonly addr: number; readonly len: number }
  | { readonly k: 'port'; readonly dir: FilterDirection; readonly proto: 'udp' | 'tcp' | null; readonly port: number };
/** Which address or port of a packet a `host`, `net` or `port` primitive matches: `src`, `dst` or either. */
export type FilterDirection = 'src' | 'dst' | 'any';

/** A filter tcpdump would reject, with its wording. */
export class FilterError extends Error {}

/** Parses a pcap-filter expression (the words after tcpdump's options). */
export function parseFilter(words: readonly string[]): Filter {
  const toks = words.join(' ').replace(/\(/g, ' ( ').replace(/\)/g, ' ) ').replace(/!(?!=)/g, ' ! ').split(/\s+/).filter(Boolean);
  if (toks.length === 0) return { k: 'true' };
  let i = 0;
  const peek = () => toks[i];
  const syntax = (): never => { throw new FilterError('syntax error in filter expression'); };
  const primary = (): Filter => {
    const t = toks[i++];
    if (t === undefined) syntax();
    if (t === '(') { const f = or(); if (toks[i++] !== ')') syntax(); return f; }
    if (t === 'not' || t === '!') return { k: 'not', a: primary() };
    let dir: FilterDirection = 'any';
    let word = t!;
    if (word === 'src' || word === 'dst') { dir = word; word = toks[i++] ?? syntax(); if (word === 'or' || word === 'and') { word = toks[i++] ?? syntax(); } }
    let proto: 'udp' | 'tcp' | null = null;
    if ((word === 'udp' || word === 'tcp') && (peek() === 'port' || peek() === 'src' || peek() === 'dst')) {
      proto = word;
      word = toks[i++]!;
      if (word === 'src' || word === 'dst') { dir = word; word = toks[i++] ?? syntax(); }
    }
    if (dir === 'any' && ['icmp', 'udp', 'tcp', 'arp', 'ip'].includes(word)) return { k: 'proto', p: word as 'icmp' };
    if (word === 'host') return { k: 'host', dir, ip: addr(toks[i++]) };
    if (word === 'net') {
      const v = toks[i++] ?? syntax();
      let c;
      try { c = parseCidr(v.includes('/') ? v : `${v}/32`); } catch { throw new FilterError(`non-network bits set in "${v}"`); }
      return { k: 'net', dir, addr: c.addr, len: c.len };
    }
    if (word === 'port') {
      const v = toks[i++] ?? syntax();
      if (!/^\d+$/.test(v) || Number(v) > 65535) throw new FilterError(`illegal port number ${v}`);
      return { k: 'port', dir, proto, port: Number(v) };
    }
    if (/^\d+\.\d+\.\d+\.\d+$/.test(word)) return { k: 'host', dir, ip: addr(word) };
    throw new FilterError(dir === 'any' ? `syntax error in filter expression` : `syntax error in filter expression`);
  };
  const addr = (v: string | undefined): number => {
    if (v === undefined) syntax();
    try { return parseIpv4(v!); } catch { throw new FilterError(`can't parse filter expression: unknown host '${v}'`); }
  };
  const and = (): Filter => {
    let f = primary();
    while (peek() === 'and' || peek() === '&&' || (peek() !== undefined && peek() !== 'or' && peek() !== '||' && peek() !== ')')) {
      if (peek() === 'and' || peek() === '&&') i++;
      f = { k: 'and', a: f, b: primary() };
    }
    return f;
  };
  const or = (): Filter => {
    let f = and();
    while (peek() === 'or' || peek() === '||') { i++; f = { k: 'or', a: f, b: and() }; }
    return f;
  };
  const f = or();
  if (i < toks.length) syntax();
  return f;
}

function ipOf(frame: Frame): Ipv4Packet | null {
  return frame.payload.kind === 'ipv4' ? frame.payload : null;
}

/** True when the frame matches the filter, judged on its outer headers (as BPF judges them). */
export function matchFilter(f: Filter, frame: Frame): boolean {
  const ip = ipOf(frame);
  const arp = frame.payload.kind === 'arp' ? frame.payload : null;
  switch (f.k) {
    case 'true': return true;
    case 'and': return matchFilter(f.a, frame) && matchFilter(f.b, frame);
    case 'or': return matchFilter(f.a, frame) || matchFilter(f.b, frame);
    case 'not': return !matchFilter(f.a, frame);
    case 'proto':
      if (f.p === 'arp') return arp !== null;
      if (f.p === 'ip') return ip !== null;
      return ip !== null && ip.payload.kind === f.p;
    case 'host': {
      const src = ip ? ip.header.src : arp ? arp.senderIp : null;
      const dst = ip ? ip.header.dst : arp ? arp.targetIp : null;
      return (f.dir !== 'dst' && src === f.ip) || (f.dir !== 'src' && dst === f.ip);
    }
    case 'net': {
      const c = { addr: f.addr, len: f.len };
      const src = ip ? ip.header.src : arp ? arp.senderIp : null;
      const dst = ip ? ip.header.dst : arp ? arp.targetIp : null;
      return (f.dir !== 'dst' && src !== null && cidrContains(c, src)) || (f.dir !== 'src' && dst !== null && cidrContains(c, dst));
    }
    case 'port': {
      if (!ip || (ip.payload.kind !== 'udp' && ip.payload.kind !== 'tcp')) return false;
      if (f.proto !== null && ip.payload.kind !== f.proto) return false;
      return (f.dir !== 'dst' && ip.payload.srcPort === f.port) || (f.dir !== 'src' && ip.payload.dstPort === f.port);
    }
  }
}

/** Kinds of step at which a frame is on the wire of the step's device (sent or received there). */
const WIRE_KINDS = new Set<Step['kind']>(['receive', 'veth', 'segment', 'transmit', 'arp-request', 'arp-reply', 'bridge-local', 'bridge-flood']);

/**
 * The frames a capture on `dev` in namespace `ns` sees during one trace, in order, each once. `dev`
 * `any` sees every device of the namespace. `ownMacs` are the MACs of the namespace's bridges: a frame
 * the host sends through its bridge (source: the bridge's MAC) is seen on the bridge device.
 */
export function framesOn(trace: Trace, ns: NsId, dev: string, ownMacs: ReadonlySet<string> = new Set()): { step: Step; frame: Frame }[] {
  const seen = new Set<string>();
  const out: { step: Step; frame: Frame }[] = [];
  for (const s of trace.steps) {
    if (s.ns !== ns || s.frame === null) continue;
    if (!WIRE_KINDS.has(s.kind) && !(s.kind === 'bridge-forward' && ownMacs.has(s.frame.eth.src))) continue;
    if (dev !== 'any' && s.dev !== dev) continue;
    // The same frame is reported at several steps of one device (arp-request then veth, transmit then
    // segment): a capture sees it once per device and direction. A frame that leaves a device and comes
    // back in by it (a bridge port in hairpin mode sends a pod's broadcast back to it) is seen twice, out
    // and in: measured, `tcpdump -n -e -i eth0 arp` in a pod showed its request twice (scripts/hairpin-formats.sh).
    // On lo, libpcap drops the outgoing copy: once.
    const dir = s.kind === 'receive' && s.dev !== 'lo' ? 'in' : 'out';
    let key: string;
    try { key = `${s.packet}|${s.dev}|${dir}|${emitFrame(s.frame).join(',')}`; } catch { continue; }
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ step: s, frame: s.frame });
  }
  return out;
}

/** tcpdump's ipproto_values for the protocols podnet carries. */
const PROTO_NAMES: Readonly<Record<number, string>> = { 1: 'ICMP', 4: 'IPIP', 6: 'TCP', 17: 'UDP' };

const hex4 = (n: number) => n.toString(16).padStart(4, '0');
const be16 = (b: Uint8Array, at: number) => ((b[at]! << 8) | b[at + 1]!) >>> 0;
const be32 = (b: Uint8Array, at: number) => (((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0);

/**
 * The checksum a 16-bit field at `at` should hold: the Internet checksum of `bytes` with the field zeroed,
 * from the pseudo-header's sum `initial` (tcpdump's in_cksum_shouldbe gives the same value).
 */
function shouldBe(bytes: Uint8Array, at: number, initial = 0): number {
  const z = bytes.slice();
  z[at] = 0;
  z[at + 1] = 0;
  return internetChecksum(z, initial);
}

/**
 * An ICMP error's quote as a value podnet may hold cut (a raw tail, see icmpErrorQuote) turned back into the
 * header values tcpdump decodes from the bytes it has: the ICMP, UDP or TCP header when the cut keeps it.
 */
function l4Of(p: Ipv4Packet): Ipv4Packet['payload'] {
  const l4 = p.payload;
  if (l4.kind !== 'raw' || l4.bytes === undefined) return l4;
  const b = l4.bytes;
  const rest: RawPayload = { kind: 'raw', length: Math.max(0, p.header.totalLength - 20 - 8) };
  if (p.header.protocol === IPPROTO_ICMP && b.length >= 8) return { kind: 'icmp', type: b[0]!, code: b[1]!, rest: be32(b, 4), data: rest };
  if (p.header.protocol === IPPROTO_UDP && b.length >= 8) return { kind: 'udp', srcPort: be16(b, 0), dstPort: be16(b, 2), payload: { kind: 'raw', length: Math.max(0, be16(b, 4) - 8) } };
  if (p.header.protocol === IPPROTO_TCP && b.length >= 20) {
    return { kind: 'tcp', srcPort: be16(b, 0), dstPort: be16(b, 2), seq: be32(b, 4), ack: be32(b, 8), flags: b[13]!, window: be16(b, 14), payload: { kind: 'raw', length: Math.max(0, p.header.totalLength - 40) } };
  }
  return l4;
}

/** tcpdump's text for an ICMP message (icmp_print), without the quoted packet of an error. */
function icmpText(m: IcmpMessage, len: number): string {
  if (m.type === ICMP_ECHO_REQUEST || m.type === ICMP_ECHO_REPLY) {
    return `ICMP echo ${m.type === ICMP_ECHO_REQUEST ? 'request' : 'reply'}, id ${m.rest >>> 16}, seq ${m.rest & 0xffff}, length ${len}`;
  }
  const quoted = m.data.kind === 'ipv4' ? m.data : null;
  if (m.type === ICMP_TIME_EXCEEDED && m.code === 0) return `ICMP time exceeded in-transit, length ${len}`;
  if (m.type === ICMP_REDIRECT && quoted && m.code <= 3) {
    const to = ['redirect %s to net %s', 'redirect %s to host %s', 'redirect-tos %s to net %s', 'redirect-tos %s to host %s'][m.code]!;
    return `ICMP ${to.replace('%s', formatIpv4(quoted.header.dst)).replace('%s', formatIpv4(m.rest >>> 0))}, length ${len}`;
  }
  if (m.type === ICMP_DEST_UNREACH && quoted) {
    const dst = formatIpv4(quoted.header.dst);
    const q = l4Of(quoted);
    if (m.code === 3 && q.kind === 'udp') return `ICMP ${dst} udp port ${q.dstPort} unreachable, length ${len}`;
    if (m.code === 3 && q.kind === 'tcp') return `ICMP ${dst} tcp port ${q.dstPort} unreachable, length ${len}`;
    if (m.code === 2) return `ICMP ${dst} protocol ${quoted.header.protocol} unreachable, length ${len}`;
    if (m.code === 1) return `ICMP host ${dst} unreachable, length ${len}`;
    if (m.code === 0) return `ICMP net ${dst} unreachable, length ${len}`;
    if (m.code === 4) return `ICMP ${dst} unreachable - need to frag (mtu ${m.rest & 0xffff}), length ${len}`;
    if (m.code === 13) return `ICMP host ${dst} unreachable - admin prohibited filter, length ${len}`;
  }
  return `ICMP type-#${m.type}, length ${len}`;
}

/** How tcpdump was asked to print. */
export interface PrintOptions {
  /** `-e`: the MAC addresses, the ethertype and the frame length before the packet. */
  readonly link?: boolean;
  /**
   * How many `-v`: 0 (the default) prints tcpdump's one-line summary; 1 adds the IPv4 header's fields (tos,
   * ttl, id, offset, flags, proto, length), TCP's checksum and ICMP errors' quoted packet; 2 (`-vv`) also
   * UDP's checksum; 3 prints as 2 does (podnet carries nothing that -vvv decodes further).
   */
  readonly verbose?: number;
  /**
   * `-x` (`{ ascii: false, link: false }`): the packet's bytes after the link-level header in hex; `-xx`
   * (`link: true`) the whole frame's; `-X`/`-XX` (`ascii: true`) with their ASCII beside.
   */
  readonly hex?: { readonly ascii: boolean; readonly link: boolean } | null;
  /**
   * The TCP conversations one capture has seen, for relative sequence numbers (tcpdump without -S): absent,
   * every number prints absolute. One capture keeps one (a `new TcpConversations()`), as tcpdump keeps its table.
   */
  readonly conversations?: TcpConversations;
}

/**
 * tcpdump's tcp_seq_hash: the first segment with ACK of a conversation (in either direction), or any with SYN,
 * records both sides' initial numbers (its seq, and its ack − 1) and prints absolute; later segments of the
 * conversation print seq and ack relative to them. Measured (scripts/nc-formats.sh): `Flags [S.], seq 505359068,
 * ack 1259399613`, then `Flags [.], ack 1`, `Flags [F.], seq 1, ack 1`, `Flags [F.], seq 1, ack 2`.
 */
export class TcpConversations {
  readonly #base = new Map<string, { readonly mine: number; readonly theirs: number }>();

  /** The seq and ack to print for a segment from `src`.`sport` to `dst`.`dport` (updates the table). */
  numbers(src: string, sport: number, dst: string, dport: number, seg: { readonly flags: number; readonly seq: number; readonly ack: number }): { seq: number; ack: number } {
    if ((seg.flags & 0x10) === 0) return { seq: seg.seq, ack: seg.ack };
    const fwd = `${src}.${sport}>${dst}.${dport}`;
    const rev = `${dst}.${dport}>${src}.${sport}`;
    const mine = this.#base.get(fwd);
    const theirs = this.#base.get(rev);
    if ((seg.flags & 0x02) !== 0 || (mine === undefined && theirs === undefined)) {
      this.#base.delete(rev);
      this.#base.set(fwd, { mine: seg.seq, theirs: (seg.ack - 1) >>> 0 });
      return { seq: seg.seq, ack: seg.ack };
    }
    const b = mine ?? { mine: theirs!.theirs, theirs: theirs!.mine };
    return { seq: (seg.seq - b.mine) >>> 0, ack: (seg.ack - b.theirs) >>> 0 };
  }
}

function checkOptions(o: PrintOptions): void {
  if (typeof o !== 'object' || o === null) fail('INVALID_ARGUMENT', `print options must be an object, not ${shown(o)}`);
  const v = o.verbose;
  if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 3)) fail('INVALID_ARGUMENT', `verbose ${shown(v)} must be 0 to 3 (-v, -vv, -vvv)`, { verbose: v });
  if (o.conversations !== undefined && !(o.conversations instanceof TcpConversations)) fail('INVALID_ARGUMENT', 'conversations must be a TcpConversations (one per capture)');
  if (o.link !== undefined && typeof o.link !== 'boolean') fail('INVALID_ARGUMENT', `link ${shown(o.link)} must be a boolean (-e)`, { link: o.link });
  const h = o.hex;
  if (h !== undefined && h !== null && (typeof h !== 'object' || typeof h.ascii !== 'boolean' || typeof h.link !== 'boolean')) {
    fail('INVALID_ARGUMENT', 'hex must be null or { ascii: boolean, link: boolean } (-x, -xx, -X, -XX)', { hex: h });
  }
}

/**
 * tcpdump's hex dump of `bytes` (print-ascii.c): lines of 16 bytes as 8 groups of 4 hex digits, each line
 * on `\n\t0xOFFS: `; with `ascii`, the groups padded to 40 columns and the bytes as text beside them
 * (`.` for each byte that is not a graphic ASCII character).
 */
function hexDump(bytes: Uint8Array, ascii: boolean): string {
  let out = '';
  for (let at = 0; at < bytes.length; at += 16) {
    const row = bytes.subarray(at, at + 16);
    let hex = '';
    for (let i = 0; i < row.length; i += 2) hex += i + 1 < row.length ? ` ${row[i]!.toString(16).padStart(2, '0')}${row[i + 1]!.toString(16).padStart(2, '0')}` : ` ${row[i]!.toString(16).padStart(2, '0')}`;
    const text = Array.from(row, (c) => (c > 0x20 && c < 0x7f ? String.fromCharCode(c) : '.')).join('');
    out += `\n\t0x${hex4(at)}: ${ascii ? `${hex.padEnd(40)}  ${text}` : hex}`;
  }
  return out;
}

/**
 * One frame as `tcpdump -n` prints it (after the timestamp); VXLAN's inner frame on a line of its own. With
 * `-e` the line starts with the link-level header and tcpdump drops its `IP ` / `ARP, ` protocol labels,
 * inner and quoted packets' too (measured, tcpdump 4.99 on a veth: `22:9c:f0:70:80:78 > 12:aa:a8:05:ca:6b,
 * ethertype IPv4 (0x0800), length 98: 10.244.1.4 > 10.244.2.3: ICMP echo request, …`). With `-v` an IPv4
 * packet prints as `IP (tos 0x0, ttl 64, id 1, offset 0, flags [DF], proto ICMP (1), length 84)` and its
 * addresses on the next line, indented by four spaces (scripts/tcpdump-verbose.sh). Checksums are verified
 * on the bytes podnet puts on the wire ({@link emitFrame}). Throws `INVALID_ARGUMENT` on bad options and
 * `INVALID_PACKET` on a frame that cannot be emitted.
 *
 * @example
 * describeFrame(frame, { verbose: 1 });
 * // 'IP (tos 0x0, ttl 64, id 1, offset 0, flags [DF], proto ICMP (1), length 84)\n    10.244.1.4 > 10.244.2.3: ICMP echo request, id 23722, seq 1, length 64'
 */
export function describeFrame(frame: Frame, o: PrintOptions = {}): string {
  checkOptions(o);
  const bytes = emitFrame(frame);
  const text = frameText(frame, bytes, o);
  const h = o.hex;
  if (h === undefined || h === null) return text;
  return text + hexDump(h.link ? bytes : bytes.subarray(14), h.ascii);
}

function frameText(frame: Frame, bytes: Uint8Array, o: PrintOptions): string {
  const link = o.link === true;
  if (frame.payload.kind === 'arp') {
    const a = frame.payload;
    const head = link ? `${frame.eth.src} > ${frame.eth.dst}, ethertype ARP (0x0806), length ${14 + 28}: ` : 'ARP, ';
    // arp_print with -v names the hardware and protocol types and their address lengths.
    const types = (o.verbose ?? 0) > 0 ? 'Ethernet (len 6), IPv4 (len 4), ' : '';
    return head + types + (a.op === 1
      ? `Request who-has ${formatIpv4(a.targetIp)} tell ${formatIpv4(a.senderIp)}, length 28`
      : `Reply ${formatIpv4(a.senderIp)} is-at ${a.senderMac}, length 28`);
  }
  const head = link ? `${frame.eth.src} > ${frame.eth.dst}, ethertype IPv4 (0x0800), length ${14 + frame.payload.header.totalLength}: ` : '';
  return head + describeIp(frame.payload, bytes.subarray(14), o);
}

/**
 * An IPv4 packet as tcpdump's ip_print prints it (`IP ` only without -e). `b` holds the packet's bytes as
 * captured: all of them, or an ICMP error's quote, cut (checksums are verified only over bytes there).
 */
function describeIp(p: Ipv4Packet, b: Uint8Array, o: PrintOptions): string {
  const v = o.verbose ?? 0;
  const h = p.header;
  let out = o.link === true ? '' : 'IP ';
  if (v > 0) {
    // ECN codepoint after the tos (ip_print): ECT(1), ECT(0), CE.
    const ecn = ['', ',ECT(1)', ',ECT(0)', ',CE'][h.tos & 3]!;
    const bad = b.length >= 20 && internetChecksum(b.subarray(0, 20)) !== 0 ? `, bad cksum ${be16(b, 10).toString(16)} (->${shouldBe(b.subarray(0, 20), 10).toString(16)})!` : '';
    out += `(tos 0x${h.tos.toString(16)}${ecn}, ttl ${h.ttl}, id ${h.id}, offset 0, flags [${h.df ? 'DF' : 'none'}], proto ${PROTO_NAMES[h.protocol] ?? 'unknown'} (${h.protocol}), length ${h.totalLength}${bad})\n    `;
  }
  const src = formatIpv4(h.src);
  const dst = formatIpv4(h.dst);
  const l4 = l4Of(p);
  const seg = b.subarray(20);
  // A checksum can be verified only when every byte it covers was captured (ND_TTEST_LEN).
  const whole = seg.length >= h.totalLength - 20;
  if (l4.kind === 'icmp') {
    out += `${src} > ${dst}: ${icmpText(l4, h.totalLength - 20)}`;
    if (v > 0 && whole && internetChecksum(seg.subarray(0, h.totalLength - 20)) !== 0) {
      out += ` (wrong icmp cksum ${be16(seg, 2).toString(16)} (->${shouldBe(seg.subarray(0, h.totalLength - 20), 2).toString(16)})!)`;
    }
    // An error quotes the packet it is about: -v prints it on a line of its own, after a tab (icmp_print).
    if (v > 0 && l4.data.kind === 'ipv4' && isIcmpError(l4.type)) out += `\n\t${describeIp(l4.data, seg.subarray(8), o)}`;
    return out;
  }
  if (l4.kind === 'udp') {
    out += `${src}.${l4.srcPort} > ${dst}.${l4.dstPort}: `;
    if (v > 1 && seg.length >= 8) {
      // udp_print verifies UDP's checksum with -vv only; 0 is "no checksum" over IPv4.
      const field = be16(seg, 6);
      const ulen = be16(seg, 4);
      const sum = pseudoHeaderSum(h.src, h.dst, IPPROTO_UDP, ulen);
      if (field === 0) out += '[no cksum] ';
      else if (seg.length >= ulen) out += internetChecksum(seg.subarray(0, ulen), sum) === 0 ? '[udp sum ok] ' : `[bad udp cksum 0x${hex4(field)} -> 0x${hex4(shouldBe(seg.subarray(0, ulen), 6, sum))}!] `;
    }
    if (l4.payload.kind === 'vxlan') {
      // tcpdump decodes UDP 4789 as VXLAN and 8472 (the Linux default flannel uses) as OTV, the protocol
      // IANA assigned that port to; both headers carry the I flag and a 24-bit ID.
      const inner = frameText(l4.payload.inner, seg.subarray(16), o);
      const vx = l4.dstPort === 4789 || l4.srcPort === 4789
        ? `VXLAN, flags [I] (0x08), vni ${l4.payload.vni}`
        : `OTV, flags [I] (0x08), overlay 0, instance ${l4.payload.vni}`;
      return `${out}${vx}\n${inner}`;
    }
    return `${out}UDP, length ${l4.payload.length}`;
  }
  if (l4.kind === 'tcp') {
    const f = l4.flags;
    // tcp_flag_values' order: F S R P . U E W.
    const flags = `${f & 0x01 ? 'F' : ''}${f & 0x02 ? 'S' : ''}${f & 0x04 ? 'R' : ''}${f & 0x08 ? 'P' : ''}${f & 0x10 ? '.' : ''}${f & 0x20 ? 'U' : ''}${f & 0x40 ? 'E' : ''}${f & 0x80 ? 'W' : ''}` || 'none';
    out += `${src}.${l4.srcPort} > ${dst}.${l4.dstPort}: Flags [${flags}]`;
    const tlen = h.totalLength - 20;
    if (v > 0 && whole && seg.length >= 20) {
      const sum = pseudoHeaderSum(h.src, h.dst, IPPROTO_TCP, tlen);
      const field = be16(seg, 16);
      out += `, cksum 0x${hex4(field)} ${internetChecksum(seg.subarray(0, tlen), sum) === 0 ? '(correct)' : `(incorrect -> 0x${hex4(shouldBe(seg.subarray(0, tlen), 16, sum))})`}`;
    }
    const len = l4.payload.length;
    // tcp_print: the sequence number only with data, SYN, FIN or RST (or -vv); relative within a conversation
    // the capture saw start (TcpConversations), else absolute.
    const n = o.conversations?.numbers(src, l4.srcPort, dst, l4.dstPort, l4) ?? l4;
    if (v > 1 || len > 0 || (f & 0x07) !== 0) out += `, seq ${n.seq}${len > 0 ? `:${(n.seq + len) >>> 0}` : ''}`;
    if (f & 0x10) out += `, ack ${n.ack}`;
    return `${out}, win ${l4.window}, length ${len}`;
  }
  if (l4.kind === 'ipv4') return `${out}${src} > ${dst}: ${describeIp(l4, seg, o)}`;
  return `${out}${src} > ${dst}: ip-proto-${h.protocol} ${l4.length}`;
}

/**
 * A capture line: the time of day and the frame, as `tcpdump -n` prints it with the options `o`; `stamp`, when
 * given, is the timestamp to print instead (format.ts captureStamp: `-t`, `-tt` …), with its space.
 */
export function captureLine(timeMs: number, frame: Frame, o: PrintOptions = {}, stamp?: string): string {
  return `${stamp ?? `${timeOfDay(timeMs)} `}${describeFrame(frame, o)}`;
}
