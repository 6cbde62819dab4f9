/**
 * `nc -z` (netcat-openbsd 1.219, what the netshoot image ships): TCP connect checks and UDP probes, sent as real
 * packets through the simulator and printed as netcat prints them. What it prints and when it gives up was
 * measured in network namespaces on the seed lab built by hand (scripts/nc-formats.sh, replayed by nc.test.ts).
 *
 * - TCP: a SYN; a SYN/ACK is a connection (nc then ACKs and closes: ACK, FIN, the listener's FIN/ACK, ACK); a RST
 *   is `Connection refused`; an ICMP unreachable or time exceeded about the SYN ends the connect with its errno
 *   (tcp_v4_err in SYN_SENT); silence means the kernel retransmits the SYN (at 1, 2, 3, 4, 5, 7, 11, 19, 35 and
 *   67 s: tcp_syn_linear_timeouts = 4, tcp_syn_retries = 6) and gives up 131 s after the first (`Connection timed
 *   out`), unless `-w N` stops it after N seconds (`timed out: Operation now in progress`). The simulated clock
 *   advances by that time, retransmissions going out at theirs.
 * - A neighbour that does not answer ARP (the sender's own, or a router's, which then sends ICMP host unreachable)
 *   answers after the kernel's three solicitations, 3 s: measured, `No route to host` after 3 s with four SYNs on the
 *   wire (0, 1, 2, 3 s), and with `-w 1` a timeout after 1 s.
 * - UDP (`-u`, with `-v`): udptest() writes one byte twice, then once a second for 3 s (or `-w` seconds); an ICMP
 *   port unreachable makes the next write fail (ECONNREFUSED) and nc prints nothing for that port; anything else
 *   (an answer, silence, a host unreachable, which a connected UDP socket ignores) prints `succeeded`. Without `-v`
 *   netcat writes nothing (measured, stdin not a terminal) and exits 0.
 * - Names: podnet has no DNS and no Service objects, so a name other than `localhost` gets what a cluster DNS
 *   answers for a name it does not know (NXDOMAIN: `Name or service not known`). `localhost` is 127.0.0.1 only:
 *   in a pod, where lo has ::1, netcat tries ::1 first (measured), which podnet (IPv4 only) does not model.
 */
import { fail, formatIpv4, getNs, ipv4, isLocalAddress, lookupRouteIn, type Ipv4, type Ipv4Packet, type NsId, type Simulator, type Trace } from '@podnet/core';
import { serviceName, servicePort } from './services.js';
import { err, type Output } from './types.js';

/** Where nc runs: the simulator, the sending endpoint, and the clock it may move. */
export interface NcHost {
  readonly sim: Simulator;
  /** The sender as {@link Simulator.send} takes it: a node name or a pod key (`default/pod-a`). */
  readonly from: string;
  /** The sender's network namespace: replies delivered there are nc's. */
  readonly ns: NsId;
  /** Lets `ms` of simulated time pass before the next packet (retransmissions, UDP's writes a second apart). */
  wait(ms: number): void;
  /** Called with each packet's trace once sent: the host may let the time its steps took pass, so the next is later. */
  sent?(trace: Trace): void;
}

const USAGE = `usage: nc [-46CDdFhklNnrStUuvZz] [-I length] [-i interval] [-M ttl]
\t  [-m minttl] [-O length] [-P proxy_username] [-p source_port]
\t  [-q seconds] [-s sourceaddr] [-T keyword] [-V rtable] [-W recvlimit]
\t  [-w timeout] [-X proxy_protocol] [-x proxy_address[:port]]
\t  [destination] [port]`;

/** netcat-openbsd's options that take an argument (its getopt string). */
const WITH_ARG = new Set(['I', 'i', 'M', 'm', 'O', 'P', 'p', 'q', 's', 'T', 'V', 'W', 'w', 'X', 'x']);
/** netcat's flags a connect check honours, or may ignore (-4: podnet is IPv4 only; -N, -d, -D change nothing without data). */
const FLAGS = new Set(['z', 'v', 'n', 'u', '4', 'N', 'd', 'D']);
/** netcat's other flags (its getopt string): taken as netcat takes them, then refused as not modelled. */
const UNMODELLED: Readonly<Record<string, string>> = {
  l: 'listening (-l)', k: 'listening (-k)', U: 'UNIX-domain sockets (-U)', 6: 'IPv6 (-6)', F: 'passing the socket (-F)', h: 'its help (-h)',
  r: 'random port order (-r)', C: 'CRLF line endings (-C)', S: 'TCP MD5 signatures (-S)', t: 'telnet negotiation (-t)', Z: 'DCCP (-Z)',
};

