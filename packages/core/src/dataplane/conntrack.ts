/**
 * Connection-tracking entries' lifetimes and matching: pure functions over {@link ConntrackEntry}. The
 * engine (dataplane/engine.ts) makes and refreshes entries as packets pass; ops/actions.ts deletes them
 * (`conntrack -D`, `-F`); the lab shell lists them (`conntrack -L`).
 */
import { cidrContains, type Cidr, type Ipv4 } from '../addr/ipv4.js';
import type { ConntrackEntry, TcpCtState } from '../model/types.js';

/** `net.netfilter.nf_conntrack_icmp_timeout`: 30 s after the flow's last packet (measured: `conntrack -L` showed 29, then 24 five seconds later). */
export const CT_ICMP_TIMEOUT_MS = 30_000;
/** `net.netfilter.nf_conntrack_udp_timeout`: 30 s, unreplied or replied within its first 2 s. */
export const CT_UDP_TIMEOUT_MS = 30_000;
/**
 * `net.netfilter.nf_conntrack_udp_timeout_stream`: 120 s, and ASSURED, once a replied flow has a packet more
 * than 2 s after its first (nf_conntrack_proto_udp.c, "Still active after two seconds? Extend timeout";
 * measured: a second exchange 3 s after the first showed 119 and `[ASSURED]`).
 */
export const CT_UDP_STREAM_TIMEOUT_MS = 120_000;
/** How long a replied UDP flow must live before its next packet makes it a stream (`stream_ts`). */
export const CT_UDP_STREAM_AFTER_MS = 2_000;
/** `net.netfilter.nf_conntrack_tcp_timeout_syn_sent`: 120 s (measured: `118 SYN_SENT … [UNREPLIED]`). */
export const CT_TCP_SYN_SENT_TIMEOUT_MS = 120_000;

const TCP = 6;
const UDP = 17;

/**
 * net.netfilter.nf_conntrack_tcp_timeout_* of each TCP state (the kernel's defaults). Measured
 * (scripts/conntrack-formats.sh): `431998 ESTABLISHED … [ASSURED]` for a connection left open, `118 TIME_WAIT …
 * [ASSURED]` for one both sides closed.
 */
export const CT_TCP_TIMEOUTS_MS: Readonly<Record<TcpCtState, number>> = {
  SYN_SENT: CT_TCP_SYN_SENT_TIMEOUT_MS, SYN_RECV: 60_000, ESTABLISHED: 432_000_000, FIN_WAIT: 120_000,
  CLOSE_WAIT: 60_000, LAST_ACK: 30_000, TIME_WAIT: 120_000, CLOSE: 10_000,
};

const T_FIN = 0x01;
const T_SYN = 0x02;
const T_RST = 0x04;
const T_ACK = 0x10;

/**
 * The state after a segment with `flags` (`reply`: in the reply direction), after nf_conntrack_proto_tcp's
 * tcp_conntracks table for the segments a connect check makes: the SYN/ACK answering a SYN (SYN_RECV), the ACK
 * that completes the handshake (ESTABLISHED), a FIN (FIN_WAIT), the other side's FIN (LAST_ACK), the last ACK
 * (TIME_WAIT), a RST (CLOSE). The kernel's window and sequence checks are not modelled.
 */
export function tcpCtNext(state: TcpCtState, reply: boolean, flags: number): TcpCtState {
  if (flags & T_RST) return 'CLOSE';
  if (flags & T_SYN) return state === 'SYN_SENT' && reply && (flags & T_ACK) ? 'SYN_RECV' : state;
  if (flags & T_FIN) return state === 'SYN_RECV' || state === 'ESTABLISHED' ? 'FIN_WAIT' : state === 'FIN_WAIT' || state === 'CLOSE_WAIT' ? 'LAST_ACK' : state;
  if (flags & T_ACK) return state === 'SYN_RECV' ? 'ESTABLISHED' : state === 'FIN_WAIT' ? 'CLOSE_WAIT' : state === 'LAST_ACK' ? 'TIME_WAIT' : state;
  return state;
}

/** The timeout a flow of `protocol` gets from a packet that does not make it a UDP stream. */
function timeoutOf(protocol: number, tcp: TcpCtState | null = null): number {
  return protocol === UDP ? CT_UDP_TIMEOUT_MS : protocol === TCP ? CT_TCP_TIMEOUTS_MS[tcp ?? 'SYN_SENT'] : CT_ICMP_TIMEOUT_MS;
}

