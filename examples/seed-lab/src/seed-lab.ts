/**
 * The seed lab: the cluster of the lesson "The Kubernetes Network Model", built in podnet and shown the
 * way a newcomer would inspect a real one — node podCIDRs, `kubectl get pods -o wide`, a traceroute
 * across nodes explained step by step, and the verdict of the three guarantees.
 *
 * Every line is computed from the simulator: the walk is the real trace of a traceroute probe, each
 * step put into words from what the step records (namespace, device, kind, packet) and from the
 * cluster state (who owns an address or a MAC, which route matched).
 */
import { seedLabSpec, simulatorFromSpec } from '@podnet/cni';
import { humanDuration } from '@podnet/cli';
import {
  describeRoute, findNs, formatCidr, formatIpv4, ICMP_DEST_UNREACH, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST,
  ICMP_TIME_EXCEEDED, innermost, listNodes, lookupRouteIn, shardGet, UNDERLAY_NS,
  type ClusterState, type GuaranteeName, type Ipv4, type Ipv4Packet, type NetNs, type Simulator, type Step,
  type TracerouteResult,
} from '@podnet/core';

/** Builds the lesson's cluster: 3 nodes, pods A–F at the lesson's IPs, flannel with VXLAN. */
export function buildSeedLab(): Simulator {
  return simulatorFromSpec(seedLabSpec());
}

// ---------------------------------------------------------------------------------------------------
// 1. Nodes and their pod CIDRs
// ---------------------------------------------------------------------------------------------------

/** What `kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name}{"\t"}{.spec.podCIDR}{"\n"}{end}'` prints. */
export function nodePodCidrs(sim: Simulator): string[] {
  return sim.nodes().map((n) => `${n.name}\t${n.podCidr ? formatCidr(n.podCidr) : ''}`);
}

// ---------------------------------------------------------------------------------------------------
// 2. kubectl get pods -o wide
// ---------------------------------------------------------------------------------------------------

/** kubectl's age format (k8s.io/apimachinery duration.HumanDuration), as the lab shell prints it. */
export const humanAge = humanDuration;

/** Aligns rows as kubectl's tabwriter does: each column padded to its widest cell plus 3 spaces. */
export function alignColumns(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join(''));
}

/** What `kubectl get pods -o wide` prints for the simulated pods. */
export function podsWide(sim: Simulator): string[] {
  const rows: string[][] = [['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']];
  for (const p of sim.pods()) {
    const n = p.containers.length;
    const ready = p.status.phase === 'Running' ? n : 0;
    rows.push([
      p.name, `${ready}/${n}`, p.status.phase, '0', humanAge(sim.now() - p.created),
      p.ip === null ? '<none>' : formatIpv4(p.ip), p.node, '<none>', '<none>',
    ]);
  }
  return alignColumns(rows);
}

// ---------------------------------------------------------------------------------------------------
// 3. A traceroute across nodes, step by step
// ---------------------------------------------------------------------------------------------------

/** Short names for what a trace mentions: namespaces, addresses and MACs, read from the state. */
class Names {
  readonly #macs = new Map<string, string>();