/**
 * SYN retransmission times, ms after the first: the initial RTO (1 s) and four more linear ones
 * (net.ipv4.tcp_syn_linear_timeouts = 4), then doubling, six in all after those (tcp_syn_retries = 6). Measured
 * (Linux 6.18, scripts/nc-formats.sh): SYNs at +0, 1.0, 2.0, 3.1, 4.1, 5.1, 7.1, 11.3, 19.5, 35.6, 68.4 s, each
 * timer a little late.
 */
const SYN_AT = [0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67].map((s) => s * 1000);
/** When connect(2) fails with ETIMEDOUT: 64 s after the last SYN (measured 133 s elapsed with the timers' slack). */
const SYN_GIVE_UP_MS = 131_000;
/** How long a neighbour that does not answer takes to fail: mcast_solicit 3 × retrans_time 1 s. */
const ARP_FAIL_MS = 3_000;
/** udptest's wait without -w (UDP_SCAN_TIMEOUT, seconds). */
const UDP_SCAN_TIMEOUT = 3;

/** errno texts of ICMP destination-unreachable codes as tcp_v4_err reports them (icmp_err_convert). */
const UNREACH_ERRNO: readonly string[] = [
  'Network is unreachable', 'No route to host', 'Protocol not available', 'Connection refused', '', 'Operation not supported',
  'Network is unreachable', 'Host is down', 'Machine is not on the network', 'Network is unreachable', 'No route to host',
  'Network is unreachable', 'No route to host', 'No route to host', 'No route to host', 'No route to host',
];

interface Options {
  readonly verbose: boolean;
  readonly numeric: boolean;
  readonly udp: boolean;
  /** -w in seconds, or null. */
  readonly wait: number | null;
  readonly host: string;
  readonly ports: readonly number[];
}

/** What came back for one packet nc sent. */
type Answer =
  | { readonly kind: 'synack'; readonly seq: number }
  | { readonly kind: 'rst' }
  | { readonly kind: 'error'; readonly errno: string; readonly delayed: boolean; readonly fatal: boolean }
  | { readonly kind: 'none' };

/**
 * Runs `nc ARGS` from `host.from`: `-z` checks (with `-v` printing each port's result), TCP or `-u` UDP, `-w N`,
 * `-n`, port lists and ranges. Everything netcat prints goes to stderr, as netcat writes it there. Without `-z`
 * netcat would carry data, which podnet (no sockets, no applications) does not: it says so, as it does for
 * listening (`-l`).
 *
 * @example
 * nc({ sim, from: 'default/pod-a', ns: 'pod/default/pod-a', wait: (ms) => sim.advance(ms) }, ['-zv', '10.244.2.3', '80']);
 * // { stdout: '', stderr: 'Connection to 10.244.2.3 80 port [tcp/http] succeeded!\n', status: 0 } when pod-c listens on 80
 */
export function nc(host: NcHost, args: readonly string[]): Output {
  if (host === null || typeof host !== 'object' || typeof host.from !== 'string' || typeof host.ns !== 'string' || typeof host.wait !== 'function' || typeof host.sim?.send !== 'function') {
    fail('INVALID_ARGUMENT', 'nc needs a host: { sim, from, ns, wait(ms) } (the simulator, the sender, its namespace, a clock to move)');
  }
  const o = parse(args);
  if ('status' in o) return o;
  const addr = resolve(o.host, o.numeric);
  if (addr === null) return err(`nc: getaddrinfo for host "${o.host}" port ${o.ports[0]}: Name or service not known`, 1);
  // netcat names a host given by name with its address: `Connection to web (10.244.2.3) 80 port …`.
  const shown = o.host === formatIpv4(addr) ? o.host : `${o.host} (${formatIpv4(addr)})`;
  const proto = o.udp ? 'udp' : 'tcp';
  let stderr = '';
  // netcat's ret: 1 until a port connects; a UDP port whose test fails sets it back to 1 (so the last UDP port decides).
  let status = 1;
  for (const port of o.ports) {
    const r = o.udp ? udpCheck(host, addr, port, o) : tcpConnect(host, addr, port, o.wait);
    if (r.kind === 'failed') {
      if (o.verbose) stderr += `nc: connect to ${shown} port ${port} (${proto}) ${r.timedOut ? 'timed out' : 'failed'}: ${r.errno}\n`;
      continue;
    }
    status = r.kind === 'refused' ? 1 : 0;
    if (r.kind === 'ok' && o.verbose) {
      const name = o.numeric ? '*' : serviceName(proto, port);
      stderr += `Connection to ${shown} ${port} port [${proto}/${name === String(port) ? '*' : name}] succeeded!\n`;
    }
  }
  return { stdout: '', stderr, status };
}

