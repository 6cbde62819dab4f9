/** What a packet's journey produces: steps, and a named disposition at the end. */
import type { Ipv4 } from '../addr/ipv4.js';
import type { NsId } from '../model/types.js';
import type { Frame, Ipv4Packet } from '../wire/packet.js';

/**
 * How a packet's journey ended (after Batfish's FlowDisposition). Switch on it; never parse messages.
 * - `delivered`: a local socket (or the ICMP/echo handler) took it.
 * - `noRoute`: no route matched (ENETUNREACH; ICMP net unreachable when forwarded).
 * - `hostUnreachable`: an `unreachable` route, or an ICMP host unreachable came back.
 * - `neighbourUnreachable`: ARP for the next hop got no answer.
 * - `ttlExceeded`: TTL reached 0 in a router.
 * - `fragmentationNeeded`: larger than the path MTU with DF set.
 * - `filtered`: a netfilter rule dropped or rejected it (or a `prohibit` route).
 * - `blackhole`: a blackhole route swallowed it.
 * - `portUnreachable`: UDP to a port nobody listens on (ICMP port unreachable).
 * - `tcpReset`: TCP to a closed port (RST).
 * - `notForwarding`: arrived for another host at a namespace with ip_forward = 0.
 * - `rpFilter`: reverse-path filtering dropped it.
 * - `linkDown`: the link (or its veth peer) it needs is down.
 * - `notForUs`: an Ethernet frame addressed to another MAC, or a segment with nobody at that MAC.
 * - `vxlanNoDestination`: a VXLAN device had no FDB entry for the inner destination MAC.
 * - `loop`: the step budget ran out (an L2 loop, or a forwarding loop with an absurd TTL).
 */
export type Disposition =
  | 'delivered' | 'noRoute' | 'hostUnreachable' | 'neighbourUnreachable' | 'ttlExceeded'
  | 'fragmentationNeeded' | 'filtered' | 'blackhole' | 'portUnreachable' | 'tcpReset'
  | 'notForwarding' | 'rpFilter' | 'linkDown' | 'notForUs' | 'vxlanNoDestination' | 'loop'
  | 'martianSource' | 'martianDestination';

/** What happened at one step. */
export type StepKind =
  | 'send' | 'route' | 'neighbour' | 'arp-request' | 'arp-reply' | 'transmit' | 'veth' | 'segment'
  | 'bridge-learn' | 'bridge-forward' | 'bridge-flood' | 'bridge-local' | 'receive' | 'forward'
  | 'vxlan-encap' | 'vxlan-decap' | 'ipip-encap' | 'ipip-decap' | 'nat' | 'filter' | 'local'
  | 'deliver' | 'reply' | 'icmp-error' | 'drop' | 'bpf' | 'bpf-redirect';

/** One step of a trace: where it happened, what happened, and the packet as it was there. */
export interface Step {
  readonly index: number;
  /** Packets caused by one send are numbered: 1 is the packet sent, later ones ARP, replies, errors. */
  readonly packet: number;
  readonly ns: NsId;
  readonly dev: string | null;
  readonly kind: StepKind;
  /** What the kernel did, in words. */
  readonly note: string;
  readonly frame: Frame | null;
  readonly ip: Ipv4Packet | null;
}

/** How each packet of a trace ended. */
export interface PacketFate {
  readonly packet: number;
  readonly disposition: Disposition;
  readonly ns: NsId;
  /** What it was: 'original', 'arp', 'echo-reply', 'icmp-error', 'encapsulated'. */
  readonly role: string;
  readonly ip: Ipv4Packet | null;
}

/** A guarantee broken at one hop of one packet. */
export interface HopViolation {
  readonly guarantee: 'unique-ip' | 'no-nat' | 'node-reaches-pods';
  readonly step: number;
  readonly explanation: string;
}

/** The full record of one send. */
export interface Trace {
  readonly steps: readonly Step[];
  /** The fate of packet 1. */
  readonly disposition: Disposition;
  readonly fates: readonly PacketFate[];
  /** Violations found at hops of this trace. */
  readonly violations: readonly HopViolation[];
  /** The source address used (chosen by the route when the sender did not fix one). */
  readonly src: Ipv4 | null;
}