  constructor(readonly state: ClusterState) {
    const add = (ns: NetNs) => {
      for (const l of Object.values(ns.links)) if (l.kind !== 'loopback' && !this.#macs.has(l.mac)) this.#macs.set(l.mac, `${this.ns(ns.id)}'s ${l.name}`);
    };
    for (const n of listNodes(state)) {
      add(n.host);
      for (const p of Object.values(n.pods)) if (p.netns) add(p.netns);
    }
    add(state.underlay.router);
  }

  /** `pod/default/pod-a` → `pod-a`, `node/node-1` → `node-1`. */
  ns(id: string): string {
    if (id === UNDERLAY_NS) return 'the underlay router';
    if (id.startsWith('pod/default/')) return id.slice('pod/default/'.length);
    if (id.startsWith('pod/')) return id.slice(4);
    if (id.startsWith('node/')) return id.slice(5);
    return id;
  }

  /** Who holds an address: `pod-c`, `node-1's eth0`, `node-2's flannel.1`. */
  ip(ip: Ipv4): string | null {
    const o = shardGet(this.state.ipIndex, String(ip))?.[0];
    if (!o) return null;
    return o.kind === 'pod' ? this.ns(o.ns) : `${this.ns(o.ns)}'s ${o.dev}`;
  }

  ipText(ip: Ipv4): string {
    const who = this.ip(ip);
    return who ? `${formatIpv4(ip)} (${who})` : formatIpv4(ip);
  }

  macText(mac: string): string {
    const who = this.#macs.get(mac);
    return who ? `${mac} (${who})` : mac;
  }

  /** A kernel note with namespace ids shortened. */
  note(text: string): string {
    return text.replace(/\bpod\/default\//g, '').replace(/\bnode\/(?=[a-z0-9])/g, '');
  }

  nsOf(id: string): NetNs | undefined {
    return findNs(this.state, id);
  }
}

function icmpName(p: Ipv4Packet): string {
  if (p.payload.kind !== 'icmp') return 'an answer';
  const { type, code } = p.payload;
  if (type === ICMP_TIME_EXCEEDED) return 'ICMP time exceeded';
  if (type === ICMP_ECHO_REPLY) return 'ICMP echo reply';
  if (type === ICMP_DEST_UNREACH) {
    const what = ['net unreachable', 'host unreachable', 'protocol unreachable', 'port unreachable', 'fragmentation needed'][code];
    return `ICMP ${what ?? (code === 13 ? 'administratively prohibited' : `unreachable (code ${code})`)}`;
  }
  return `ICMP type ${type}`;
}

function whatIsSent(p: Ipv4Packet): string {
  const pl = p.payload;
  if (pl.kind === 'icmp') return pl.type === ICMP_ECHO_REQUEST ? `an ICMP echo request (ping) to ${formatIpv4(p.header.dst)}` : `${icmpName(p)} to ${formatIpv4(p.header.dst)}`;
  if (pl.kind === 'udp') return `a UDP datagram to ${formatIpv4(p.header.dst)} port ${pl.dstPort}`;
  if (pl.kind === 'tcp') return `a TCP segment to ${formatIpv4(p.header.dst)} port ${pl.dstPort}`;
  return `a packet to ${formatIpv4(p.header.dst)}`;
}

/** What the probe's disposition means, in words. */
const ENDED: Partial<Record<string, string>> = {
  ttlExceeded: 'the TTL runs out here',
  portUnreachable: 'the probe has arrived, and nothing listens on its UDP port',
  delivered: 'the probe has arrived',
  noRoute: 'no route matches',
  neighbourUnreachable: 'nobody answers ARP for the next hop',
  filtered: 'a firewall rule drops it',
};

/** One step of a trace in words, using the step's own record and the cluster state. */
export function explainStep(step: Step, prev: Step | undefined, names: Names, origSrc: Ipv4 | null): string {
  const who = names.ns(step.ns);
  const ns = names.nsOf(step.ns);
  const link = ns && step.dev !== null ? ns.links[step.dev] : undefined;
  const ip = step.ip;
  const frame = step.frame;
  const route = ns && ip ? lookupRouteIn(names.state, ns, ip.header.dst) : null;
  switch (step.kind) {
    case 'send':
      return ip ? `${who} sends ${whatIsSent(ip)} with TTL ${ip.header.ttl}` : names.note(step.note);
    case 'route':
      if (!ip || !route) break;
      return `route lookup in ${who}: \`${describeRoute(route)}\` → out of ${route.dev}`
        + (route.via !== null ? ` to the gateway ${names.ipText(route.via)}` : `, ${formatIpv4(ip.header.dst)} is on that link`)
        + `; source address ${formatIpv4(ip.header.src)}`;
    case 'transmit':
      if (!frame) break;
      return `${step.dev} puts it in an Ethernet frame to ${names.macText(frame.eth.dst)}`;
    case 'veth':
      if (link?.kind !== 'veth') break;
      return `the frame crosses the veth pair: in at ${who}'s ${link.name}, out at ${names.ns(link.peer.ns)}'s ${link.peer.name}`;
    case 'receive': {
      if (!link) break;
      if (link.master !== null) return `${who}'s ${link.name} receives the frame; ${link.name} is a port of the bridge ${link.master}`;
      if (link.kind === 'vxlan') return `${who}'s ${link.name} receives the inner frame as if it came off a wire`;
      if (step.ns.startsWith('pod/') && ip) {
        const kept = origSrc !== null && innermost(ip).header.src === origSrc;
        return `${who}'s ${link.name} receives it, from ${names.ipText(ip.header.src)} to ${formatIpv4(ip.header.dst)}`
          + (kept ? ': the source is still the sender\'s own IP — no NAT on the way' : '');
      }
      return `${who}'s ${link.name} receives the frame`;
    }
    case 'bridge-learn':
      if (!frame) break;
      return `${step.dev} learns that ${names.macText(frame.eth.src)} is behind port ${prev?.dev ?? '?'}`;
    case 'bridge-local':
      if (!frame) break;
      return `the destination MAC ${frame.eth.dst} is ${step.dev}'s own: the bridge hands the frame up to ${who}'s IP layer`;
    case 'bridge-forward': {
      if (!frame || !ns) break;
      const port = ns.fdb[`${step.dev}|${frame.eth.dst}`]?.port;
      return `${step.dev}'s forwarding table (FDB) knows ${names.macText(frame.eth.dst)}: out of port ${port ?? '?'} only`;
    }
    case 'bridge-flood':
      if (!frame) break;
      return `${step.dev} copies the ${frame.eth.dst === 'ff:ff:ff:ff:ff:ff' ? 'broadcast' : 'unknown-destination'} frame to every port but the one it came in by`;
    case 'forward':
      if (!ip || !route) break;
      return `${formatIpv4(ip.header.dst)} is not ${who}'s own address and ip_forward = 1, so ${who} routes it: `
        + `\`${describeRoute(route)}\`; TTL ${ip.header.ttl + 1} → ${ip.header.ttl}`;
    case 'vxlan-encap': {
      if (!ip || ip.payload.kind !== 'udp' || ip.payload.payload.kind !== 'vxlan') break;
      const inner = innermost(ip);
      const before = prev?.ip?.header.totalLength ?? inner.header.totalLength;
      return `${step.dev} encapsulates: the whole Ethernet frame goes inside a VXLAN header (VNI ${ip.payload.payload.vni}), `
        + `a UDP header (port ${ip.payload.srcPort} → ${ip.payload.dstPort}) and a new IP header `
        + `${names.ipText(ip.header.src)} → ${names.ipText(ip.header.dst)}: ${before} → ${ip.header.totalLength} bytes, `
        + `+${ip.header.totalLength - before}. Inside, ${formatIpv4(inner.header.src)} → ${formatIpv4(inner.header.dst)} is untouched`;
    }
    case 'segment': {
      if (link?.kind !== 'physical' || !frame) break;
      const seg = names.state.underlay.segments[link.segment];
      const where = seg ? `${seg.name} (${formatCidr(seg.cidr)})` : link.segment;
      if (!ip) return `the frame is broadcast on the underlay segment ${where}`;
      return `the underlay segment ${where} carries the frame to ${names.macText(frame.eth.dst)}; `
        + `the underlay sees only ${formatIpv4(ip.header.src)} → ${formatIpv4(ip.header.dst)}`;
    }
    case 'vxlan-decap': {
      if (link?.kind !== 'vxlan' || !ip) break;
      const before = prev?.ip?.header.totalLength;
      return `the outer packet is for ${who} itself, UDP port ${link.dstPort}, VNI ${link.vni}: that is ${link.name}, which strips the outer headers`
        + (before !== undefined ? ` (${before} → ${ip.header.totalLength} bytes)` : '')
        + ` and hands on the original frame, ${formatIpv4(ip.header.src)} → ${formatIpv4(ip.header.dst)}`;
    }
    case 'neighbour': {
      if (!ip || !route || !ns) break;
      const nexthop = route.via ?? ip.header.dst;
      const mac = ns.neigh[`${step.dev}|${nexthop}`]?.mac;
      return `ARP answered: ${formatIpv4(nexthop)} is at ${mac ? names.macText(mac) : 'a MAC now known'}; the packet that waited goes on`;
    }
    case 'arp-request':
      if (frame?.payload.kind !== 'arp') break;
      return `ARP request broadcast by ${who}'s ${step.dev}: who has ${formatIpv4(frame.payload.targetIp)}? tell ${formatIpv4(frame.payload.senderIp)}`;
    case 'arp-reply':
      if (frame?.payload.kind !== 'arp') break;
      return `ARP reply from ${who}: ${formatIpv4(frame.payload.senderIp)} is at ${frame.payload.senderMac}`;
    case 'icmp-error':
      if (!ip) break;
      return `${who} answers ${formatIpv4(ip.header.dst)} with ${icmpName(ip)}`;
    case 'drop':
      return `dropped — ${names.note(step.note)}`;
    case 'deliver':
      return `delivered — ${names.note(step.note)}`;
    default:
      break;
  }
  return names.note(step.note);
}

/**
 * A traceroute from a pod to an address: the `traceroute -n` output, who answered each TTL and why,
 * then the last probe's journey step by step, grouped by the hop where each step happened.
 */
export function explainTraceroute(sim: Simulator, from: string, to: string): string[] {
  const tr: TracerouteResult = sim.traceroute(from, to);
  const names = new Names(sim.state);
  const out = [`$ kubectl exec ${from} -- traceroute -n ${to}`, ...tr.lines, ''];

  // Who answered each probe, and why that address: Linux picks an ICMP error's source by the route
  // the error leaves by, so a router answers with the address of the interface facing the sender.
  out.push('traceroute sends UDP probes with TTL 1, 2, 3…; each router on the way lowers the TTL, and where it runs out the probe is answered:');
  const hopOfNs = new Map<string, number>();
  for (const hop of tr.hops) {
    const t = hop.trace;
    const err = t.steps.find((s) => s.kind === 'icmp-error');
    const fate = t.fates[0];
    if (!err || !fate || hop.address === null) {
      out.push(`  TTL ${hop.ttl}: * — no answer (the probe ended as ${t.disposition})`);
      continue;
    }
    hopOfNs.set(err.ns, hop.ttl);
    const leaves = t.steps.find((s) => s.packet === err.packet && s.kind === 'route');
    const via = hop.address === to ? ', its own address'
      : leaves?.dev && leaves.ip && formatIpv4(leaves.ip.header.src) === hop.address
        ? `, the address of ${leaves.dev}, the interface its answer leaves by` : '';
    out.push(`  TTL ${hop.ttl}: ${names.ns(err.ns)} — ${ENDED[fate.disposition] ?? fate.disposition}; `
      + `it answers ${err.ip ? icmpName(err.ip) : 'ICMP'} from ${hop.address}${via}`);
  }

  const last = tr.hops[tr.hops.length - 1];
  if (!last) return out;
  const steps = last.trace.steps;
  const probe = steps.filter((s) => s.packet === 1);
  const lastProbeIndex = probe[probe.length - 1]?.index ?? -1;
  const origSrc = probe.find((s) => s.kind === 'route')?.ip?.header.src ?? null;
  out.push('', `The probe with TTL ${last.ttl}, step by step (kind, device, what happens):`);

  let place = '';
  let prev: Step | undefined;
  const row = (s: Step, text: string, indent = '  ') => `${indent}${s.kind.padEnd(14)} ${(s.dev ?? '-').padEnd(13)} ${text}`;
  for (const s of steps) {
    if (s.packet !== 1) {
      // ARP the probe waited for is part of its story; its plumbing (floods, veths) is not shown.
      if (s.index < lastProbeIndex && (s.kind === 'arp-request' || s.kind === 'arp-reply')) out.push(row(s, explainStep(s, undefined, names, null), '    ↳ '));
      continue;
    }
    const link = names.nsOf(s.ns)?.links[s.dev ?? ''];
    const here = s.kind === 'segment' && link?.kind === 'physical' ? `segment:${link.segment}` : s.ns;
    if (here !== place) {
      place = here;
      out.push(groupTitle(sim.state, names, here, hopOfNs, s.ns === probe[0]?.ns));
    }
    out.push(row(s, explainStep(s, prev, names, origSrc)));
    prev = s;
  }

  // The answer travels back; summarise its path rather than repeat every step.
  const answer = last.trace.fates.find((f) => f.role === 'icmp-error');
  if (answer) {
    const path: string[] = [];
    for (const s of steps) {
      if (s.packet !== answer.packet) continue;
      const link = names.nsOf(s.ns)?.links[s.dev ?? ''];
      const p = s.kind === 'segment' && link?.kind === 'physical' ? 'underlay' : names.ns(s.ns);
      if (path[path.length - 1] !== p) path.push(p);
    }
    const count = steps.filter((s) => s.packet === answer.packet).length;
    out.push('', `The answer (${answer.ip ? icmpName(answer.ip) : 'ICMP'}) goes back the same way in ${count} steps: ${path.join(' → ')}: ${answer.disposition}.`);
  }
  return out;
}

function groupTitle(state: ClusterState, names: Names, place: string, hopOfNs: ReadonlyMap<string, number>, isSender: boolean): string {
  if (place.startsWith('segment:')) {
    const seg = state.underlay.segments[place.slice(8)];
    return `underlay · segment ${place.slice(8)}${seg ? ` · ${formatCidr(seg.cidr)}` : ''}`;
  }
  const hop = hopOfNs.get(place);
  const head = isSender ? 'sender' : hop !== undefined ? `hop ${hop}` : 'on the way';
  if (place.startsWith('node/')) {
    const node = listNodes(state).find((n) => `node/${n.name}` === place);
    return `${head} · ${names.ns(place)}${node ? ` · node IP ${formatIpv4(node.ip)}, pod subnet ${node.podCidr ? formatCidr(node.podCidr) : '-'}` : ''}`;
  }
  const addr = names.nsOf(place)?.links['eth0']?.addrs[0];
  return `${head} · ${names.ns(place)}${addr ? ` · ${formatIpv4(addr.ip)}` : ''}`;
}

// ---------------------------------------------------------------------------------------------------
// 4. The three guarantees
// ---------------------------------------------------------------------------------------------------

const GUARANTEES: readonly { name: GuaranteeName; title: string }[] = [
  { name: 'unique-ip', title: 'Every pod gets its own unique IP' },
  { name: 'no-nat', title: 'Pods reach every other pod without NAT' },
  { name: 'node-reaches-pods', title: 'Each node reaches the pods on it' },
];

/** One line per guarantee, ✓ or ✗, from a full audit (`sim.check()`). */
export function guaranteeVerdict(sim: Simulator): string[] {
  const verdict = sim.check();
  const pods = sim.pods().filter((p) => !p.hostNetwork && p.status.phase === 'Running' && p.ip !== null);
  const distinct = new Set(pods.map((p) => p.ip)).size;
  const facts: Record<GuaranteeName, string> = {
    'unique-ip': `${pods.length} pods, ${distinct} distinct IPs, none shared with a node or a gateway`,
    'no-nat': `${pods.length * (pods.length - 1)} pod → pod pings, each answered and seen with the sender's own IP`,
    'node-reaches-pods': `${pods.length} node → own pod pings, each answered`,
  };
  const out = GUARANTEES.map((g, i) => {
    const broken = verdict.violations.filter((v) => v.guarantee === g.name);
    return broken.length === 0
      ? `✓ ${i + 1}. ${g.title}: ${facts[g.name]}`
      : `✗ ${i + 1}. ${g.title}: ${broken.length} violation${broken.length > 1 ? 's' : ''}, e.g. ${broken[0]!.explanation}`;
  });
  out.push(verdict.ok ? 'sim.check(): ok — this cluster honours the Kubernetes network model.' : `sim.check(): ${verdict.violations.length} violations.`);
  return out;
}

// ---------------------------------------------------------------------------------------------------

/** The whole tour, as the lines `pnpm run example` prints. */
export function seedLab(sim: Simulator = buildSeedLab()): string[] {
  const nodes = sim.nodes().length;
  const pods = sim.pods().length;
  return [
    `podnet seed lab — the lesson's cluster: ${nodes} nodes, ${pods} pods, CNI ${sim.design.name}, pod CIDR ${formatCidr(sim.state.podCidr)}`,
    '',
    '1. Each node owns a slice of the cluster pod CIDR',
    '',
    `$ kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name}{"\\t"}{.spec.podCIDR}{"\\n"}{end}'`,
    ...nodePodCidrs(sim),
    '',
    '2. Each pod gets an IP from its node\'s slice',
    '',
    '$ kubectl get pods -o wide',
    ...podsWide(sim),
    '',
    '3. Pod to pod across nodes, as Linux forwards it',
    '',
    ...explainTraceroute(sim, 'pod-a', '10.244.2.3'),
    '',
    '4. The three guarantees of the Kubernetes network model',
    '',
    ...guaranteeVerdict(sim),
  ];
}
