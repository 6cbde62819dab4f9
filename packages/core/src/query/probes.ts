/**
 * ping and traceroute as iputils and traceroute(8) run them, over the forwarding engine. Pure: each
 * takes a state and returns the result with the state after (ARP and FDB entries the probes taught).
 */
import { formatIpv4, parseIpv4, type Ipv4 } from '../addr/ipv4.js';
import { icmpEcho, udpPacket } from '../dataplane/build.js';
import { send, type SendOptions } from '../dataplane/engine.js';
import type { Trace } from '../dataplane/types.js';
import type { Tally } from '../dataplane/counters.js';
import { fail, shown } from '../errors.js';
import { findNode, findPod, getNs, hostNsId, podNsId } from '../model/lookup.js';
import { isLocalAddress } from '../ops/routing.js';
import { routeGet } from './route-get.js';
import type { ClusterState, NetNs, NsId } from '../model/types.js';
import { LIMITED_BROADCAST, localBroadcast } from '../dataplane/broadcast.js';
import { ICMP_DEST_UNREACH, ICMP_ECHO_REPLY, ICMP_PORT_UNREACH, ICMP_REDIRECT, ICMP_TIME_EXCEEDED, IPV4_HEADER_LEN, type Ipv4Packet } from '../wire/packet.js';

/** Resolves a probe source: a pod (`name` or `namespace/name`) or a node (its host namespace). */
export function endpointNs(state: ClusterState, from: string): NsId {
  const pod = findPod(state, from);
  if (pod) {
    if (pod.status.phase !== 'Running') fail('UNKNOWN_ENDPOINT', `pod ${pod.key} is ${pod.status.phase}, not Running`, { from });
    return pod.netns ? podNsId(pod.key) : hostNsId(pod.node!);
  }
  if (findNode(state, from)) return hostNsId(from);
  return fail('UNKNOWN_ENDPOINT', `"${shown(from)}" is neither a pod nor a node`, { from });
}

function parseDst(dst: string): Ipv4 {
  if (typeof dst !== 'string') fail('UNKNOWN_ENDPOINT', `destination ${shown(dst)} must be an IPv4 address`);
  return parseIpv4(dst);
}

/** One answer ping printed. */
export interface PingReply {
  readonly seq: number;
  readonly from: string;
  readonly ttl: number;
  readonly bytes: number;
}

/** The result of {@link ping}. */
export interface PingResult {
  readonly ok: boolean;
  readonly transmitted: number;
  readonly received: number;
  readonly replies: readonly PingReply[];
  /** ICMP errors (or local errors) reported instead of replies. */
  readonly errors: readonly { readonly seq: number; readonly from: string | null; readonly message: string }[];
  readonly traces: readonly Trace[];
  /** What iputils ping prints (without timings: podnet has no latency model). */
  readonly lines: readonly string[];
  /**
   * With {@link PingOptions.device} or {@link PingOptions.source}: the source the first line names (`from
   * SRC`), the bound address or the one the bound device's route selects; null otherwise, or when the
   * lookup found no route (nothing is sent then).
   */
  readonly source: string | null;
  /**
   * The destination is a broadcast for the sender (its route is a `broadcast` one, or 255.255.255.255):
   * iputils warns `WARNING: pinging broadcast address` with -b, and without it refuses to send.
   */
  readonly broadcast?: boolean;
  /** Replies beyond the first for a request (several receivers of a broadcast): ping's `+N duplicates`. */
  readonly duplicates?: number;
}

/** What iputils ping says, exit 2, when the destination is a broadcast and -b was not given (connect(2): EACCES). */
export const PING_BROADCAST_REFUSED = 'ping: Do you want to ping broadcast? Then -b. If not, check your local firewall rules';