type Result = { readonly kind: 'ok' } | { readonly kind: 'refused' } | { readonly kind: 'failed'; readonly errno: string; readonly timedOut: boolean };

function parse(args: readonly string[]): Options | Output {
  if (!Array.isArray(args) || args.some((a) => typeof a !== 'string')) return err('nc: arguments must be strings', 1);
  const flags = new Set<string>();
  let wait: number | null = null;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    // glibc's getopt permutes: options may follow the host and ports (`nc 10.244.2.3 80 -zv`).
    if (!a.startsWith('-') || a === '-') { rest.push(a); continue; }
    if (a === '--') { rest.push(...args.slice(i + 1)); break; }
    // getopt: flags cluster (`-zvu`), and an option's argument is the rest of the word or the next word.
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!;
      if (WITH_ARG.has(c)) {
        const v = j + 1 < a.length ? a.slice(j + 1) : args[++i];
        if (v === undefined) return err(`nc: option requires an argument -- '${c}'\n${USAGE}`, 1);
        if (c !== 'w') return err(`nc: not modelled by podnet: -${c} (podnet's nc makes connect checks: -z, -v, -n, -u, -w)`, 1);
        if (!/^\d+$/.test(v)) return err(`nc: timeout invalid: ${v}`, 1);
        if (Number(v) > 2147483) return err(`nc: timeout too large: ${v}`, 1);
        // -w 0 is no timeout at all (measured: `nc -zv -w 0` to a dropped port gave up with the kernel, after 131 s).
        wait = Number(v) === 0 ? null : Number(v);
        break;
      }
      if (!FLAGS.has(c) && UNMODELLED[c] === undefined) return err(`nc: invalid option -- '${c}'\n${USAGE}`, 1);
      flags.add(c);
    }
  }
  for (const f of flags) {
    const what = UNMODELLED[f];
    if (what !== undefined) return err(`nc: not modelled by podnet: ${what}; podnet's nc makes connect checks (-z), TCP or UDP (-u), over IPv4`, 1);
  }
  const [host, ...portWords] = rest;
  if (host === undefined) return err(USAGE, 1);
  if (portWords.length === 0) return err('nc: missing port number', 1);
  const udp = flags.has('u');
  const ports: number[] = [];
  // build_ports checks every port before the first connect.
  for (const w of portWords) {
    const dash = w.indexOf('-');
    if (dash > 0 && servicePort(udp ? 'udp' : 'tcp', w) === null) {
      const lo = portOf(w.slice(0, dash), udp);
      if (typeof lo !== 'number') return lo;
      const hi = portOf(w.slice(dash + 1), udp);
      if (typeof hi !== 'number') return hi;
      for (let p = Math.min(lo, hi); p <= Math.max(lo, hi); p++) ports.push(p);
    } else {
      const p = portOf(w, udp);
      if (typeof p !== 'number') return p;
      ports.push(p);
    }
  }
  if (!flags.has('z')) return err('nc: not modelled by podnet: carrying data (podnet has no sockets or applications); use -z to check that a port answers, e.g. nc -zv HOST PORT', 1);
  return { verbose: flags.has('v'), numeric: flags.has('n'), udp, wait, host, ports };
}

/** A port word as netcat's strtoport takes it: a number from 1 to 65535 or a name from /etc/services (measured texts). */
function portOf(w: string, udp: boolean): number | Output {
  if (/^\d+$/.test(w)) {
    const n = Number(w);
    if (n < 1) return err(`nc: port number too small: ${w}`, 1);
    if (n > 65535) return err(`nc: port number too large: ${w}`, 1);
    return n;
  }
  return servicePort(udp ? 'udp' : 'tcp', w) ?? err(`nc: port number invalid: ${w}`, 1);
}

/** A dotted-quad IPv4 address, `localhost`, or null for a name (which a cluster DNS would answer NXDOMAIN for). */
function resolve(name: string, numeric: boolean): Ipv4 | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(name);
  if (m && m.slice(1).every((x) => Number(x) <= 255)) return m.slice(1).reduce((a, x) => (a * 256) + Number(x), 0) >>> 0;
  if (!numeric && name === 'localhost') return 0x7f000001;
  return null;
}

