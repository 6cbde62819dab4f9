/**
 * Send one packet and read its trace: every step the kernel model took (where, on which device, what
 * kind of step, what happened), how the packet ended (its disposition), and the fate of every packet
 * the send caused — ARP requests and replies, the echo reply.
 */
import { seedLabSpec, simulatorFromSpec } from '@podnet/cni';
import { describePacket, formatIpv4, icmpEcho, parseIpv4, type Simulator, type Trace } from '@podnet/core';

/** Sends a ping from pod-a to pod-f (10.244.3.9, on node-3) in a fresh seed lab; returns the trace. */
export function pingPodF(sim: Simulator = simulatorFromSpec(seedLabSpec())): Trace {
  return sim.send('pod-a', icmpEcho(parseIpv4('10.244.3.9')));
}

/** Aligns columns, each padded to its widest cell plus two spaces (the last one is not padded). */
function columns(rows: readonly (readonly string[])[]): string[] {
  const w: number[] = [];
  for (const r of rows) r.forEach((c, i) => (w[i] = Math.max(w[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]! + 2))).join('').trimEnd());
}

/** The trace printed step by step, then its disposition and the fates of all its packets. */
export function printTrace(trace: Trace): string[] {
  const out: string[] = [];
  out.push(`Steps (${trace.steps.length}). "pkt" numbers the packets this send caused: 1 is the echo request, the others are`);
  out.push('ARP and the reply; their steps interleave in the order the kernel handled them.', '');
  out.push(...columns([
    ['#', 'pkt', 'ns', 'dev', 'kind', 'note'],
    ...trace.steps.map((s) => [String(s.index), String(s.packet), s.ns, s.dev ?? '-', s.kind, s.note]),
  ]));

  out.push('', `trace.disposition = '${trace.disposition}'   (the fate of packet 1, the echo request)`);
  out.push(`trace.src         = ${trace.src === null ? 'null' : formatIpv4(trace.src)}   (the source address the route lookup chose)`);
  out.push(`trace.violations  = ${trace.violations.length === 0 ? '[]   (no guarantee broke at any hop)' : trace.violations.map((v) => v.guarantee).join(', ')}`);

  out.push('', 'trace.fates: how each packet ended (a broadcast ARP request has one fate: where its first copy ended)', '');
  out.push(...columns([
    ['packet', 'role', 'disposition', 'ns', 'ip'],
    ...trace.fates.map((f) => [String(f.packet), f.role, f.disposition, f.ns, f.ip ? describePacket(f.ip) : '-']),
  ]));

  // Reading fates: the question "did the ping get an answer?" is "was an echo reply delivered back to
  // the sender?" — a packet of role 'echo-reply' with disposition 'delivered' in the sender's namespace.
  const sender = trace.steps[0]?.ns;
  const reply = trace.fates.find((f) => f.role === 'echo-reply');
  const answered = reply !== undefined && reply.disposition === 'delivered' && reply.ns === sender;
  out.push('', 'Reading the fates:');
  out.push(`  const reply = trace.fates.find((f) => f.role === 'echo-reply');`);
  out.push(`  reply.disposition === 'delivered' && reply.ns === '${sender}'  →  ${answered}`);
  if (answered && reply.ip) {
    out.push(`  so ping would print: ${reply.ip.header.totalLength - 20} bytes from ${formatIpv4(reply.ip.header.src)}: icmp_seq=1 ttl=${reply.ip.header.ttl}`);
  }
  return out;
}

/** What `pnpm run example` prints. */
export function sendOnePacket(): string[] {
  const trace = pingPodF();
  return [
    "sim.send('pod-a', icmpEcho(parseIpv4('10.244.3.9')))   // pod-a (node-1) pings pod-f (node-3)",
    '',
    ...printTrace(trace),
  ];
}