/** Options of {@link ping}. */
export interface PingOptions {
  /** -c: echo requests to send (default 1). */
  readonly count?: number;
  /** -s: data bytes (default 56). */
  readonly size?: number;
  /** -t: TTL (default 64). */
  readonly ttl?: number;
  /** -M do (true, default: ping sets DF) or -M dont (false). */
  readonly df?: boolean;
  /**
   * -e: the ICMP identifier, 0 to 65535. iputils' ping as root (a raw socket) uses its process id, so each
   * invocation is a flow of its own to conntrack (measured: two `ping -c1` in a row had ids 488 and 489).
   * `Simulator.ping` gives each invocation the next of a seeded sequence; this function alone, without
   * it, a hash of the sender's namespace.
   */
  readonly ident?: number;
  /**
   * -i: simulated milliseconds between requests (default 1000, ping's 1 s). The clock advances by it
   * before each request after the first, so `count: 4` ends 3 s later, as it does in Linux: what depends
   * on time between requests (the per-sender limit on ICMP redirects, `NetNs.redirectPeers`) sees
   * them spaced as ping spaces them. 0 sends them all at one instant.
   */
  readonly interval?: number;
  /** Hold ICMP errors to the kernel's rate limits (default true): see {@link SendOptions.icmpLimits}. */
  readonly icmpLimits?: boolean;
  /** Count every request's and reply's device and rule hits into this tally: see {@link SendOptions.tally}. */
  readonly tally?: Tally;
  /**
   * -b: allow pinging a broadcast (SO_BROADCAST). Without it a destination the sender routes as a broadcast
   * is refused before anything is sent ({@link PING_BROADCAST_REFUSED}); with it, replies from other
   * addresses than the destination are not marked `(DIFFERENT ADDRESS!)` nor repeats `(DUP!)`. Measured
   * (iputils 20221126, packages/cli/scripts/bcast-formats.sh).
   */
  readonly broadcast?: boolean;
  /**
   * -I DEV: the socket is bound to this device of the sender (SO_BINDTODEVICE): the requests are routed
   * through it alone ({@link SendOptions.oif}) and the first line says `from SRC DEV:`. Not a device of the
   * sender: LINK_NOT_FOUND (iputils: `ping: SO_BINDTODEVICE DEV: No such device`, exit 2).
   */
  readonly device?: string;
  /**
   * -I ADDRESS: the socket is bound to this source address, which must be the sender's (ADDRESS_NOT_FOUND
   * otherwise; iputils: `ping: bind: Cannot assign requested address`, exit 2); the first line says `from
   * SRC :`, and rules (`ip rule … from`) select on it.
   */
  readonly source?: string;
}

/** Options of {@link traceroute}. */
export interface TracerouteOptions {
  /** -m: the largest TTL tried (default 30). */
  readonly maxHops?: number;
  /** -f: the first TTL tried (default 1; at most `maxHops`): the hops before it are not probed. */
  readonly firstTtl?: number;
  /** Hold ICMP errors to the kernel's rate limits (default true): see {@link SendOptions.icmpLimits}. */
  readonly icmpLimits?: boolean;
  /** Count every probe's device and rule hits into this tally: see {@link SendOptions.tally}. */
  readonly tally?: Tally;
}

function errorText(p: Ipv4Packet): string {
  if (p.payload.kind !== 'icmp') return 'error';
  const { type, code, rest } = p.payload;
  if (type === ICMP_TIME_EXCEEDED) return 'Time to live exceeded';
  if (type === ICMP_DEST_UNREACH) {
    return ['Destination Net Unreachable', 'Destination Host Unreachable', 'Destination Protocol Unreachable', 'Destination Port Unreachable', `Frag needed and DF set (mtu = ${rest & 0xffff})`][code]
      ?? (code === 13 ? 'Packet filtered' : `Dest Unreachable, Bad Code: ${code}`);
  }
  return `type ${type} code ${code}`;
}

/** The send options of a ping or traceroute's `icmpLimits` (validated: a boolean or absent). */
function sendLimits(icmpLimits: unknown): Pick<SendOptions, 'icmpLimits'> {
  if (icmpLimits === undefined) return {};
  if (typeof icmpLimits !== 'boolean') fail('INVALID_ARGUMENT', `icmpLimits must be true or false, not ${shown(icmpLimits)}`);
  return { icmpLimits };
}

/** The send options with a tally to count into, when one is given (send validates it). */
function withTally(o: Pick<SendOptions, 'icmpLimits'>, tally: Tally | undefined): Pick<SendOptions, 'icmpLimits' | 'tally'> {
  return tally === undefined ? o : { ...o, tally };
}