/** An ephemeral source port (net.ipv4.ip_local_port_range 32768–60999) and an initial sequence number for one connect. */
function socketOf(host: NcHost, dst: Ipv4, port: number): { sport: number; isn: number } {
  let h = 0x811c9dc5;
  for (const v of [host.sim.now(), dst, port, host.from.length, host.sim.history().length]) h = Math.imul(h ^ (v >>> 0), 0x01000193) >>> 0;
  for (let i = 0; i < host.from.length; i++) h = Math.imul(h ^ host.from.charCodeAt(i), 0x01000193) >>> 0;
  return { sport: 32768 + (h % (60999 - 32768 + 1)), isn: Math.imul(h, 0x9e3779b1) >>> 0 };
}

function tcpSegment(dst: Ipv4, src: Ipv4, sport: number, dport: number, seq: number, ack: number, flags: number, window: number): Ipv4Packet {
  return ipv4(dst, { kind: 'tcp', srcPort: sport, dstPort: dport, seq: seq >>> 0, ack: ack >>> 0, flags, window, payload: { kind: 'raw', length: 0 } }, 6, { src, df: true });
}

/** Sends one of nc's packets (a TCP one from its connected socket, which takes what comes back for it). */
function transmit(host: NcHost, packet: Ipv4Packet): Trace {
  const trace = host.sim.send(host.from, packet, packet.payload.kind === 'tcp' ? { socket: true } : {});
  host.sent?.(trace);
  return trace;
}

const SYN = 0x02;
const ACK = 0x10;
const FIN = 0x01;
const RST = 0x04;

/** connect(2) to dst:port, as the kernel's SYN_SENT state runs it, then nc's close. */
function tcpConnect(host: NcHost, dst: Ipv4, port: number, wait: number | null): Result {
  const { sport, isn } = socketOf(host, dst, port);
  // SYN: the window measured in the kernel's SYN (64860: 46 segments of MSS 1410 on flannel's 1450-byte MTU).
  const syn = tcpSegment(dst, 0, sport, port, isn, 0, SYN, 64860);
  const deadline = wait === null ? SYN_GIVE_UP_MS : wait * 1000;
  let t = 0;
  let pending: { at: number; errno: string } | null = null;
  let src: Ipv4 = 0;
  for (const at of SYN_AT) {
    if (at >= deadline || (pending !== null && at > pending.at)) break;
    host.wait(at - t);
    t = at;
    const trace = transmit(host, syn);
    src = trace.src ?? src;
    const a = answer(trace, host.ns, dst, sport, 'tcp');
    if (a.kind === 'synack') {
      close(host, dst, src, sport, port, isn, a.seq);
      return { kind: 'ok' };
    }
    if (a.kind === 'rst') return { kind: 'failed', errno: 'Connection refused', timedOut: false };
    if (a.kind === 'error' && !a.delayed) return { kind: 'failed', errno: a.errno, timedOut: false };
    if (a.kind === 'error' && pending === null) pending = { at: at + ARP_FAIL_MS, errno: a.errno };
  }
  if (pending !== null && pending.at < deadline) {
    host.wait(pending.at - t);
    return { kind: 'failed', errno: pending.errno, timedOut: false };
  }
  host.wait(deadline - t);
  return wait === null ? { kind: 'failed', errno: 'Connection timed out', timedOut: false } : { kind: 'failed', errno: 'Operation now in progress', timedOut: true };
}

/**
 * nc -z closes at once: the handshake's ACK, then FIN/ACK; the listener answers FIN/ACK and gets the last ACK
 * (measured: `[.]`, `[F.]`, `[F.]`, `[.]`, windows 64 and 63 scaled by wscale 10).
 */
function close(host: NcHost, dst: Ipv4, src: Ipv4, sport: number, dport: number, isn: number, peer: number): void {
  transmit(host, tcpSegment(dst, src, sport, dport, isn + 1, peer + 1, ACK, 64));
  const t = transmit(host, tcpSegment(dst, src, sport, dport, isn + 1, peer + 1, FIN | ACK, 64));
  const back = t.fates.some((f) => f.ns === host.ns && f.disposition === 'delivered' && f.ip?.payload.kind === 'tcp' && f.ip.payload.dstPort === sport && (f.ip.payload.flags & FIN) !== 0);
  if (back) transmit(host, tcpSegment(dst, src, sport, dport, isn + 2, peer + 2, ACK, 64));
}

/**
 * udptest() with -v: one byte written twice, then once a second for 3 s (or -w seconds). An ICMP port unreachable
 * to one write fails the next (ECONNREFUSED: nothing printed, status 1); one to the last write is never read.
 * Without -v netcat writes nothing (measured: no datagram on the wire, status 0).
 */
