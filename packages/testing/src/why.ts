/**
 * Why a packet died, where the trace alone leaves a reader who did not write the design guessing. A trace
 * shows an ARP request reaching a namespace and then nothing: the kernel answers a request only for an
 * address the namespace holds, or, with `net.ipv4.conf.<dev>.proxy_arp=1` on the receiving device, for one
 * it routes out of another device (packet-path.md, "ARP"). Measured on Linux (examples/ptp-design/scripts/kernel.sh):
 * a pod whose default gateway 10.0.0.1 is on no device of the node, proxy_arp off, shows
 * `10.0.0.1 dev eth0 INCOMPLETE` in `ip neigh` and its pings go unanswered.
 */
import { findNs, formatIpv4, isLocalAddress, type ArpPacket, type ClusterState, type Step, type Trace } from '@podnet/core';

const arpOf = (s: Step): ArpPacket | null => (s.frame?.payload.kind === 'arp' ? s.frame.payload : null);

/** One line per ARP request of the trace that nobody answered: where it went, and why each namespace kept quiet. */
export function explainTrace(state: ClusterState, trace: Trace): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  trace.steps.forEach((s, i) => {
    const req = s.kind === 'arp-request' ? arpOf(s) : null;
    if (!req) return;
    const target = req.targetIp;
    const key = `${s.ns}|${s.dev}|${target}`;
    if (seen.has(key)) return;
    seen.add(key);
    const later = trace.steps.slice(i + 1);
    if (later.some((t) => t.kind === 'arp-reply' && arpOf(t)?.senderIp === target)) return;
    const ip = formatIpv4(target);
    const reached = later.filter((t) => t.kind === 'receive' && t.ns !== s.ns && arpOf(t)?.op === 1 && arpOf(t)?.targetIp === target);
    const where = `nobody answered ARP for ${ip} sent by ${s.ns} on ${s.dev ?? '?'}`;
    if (reached.length === 0) {
      out.push(`${where}: the request reached no other namespace`);
      return;
    }
    const why = reached.map((t) => {
      const ns = findNs(state, t.ns);
      if (!ns || t.dev === null) return `${t.ns} received it`;
      // A bridge port hands the request up through the bridge: the bridge device is where the host answers.
      const master = ns.links[t.dev]?.master ?? null;
      const dev = master ?? t.dev;
      const got = master ? `${t.ns} received it on ${t.dev}, a port of ${master},` : `${t.ns} received it on ${t.dev},`;
      if (isLocalAddress(ns, target)) return `${got} and holds ${ip}`;
      return `${got} holds no address ${ip}, and has proxy_arp ${ns.sysctl.proxyArp[dev] ? 'on' : 'off'} on ${dev}`;
    });
    out.push(`${where}: ${why.join('; ')}`);
  });
  return out;
}