/** The clock alone moves on: what {@link ping} does between requests unless told what else happens meanwhile. */
function clockOnly(s: ClusterState, ms: number): ClusterState {
  return { ...s, now: s.now + ms };
}

/**
 * Sends ICMP echo requests from a pod or node to an address, like `ping -c N`, `o.interval` apart.
 * `advance` is what happens as the clock moves between two requests (default: only the clock moves;
 * `Simulator.ping` passes its design's agent loops, as `Simulator.advance` runs them).
 */
export function ping(state: ClusterState, from: string, dst: string, o: PingOptions = {}, advance: (s: ClusterState, ms: number) => ClusterState = clockOnly): { result: PingResult; state: ClusterState } {
  if (typeof advance !== 'function') fail('INVALID_ARGUMENT', 'ping: advance must be a function (state, ms) → state');
  const ns = endpointNs(state, from);
  // iputils pings 0.0.0.0 at the source its route gives, 127.0.0.1 (ip_route_output_key_hash_rcu: no
  // destination goes over loopback): measured, `ping 0.0.0.0` prints `PING 0.0.0.0 (127.0.0.1)` and is
  // answered from 127.0.0.1 (martian-formats.txt (i)); it would otherwise leave and die a martian destination.
  const asked = parseDst(dst);
  const to = asked === 0 ? 0x7f000001 : asked;
  const count = o.count ?? 1;
  const size = o.size ?? 56;
  if (!Number.isInteger(count) || count < 1 || count > 1000) fail('INVALID_ARGUMENT', `ping count ${shown(count)} must be 1 to 1000`);
  if (!Number.isInteger(size) || size < 0 || size > 65507) fail('INVALID_ARGUMENT', `ping: invalid packet size ${shown(size)} (0 to 65507)`);
  const ttl = o.ttl ?? 64;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 255) fail('INVALID_ARGUMENT', `ping: invalid TTL ${shown(ttl)} (1 to 255)`);
  if (o.ident !== undefined && (!Number.isInteger(o.ident) || o.ident < 0 || o.ident > 0xffff)) fail('INVALID_ARGUMENT', `ping: invalid identifier ${shown(o.ident)} (0 to 65535)`);
  const interval = o.interval ?? 1000;
  if (typeof interval !== 'number' || !Number.isFinite(interval) || interval < 0 || interval > 3_600_000) fail('INVALID_ARGUMENT', `ping: bad timing interval ${shown(interval)} ms (0 to 3600000)`);
  const bind = pingBinding(state, ns, to, o.device, o.source);
  if (o.broadcast !== undefined && typeof o.broadcast !== 'boolean') fail('INVALID_ARGUMENT', `ping: broadcast must be true or false, not ${shown(o.broadcast)}`);
  const bcast = o.broadcast === true;
  // iputils connects a probe socket first: a broadcast route without SO_BROADCAST is EACCES (measured,
  // bcast-formats.txt (b): `ping 10.244.1.255` and `ping 255.255.255.255` in pod-a, exit 2, nothing sent;
  // `ping 10.244.2.255`, another node's subnet, is a unicast route from pod-a and is sent).
  const toBroadcast = broadcastRouted(getNs(state, ns), to, o.device);
  if (toBroadcast && !bcast) {
    const message = PING_BROADCAST_REFUSED.slice('ping: '.length);
    return { result: { ok: false, transmitted: 0, received: 0, replies: [], errors: [{ seq: 1, from: null, message }], traces: [], lines: [PING_BROADCAST_REFUSED], source: null, broadcast: true }, state };
  }
  let duplicates = 0;
  let s = state;
  const replies: PingReply[] = [];
  const errors: { seq: number; from: string | null; message: string }[] = [];
  const traces: Trace[] = [];
  // iputils names the bound source and device: `PING 127.0.0.1 (127.0.0.1) from 127.0.0.1 lo: 56(84) bytes of
  // data.`, and for an address alone `from 10.244.1.1 : ` (measured, ping-dev-formats.txt (a)).
  const bound = bind === null ? '' : `from ${bind.source === null ? '' : formatIpv4(bind.source)} ${o.device ?? ''}: `;
  const lines = [`PING ${dst} (${asked === 0 ? formatIpv4(to) : dst}) ${bound}${size}(${size + 28}) bytes of data.`];
  const source = bind === null || bind.source === null ? null : formatIpv4(bind.source);
  // ping's identifier tells its replies from other processes' (a per-socket value in Linux).
  let ident = 0x811c;
  if (o.ident !== undefined) ident = o.ident;
  else for (let i = 0; i < ns.length; i++) ident = (Math.imul(ident ^ ns.charCodeAt(i), 0x01000193) >>> 0) & 0xffff;
  const limits = withTally(sendLimits(o.icmpLimits), o.tally);
  for (let seq = 1; seq <= count; seq++) {
    if (seq > 1 && interval > 0) s = advance(s, interval);
    const r = send(s, ns, icmpEcho(to, { size, ttl, df: o.df ?? true, seq, id: seq, ident, ...(o.source !== undefined ? { src: bind!.source! } : {}) }), o.device !== undefined ? { ...limits, oif: o.device } : limits);
    s = r.state;
    traces.push(r.trace);
    const back = r.trace.fates.filter((f) => f.ns === ns && f.disposition === 'delivered' && f.ip?.payload.kind === 'icmp' && f.role !== 'original');
    const reply = back.find((f) => f.ip!.payload.kind === 'icmp' && (f.ip!.payload as { type: number }).type === ICMP_ECHO_REPLY);
    // ping's raw socket hears a redirect about its request and prints it, not as an error (iputils: the
    // statistics count no error for it). Measured: `From 10.0.0.1: icmp_seq=1 Redirect Host(New nexthop:
    // 10.0.0.3)`, then `64 bytes from 10.0.0.3: icmp_seq=1 ttl=64`. An error about the same request is read
    // first (ping drains the socket's error queue before its receive queue), and after the last request's
    // error ping exits before it reads them: measured, a forwarding loop between two routers on the sender's
    // link (`ping -c 3`): `From 10.0.0.3 icmp_seq=1 Time to live exceeded`, the two redirects, the same for
    // seq 2, then only `From 10.0.0.3 icmp_seq=3 Time to live exceeded` (with `-c 1`, no redirect line).
    const redirects: string[] = [];
    for (const f of back) {
      const p = f.ip!.payload;
      if (f.role === 'icmp-error' && p.kind === 'icmp' && p.type === ICMP_REDIRECT && aboutOwnPacket(f.ip!, (q) => q.kind === 'icmp')) {
        redirects.push(`From ${formatIpv4(f.ip!.header.src)}: icmp_seq=${seq} Redirect ${p.code === 0 ? 'Network' : 'Host'}(New nexthop: ${formatIpv4(p.rest >>> 0)})`);
      }
    }
    if (reply) {
      lines.push(...redirects);
      replies.push({ seq, from: formatIpv4(reply.ip!.header.src), ttl: reply.ip!.header.ttl, bytes: reply.ip!.header.totalLength - IPV4_HEADER_LEN });
      // Every receiver of a broadcast may answer, in the order they come back; ping exits at its last
      // request's first answer once every request is answered, before the rest. iputils marks an answer
      // from another address than the destination, and a repeat, unless -b (measured, bcast-formats.txt
      // (c)–(e): `64 bytes from 10.244.2.0: … (DIFFERENT ADDRESS!)` without -b; `+1 duplicates`, no DUP! with it).
      const all = seq === count && replies.length === count ? [reply] : back.filter((f) => f.ip!.payload.kind === 'icmp' && (f.ip!.payload as { type: number }).type === ICMP_ECHO_REPLY);
      for (const [i, f] of all.entries()) {
        const h = f.ip!.header;
        if (i > 0) duplicates++;
        const mark = bcast ? '' : `${i > 0 ? ' (DUP!)' : ''}${h.src !== to ? ' (DIFFERENT ADDRESS!)' : ''}`;
        lines.push(`${h.totalLength - IPV4_HEADER_LEN} bytes from ${formatIpv4(h.src)}: icmp_seq=${seq} ttl=${h.ttl}${mark}`);
      }
      continue;
    }
    // After an error about the request, its redirects, but none after the last request's error.
    const late = seq < count ? redirects : [];
    const errorsBefore = errors.length;
    const err = back.find((f) => f.role === 'icmp-error' && !isRedirect(f.ip!) && aboutOwnPacket(f.ip!, (q) => q.kind === 'icmp'));
    if (err) {
      errors.push({ seq, from: formatIpv4(err.ip!.header.src), message: errorText(err.ip!) });
      lines.push(`From ${formatIpv4(err.ip!.header.src)} icmp_seq=${seq} ${errorText(err.ip!)}`, ...late);
      continue;
    }
    const d = r.trace.disposition;
    const local = r.trace.fates[0];
    // The sender's own route lookup refused the request (connect(2) fails), not that of a packet carrying
    // it (a VXLAN or IPIP outer packet whose underlay route is gone is dropped silently: measured, `ip link
    // set eth0 down` under flannel.1 and a ping through it got no reply, no error).
    const refusedHere = local?.ns === ns && local.role === 'original' && ownLookup(r.trace, to);
    const note = d === 'fragmentationNeeded' && local?.ns === ns ? r.trace.steps.filter((st) => st.kind === 'drop').pop()?.note ?? '' : '';
    const m = /local error: message too long, mtu=(\d+)/.exec(note);
    // Only the sender's own MTU check fails sendmsg; a bridge port of the sender's namespace that drops
    // the frame (larger than the port's MTU) does so silently: no reply (the oracle, faulted #16 of seed 47).
    if (d === 'fragmentationNeeded' && local?.ns === ns && (m !== null || r.trace.steps.length === 0)) {
      errors.push({ seq, from: null, message: `local error: message too long, mtu=${m?.[1] ?? '?'}` });
      lines.push(`ping: local error: message too long, mtu=${m?.[1] ?? '?'}`);
    } else if (d === 'noRoute' && refusedHere) {
      errors.push({ seq, from: null, message: 'connect: Network is unreachable' });
      lines.length = 0;
      lines.push('ping: connect: Network is unreachable');
      return { result: { ok: false, transmitted: 0, received: 0, replies, errors, traces, lines, source }, state: s };
    } else if ((d === 'blackhole' || d === 'hostUnreachable') && refusedHere) {
      // The sender's own route is a blackhole or unreachable one: connect(2) fails and nothing is sent
      // (ip_route_output: -EINVAL, -EHOSTUNREACH). Measured in a namespace with `ip route add blackhole
      // 10.1.0.0/26` and `ip route add unreachable 10.2.0.0/26`: `ping: connect: Invalid argument` and
      // `ping: connect: No route to host` (traceroute: `connect: …` the same), exit 2.
      const message = d === 'blackhole' ? 'connect: Invalid argument' : 'connect: No route to host';
      errors.push({ seq, from: null, message });
      lines.length = 0;
      lines.push(`ping: ${message}`);
      return { result: { ok: false, transmitted: 0, received: 0, replies, errors, traces, lines, source }, state: s };
    } else if (d === 'neighbourUnreachable' && local?.ns === ns && r.trace.src !== null && ownLookup(r.trace, to)) {
      // Only an ARP failure for the request's own next hop: one for an outer VXLAN or IPIP packet carrying it
      // reports host unreachable to the tunnel's socket, not to ping (the oracle: broken-overlapping-ipam
      // faulted #4 of seed 23, node-2 → its own pod's address routed to node-1's VTEP, node-1's eth0 down:
      // the kernel's ping got no reply, traceroute all `*`).
      errors.push({ seq, from: formatIpv4(r.trace.src), message: 'Destination Host Unreachable' });
      lines.push(`From ${formatIpv4(r.trace.src)} icmp_seq=${seq} Destination Host Unreachable`);
    }
    lines.push(...(errors.length === errorsBefore ? redirects : late));
  }
  const loss = Math.round(((count - replies.length) / count) * 100);
  lines.push('', `--- ${dst} ping statistics ---`,
    `${count} packets transmitted, ${replies.length} received${duplicates ? `, +${duplicates} duplicates` : ''}${errors.length ? `, +${errors.length} errors` : ''}, ${loss}% packet loss`);
  const extra = { ...(toBroadcast ? { broadcast: true } : {}), ...(duplicates ? { duplicates } : {}) };
  return { result: { ok: replies.length === count, transmitted: count, received: replies.length, replies, errors, traces, lines, source, ...extra }, state: s };
}