/** Whether `c` is still live at simulated time `now` (ms): an expired entry translates nothing. */
export function ctLive(c: ConntrackEntry, now: number): boolean {
  return c.expires > now;
}

/**
 * A new entry for a flow whose first packet, at `now`, was translated so that its reply carries `replySrc →
 * replyDst`. A TCP flow starts in SYN_SENT (its first segment a SYN, or `tcpFlags` not given) or, picked up
 * in the middle (nf_conntrack_tcp_loose = 1, the default), ESTABLISHED.
 */
export function ctNew(protocol: number, origSrc: Ipv4, origDst: Ipv4, replySrc: Ipv4, replyDst: Ipv4, replyL4: string, now: number, tcpFlags?: number): ConntrackEntry {
  const tcp: TcpCtState | null = protocol !== TCP ? null : tcpFlags === undefined || (tcpFlags & T_SYN) !== 0 ? 'SYN_SENT' : 'ESTABLISHED';
  return { protocol, origSrc, origDst, replySrc, replyDst, replyL4, created: now, expires: now + timeoutOf(protocol, tcp), replied: false, assured: false, tcp };
}

/**
 * `c` after another packet of its flow at `now`, in the reply direction when `reply`: the timeout starts
 * again, a reply marks it replied, a UDP flow already replied and older than 2 s becomes a stream
 * (120 s, ASSURED), and a TCP flow moves on by the segment's `tcpFlags` ({@link tcpCtNext}), with its new
 * state's timeout.
 */
export function ctTouch(c: ConntrackEntry, now: number, reply: boolean, tcpFlags?: number): ConntrackEntry {
  const replied = c.replied || reply;
  const tcp = c.tcp === null || c.tcp === undefined || tcpFlags === undefined ? c.tcp ?? null : tcpCtNext(c.tcp, reply, tcpFlags);
  const stream = c.protocol === UDP && c.replied && now > c.created + CT_UDP_STREAM_AFTER_MS;
  // A TCP connection is assured once the handshake completed (tcp_packet: SYN_RECV → ESTABLISHED).
  const assured = c.assured || stream || (tcp === 'ESTABLISHED' && c.tcp === 'SYN_RECV');
  const expires = now + (c.protocol === UDP && assured ? CT_UDP_STREAM_TIMEOUT_MS : timeoutOf(c.protocol, tcp));
  return { protocol: c.protocol, origSrc: c.origSrc, origDst: c.origDst, replySrc: c.replySrc, replyDst: c.replyDst, replyL4: c.replyL4, created: c.created, expires, replied, assured, tcp };
}

/** Whether `a` and `b` are the same flow (the same original tuple). */
export function ctSameFlow(a: ConntrackEntry, b: ConntrackEntry): boolean {
  return a.protocol === b.protocol && a.origSrc === b.origSrc && a.origDst === b.origDst && a.replyL4 === b.replyL4;
}

/**
 * Which entries `conntrack -L` / `-D` select: `-p` (protocol number), `-s` and `-d` (the original source and
 * destination, within a prefix: a bare address is a /32), `-n A` (translated to source A) and `-g A`
 * (translated to destination A). A field left out selects every entry.
 */
export interface ConntrackFilter {
  readonly protocol?: number;
  readonly src?: Cidr;
  readonly dst?: Cidr;
  readonly srcNat?: Ipv4;
  readonly dstNat?: Ipv4;
}

/** Whether `c`'s flow was source-translated (MASQUERADE, SNAT): its reply goes to another address than the original source. */
export function ctSnat(c: ConntrackEntry): boolean {
  return c.replyDst !== c.origSrc;
}

/** Whether `c`'s flow was destination-translated (DNAT): its reply comes from another address than the original destination. */
export function ctDnat(c: ConntrackEntry): boolean {
  return c.replySrc !== c.origDst;
}

/** Whether `c` is one `f` selects. */
export function ctMatches(c: ConntrackEntry, f: ConntrackFilter): boolean {
  if (f.protocol !== undefined && c.protocol !== f.protocol) return false;
  if (f.src !== undefined && !cidrContains(f.src, c.origSrc)) return false;
  if (f.dst !== undefined && !cidrContains(f.dst, c.origDst)) return false;
  if (f.srcNat !== undefined && (!ctSnat(c) || c.replyDst !== f.srcNat)) return false;
  if (f.dstNat !== undefined && (!ctDnat(c) || c.replySrc !== f.dstNat)) return false;
  return true;
}
