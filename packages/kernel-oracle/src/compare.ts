/**
 * Reading the kernel's answers and podnet's into one comparable form: ping outcomes, traceroute hop
 * lists, and `ip route` / `ip neigh` / `bridge fdb` tables. Only what differs in form is normalised
 * (trailing spaces iproute2 prints, hash order of neighbour and FDB rows, multicast FDB rows podnet
 * does not model); values are compared as they are.
 */
import type { PingResult, TracerouteResult } from '@podnet/core';

/** One ping's outcome: `reply from X ttl=T bytes=B`, `From X <error>`, a local error, or `no reply`. */
export function kernelPingOutcome(stdout: string, stderr: string): string {
  for (const line of stdout.split('\n')) {
    const m = /^(\d+) bytes from ([\d.]+): icmp_seq=\d+ ttl=(\d+)/.exec(line);
    if (m) return `reply from ${m[2]} ttl=${m[3]} bytes=${m[1]}`;
    const e = /^From ([\d.]+) icmp_seq=\d+ (.*?)\s*$/.exec(line);
    if (e) return `From ${e[1]} ${e[2]}`;
  }
  const local = /ping: (local error: message too long, mtu=\d+|connect: [^\n]*?)\s*$/m.exec(`${stdout}\n${stderr}`);
  if (local) return local[1]!;
  return 'no reply';
}

/** The same outcome from podnet's ping. */
export function podnetPingOutcome(r: PingResult): string {
  const reply = r.replies[0];
  if (reply) return `reply from ${reply.from} ttl=${reply.ttl} bytes=${reply.bytes}`;
  const err = r.errors[0];
  if (err) return err.from === null ? err.message : `From ${err.from} ${err.message}`;
  return 'no reply';
}

/** traceroute's hops as `addr[ !X]` or `*`, space separated; or its local error. */
export function kernelTraceroute(stdout: string, stderr: string): string {
  if (/send: Network is unreachable/.test(stderr)) return 'connect: Network is unreachable';
  // The sender's own route refuses: connect(2) fails (a blackhole route: Invalid argument; unreachable: No
  // route to host; no route: Network is unreachable) and traceroute prints only its header.
  const refused = /^connect: ([^\n]*?)\s*$/m.exec(stderr);
  if (refused) return `connect: ${refused[1]!}`;
  const hops: string[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^\s*(\d+)\s+(.*?)\s*$/.exec(line);
    if (!m) continue;
    const rest = m[2]!;
    if (rest.startsWith('*')) {
      hops.push('*');
      continue;
    }
    const h = /^([\d.]+)(?:\s+[\d.]+ ms)?(?:\s+(!\S+))?/.exec(rest);
    hops.push(h ? `${h[1]}${h[2] ? ` ${h[2]}` : ''}` : `? ${rest}`);
  }
  return hops.join(' ');
}

/** The same from podnet's traceroute. */
export function podnetTraceroute(r: TracerouteResult, sourceNs: string): string {
  const first = r.hops[0];
  // The last drop's packet: the probe itself, or an outer (VXLAN, IPIP) packet carrying it, whose failed
  // route lookup the kernel takes silently.
  const dropped = first ? [...first.trace.steps].reverse().find((st) => st.kind === 'drop') : undefined;
  const probe = first?.trace.steps.find((st) => st.packet === 1 && st.ip !== null)?.ip;
  const own = dropped === undefined || dropped.ip === null || probe === undefined || probe === null || dropped.ip.header.dst === probe.header.dst;
  if (first && own && first.address === null && first.trace.fates[0]?.ns === sourceNs && r.hops.every((h) => h.address === null)) {
    // podnet's traceroute prints `*` where the sender's own route refuses; traceroute(8) fails in connect(2).
    const d = first.trace.disposition;
    if (d === 'noRoute') return 'connect: Network is unreachable';
    if (d === 'blackhole') return 'connect: Invalid argument';
    if (d === 'hostUnreachable') return 'connect: No route to host';
  }
  return r.hops.map((h) => (h.address === null ? '*' : `${h.address}${h.annotation ? ` ${h.annotation}` : ''}`)).join(' ');
}

/** Lines of a kernel table, without the trailing space iproute2 6.1 prints on each line. */
export function tableLines(text: string): string[] {
  return text.split('\n').map((l) => l.trimEnd()).filter((l) => l.length > 0);
}

/** True for a multicast or broadcast MAC (the group bit of the first octet). */
const multicast = (mac: string) => (parseInt(mac.slice(0, 2), 16) & 1) === 1;

/** `bridge fdb show` rows without the multicast groups each device joins (not modelled). */
export function kernelFdb(text: string): string[] {
  return tableLines(text).filter((l) => !multicast(l.split(' ')[0] ?? ''));
}

/** The difference of two tables: what only podnet has and what only the kernel has (order kept). */
export function tableDiff(podnet: readonly string[], kernel: readonly string[], ordered: boolean): { onlyPodnet: string[]; onlyKernel: string[] } | null {
  if (ordered) {
    if (podnet.length === kernel.length && podnet.every((l, i) => l === kernel[i])) return null;
  }
  const k = new Map<string, number>();
  for (const l of kernel) k.set(l, (k.get(l) ?? 0) + 1);
  const onlyPodnet: string[] = [];
  for (const l of podnet) {
    const n = k.get(l) ?? 0;
    if (n > 0) k.set(l, n - 1);
    else onlyPodnet.push(l);
  }
  const p = new Map<string, number>();
  for (const l of podnet) p.set(l, (p.get(l) ?? 0) + 1);
  const onlyKernel: string[] = [];
  for (const l of kernel) {
    const n = p.get(l) ?? 0;
    if (n > 0) p.set(l, n - 1);
    else onlyKernel.push(l);
  }
  if (onlyPodnet.length === 0 && onlyKernel.length === 0) {
    // Same rows, different order (ordered tables only).
    return ordered ? { onlyPodnet: [...podnet], onlyKernel: [...kernel] } : null;
  }
  return { onlyPodnet, onlyKernel };
}