/**
 * Whether the sender's route to `to` is a broadcast one: 255.255.255.255, or a subnet broadcast of the
 * namespace (through the bound device, when bound).
 */
function broadcastRouted(ns: NetNs, to: Ipv4, device: string | undefined): boolean {
  if (to === LIMITED_BROADCAST) return true;
  const b = localBroadcast(ns, to);
  return b !== null && (device === undefined || b.dev === device);
}

/**
 * A ping's binding (-I): null when unbound; else the source its first line names. A bound address must be the
 * sender's (bind(2): -EADDRNOTAVAIL); a bound device must be one of the sender's (SO_BINDTODEVICE: -ENODEV),
 * and iputils learns the source the kernel will choose by connecting a probe socket bound to it: the
 * output route through the device (routeGet with `oif`), null when that lookup fails (the requests'
 * own lookup then fails the same way, and ping prints only the error).
 */
function pingBinding(state: ClusterState, ns: NsId, to: Ipv4, device: unknown, source: unknown): { readonly source: Ipv4 | null } | null {
  if (device !== undefined && source !== undefined) fail('INVALID_ARGUMENT', 'ping: bind a device or a source address, not both (iputils takes one -I)');
  if (source !== undefined) {
    const src = parseIpv4(source as string);
    if (!isLocalAddress(getNs(state, ns), src)) fail('ADDRESS_NOT_FOUND', `ping: bind: Cannot assign requested address (${formatIpv4(src)} is not an address of ${ns})`, { ns, source });
    return { source: src };
  }
  if (device === undefined) return null;
  if (typeof device !== 'string' || getNs(state, ns).links[device] === undefined) fail('LINK_NOT_FOUND', `ping: SO_BINDTODEVICE ${shown(device)}: No such device`, { ns, device });
  const a = routeGet(state, ns, formatIpv4(to), { oif: device });
  return { source: a.kind === 'refused' ? null : a.src };
}

