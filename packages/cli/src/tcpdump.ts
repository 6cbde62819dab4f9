/**
 * tcpdump over the simulated wire: which frames an interface sees, pcap-filter(7) expressions (host,
 * net, port, icmp, udp, tcp, arp, ip, src/dst, and/or/not, parentheses) matched on the outer headers as
 * BPF matches them, tcpdump's `-n` line format, and pcap files for `-w`.
 */
import {
  cidrContains, emitFrame, formatIpv4, ICMP_DEST_UNREACH, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, ICMP_TIME_EXCEEDED,
  parseCidr, parseIpv4, type Frame, type Ipv4Packet, type NsId, type Step, type Trace,
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
    // segment): a capture sees it once per device.
    let key: string;
    try { key = `${s.packet}|${s.dev}|${emitFrame(s.frame).join(',')}`; } catch { continue; }
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ step: s, frame: s.frame });
  }
  return out;
}

function icmpText(p: Ipv4Packet): string {
  if (p.payload.kind !== 'icmp') return '';
  const m = p.payload;
  const len = p.header.totalLength - 20;
  if (m.type === ICMP_ECHO_REQUEST || m.type === ICMP_ECHO_REPLY) {
    return `ICMP echo ${m.type === ICMP_ECHO_REQUEST ? 'request' : 'reply'}, id ${m.rest >>> 16}, seq ${m.rest & 0xffff}, length ${len}`;
  }
  const quoted = m.data.kind === 'ipv4' ? m.data : null;
  if (m.type === ICMP_TIME_EXCEEDED) return `ICMP time exceeded in-transit, length ${len}`;
  if (m.type === ICMP_DEST_UNREACH && quoted) {
    const dst = formatIpv4(quoted.header.dst);
    if (m.code === 3 && quoted.payload.kind === 'udp') return `ICMP ${dst} udp port ${quoted.payload.dstPort} unreachable, length ${len}`;
    if (m.code === 1) return `ICMP host ${dst} unreachable, length ${len}`;
    if (m.code === 0) return `ICMP net ${dst} unreachable, length ${len}`;
    if (m.code === 4) return `ICMP ${dst} unreachable - need to frag (mtu ${m.rest & 0xffff}), length ${len}`;
    if (m.code === 13) return `ICMP host ${dst} unreachable - admin prohibited filter, length ${len}`;
  }
  return `ICMP type-#${m.type}, length ${len}`;
}

/** How tcpdump was asked to print: `-e` adds each frame's link-level header. */
export interface PrintOptions {
  /** `-e`: the MAC addresses, the ethertype and the frame length before the packet. */
  readonly link?: boolean;
}

/**
 * One frame as `tcpdump -n` prints it (after the timestamp); VXLAN's inner frame on a second line. With
 * `-e` the line starts with the link-level header and tcpdump drops its `IP ` / `ARP, ` protocol labels,
 * inner packets' too (measured, tcpdump 4.99 on a veth: `22:9c:f0:70:80:78 > 12:aa:a8:05:ca:6b,
 * ethertype IPv4 (0x0800), length 98: 10.244.1.4 > 10.244.2.3: ICMP echo request, …`).
 */
export function describeFrame(frame: Frame, o: PrintOptions = {}): string {
  const link = o.link === true;
  if (frame.payload.kind === 'arp') {
    const a = frame.payload;
    const head = link ? `${frame.eth.src} > ${frame.eth.dst}, ethertype ARP (0x0806), length ${14 + 28}: ` : 'ARP, ';
    return a.op === 1
      ? `${head}Request who-has ${formatIpv4(a.targetIp)} tell ${formatIpv4(a.senderIp)}, length 28`
      : `${head}Reply ${formatIpv4(a.senderIp)} is-at ${a.senderMac}, length 28`;
  }
  const head = link ? `${frame.eth.src} > ${frame.eth.dst}, ethertype IPv4 (0x0800), length ${14 + frame.payload.header.totalLength}: ` : '';
  return head + describeIp(frame.payload, o);
}

/** An IPv4 packet as tcpdump's ip_print prints it (`IP ` only without -e). */
function describeIp(p: Ipv4Packet, o: PrintOptions): string {
  const label = o.link === true ? '' : 'IP ';
  const src = formatIpv4(p.header.src);
  const dst = formatIpv4(p.header.dst);
  const l4 = p.payload;
  if (l4.kind === 'icmp') return `${label}${src} > ${dst}: ${icmpText(p)}`;
  if (l4.kind === 'udp') {
    const head = `${label}${src}.${l4.srcPort} > ${dst}.${l4.dstPort}:`;
    if (l4.payload.kind === 'vxlan') {
      // tcpdump decodes UDP 4789 as VXLAN and 8472 (the Linux default flannel uses) as OTV, the protocol
      // IANA assigned that port to; both headers carry the I flag and a 24-bit ID.
      const inner = describeFrame(l4.payload.inner, o);
      const vx = l4.dstPort === 4789 || l4.srcPort === 4789
        ? `VXLAN, flags [I] (0x08), vni ${l4.payload.vni}`
        : `OTV, flags [I] (0x08), overlay 0, instance ${l4.payload.vni}`;
      return `${head} ${vx}\n${inner}`;
    }
    return `${head} UDP, length ${l4.payload.length}`;
  }
  if (l4.kind === 'tcp') {
    const f = l4.flags;
    const flags = `${f & 0x02 ? 'S' : ''}${f & 0x01 ? 'F' : ''}${f & 0x04 ? 'R' : ''}${f & 0x08 ? 'P' : ''}${f & 0x10 ? '.' : ''}` || 'none';
    return `${label}${src}.${l4.srcPort} > ${dst}.${l4.dstPort}: Flags [${flags}], seq ${l4.seq}, win ${l4.window}, length ${l4.payload.length}`;
  }
  if (l4.kind === 'ipv4') return `${label}${src} > ${dst}: ${describeIp(l4, o)}`;
  return `${label}${src} > ${dst}: ip-proto-${p.header.protocol} ${l4.length}`;
}

/** A capture line: the time of day and the frame, as `tcpdump -n` prints it. */
export function captureLine(timeMs: number, frame: Frame, o: PrintOptions = {}): string {
  return `${timeOfDay(timeMs)} ${describeFrame(frame, o)}`;
}