function udpCheck(host: NcHost, dst: Ipv4, port: number, o: Options): Result {
  if (!o.verbose) return connectRoute(host, dst);
  const { sport } = socketOf(host, dst, port);
  const seconds = o.wait ?? UDP_SCAN_TIMEOUT;
  const writes = [0, 0, ...Array.from({ length: seconds }, (_, i) => (i + 1) * 1000)];
  let t = 0;
  for (let i = 0; i < writes.length; i++) {
    host.wait(writes[i]! - t);
    t = writes[i]!;
    const trace = transmit(host, ipv4(dst, { kind: 'udp', srcPort: sport, dstPort: port, payload: { kind: 'raw', length: 1 } }, 17, {}));
    const a = answer(trace, host.ns, dst, sport, 'udp');
    // connect(2) of a UDP socket looks the route up: no route fails it, and nothing is written.
    if (i === 0 && a.kind === 'error' && a.local) return { kind: 'failed', errno: a.errno, timedOut: false };
    // A connected UDP socket keeps only hard errors (udp_err: icmp_err_convert's fatal ones), and udptest
    // checks only for ECONNREFUSED.
    if (a.kind === 'error' && a.fatal && a.errno === 'Connection refused' && i < writes.length - 1) return { kind: 'refused' };
  }
  return { kind: 'ok' };
}

/**
 * Without -v: connect(2)'s route lookup alone, no packet. No route fails it (ENETUNREACH), as do a blackhole
 * route (EINVAL) and an unreachable or prohibit one (EHOSTUNREACH, EACCES), as ping's connect measured them.
 */
function connectRoute(host: NcHost, dst: Ipv4): Result {
  const ns = getNs(host.sim.state, host.ns);
  if (isLocalAddress(ns, dst)) return { kind: 'ok' };
  const route = lookupRouteIn(host.sim.state, ns, dst);
  const errno = route === null ? 'Network is unreachable' : { unicast: null, blackhole: 'Invalid argument', unreachable: 'No route to host', prohibit: 'Permission denied' }[route.type];
  return errno === null ? { kind: 'ok' } : { kind: 'failed', errno, timedOut: false };
}

/**
 * What came back to `ns` for the packet of `trace`, sent from port `sport` to `dst`: a SYN/ACK or RST for it, an
 * ICMP error quoting it, or the sender's own failure (no route, a blackhole or unreachable route: connect(2)
 * fails at once; an ARP that fails: 3 s later). `delayed`: the answer waited for a neighbour that never answered.
 */
function answer(trace: Trace, ns: NsId, dst: Ipv4, sport: number, proto: 'tcp' | 'udp'): Answer & { readonly local?: boolean } {
  const arp = trace.fates.some((f) => f.packet === 1 && f.disposition === 'neighbourUnreachable');
  for (const f of trace.fates) {
    if (f.ns !== ns || f.disposition !== 'delivered' || f.role === 'original' || f.ip === null) continue;
    const p = f.ip.payload;
    if (p.kind === 'tcp' && proto === 'tcp' && p.dstPort === sport && f.ip.header.src === dst) {
      if (p.flags & RST) return { kind: 'rst' };
      if ((p.flags & (SYN | ACK)) === (SYN | ACK)) return { kind: 'synack', seq: p.seq };
    }
    if (p.kind === 'icmp' && (p.type === 3 || p.type === 11) && p.data.kind === 'ipv4') {
      const q = p.data.payload;
      if ((q.kind === 'tcp' || q.kind === 'udp') && q.kind === proto && q.srcPort === sport) {
        if (p.type === 11) return { kind: 'error', errno: 'No route to host', delayed: arp, fatal: false };
        // Fragmentation needed only teaches the path MTU (tcp_v4_err, udp_err): not an error of the socket.
        if (p.code === 4 || p.code > 15) continue;
        return { kind: 'error', errno: UNREACH_ERRNO[p.code]!, delayed: arp, fatal: p.code === 2 || p.code === 3 || p.code >= 6 && p.code <= 10 || p.code === 13 };
      }
    }
  }
  // The sender's own route refused the packet, or its own neighbour never answered (packet 1 ended in its namespace).
  const own = trace.fates.find((f) => f.packet === 1);
  if (own !== undefined && own.ns === ns && (own.ip === null || own.ip.header.dst === dst)) {
    const local = { noRoute: 'Network is unreachable', blackhole: 'Invalid argument', hostUnreachable: 'No route to host' }[own.disposition as string];
    if (local !== undefined) return { kind: 'error', errno: local, delayed: false, fatal: true, local: true };
    if (own.disposition === 'neighbourUnreachable') return { kind: 'error', errno: 'No route to host', delayed: true, fatal: false };
  }
  return { kind: 'none' };
}