/** Whether a packet is an ICMP redirect (which the engine sends with the errors' role). */
function isRedirect(p: Ipv4Packet): boolean {
  return p.payload.kind === 'icmp' && p.payload.type === ICMP_REDIRECT;
}

/**
 * Whether an ICMP error quotes the probe's own packet (`own` tests the quoted transport header), not an
 * outer VXLAN or IPIP packet that carried it: a socket hears only errors about its own packets; one about
 * a tunnel's packet goes to the tunnel (vxlan_err_lookup). The oracle: a node's ping through a VXLAN
 * route to a node whose `flannel.1` was down got no reply from the kernel, where podnet took the port
 * unreachable about the outer UDP packet as the ping's answer. A quote cut before its transport header counts.
 */
function aboutOwnPacket(err: Ipv4Packet, own: (quoted: Ipv4Packet['payload']) => boolean): boolean {
  const p = err.payload;
  if (p.kind !== 'icmp' || p.data.kind !== 'ipv4') return true;
  return p.data.payload.kind === 'raw' || own(p.data.payload);
}

/**
 * Whether the packet that ended the trace is the one sent to `to`, not an outer packet carrying it: the
 * last drop's packet is addressed to `to` (a trace recorded without steps answers yes).
 */
function ownLookup(t: Trace, to: Ipv4): boolean {
  for (let i = t.steps.length - 1; i >= 0; i--) {
    const st = t.steps[i]!;
    if (st.kind === 'drop') return st.ip === null || st.ip.header.dst === to;
  }
  return true;
}

/** One hop of a traceroute: the address that answered, or null where traceroute prints `*`. */
export interface TracerouteHop {
  readonly ttl: number;
  readonly address: string | null;
  /** `!H`, `!N`, `!X`… annotations traceroute prints for unreachables. */
  readonly annotation: string | null;
  readonly trace: Trace;
}

/** The result of {@link traceroute}. */
export interface TracerouteResult {
  readonly hops: readonly TracerouteHop[];
  readonly reached: boolean;
  readonly lines: readonly string[];
  /**
   * The destination is a broadcast for the sender: traceroute(8) has no SO_BROADCAST, so its connect(2) fails
   * and nothing is sent; `lines` end with `connect: Permission denied` (measured, bcast-formats.txt (l): exit 1).
   */
  readonly broadcast?: boolean;
}

/** traceroute -n -q 1 with UDP probes to port 33434 + (ttl − 1), as traceroute(8) sends them. */
export function traceroute(state: ClusterState, from: string, dst: string, o: TracerouteOptions = {}): { result: TracerouteResult; state: ClusterState } {
  const ns = endpointNs(state, from);
  const limits = withTally(sendLimits(o.icmpLimits), o.tally);
  const to = parseDst(dst);
  const maxHops = o.maxHops ?? 30;
  if (!Number.isInteger(maxHops) || maxHops < 1 || maxHops > 255) fail('INVALID_ARGUMENT', `max hops ${shown(maxHops)} must be 1 to 255`);
  const firstTtl = o.firstTtl ?? 1;
  if (!Number.isInteger(firstTtl) || firstTtl < 1 || firstTtl > maxHops) fail('INVALID_ARGUMENT', `first hop ${shown(firstTtl)} out of range: 1 to max hops (${maxHops})`, { firstTtl }, 'traceroute -f takes a TTL from 1 to the -m value.');
  let s = state;
  const hops: TracerouteHop[] = [];
  const lines = [`traceroute to ${dst} (${dst}), ${maxHops} hops max, 60 byte packets`];
  if (broadcastRouted(getNs(state, ns), to, undefined)) return { result: { hops: [], reached: false, lines: [...lines, 'connect: Permission denied'], broadcast: true }, state };
  let reached = false;
  // Each traceroute process binds its own ephemeral source ports; derive them from the source so two
  // sources never share a flow (podnet's MASQUERADE does not remap clashing ports, as Linux would).
  let base = 0x811c;
  for (let i = 0; i < ns.length; i++) base = Math.imul(base ^ ns.charCodeAt(i), 0x01000193) >>> 0;
  const sport = 32768 + (base % 20000);
  for (let ttl = firstTtl; ttl <= maxHops; ttl++) {
    const r = send(s, ns, udpPacket(to, 33434 + ttl - 1, { ttl, size: 32, srcPort: sport + ttl }), limits);
    s = r.state;
    const dport = 33434 + ttl - 1;
    // A redirect does not reach traceroute: udp_err hands it to the routing code (ipv4_sk_redirect), not
    // to the socket's error queue.
    const err = r.trace.fates.find((f) => f.ns === ns && f.role === 'icmp-error' && f.disposition === 'delivered' && !isRedirect(f.ip!) && aboutOwnPacket(f.ip!, (q) => q.kind === 'udp' && q.dstPort === dport));
    if (!err && r.trace.disposition === 'neighbourUnreachable' && r.trace.fates[0]?.ns === ns && r.trace.src !== null && ownLookup(r.trace, to)) {
      // The sender's own ARP for the next hop went unanswered: Linux reports the probe unreachable from the
      // sender itself, as ping does (` 1  10.9.0.1  3071.707 ms !H`, measured in a namespace), and stops.
      const address = formatIpv4(r.trace.src);
      hops.push({ ttl, address, annotation: '!H', trace: r.trace });
      lines.push(`${String(ttl).padStart(2)}  ${address} !H`);
      break;
    }
    if (!err) {
      hops.push({ ttl, address: null, annotation: null, trace: r.trace });
      lines.push(`${String(ttl).padStart(2)}  *`);
      continue;
    }
    const p = err.ip!.payload;
    const address = formatIpv4(err.ip!.header.src);
    let annotation: string | null = null;
    let stop = false;
    if (p.kind === 'icmp' && p.type === ICMP_DEST_UNREACH) {
      stop = true;
      if (p.code === ICMP_PORT_UNREACH) reached = err.ip!.header.src === to;
      else annotation = p.code === 0 ? '!N' : p.code === 1 ? '!H' : p.code === 13 ? '!X' : p.code === 4 ? `!F-${p.rest & 0xffff}` : `!<${p.code}>`;
    }
    hops.push({ ttl, address, annotation, trace: r.trace });
    lines.push(`${String(ttl).padStart(2)}  ${address}${annotation ? ` ${annotation}` : ''}`);
    if (stop) break;
  }
  return { result: { hops, reached, lines }, state: s };
}
