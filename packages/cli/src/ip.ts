/**
 * `ip` (iproute2) and `bridge` over a namespace of the model: the show commands in iproute2's line
 * formats (pinned against real iproute2 in ip.test.ts), and the commands that change a node mapped onto
 * model actions (`sim.apply`), with the kernel's answers when it refuses.
 */
import {
  addrsToFlush, allRoutes, routeGet as coreRouteGet, formatRoute, exceptionKey, formatIpv4, getNs, localRouteSource, lookupRouteIn, neighNud, neighsToFlush, nexthopKey, parseIpv4, peerEntries, selectRoutes, selectSource, hasCarrier, ipRoute, ipRule, isPodnetError, netnsPath,
  type Action, type RouteGetAnswer, type RouteGetErrno, type RouteGetOptions, type FdbFlushState, type NeighState, type RouteFlushSpec, type ClusterState, type Link, type NetNs, type NsId, type Route, type RouteException, type Simulator,
} from '@podnet/core';
import { err, ok, type Ctx, type Output } from './types.js';
import { STATS_FLAGS, statsLevel, statsLines } from './link-stats.js';

/**
 * The namespace's link of that name, or undefined. Own entries only: a record's members (`constructor`,
 * `toString`, `__proto__`) are not devices, and a namespace's links may or may not have a prototype.
 */
export function linkNamed(ns: NetNs, name: string): Link | undefined {
  return Object.prototype.hasOwnProperty.call(ns.links, name) ? ns.links[name] : undefined;
}

function flagsAndState(state: ClusterState, ns: NetNs, l: Link): { flags: string; state: string } {
  const carrier = hasCarrier(state, ns, l);
  if (l.kind === 'loopback') return { flags: l.up ? '<LOOPBACK,UP,LOWER_UP>' : '<LOOPBACK>', state: l.up ? 'UNKNOWN' : 'DOWN' };
  const base = l.kind === 'ipip' ? ['NOARP'] : ['BROADCAST', 'MULTICAST'];
  if (!l.up) return { flags: `<${base.join(',')}>`, state: 'DOWN' };
  if (!carrier) return { flags: `<NO-CARRIER,${base.join(',')},UP>`, state: 'DOWN' };
  // Devices without an operational state driver (vxlan, ipip, lo) report UNKNOWN when up.
  return { flags: `<${base.join(',')},UP,LOWER_UP>`, state: l.kind === 'vxlan' || l.kind === 'ipip' ? 'UNKNOWN' : 'UP' };
}

/** The netns name `ip` prints after `link-netns` for a veth peer, or null when the peer's namespace has no name. */
function peerNetns(sim: Simulator, peerNs: NsId): string | null {
  if (!peerNs.startsWith('pod/')) return null;
  const pod = sim.state && findPodByNs(sim, peerNs);
  return pod ? netnsPath(pod).split('/').pop()! : null;
}

function findPodByNs(sim: Simulator, ns: NsId): { uid: string } | undefined {
  try { return sim.pod(ns.slice(4)); } catch { return undefined; }
}

/**
 * /sys/class/net as sysfs shows it: a directory a device, and of each device the attributes podnet models
 * (`ifindex`, `iflink`, `mtu`, `address`, `operstate`); null for any other path. Measured (kernel 6.18): a
 * veth's `iflink` is its peer's ifindex (the N of `@ifN`), a bridge's, a vxlan's (even with `dev`) and lo's
 * their own; `operstate` is the state `ip link` prints, in lower case (`up`, `down`, `unknown`).
 */
export function sysClassNet(sim: Simulator, ns: NetNs, parts: readonly string[]): { kind: 'dir'; entries: string[] } | { kind: 'file'; text: string } | null {
  if (parts.length === 0) return { kind: 'dir', entries: sortedLinks(ns).map((l) => l.name).sort() };
  const l = linkNamed(ns, parts[0]!);
  if (l === undefined || parts.length > 2) return null;
  if (parts.length === 1) return { kind: 'dir', entries: ['address', 'iflink', 'ifindex', 'mtu', 'operstate'] };
  const iflink = (): number => {
    if (l.kind === 'ipip') return 0;
    if (l.kind !== 'veth') return l.ifindex;
    try { return getNs(sim.state, l.peer.ns).links[l.peer.name]?.ifindex ?? 0; } catch { return 0; }
  };
  const attr: Record<string, () => string> = {
    ifindex: () => String(l.ifindex),
    iflink: () => String(iflink()),
    mtu: () => String(l.mtu),
    address: () => (l.kind === 'ipip' ? (l.local === null ? '0.0.0.0' : formatIpv4(l.local)) : l.mac),
    operstate: () => flagsAndState(sim.state, ns, l).state.toLowerCase(),
  };
  return Object.hasOwn(attr, parts[1]!) ? { kind: 'file', text: `${attr[parts[1]!]!()}\n` } : null;
}

function linkName(state: ClusterState, l: Link): string {
  if (l.kind === 'veth') {
    let peer: NetNs | undefined;
    try { peer = getNs(state, l.peer.ns); } catch { peer = undefined; }
    const idx = peer?.links[l.peer.name]?.ifindex;
    return idx === undefined ? `${l.name}@NONE` : `${l.name}@if${idx}`;
  }
  if (l.kind === 'ipip') return `${l.name}@NONE`;
  return l.name;
}

/**
 * Whether iproute2 can name other namespaces here. It names a peer's namespace by looking for it in
 * /var/run/netns; in the `kubectl debug node` pod that directory is the container's own, empty one (the
 * node's is under /host), so it prints the namespace's id instead (`link-netnsid 1`, measured with the
 * node's /var/run/netns hidden by an empty mount), `ip netns` lists nothing and `ip netns exec` finds
 * nothing. After `chroot /host` the node's directory is there.
 */
function namesNetns(ctx: Ctx): boolean {
  return !(ctx.place.kind === 'node' && ctx.place.debug);
}

/** The host namespace's ids for its pods' namespaces (`ip netns` prints them): in creation order from 0. */
function podNsids(sim: Simulator, node: string): { key: string; netns: string; id: number }[] {
  const pods = Object.values(sim.node(node).pods).filter((p) => p.netns).sort((a, b) => a.created - b.created || (a.key < b.key ? -1 : 1));
  return pods.map((p, id) => ({ key: p.key, netns: netnsPath(p).split('/').pop()!, id }));
}

function linkLines(sim: Simulator, ns: NetNs, l: Link, withMode: boolean, details = false, names = true): string[] {
  const state = sim.state;
  const { flags, state: oper } = flagsAndState(state, ns, l);
  const qdisc = l.kind === 'physical' ? 'fq_codel' : 'noqueue';
  const master = l.master ? ` master ${l.master}` : '';
  const head = `${l.ifindex}: ${linkName(state, l)}: ${flags} mtu ${l.mtu} qdisc ${qdisc}${master} state ${oper}${withMode ? ' mode DEFAULT' : ''} group default qlen 1000`;
  let second: string;
  if (l.kind === 'loopback') second = `    link/loopback ${l.mac} brd 00:00:00:00:00:00`;
  else if (l.kind === 'ipip') second = `    link/ipip ${l.local === null ? '0.0.0.0' : formatIpv4(l.local)} brd 0.0.0.0`;
  else {
    second = `    link/ether ${l.mac} brd ff:ff:ff:ff:ff:ff`;
    if (l.kind === 'veth') {
      const name = peerNetns(sim, l.peer.ns);
      // A pod's namespace is named (containerd mounts it under /var/run/netns); the host's is not, seen from a pod.
      const id = !names && name !== null && ns.id.startsWith('node/')
        ? podNsids(sim, ns.id.slice(5)).find((x) => `pod/${x.key}` === l.peer.ns)?.id : undefined;
      second += name !== null && names ? ` link-netns ${name}` : ` link-netnsid ${id ?? 0}`;
    }
  }
  return details ? [head, ...detailLines(sim, ns, l, second)] : [head, second];
}

/** The largest TSO packet a device accepts: a VXLAN device inherits its underlay's (netif_inherit_tso_max). */
function tsoMax(ns: NetNs, l: Link): number {
  if (l.kind === 'physical') return 65536;
  if (l.kind === 'vxlan') {
    const under = l.external === true ? undefined : linkNamed(ns, l.dev);
    return under === undefined ? 65536 : tsoMax(ns, under);
  }
  return 524280;
}

/** `iproute2`'s timers (`%4i.%.2i`, seconds and hundredths). */
function timer(ms: number): string {
  const cs = Math.max(0, Math.floor(ms / 10));
  return `${String(Math.floor(cs / 100)).padStart(4)}.${String(cs % 100).padStart(2, '0')}`;
}

/**
 * `ip -d link`: the link/ether line goes on with promiscuity, allmulti and the MTU range, then a line
 * for the device's kind and one for its bridge port, then the generic attributes (measured with
 * iproute2 6.1 on Linux 6.18 for each kind the seed lab has; a virtio NIC for the node's eth0, without
 * its `parentbus`/`parentdev`). A veth has a queue per possible CPU of its host: podnet prints 2, the
 * count where it was measured. Bridge timers are those of a bridge up for minutes: all idle but the
 * FDB garbage collector, due when the oldest learned entry ages out (300 s) or every 300 s.
 */
function detailLines(sim: Simulator, ns: NetNs, l: Link, second: string): string[] {
  const port = l.master === null ? undefined : linkNamed(ns, l.master);
  const promisc = port?.kind === 'bridge' ? 1 : 0;
  const range = l.kind === 'loopback' ? 'minmtu 0 maxmtu 0' : 'minmtu 68 maxmtu 65535';
  const lines = [`${second} promiscuity ${promisc}  allmulti ${promisc} ${range} `];
  const queues = l.kind === 'veth' ? 2 : 1;
  const tail = `addrgenmode eui64 numtxqueues ${queues} numrxqueues ${queues} gso_max_size 65536 gso_max_segs 65535 tso_max_size ${tsoMax(ns, l)} tso_max_segs 65535 gro_max_size 65536 `;
  const id = (b: Link) => `8000.${b.mac}`;
  if (l.kind === 'veth') lines.push('    veth ');
  else if (l.kind === 'vxlan') {
    const where = l.external === true ? 'external id 0 ' : `id ${l.vni} local ${formatIpv4(l.local)} dev ${l.dev} `;
    lines.push(`    vxlan ${where}srcport 0 0 dstport ${l.dstPort} ${l.learning ? '' : 'nolearning '}ttl auto ageing 300 udpcsum noudp6zerocsumtx noudp6zerocsumrx `);
  } else if (l.kind === 'bridge') {
    const now = sim.state.now;
    const learned = Object.values(ns.fdb).filter((e) => e.dev === l.name && !e.permanent && now - e.updated <= 300_000);
    const gc = learned.length > 0 ? Math.min(...learned.map((e) => e.updated + 300_000)) - now : 300_000 - (now % 300_000);
    lines.push(`    bridge forward_delay 1500 hello_time 200 max_age 2000 ageing_time 30000 stp_state 0 priority 32768 vlan_filtering 0 bridge_id ${id(l)} designated_root ${id(l)} root_port 0 root_path_cost 0 topology_change 0 topology_change_detected 0 hello_timer ${timer(0)} tcn_timer ${timer(0)} topology_change_timer ${timer(0)} gc_timer ${timer(gc)} group_fwd_mask 0 group_address 01:80:c2:00:00:00 mcast_snooping 1 no_linklocal_learn 0 mcast_vlan_snooping 0 mcast_router 1 mcast_query_use_ifaddr 0 mcast_querier 0 mcast_hash_elasticity 16 mcast_hash_max 4096 mcast_last_member_count 2 mcast_startup_query_count 2 mcast_last_member_interval 100 mcast_membership_interval 26000 mcast_querier_interval 25500 mcast_query_interval 12500 mcast_query_response_interval 1000 mcast_startup_query_interval 3124 mcast_stats_enabled 0 mcast_igmp_version 2 mcast_mld_version 1 nf_call_iptables 0 nf_call_ip6tables 0 nf_call_arptables 0 `);
  }
  if (port?.kind === 'bridge') {
    // Ports are numbered from 1 in the order they joined the bridge (podnet: by ifindex).
    const no = sortedLinks(ns).filter((x) => x.master === port.name).indexOf(l) + 1;
    const hex = (0x8000 + no).toString(16);
    const fwd = l.up && hasCarrier(sim.state, ns, l) ? 'forwarding' : 'disabled';
    lines.push(`    bridge_slave state ${fwd} priority 32 cost 2 hairpin ${l.hairpin === true ? 'on' : 'off'} guard off root_block off fastleave off learning on flood on port_id 0x${hex} port_no 0x${no.toString(16)} designated_port ${0x8000 + no} designated_cost 0 designated_bridge ${id(port)} designated_root ${id(port)} hold_timer ${timer(0)} message_age_timer ${timer(0)} forward_delay_timer ${timer(0)} topology_change_ack 0 config_pending 0 proxy_arp off proxy_arp_wifi off mcast_router 1 mcast_fast_leave off mcast_flood on bcast_flood on mcast_to_unicast off neigh_suppress off group_fwd_mask 0 group_fwd_mask_str 0x0 vlan_tunnel off isolated off locked off `);
  }
  lines[lines.length - 1] += tail;
  return lines;
}

/**
 * One line of `ip -br link` / `ip -br addr`: the name (with `@ifN`) in 16 columns, the state in 14, then
 * the MAC and flags, or the addresses, each followed by a space (iproute2 6.1; podnet has IPv4 only).
 */
function briefLine(sim: Simulator, ns: NetNs, l: Link, obj: 'link' | 'addr'): string {
  const { flags, state } = flagsAndState(sim.state, ns, l);
  const head = `${linkName(sim.state, l).padEnd(16)} ${state.padEnd(14)} `;
  if (obj === 'link') return `${head}${l.kind === 'ipip' ? (l.local === null ? '0.0.0.0' : formatIpv4(l.local)) : l.mac} ${flags} \n`;
  return `${head}${l.addrs.map((a) => `${formatIpv4(a.ip)}/${a.len} `).join('')}\n`;
}

function sortedLinks(ns: NetNs): Link[] {
  return Object.values(ns.links).sort((a, b) => a.ifindex - b.ifindex);
}

function addrLines(l: Link): string[] {
  const out: string[] = [];
  for (const a of l.addrs) {
    const brd = a.len < 31 && a.scope === 'global' ? ` brd ${formatIpv4((a.ip | (0xffffffff >>> a.len)) >>> 0)}` : '';
    // iproute2 prints the address flags after the scope (print_ifa_flags, in the order of their bits):
    // `scope global secondary d1`, `scope global noprefixroute d1`.
    out.push(`    inet ${formatIpv4(a.ip)}/${a.len}${brd} scope ${a.scope} ${a.secondary === true ? 'secondary ' : ''}${a.noprefixrouteFlag === true ? 'noprefixroute ' : ''}${l.name}`, '       valid_lft forever preferred_lft forever');
  }
  return out;
}

/** Turns a model error into what iproute2 prints and its exit status. */
export function kernelError(e: unknown): Output {
  if (!isPodnetError(e)) throw e;
  const text = e.message.replace(/ \((?:[^()]|\([^()]*\))*\)$/, '').replace(/ in (node|pod)\/\S+$/, '');
  if (e.code === 'LINK_NOT_FOUND') return err(text, 1);
  if (text.startsWith('Error: ')) return err(`${text}.`, 2);
  if (text.startsWith('RTNETLINK')) return err(text, 2);
  return err(`Error: ${text}`, 2);
}

function apply(ctx: Ctx, actions: Action[], line: string, admin: boolean): Output {
  if (!admin) return err('RTNETLINK answers: Operation not permitted', 2);
  try {
    ctx.sim.apply(actions, `${ctx.ns}: ${line}`);
    return ok();
  } catch (e) {
    return kernelError(e);
  }
}

const OBJECTS: Record<string, string> = {};
for (const [full, min] of [['link', 'l'], ['address', 'a'], ['addr', 'a'], ['route', 'r'], ['rule', 'ru'], ['neighbour', 'n'], ['neighbor', 'n'], ['neigh', 'n'], ['netns', 'netns']] as const) {
  for (let i = min.length; i <= full.length; i++) OBJECTS[full.slice(0, i)] ??= full === 'address' || full === 'addr' ? 'addr' : full.startsWith('neigh') ? 'neigh' : full;
}

function matches(word: string | undefined, full: string, min = 1): boolean {
  return word !== undefined && word.length >= min && full.startsWith(word);
}

/**
 * The listing verb: a prefix of `show`, `list` or `lst`, as iproute2 matches it (6.1, measured: `ip link ls`,
 * `ip addr ls`, `ip route ls`, `ip r lst`, `ip neigh ls`, `ip rule ls` all list).
 */
function isList(word: string): boolean {
  return matches(word, 'show') || matches(word, 'list') || matches(word, 'lst');
}

/**
 * `ip [-4] OBJECT [COMMAND …]` in the context's namespace. `admin` is whether the shell may change
 * the namespace (CAP_NET_ADMIN): a pod may not, nor a node debug pod without `--profile=sysadmin`.
 */
export function ip(ctx: Ctx, argv: readonly string[], admin: boolean): Output {
  // -s (twice: the error details too) adds each device's counters to `ip link show`.
  const stats = statsLevel(argv);
  // -h (-human, -human-readable) prints counters with k/M/G, -iec in powers of 1024 (with -h only); measured.
  const humanFlag = argv.some((x) => x === '-h' || isOption(x, '-human-readable', 3));
  const human = humanFlag ? (argv.includes('-iec') ? 'iec' : 'si') : null;
  const args = argv.filter((x) => !STATS_FLAGS.has(x) && x !== '-h' && !isOption(x, '-human-readable', 3) && x !== '-iec');
  const details = args.includes('-d') || args.includes('-details');
  // The family: -4 (or -f / -family inet) is IPv4 only, which of what podnet prints changes `ip addr` alone
  // (see ipAddr): every address podnet has is IPv4. IPv6 it does not model at all: said, not answered empty.
  const fam = args.findIndex((x) => x === '-f' || x === '-family');
  const family = fam < 0 ? null : args[fam + 1];
  if (args.includes('-6') || family === 'inet6') return err(`Error: podnet does not model IPv6 ("${family === 'inet6' ? `${args[fam]} inet6` : '-6'}"): every address, route and neighbour it has is IPv4; try "ip -4".`, 255);
  // Measured (iproute2 6.1): `ip -f` alone prints the usage, `ip -f bogus …` names the argument; both exit 255.
  if (fam >= 0 && family !== 'inet') {
    if (family === undefined || family === null) return err('Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\nwhere  OBJECT := { address | link | neighbour | netns | route | rule }', 255);
    if (!['mpls', 'bridge', 'link'].includes(family)) return err(`Error: argument "${family}" is wrong: invalid protocol family`, 255);
    return err(`Error: podnet does not model the address family "${family}": try "ip -4".`, 255);
  }
  const inet4 = args.includes('-4') || family === 'inet';
  // iproute2 matches an option by prefix (matches(opt, "-oneline")): -o, -on … -oneline; measured (6.1) that
  // `-oa` is refused, options do not cluster. -j/-json and -p/-pretty: JSON podnet does not write.
  const json = args.find((x) => isOption(x, '-json', 2) || isOption(x, '-pretty', 2));
  if (json !== undefined) return err(`Error: podnet does not model ip's JSON output ("${json}"): drop it to read the same objects as ip prints them.`, 255);
  const oneline = args.some((x) => isOption(x, '-oneline', 2));
  const a = args.filter((x, i) => x !== '-4' && x !== '-d' && x !== '-details' && !isOption(x, '-oneline', 2) && (fam < 0 || (i !== fam && i !== fam + 1)));
  if (a.some((x) => x.startsWith('-') && !/^-\d+$/.test(x) && !['-c', '-color', '-br', '-brief'].includes(x)) && a[0]?.startsWith('-')) {
    return err(`Option "${a[0]}" is unknown, try "ip -help".`, 255);
  }
  const brief = a.includes('-br') || a.includes('-brief');
  const words = a.filter((x) => !['-c', '-color', '-br', '-brief'].includes(x));
  if (words.length === 0) return err('Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\nwhere  OBJECT := { address | link | neighbour | netns | route | rule }', 255);
  if (words[0] === 'help') return ok('Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\nwhere  OBJECT := { address | link | neighbour | netns | route | rule }\n');
  const obj = OBJECTS[words[0]!];
  if (!obj) return err(`Object "${words[0]}" is unknown, try "ip help".`, 1);
  const rest = words.slice(1);
  const nsId = ctx.ns!;
  const ns = getNs(ctx.sim.state, nsId);
  if (brief && (obj === 'link' || obj === 'addr') && (rest[0] === undefined || isList(rest[0]))) {
    const f = showFilter(ns, rest[0] === undefined ? [] : rest.slice(1), obj);
    if ('status' in f) return f;
    return ok(f.links.filter((l) => obj === 'link' || !inet4 || l.addrs.length > 0).map((l) => briefLine(ctx.sim, ns, l, obj)).join(''));
  }
  const out = ((): Output => {
    switch (obj) {
      case 'link': return ipLink(ctx, ns, rest, admin, details, stats, human);
      case 'addr': return ipAddr(ctx, ns, rest, admin, details, stats, inet4, oneline);
      case 'route': return ipRouteCmd(ctx, ns, rest, admin, stats, details);
      case 'rule': return ipRuleCmd(ctx, ns, rest, admin);
      case 'neigh': return ipNeigh(ctx, ns, rest, admin, stats);
      default: return ipNetns(ctx);
    }
  })();
  return oneline && obj !== 'addr' ? { ...out, stdout: onelined(out.stdout) } : out;
}

/** Whether `word` is iproute2's option `full` or a prefix of it at least `min` characters long. */
function isOption(word: string, full: string, min: number): boolean {
  return word.length >= min && full.startsWith(word);
}

/**
 * `ip -o`: each object on one line, its continuation lines (those that begin with white space) joined to
 * it by a backslash, as iproute2's `_SL_` does (6.1, measured: `ip -o link` is `…qlen 1000\    link/ether …`,
 * `ip -o route get` ends `uid 0 \    cache `, `ip -o -s link` joins the counters' lines the same way).
 */
function onelined(text: string): string {
  return text.replace(/\n(?=[ \t])/g, '\\');
}

/** Whether `ip ARGS` is `ip netns exec …` (which runs a command, so the session runs it). */
export function isNetnsExec(args: readonly string[]): boolean {
  const words = args.filter((x) => x !== '-4');
  return OBJECTS[words[0] ?? ''] === 'netns' && words[1] === 'exec';
}

function showFilter(ns: NetNs, rest: readonly string[], object: string): { links: Link[] } | Output {
  let links = sortedLinks(ns);
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i]!;
    if (w === 'type') {
      const t = rest[++i];
      const kind = t === 'veth' ? 'veth' : t === 'bridge' ? 'bridge' : t === 'vxlan' ? 'vxlan' : t === 'ipip' ? 'ipip' : null;
      if (kind === null) return err(`Error: argument "${t ?? ''}" is wrong: "type" value is invalid`, 255);
      links = links.filter((l) => l.kind === kind);
    } else if (w === 'up') links = links.filter((l) => l.up);
    else if (w === 'master') { const m = rest[++i]; if (!m || !linkNamed(ns, m)) return err(`Device "${m ?? ''}" does not exist.`, 1); links = links.filter((l) => l.master === m); }
    else {
      const dev = w === 'dev' ? rest[++i] : w;
      if (dev === undefined) return err(`Command line is not complete. Try option "help"`, 255);
      const l = linkNamed(ns, dev);
      if (!l) return err(`Device "${dev}" does not exist.`, 1);
      links = links.filter((x) => x === l);
    }
  }
  void object;
  return { links };
}

function ipLink(ctx: Ctx, ns: NetNs, rest: readonly string[], admin: boolean, details = false, stats = 0, human: 'si' | 'iec' | null = null): Output {
  const cmd = rest[0];
  if (cmd === undefined || isList(cmd)) {
    const f = showFilter(ns, cmd === undefined ? [] : rest.slice(1), 'link');
    if ('status' in f) return f;
    const counters = stats > 0 ? ctx.sim.counters(ns.id) : null;
    return ok(f.links.flatMap((l) => {
      const lines = linkLines(ctx.sim, ns, l, true, details, namesNetns(ctx));
      return counters === null ? lines : [...lines, ...statsLines(counters, l, stats, human)];
    }).map((x) => `${x}\n`).join(''));
  }
  if (matches(cmd, 'set')) {
    let i = 1;
    if (rest[i] === 'dev') i++;
    const dev = rest[i++];
    if (dev === undefined) return err('Not enough information: "dev" argument is required.', 255);
    if (!linkNamed(ns, dev)) return err(`Cannot find device "${dev}"`, 1);
    const action: { op: 'link.set'; ns: NsId; name: string; up?: boolean; mtu?: number; master?: string | null; mac?: string; hairpin?: boolean } = { op: 'link.set', ns: ns.id, name: dev };
    for (; i < rest.length; i++) {
      const w = rest[i]!;
      if (w === 'type' && rest[i + 1] === 'bridge_slave') {
        // `type bridge_slave` takes the rest of the line as the port's settings; podnet models `hairpin`.
        for (i += 2; i < rest.length; i++) {
          if (rest[i] !== 'hairpin') return err(`Error: podnet models only "hairpin" of the bridge_slave settings, not "${rest[i]}".`, 255);
          const v = hairpinWord(rest[++i]);
          if (typeof v !== 'boolean') return v.status === 234 ? err(v.stderr.trimEnd(), 1) : v;
          action.hairpin = v;
        }
        break;
      }
      if (w === 'up') action.up = true;
      else if (w === 'down') action.up = false;
      else if (w === 'mtu') { const v = rest[++i]; if (!v || !/^\d+$/.test(v)) return err(`Error: argument "${v ?? ''}" is wrong: Invalid "mtu" value`, 255); action.mtu = Number(v); }
      else if (w === 'master') { const m = rest[++i]; if (!m || !linkNamed(ns, m)) return err(`Device does not exist`, 1); action.master = m; }
      else if (w === 'nomaster') action.master = null;
      else if (w === 'address') { const m = rest[++i]; if (!m) return err('Command line is not complete. Try option "help"', 255); action.mac = m; }
      else return err(`Error: either "dev" is duplicate, or "${w}" is a garbage.`, 255);
    }
    return apply(ctx, [action], `ip link ${rest.join(' ')}`, admin);
  }
  if (matches(cmd, 'delete') || cmd === 'del') {
    const dev = rest[1] === 'dev' ? rest[2] : rest[1];
    if (dev === undefined) return err('Not enough information: "dev" argument is required.', 255);
    if (!linkNamed(ns, dev)) return err(`Cannot find device "${dev}"`, 1);
    return apply(ctx, [{ op: 'link.del', ns: ns.id, name: dev }], `ip link ${rest.join(' ')}`, admin);
  }
  if (cmd === 'help') return ok('Usage: ip link show [ DEVICE | type TYPE ]\n       ip link set DEVICE { up | down | mtu MTU | master DEVICE | nomaster | address LLADDR } [ type bridge_slave hairpin { on | off } ]\n       ip link delete DEVICE\n');
  return err(`Command "${cmd}" is unknown, try "ip link help".`, 255);
}

/**
 * What `ip … flush` prints with `-s` (iproute2 6.1, measured: scripts/route-verbs-formats.sh): the round
 * that deleted them and its end, or `Nothing to flush.`; without `-s`, nothing. podnet deletes in one round.
 */
function flushed(stats: number, count: number, what: 'entries' | 'addresses'): Output {
  if (stats === 0) return ok();
  if (count === 0) return ok('Nothing to flush.\n');
  return ok(`\n*** Round 1, deleting ${count} ${what} ***\n*** Flush is complete after 1 round ***\n`);
}

/** Applies a flush action after counting what it deletes (`count`, read before), as `flushed` prints it. */
function applyFlush(ctx: Ctx, action: Action, count: () => number, line: string, admin: boolean, stats: number, what: 'entries' | 'addresses'): Output {
  let n: number;
  try { n = count(); } catch (e) { return kernelError(e); }
  const o = apply(ctx, [action], line, admin);
  return o.status !== 0 ? o : flushed(stats, n, what);
}

/** The verbs of `ip address` that make an address, as iproute2 matches their prefixes (add first). */
const ADDR_VERBS = [['add', 'addr.add'], ['change', 'addr.change'], ['chg', 'addr.change'], ['replace', 'addr.replace']] as const;

/**
 * `ip addr`. With `-4` (`inet4`) iproute2 lists only the devices that have an IPv4 address, and without `-d`
 * leaves out their link/ether line (measured, iproute2 6.1: `ip -4 addr` in a namespace with an unaddressed
 * veth end prints lo and the addressed end, each as its header and inet lines; `ip -4 addr show dev` of the
 * unaddressed end prints nothing and exits 0; `ip -4 -d addr` prints the link/ether and detail lines).
 */
function ipAddr(ctx: Ctx, ns: NetNs, rest: readonly string[], admin: boolean, details = false, stats = 0, inet4 = false, oneline = false): Output {
  const cmd = rest[0];
  if (cmd === undefined || isList(cmd)) {
    // `scope S` lists the addresses of that scope and the devices that hold one (6.1, measured: `ip addr
    // show scope host` is lo alone, `ip addr show dev eth0 scope global` eth0 with its global address).
    const words = cmd === undefined ? [] : rest.slice(1);
    const at = words.indexOf('scope');
    let scope: string | undefined;
    if (at >= 0) {
      scope = words[at + 1];
      if (scope === undefined) return err('Command line is not complete. Try option "help"', 255);
      const numbered: Record<string, string> = { 0: 'global', 200: 'site', 253: 'link', 254: 'host', 255: 'nowhere' };
      if (Object.hasOwn(numbered, scope)) scope = numbered[scope]!;
      if (!['global', 'link', 'host', 'site', 'nowhere', 'all'].includes(scope)) return err(`Error: argument "${words[at + 1]}" is wrong: invalid "scope"`, 255);
    }
    const f = showFilter(ns, at >= 0 ? [...words.slice(0, at), ...words.slice(at + 2)] : words, 'addr');
    if ('status' in f) return f;
    if (scope !== undefined && scope !== 'all') f.links = f.links.map((l) => ({ ...l, addrs: l.addrs.filter((a) => a.scope === scope) })).filter((l) => l.addrs.length > 0);
    // `ip -o addr`: no device lines, one line an address, led by the device's index and bare name (no
    // `@ifN`) and four spaces (iproute2 6.1, measured: `2: eth0    inet 10.0.0.1/24 scope global eth0\
    //        valid_lft forever preferred_lft forever`); a device without an address prints nothing.
    if (oneline) {
      return ok(f.links.flatMap((l) => {
        const lines = addrLines(l);
        return lines.flatMap((x, i) => (i % 2 === 0 ? [`${l.ifindex}: ${l.name}    ${x.trimStart()}\\${lines[i + 1]!}\n`] : []));
      }).join(''));
    }
    const links = inet4 ? f.links.filter((l) => l.addrs.length > 0) : f.links;
    return ok(links.flatMap((l) => {
      const head = linkLines(ctx.sim, ns, l, false, details, namesNetns(ctx));
      return [...(inet4 && !details ? head.slice(0, 1) : head), ...addrLines(l)];
    }).map((x) => `${x}\n`).join(''));
  }
  if (matches(cmd, 'flush')) return addrFlush(ctx, ns, rest, admin, stats);
  const verb = ADDR_VERBS.find(([w]) => matches(cmd, w))?.[1];
  if (verb !== undefined || matches(cmd, 'delete') || cmd === 'del') {
    const addr = rest[1];
    let dev: string | undefined;
    let noprefixroute = false;
    let scope: 'global' | 'link' | 'host' | undefined;
    // Words that set what podnet does not model: the kernel leaves them as they are on an existing address
    // (replace, change), and sets them on a new one.
    const unmodelled: string[] = [];
    for (let i = 2; i < rest.length; i++) {
      if (rest[i] === 'dev') dev = rest[++i];
      else if (rest[i] === 'noprefixroute') noprefixroute = true;
      else if (rest[i] === 'scope') {
        const v = rest[++i];
        if (v !== 'global' && v !== 'link' && v !== 'host') return err(`Error: argument "${v ?? ''}" is wrong: invalid scope value.`, 255);
        scope = v;
      } else if (verb !== undefined && verb !== 'addr.add' && ['label', 'broadcast', 'brd', 'metric', 'priority', 'preference'].includes(rest[i]!)) {
        unmodelled.push(rest[i]!);
        i++;
      }
    }
    if (addr === undefined) return err('Not enough information: "dev" argument is required.', 255);
    if (dev === undefined) return err('Not enough information: "dev" argument is required.', 255);
    if (!linkNamed(ns, dev)) return err(`Cannot find device "${dev}"`, 1);
    const m = /^\d+\.\d+\.\d+\.\d+(?:\/(\d+))?$/.exec(addr);
    if (!m) return err(`Error: inet prefix is expected rather than "${addr}".`, 1);
    if (m[1] !== undefined && Number(m[1]) > 32) return err(`Error: any valid prefix is expected rather than "${addr}".`, 1);
    const full = addr.includes('/') ? addr : `${addr}/32`;
    if (unmodelled.length > 0) {
      // The kernel changes an existing address's metric (its prefix route's: `ip addr replace … metric 50` →
      // `192.0.2.0/24 … metric 50`, measured); its label and broadcast it leaves (measured). podnet models none.
      const [ip, len] = full.split('/');
      const there = linkNamed(ns, dev)!.addrs.some((x) => formatIpv4(x.ip) === ip && x.len === Number(len));
      const bad = unmodelled.find((w) => !there || ['metric', 'priority', 'preference'].includes(w));
      if (bad !== undefined) return err(`Error: podnet does not model "${bad}" of "ip address ${verb!.slice(5)}"${there ? ' (the kernel sets an address\'s metric on its prefix route)' : ' for a new address'}.`, 255);
    }
    const fields = { ns: ns.id, dev, addr: full, ...(scope === undefined ? {} : { scope }), ...(noprefixroute ? { noprefixroute } : {}) };
    const action: Action = verb === undefined ? { op: 'addr.del', ns: ns.id, dev, addr: full }
      : verb === 'addr.add' ? { op: verb, ...fields } : { op: verb, ...fields };
    return apply(ctx, [action], `ip addr ${rest.join(' ')}`, admin);
  }
  if (cmd === 'help') return ok('Usage: ip address { add | change | replace | del } IFADDR dev IFNAME [ scope SCOPE ] [ noprefixroute ]\n       ip address flush dev IFNAME [ primary | secondary ] [ scope SCOPE ] [ to PREFIX ]\n       ip address [ show [ dev IFNAME ] ]\n');
  return err(`Command "${cmd}" is unknown, try "ip address help".`, 255);
}

/**
 * `ip addr flush dev DEV [primary | secondary] [scope S] [to PREFIX]` (measured, scripts/route-verbs-formats.sh
 * cases i, j): the `addr.flush` action; no words at all is `Flush requires arguments.` (exit 1), an unknown
 * device `Device "X" does not exist.` (exit 1). podnet flushes one device at a time: a flush without `dev`
 * (every device's addresses) is refused.
 */
function addrFlush(ctx: Ctx, ns: NetNs, rest: readonly string[], admin: boolean, stats: number): Output {
  const sel = rest.slice(1);
  if (sel.length === 0) return err('Flush requires arguments.', 1);
  const spec: { dev?: string; primary?: boolean; secondary?: boolean; scope?: 'global' | 'link' | 'host'; to?: string } = {};
  for (let i = 0; i < sel.length; i++) {
    const w = sel[i]!;
    if (w === 'dev') {
      const d = sel[++i];
      if (d === undefined) return err('Command line is not complete. Try option "help"', 255);
      if (!linkNamed(ns, d)) return err(`Device "${d}" does not exist.`, 1);
      spec.dev = d;
    } else if (w === 'primary') spec.primary = true;
    else if (w === 'secondary') spec.secondary = true;
    else if (w === 'scope') {
      const v = sel[++i];
      if (v !== 'global' && v !== 'link' && v !== 'host') return err(`Error: argument "${v ?? ''}" is wrong: invalid scope value.`, 255);
      spec.scope = v;
    } else if (w === 'to' || /^\d/.test(w)) {
      const p = w === 'to' ? sel[++i] : w;
      if (p === undefined || !/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(p)) return err(`Error: any valid prefix is expected rather than "${p ?? ''}".`, 1);
      spec.to = p;
    } else if (linkNamed(ns, w)) spec.dev = w;
    else return err(`Error: podnet models dev, primary, secondary, scope and to of "ip address flush", not "${w}".`, 255);
  }
  if (spec.dev === undefined) return err('Error: podnet flushes the addresses of one device: give "dev IFNAME".', 255);
  const action: Action = { op: 'addr.flush', ns: ns.id, dev: spec.dev, ...spec };
  return applyFlush(ctx, action, () => addrsToFlush(ns, { ...spec, dev: spec.dev! }).length, `ip addr ${rest.join(' ')}`, admin, stats, 'addresses');
}

/** Whether a word of `ip route show|flush` is its `cached` / `cloned` selector (iproute2 takes a prefix: `cache`). */
function isCacheWord(w: string): boolean {
  return matches(w, 'cached', 2) || matches(w, 'cloned', 2);
}

/**
 * The `cache …` line of a route exception as iproute2 prints it (`ip route get`, `ip route show cache`):
 * `<redirected>` when it replaces this route's gateway, its expiry in whole seconds, its path MTU if any.
 */
function cacheLine(e: RouteException, redirected: boolean, now: number): string {
  return `    cache ${redirected ? '<redirected> ' : ''}expires ${Math.ceil((e.expires - now) / 1000)}sec ${e.mtu > 0 ? `mtu ${e.mtu} ` : ''}`;
}

/** The gateway an exception's redirect puts in place of `route`'s (RouteException.gw), or null. */
function redirectOf(e: RouteException, route: Route): number | null {
  return e.gw !== undefined && route.via !== null && e.via === route.via && e.dev === route.dev ? e.gw : null;
}

/**
 * `ip route show cache [[to] PREFIX] [dev DEV]`: the namespace's route exceptions as the kernel dumps them
 * (RTM_F_CLONED; measured with iproute2 6.1 on Linux 6.18: scripts/route-cache-formats.sh), two lines each,
 * `DST [via GW] dev DEV ` and its `cache …` line, route by route in the main table's order. Only live ones
 * (fnhe_dump_bucket skips an expired one) that a lookup has used since they were learnt
 * (RouteException.cached; the kernel dumps an exception with a cached route only). An exception is listed
 * with each route that has its next hop (the kernel dumps a nexthop's exceptions route by route: measured,
 * three times with two more `dev eth0` routes beside the one it was learnt by, twice with a pod's `default`
 * and cluster CIDR through one gateway). A prefix selects
 * exactly (iproute2's default, `exact`): an address is its /32, a shorter prefix matches no exception.
 * Within one route podnet lists destinations in ascending order (the kernel: by a hash of each).
 */
function showCache(ctx: Ctx, ns: NetNs, sel: readonly string[]): Output {
  let dst: number | null = null;
  let len = 32;
  let dev: string | null = null;
  for (let i = 0; i < sel.length; i++) {
    const w = sel[i]!;
    if (isCacheWord(w)) continue;
    if (w === 'dev' || w === 'oif') {
      const d = sel[++i];
      if (!d || !linkNamed(ns, d)) return err(`Cannot find device "${d ?? ''}"`, 1);
      dev = d;
      continue;
    }
    const p = w === 'to' ? sel[++i] : w;
    const m = p === undefined ? null : /^(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?$/.exec(p);
    if (!m || (m[2] !== undefined && Number(m[2]) > 32)) {
      if (p !== undefined && /^[a-z]+$/.test(p) && ['table', 'proto', 'scope', 'type', 'root', 'match', 'exact', 'via', 'src', 'from', 'metric'].includes(p)) {
        return err(`Error: argument "${p}" is wrong: unsupported selector in podnet with cache ([to] PREFIX, dev)`, 255);
      }
      return err(`Error: any valid prefix is expected rather than "${p ?? ''}".`, 1);
    }
    try { dst = parseIpv4(m[1]!); } catch { return err(`Error: any valid prefix is expected rather than "${p}".`, 1); }
    len = m[2] === undefined ? 32 : Number(m[2]);
  }
  const now = ctx.sim.now();
  const live: { dst: number; e: RouteException }[] = [];
  for (const [k, e] of Object.entries(ns.pmtu)) {
    if (e.cached !== true || e.expires <= now || e.nh === undefined) continue;
    live.push({ dst: Number(k.slice(0, k.indexOf('|'))) >>> 0, e });
  }
  if (live.length === 0) return ok();
  const out: string[] = [];
  for (const route of allRoutes(ctx.sim.state, ns)) {
    if (dev !== null && route.dev !== dev) continue;
    const key = nexthopKey(route);
    for (const x of live.filter((y) => y.e.nh === key).sort((a, b) => a.dst - b.dst)) {
      // Exact: only a /32 names an exception (its destination's prefix length is 32).
      if (dst !== null && (len !== 32 || x.dst !== dst >>> 0)) continue;
      const gw = redirectOf(x.e, route);
      const via = gw ?? route.via;
      out.push(`${formatIpv4(x.dst)}${via !== null ? ` via ${formatIpv4(via)}` : ''} dev ${route.dev ?? ''} \n${cacheLine(x.e, gw !== null, now)}\n`);
    }
  }
  return ok(out.join(''));
}

/**
 * `ip route flush cache`: iproute2 writes /proc/sys/net/ipv4/route/flush, which drops the namespace's route
 * exceptions (the `route.flushCache` action), and prints nothing whatever follows `cache` (measured). Where
 * /proc/sys is read-only (a container without CAP_NET_ADMIN's privileges) it says so and still exits 0.
 */
function flushCache(ctx: Ctx, ns: NetNs, rest: readonly string[], admin: boolean): Output {
  if (!admin) return { stdout: '', stderr: 'Cannot open "/proc/sys/net/ipv4/route/flush": Read-only file system\n', status: 0 };
  return apply(ctx, [{ op: 'route.flushCache', ns: ns.id }], `ip route ${rest.join(' ')}`, admin);
}

/** The selectors of `ip route show|flush`, with the table: `all` (show only) or a number. */
type Writable<T> = { -readonly [K in keyof T]: T[K] };
type RouteSelectors = Writable<Omit<RouteFlushSpec, 'table'>> & { table?: number | 'all' };

/**
 * iproute2's route selectors (iproute_list_flush_or_save): `[to] [root | match | exact] PREFIX`, `dev`/`oif`,
 * `via`, `proto`, `type`, `scope`, `table` (main by default; `show` reads `local` and `all` too). An unknown
 * device is `Cannot find device "X"` (exit 1).
 */
function routeSelectors(ns: NetNs, sel: readonly string[], show: boolean): RouteSelectors | Output {
  const spec: RouteSelectors = {};
  const incomplete = err('Command line is not complete. Try option "help"', 255);
  for (let i = 0; i < sel.length; i++) {
    let w = sel[i]!;
    const v = sel[i + 1];
    if (w === 'dev' || w === 'oif') {
      if (v === undefined) return incomplete;
      if (!linkNamed(ns, v)) return err(`Cannot find device "${v}"`, 1);
      spec.dev = v;
      i++;
    } else if (w === 'via') {
      if (v === undefined || !/^\d+\.\d+\.\d+\.\d+$/.test(v)) return err(`Error: inet address is expected rather than "${v ?? ''}".`, 1);
      spec.via = v;
      i++;
    } else if (w === 'proto' || w === 'protocol') {
      if (v === undefined) return incomplete;
      spec.proto = v;
      i++;
    } else if (w === 'type') {
      if (v !== 'unicast' && v !== 'blackhole' && v !== 'unreachable' && v !== 'prohibit') return err(`Error: argument "${v ?? ''}" is wrong: "type" value is invalid`, 255);
      spec.type = v;
      i++;
    } else if (w === 'scope') {
      if (v !== 'global' && v !== 'link' && v !== 'host') return err(`Error: argument "${v ?? ''}" is wrong: invalid "scope" value`, 255);
      spec.scope = v;
      i++;
    } else if (w === 'table') {
      const t = show && v === 'all' ? 'all' : tableArg(v, show);
      if (typeof t === 'object') return t;
      spec.table = t;
      i++;
    } else {
      if (w === 'to') {
        if (v === undefined) return incomplete;
        w = v;
        i++;
      }
      let kind: 'exact' | 'root' | 'match' = 'exact';
      if (matches(w, 'root') || matches(w, 'match') || matches(w, 'exact')) {
        kind = matches(w, 'root') ? 'root' : matches(w, 'match') ? 'match' : 'exact';
        const p = sel[++i];
        if (p === undefined) return incomplete;
        w = p;
      }
      if (w !== 'default' && !/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(w)) return err(`Error: argument "${w}" is wrong: podnet models [to] [root|match|exact] PREFIX, dev, via, proto, type, scope and table of "ip route ${show ? 'show' : 'flush'}"`, 255);
      spec[kind] = w;
    }
  }
  return spec;
}

/**
 * `ip route flush SELECTORS` (measured, scripts/route-verbs-formats.sh cases e, f): the `route.flush` action.
 * Without selectors `"ip route flush" requires arguments.` (exit 1); a table that does not exist `Error: ipv4:
 * FIB table does not exist.` and `Flush terminated` (exit 2).
 */
function routeFlush(ctx: Ctx, ns: NetNs, rest: readonly string[], admin: boolean, stats: number): Output {
  const sel = rest.slice(1);
  if (sel.length === 0) return err('"ip route flush" requires arguments.', 1);
  const spec = routeSelectors(ns, sel, false);
  if ('status' in spec) return spec;
  const { table, ...rest2 } = spec;
  const flush = { ...rest2, ...(typeof table === 'number' ? { table } : {}) };
  const action: Action = { op: 'route.flush', ns: ns.id, ...flush };
  const o = applyFlush(ctx, action, () => selectRoutes(ctx.sim.state, ns, flush).length, `ip route ${rest.join(' ')}`, admin, stats, 'entries');
  // iproute2 says where the dump failed: `Flush terminated` after the kernel's error.
  return o.stderr.startsWith('Error: ipv4: FIB table does not exist.') ? err('Error: ipv4: FIB table does not exist.\nFlush terminated', 2) : o;
}

/**
 * `ip [-d] route [show|list] [SELECTORS]` (measured, scripts/route-verbs-formats.sh case m): the table's routes
 * the selectors keep, each without the fields a selector fixed (RouteFormat). The local table and `table all`
 * take `dev` alone. A table that does not exist: `Error: ipv4: FIB table does not exist.` / `Dump terminated`.
 */
function routeShow(ctx: Ctx, ns: NetNs, sel: readonly string[], details: boolean): Output {
  const spec = routeSelectors(ns, sel, true);
  if ('status' in spec) return spec;
  const { table = 254, ...filter } = spec;
  const selected = new Set((['dev', 'via', 'proto', 'scope'] as const).filter((k) => filter[k] !== undefined));
  try {
    if (table === 'all' || table === 255) {
      if (Object.keys(filter).some((k) => k !== 'dev')) return err('Error: argument "table" is wrong: podnet lists the local table and "table all" by dev alone', 255);
      const d = filter.dev;
      return ok(ipRoute(ctx.sim.state, ns.id, table, details).filter((l) => d === undefined || l.includes(` dev ${d} `) || l.endsWith(` dev ${d}`)).map((l) => `${l}\n`).join(''));
    }
    if (Object.keys(filter).length === 0) return ok(ipRoute(ctx.sim.state, ns.id, table, details).map((l) => `${l}\n`).join(''));
    return ok(selectRoutes(ctx.sim.state, ns, { ...filter, table }).map((r) => `${formatRoute(ctx.sim.state, ns, r, undefined, { details, selected })}\n`).join(''));
  } catch (e) {
    if (isPodnetError(e, 'TABLE_NOT_FOUND')) return err('Error: ipv4: FIB table does not exist.\nDump terminated', 2);
    return kernelError(e);
  }
}

/** The verbs of `ip route` that send RTM_NEWROUTE, as iproute2 matches their prefixes (in its order). */
const ROUTE_VERBS = [['add', 'route.add'], ['change', 'route.change'], ['chg', 'route.change'], ['replace', 'route.replace'], ['prepend', 'route.prepend'], ['append', 'route.append']] as const;

function ipRouteCmd(ctx: Ctx, ns: NetNs, rest: readonly string[], admin: boolean, stats = 0, details = false): Output {
  const cmd = rest[0];
  if (cmd !== undefined && matches(cmd, 'flush') && rest.slice(1).some(isCacheWord)) return flushCache(ctx, ns, rest, admin);
  if (cmd !== undefined && matches(cmd, 'flush')) return routeFlush(ctx, ns, rest, admin, stats);
  if (cmd === undefined || isList(cmd)) {
    const sel = rest.slice(1);
    if (sel.some(isCacheWord)) return showCache(ctx, ns, sel);
    return routeShow(ctx, ns, sel, details);
  }
  if (matches(cmd, 'get')) return routeGetCmd(ctx, ns, rest.slice(1));
  const op = ROUTE_VERBS.find(([w]) => matches(cmd, w))?.[1] ?? (matches(cmd, 'delete') || cmd === 'del' ? 'route.del' : null);
  if (op === null) return err(`Command "${cmd}" is unknown, try "ip route help".`, 255);
  const spec: Record<string, unknown> = { op, ns: ns.id };
  let i = 1;
  if (['blackhole', 'unreachable', 'prohibit', 'unicast'].includes(rest[i] ?? '')) spec['type'] = rest[i++];
  const dst = rest[i++];
  if (dst === undefined) return err('Error: destination is required.', 255);
  if (dst !== 'default' && !/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(dst)) return err(`Error: inet prefix is expected rather than "${dst}".`, 1);
  spec['dst'] = dst === 'default' || dst.includes('/') ? dst : `${dst}/32`;
  for (; i < rest.length; i++) {
    const w = rest[i]!;
    const v = rest[i + 1];
    if (w === 'via') { if (!v || !/^\d+\.\d+\.\d+\.\d+$/.test(v)) return err(`Error: inet address is expected rather than "${v ?? ''}".`, 1); spec['via'] = v; i++; }
    else if (w === 'dev') { if (!v || !linkNamed(ns, v)) return err(`Cannot find device "${v ?? ''}"`, 1); spec['dev'] = v; i++; }
    else if (w === 'src') { spec['src'] = v; i++; }
    else if (w === 'metric' || w === 'preference') { if (!v || !/^\d+$/.test(v)) return err(`Error: argument "${v ?? ''}" is wrong: "metric" value is invalid`, 255); spec['metric'] = Number(v); i++; }
    else if (w === 'proto') { spec['proto'] = v; i++; }
    else if (w === 'scope') { spec['scope'] = v; i++; }
    else if (w === 'onlink') spec['onlink'] = true;
    else if (w === 'table') { const t = tableArg(v); if (typeof t !== 'number') return t; if (t !== 254) spec['table'] = t; i++; }
    else return err(`Error: either "to" is duplicate, or "${w}" is a garbage.`, 255);
  }
  if (op === 'route.del') {
    for (const k of ['src', 'proto', 'scope', 'onlink', 'type']) delete spec[k];
  }
  return apply(ctx, [spec as unknown as Action], `ip route ${rest.join(' ')}`, admin);
}

/**
 * A routing table as iproute2 reads it: a number, or main / default / local (rt_tables). `show` reads the
 * local table (the kernel's routes for the namespace's own addresses); a change to it is refused, as podnet
 * derives it from the addresses.
 */
function tableArg(v: string | undefined, show = false): number | Output {
  const named: Record<string, number> = { main: 254, default: 253, local: 255 };
  const n = v === undefined ? NaN : named[v] ?? (/^\d+$/.test(v) ? Number(v) : NaN);
  if (!Number.isInteger(n) || n < 1 || n > 0xffffffff) return err(`Error: argument "${v ?? ''}" is wrong: "table" value is invalid`, 255);
  if (n === 255 && !show) return err('Error: argument "local" is wrong: podnet does not model changes to the local table (its routes are the namespace\'s own addresses: ip addr add/del changes them)', 255);
  return n;
}

/** `ip rule [show|list]`, `ip rule add|del [from P] [to P] [lookup T] [priority N]`. */
function ipRuleCmd(ctx: Ctx, ns: NetNs, rest: readonly string[], admin: boolean): Output {
  const cmd = rest[0];
  if (cmd === undefined || isList(cmd)) return ok(ipRule(ctx.sim.state, ns.id).map((l) => `${l}\n`).join(''));
  const op = matches(cmd, 'add') ? 'iprule.add' : matches(cmd, 'delete') || cmd === 'del' ? 'iprule.del' : null;
  if (op === null) return err(`Command "${cmd}" is unknown, try "ip rule help".`, 255);
  const spec: Record<string, unknown> = { op, ns: ns.id };
  for (let i = 1; i < rest.length; i++) {
    const w = rest[i]!;
    const v = rest[i + 1];
    if (w === 'from' || w === 'to') {
      if (!v || (v !== 'all' && !/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(v))) return err(`Error: inet prefix is expected rather than "${v ?? ''}".`, 1);
      if (v !== 'all') spec[w] = v;
      i++;
    } else if (w === 'lookup' || w === 'table') {
      const t = tableArg(v);
      if (typeof t !== 'number') return t;
      spec['table'] = t;
      i++;
    } else if (w === 'priority' || w === 'preference' || w === 'pref' || w === 'prio') {
      if (!v || !/^\d+$/.test(v)) return err(`Error: argument "${v ?? ''}" is wrong: Invalid "priority" value`, 255);
      spec['priority'] = Number(v);
      i++;
    } else return err(`Error: argument "${w}" is wrong: podnet models from, to, lookup and priority`, 255);
  }
  // iproute2 adds a rule without "lookup" as one looking up main.
  if (op === 'iprule.add' && spec['table'] === undefined) spec['table'] = 254;
  return apply(ctx, [spec as unknown as Action], `ip rule ${rest.join(' ')}`, admin);
}

/** The words of `ip route get` (iproute2's iproute_get): the destination and what podnet models of the rest. */
interface RouteGetWords {
  readonly dst: string;
  readonly opts: RouteGetOptions;
  readonly mark: number;
  readonly fibmatch: boolean;
}

/**
 * `ip route get [to] ADDR [from SRC] [iif DEV] [oif|dev DEV] [mark N] [fibmatch]`, as iproute2 parses it: a
 * device that is not there is `Cannot find device "X"` (exit 1), a mark that is no u32 `Error: argument "X" is
 * wrong: invalid mark value` (exit 255), a word it does not know is taken for the destination (`Error: inet
 * prefix is expected rather than "X".`, exit 1). Measured, scripts/ping-dev-formats.sh cases (f) to (j).
 */
function routeGetCmd(ctx: Ctx, ns: NetNs, words: readonly string[]): Output {
  let dst: string | undefined;
  const opts: { from?: string; iif?: string; oif?: string } = {};
  let mark = 0;
  let fibmatch = false;
  const ipv4 = /^\d+\.\d+\.\d+\.\d+$/;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const v = words[i + 1];
    if (w === 'fibmatch') fibmatch = true;
    else if (UNMODELLED_GET_WORDS.includes(w)) return err(`Error: argument "${w}" is wrong: podnet models ip route get with from, iif, oif, mark and fibmatch`, 255);
    else if (w === 'from') {
      if (!v || !ipv4.test(v)) return err(`Error: inet prefix is expected rather than "${v ?? ''}".`, 1);
      opts.from = v; i++;
    } else if (w === 'iif' || w === 'oif' || w === 'dev') {
      if (!v || !linkNamed(ns, v)) return err(`Cannot find device "${v ?? ''}"`, 1);
      opts[w === 'iif' ? 'iif' : 'oif'] = v; i++;
    } else if (w === 'mark') {
      // get_u32 with base 0: decimal, 0x hex or 0 octal, at most 0xffffffff.
      const n = v === undefined ? NaN : /^0x[0-9a-f]+$/i.test(v) ? parseInt(v, 16) : /^0[0-7]*$/.test(v) ? parseInt(v, 8) : /^[1-9]\d*$/.test(v) ? Number(v) : NaN;
      if (!Number.isInteger(n) || n > 0xffffffff) return err(`Error: argument "${v ?? ''}" is wrong: invalid mark value`, 255);
      mark = n; i++;
    } else if (w === 'to' && dst === undefined && v !== undefined) { dst = v; i++; if (!ipv4.test(v)) return err(`Error: inet prefix is expected rather than "${v}".`, 1); }
    else if (w === 'to' && dst !== undefined) return err(`Error: either "to" is duplicate, or "${v ?? ''}" is a garbage.`, 255);
    else if (dst !== undefined) return err(ipv4.test(w) ? `Error: either "to" is duplicate, or "${w}" is a garbage.` : `Error: inet prefix is expected rather than "${w}".`, ipv4.test(w) ? 255 : 1);
    else if (!ipv4.test(w)) return err(`Error: inet prefix is expected rather than "${w}".`, 1);
    else dst = w;
  }
  if (dst === undefined) return err('Error: inet prefix is expected rather than "".', 1);
  try {
    parseIpv4(dst);
    if (opts.from !== undefined) parseIpv4(opts.from);
  } catch {
    return err(`Error: inet prefix is expected rather than "${dst}".`, 1);
  }
  return routeGet(ctx, ns, { dst, opts, mark, fibmatch });
}

/** Words of iproute2's `ip route get` that podnet does not model: refused rather than taken for the destination. */
const UNMODELLED_GET_WORDS = ['tos', 'dsfield', 'uid', 'vrf', 'ipproto', 'sport', 'dport', 'connected', 'as', 'flowlabel'];

/** `RTNETLINK answers: …` of each errno routeGet may answer with. */
const ERRNO_TEXT: Record<RouteGetErrno, string> = {
  ENETUNREACH: 'Network is unreachable', EHOSTUNREACH: 'No route to host', EINVAL: 'Invalid argument', EACCES: 'Permission denied',
};

/** A mark as iproute2 prints it (measured: `mark 5`, `mark 12`, `mark 0x10`, `mark 0x11`): decimal below 16, else hex. */
function markText(mark: number): string {
  return mark === 0 ? '' : ` mark ${mark < 16 ? String(mark) : `0x${mark.toString(16)}`}`;
}

/**
 * What `ip route get` prints for core's routeGet answer (measured, ping-dev-formats.txt): an output route
 * `DST [from SRC] [via GW] dev DEV [table T] [src PREF][ mark M] uid 0` then `    cache `; an input route
 * (`iif`) `DST from SRC [via GW] dev DEV` then `    cache iif DEV ` (no uid: no socket asked); a local one
 * `local DST [from SRC] dev lo [table local] …` and `cache <local>`. A mark selects nothing: podnet's rules
 * have no `fwmark` selector, so the lookup is the one without it, and the mark is printed back.
 */
function routeGet(ctx: Ctx, ns: NetNs, q: RouteGetWords): Output {
  const { dst, opts } = q;
  const target = parseIpv4(dst);
  const a = coreRouteGet(ctx.sim.state, ns.id, dst, opts);
  if (a.kind === 'refused') return err(`RTNETLINK answers: ${ERRNO_TEXT[a.errno]}`, 2);
  const from = opts.from !== undefined ? ` from ${opts.from}` : '';
  const mark = markText(q.mark);
  if (q.fibmatch) return fibmatchLine(ctx, ns, a);
  // A broadcast: `broadcast DST dev DEV src PREF uid 0` / `cache <local,brd>`, with iif `broadcast DST from SRC
  // dev lo` / `cache <local,brd> iif DEV` (measured, bcast-formats.txt (a)).
  if (a.kind === 'broadcast') {
    if (a.iif !== null) return ok(`broadcast ${dst}${from} dev lo${mark} \n    cache <local,brd> iif ${a.iif} \n`);
    return ok(`broadcast ${dst}${from} dev ${a.dev}${a.src !== null ? ` src ${formatIpv4(a.src)}` : ''}${mark} uid 0 \n    cache <local,brd> \n`);
  }
  if (a.kind === 'local') {
    // A local address is answered from its local route, whose source is the address, or for a secondary
    // address its primary's (measured: `local 192.0.2.5 dev lo src 192.0.2.1`, secondary-addr-formats.sh).
    if (a.iif !== null) return ok(`local ${dst}${from} dev lo table local${mark} \n    cache <local> iif ${a.iif} \n`);
    return ok(`local ${dst}${from} dev lo${a.src !== null ? ` src ${formatIpv4(a.src)}` : ''}${mark} uid 0 \n    cache <local> \n`);
  }
  const best = a.route;
  const table = a.table !== 254 ? ` table ${a.table}` : '';
  if (a.iif !== null) return ok(`${dst}${from}${best.via !== null ? ` via ${formatIpv4(best.via)}` : ''} dev ${best.dev ?? ''}${table}${mark} \n    cache iif ${a.iif} \n`);
  if (a.guessed) return ok(`${dst}${from} dev ${best.dev ?? ''}${a.src !== null ? ` src ${formatIpv4(a.src)}` : ''}${mark} uid 0 \n    cache ${a.loopback ? '<local> ' : ''}\n`);
  const src = a.src;
  // The exception on this route's next hop (one destination has one on each: exceptionKey), as the engine
  // uses it; one of a state made before exceptions had next hops is keyed by the destination alone.
  const key = exceptionKey(target, nexthopKey(best));
  const live = ns.pmtu[key] ?? ns.pmtu[String(target)];
  const pm = live && live.expires > ctx.sim.now() && (live.nh === undefined || live.nh === nexthopKey(best)) ? live : undefined;
  // The lookup caches its route on the exception (any user's: no privilege needed), from when `ip route
  // show cache` lists it (measured: listed after `ip route get`, not before).
  if (pm !== undefined && pm.cached !== true && pm.nh !== undefined && ns.pmtu[key] === pm) {
    ctx.sim.apply([{ op: 'route.cacheException', ns: ns.id, key }], `${ns.id}: ip route get ${dst}`);
  }
  // A gateway an ICMP redirect taught, on this route's next hop: measured `10.0.0.3 via 10.0.0.3 dev eth0
  // src 10.0.0.2 uid 0` / `cache <redirected> expires 298sec` (the engine's `redirected`).
  const redirected = pm === undefined ? null : redirectOf(pm, best);
  const gw = redirected ?? best.via;
  const via = gw !== null ? ` via ${formatIpv4(gw)}` : '';
  const cache = pm && (pm.mtu > 0 || redirected !== null) ? cacheLine(pm, redirected !== null, ctx.sim.now()) : '    cache ';
  return ok(`${dst}${from}${via} dev ${best.dev ?? ''}${table}${src !== null ? ` src ${formatIpv4(src)}` : ''}${mark} uid 0 \n${cache}\n`);
}

/**
 * `ip route get fibmatch`: the FIB entry the lookup matched, as `ip route show` prints it, a local one with
 * `table local` (measured: `local 192.168.1.11 dev eth0 table local proto kernel scope host src 192.168.1.11`).
 * A route the kernel made up for a bound device has no entry: -EHOSTUNREACH (measured, `fibmatch oif cni0`).
 */
function fibmatchLine(ctx: Ctx, ns: NetNs, a: Exclude<RouteGetAnswer, { kind: 'refused' }>): Output {
  if (a.kind === 'route' && a.guessed) return err('RTNETLINK answers: No route to host', 2);
  if (a.kind === 'route') return ok(`${formatRoute(ctx.sim.state, ns, a.route, a.table !== 254 ? String(a.table) : undefined)}\n`);
  const key = a.kind === 'broadcast' ? `broadcast ${formatIpv4(a.dst)} ` : a.dst >>> 24 === 127 ? 'local 127.0.0.0/8 ' : `local ${formatIpv4(a.dst)} `;
  const line = ipRoute(ctx.sim.state, ns.id, 'all').find((l) => l.startsWith(key));
  return line === undefined ? err('RTNETLINK answers: No route to host', 2) : ok(`${line}\n`);
}

function neighLines(ctx: Ctx, ns: NetNs): string[] {
  const now = ctx.sim.now();
  const out: string[] = [];
  for (const n of Object.values(ns.neigh)) {
    const st = neighNud(n, now);
    out.push(st === 'FAILED' ? `${formatIpv4(n.ip)} dev ${n.dev} FAILED` : `${formatIpv4(n.ip)} dev ${n.dev} lladdr ${n.mac!} ${st}`);
  }
  // The shared peer-set entries, less those deleted here (`ip neigh del`, `ip neigh flush … nud permanent`).
  for (const p of peerEntries(ctx.sim.state, ns)) for (const n of p.neigh) out.push(`${formatIpv4(n.ip)} dev ${p.dev} lladdr ${n.mac} PERMANENT`);
  return out;
}

/**
 * `ip neigh flush {dev DEV | all | [to] PREFIX} [nud STATE]…` (measured, scripts/route-verbs-formats.sh case
 * k): the `neigh.flush` action; no words at all is `Flush requires arguments.` (exit 1), an unknown device
 * `Cannot find device "X"` (exit 1).
 */
function neighFlush(ctx: Ctx, ns: NetNs, rest: readonly string[], admin: boolean, stats: number): Output {
  const sel = rest.slice(1);
  if (sel.length === 0) return err('Flush requires arguments.', 1);
  let dev: string | undefined;
  let to: string | undefined;
  const nud: NeighState[] = [];
  for (let i = 0; i < sel.length; i++) {
    const w = sel[i]!;
    const v = sel[i + 1];
    if (w === 'dev') {
      if (v === undefined) return err('Command line is not complete. Try option "help"', 255);
      if (!linkNamed(ns, v)) return err(`Cannot find device "${v}"`, 1);
      dev = v;
      i++;
    } else if (w === 'nud') {
      if (v !== 'permanent' && v !== 'reachable' && v !== 'stale' && v !== 'failed' && v !== 'all') return err(`Error: argument "${v ?? ''}" is wrong: podnet models nud permanent, reachable, stale, failed and all`, 255);
      nud.push(v);
      i++;
    } else if (w === 'all' || w === 'any' || w === 'default') to = undefined;
    else {
      const p = w === 'to' ? v : w;
      if (w === 'to') i++;
      if (p === undefined || !/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(p)) return err(`Error: an inet prefix is expected rather than "${p ?? ''}".`, 1);
      to = p;
    }
  }
  const spec = { ...(dev !== undefined ? { dev } : {}), ...(to !== undefined ? { to } : {}), ...(nud.length > 0 ? { nud } : {}) };
  return applyFlush(ctx, { op: 'neigh.flush', ns: ns.id, ...spec }, () => neighsToFlush(ctx.sim.state, ns, spec).length, `ip neigh ${rest.join(' ')}`, admin, stats, 'entries');
}

/** The states `ip neigh show nud` takes (iproute2's nud_state_a2n). */
const NUD_STATES = ['permanent', 'reachable', 'noarp', 'none', 'stale', 'incomplete', 'delay', 'probe', 'failed', 'all'];

function ipNeigh(ctx: Ctx, ns: NetNs, rest: readonly string[], admin: boolean, stats = 0): Output {
  const cmd = rest[0];
  if (cmd !== undefined && matches(cmd, 'flush')) return neighFlush(ctx, ns, rest, admin, stats);
  if (cmd === undefined || isList(cmd)) {
    // Measured (6.1): `ip -s neigh` adds `ref N used A/B/C probes N` to each entry, timers podnet does not keep.
    if (stats > 0) return err('Error: podnet does not model neighbour statistics (ip -s neigh\'s ref, used and probes): drop -s.', 255);
    let lines = neighLines(ctx, ns);
    let states: Set<string> | undefined;
    const sel = rest.slice(1);
    for (let i = 0; i < sel.length; i++) {
      // Filtered by device, iproute2 leaves `dev X` out of each line (print_neigh prints it only with no
      // device filter; measured: `ip neigh show dev d1` → `10.0.0.5 lladdr 02:00:00:00:00:05 PERMANENT`).
      if (sel[i] === 'dev') { const d = sel[++i]; if (!d || !linkNamed(ns, d)) return err(`Cannot find device "${d ?? ''}"`, 1); lines = lines.filter((l) => l.includes(` dev ${d} `)).map((l) => l.replace(` dev ${d} `, ' ')); }
      else if (sel[i] === 'nud') {
        // `nud STATE`, repeatable (the states OR together); `all` is every state. Measured (6.1): `nud
        // permanent` lists the PERMANENT entries alone, `nud all` adds the NOARP ones (IPv6 multicast there,
        // none podnet has), `nud bogus` is refused.
        const st = sel[++i];
        if (st === undefined) return err('Command line is not complete. Try option "help"', 255);
        if (!NUD_STATES.includes(st.toLowerCase())) return err(`Error: argument "${st}" is wrong: nud state is bad`, 255);
        (states ??= new Set()).add(st.toLowerCase());
      } else if (sel[i] === 'to') continue;
      else lines = lines.filter((l) => l.startsWith(`${sel[i]} `));
    }
    if (states !== undefined && !states.has('all')) lines = lines.filter((l) => states!.has(l.slice(l.lastIndexOf(' ') + 1).toLowerCase()));
    return ok(lines.map((l) => `${l}\n`).join(''));
  }
  const op = matches(cmd, 'add') ? 'neigh.add' : matches(cmd, 'replace') ? 'neigh.replace' : matches(cmd, 'delete') || cmd === 'del' ? 'neigh.del' : null;
  if (op === null) return err(`Command "${cmd}" is unknown, try "ip neigh help".`, 255);
  const addr = rest[1];
  let dev: string | undefined;
  let mac: string | undefined;
  for (let i = 2; i < rest.length; i++) {
    if (rest[i] === 'dev') dev = rest[++i];
    else if (rest[i] === 'lladdr') mac = rest[++i];
    else if (rest[i] === 'nud') i++;
  }
  if (!addr || !dev) return err('Device and destination are required arguments.', 255);
  if (!linkNamed(ns, dev)) return err(`Cannot find device "${dev}"`, 1);
  if (op !== 'neigh.del' && !mac) return err('Error: lladdr is required (podnet models permanent entries only).', 255);
  const action = (op === 'neigh.del' ? { op, ns: ns.id, dev, ip: addr } : { op, ns: ns.id, dev, ip: addr, mac: mac! }) as Action;
  return apply(ctx, [action], `ip neigh ${rest.join(' ')}`, admin);
}

function ipNetns(ctx: Ctx): Output {
  // `ip netns` lists /var/run/netns: on a node, containerd's pod namespaces (newest first, as ip lists them);
  // in the debug pod the directory is the container's, empty.
  if (ctx.place.kind !== 'node' || !namesNetns(ctx)) return ok();
  return ok(podNsids(ctx.sim, ctx.place.node).reverse().map((p) => `${p.netns} (id: ${p.id})\n`).join(''));
}

/**
 * `on`/`off` of `hairpin` as iproute2 parses it (parse_on_off), or the error `bridge` prints: measured
 * (scripts/hairpin-formats.sh) `Error: argument of "hairpin" must be one of "off", "on", not "maybe"`, status
 * 234 from `bridge` (`ip` prints the same with status 1), and `Command line is not complete. Try option
 * "help"` (255) when the value is missing.
 */
function hairpinWord(v: string | undefined): boolean | Output {
  if (v === undefined) return err('Command line is not complete. Try option "help"', 255);
  if (v === 'on' || v === 'off') return v === 'on';
  return err(`Error: argument of "hairpin" must be one of "off", "on", not "${v}"`, 234);
}

/**
 * `bridge [-d] link [show [dev DEV]]`, `bridge link set dev DEV hairpin on|off` and `bridge fdb [show]`.
 * `admin` is whether the shell may change the namespace (CAP_NET_ADMIN). Formats measured with iproute2 6.1
 * on Linux 6.18 (scripts/hairpin-formats.sh): `-d` adds under each port a line of its flags, `hairpin on|off`
 * first; `link set` on a device that is no bridge port answers `RTNETLINK answers: Operation not supported`
 * and on an unknown one `Cannot find bridge device "X"`, both with status 255.
 */
export function bridge(ctx: Ctx, argv: readonly string[], admin = false): Output {
  const ns = getNs(ctx.sim.state, ctx.ns!);
  // bridge's options before the object, matched by prefix as iproute2 matches them. Measured (6.1): `bridge
  // -s link` prints as `bridge link`; `bridge -s fdb` adds each entry's `used A/B` timers, which podnet does
  // not keep; `-c` colours (podnet prints plain); `-x` → `Option "-x" is unknown, try "bridge help".` (255).
  let stats = false;
  let lead = 0;
  for (; lead < argv.length && argv[lead]!.startsWith('-'); lead++) {
    const o = argv[lead]!;
    if (o === '-d' || isOption(o, '-details', 2)) continue;
    if (isOption(o, '-statistics', 2) || isOption(o, '-stats', 2)) { stats = true; continue; }
    if (o === '-c' || isOption(o, '-color', 3) || o.startsWith('-color=')) continue;
    if (['-j', '-p', '-o', '-n', '-b', '-t', '-4', '-6', '-V'].includes(o) || ['-json', '-pretty', '-oneline', '-netns', '-batch', '-timestamp', '-Version', '-compressvlans', '-force'].some((full) => isOption(o, full, 3))) {
      return err(`Error: podnet does not model bridge's "${o}" option: it models -d, -s (bridge link) and -c (printed without colours).`, 255);
    }
    return err(`Option "${o}" is unknown, try "bridge help".`, 255);
  }
  const args = [...argv.slice(0, lead).filter((x) => x === '-d' || isOption(x, '-details', 2)), ...argv.slice(lead)];
  const details = args.includes('-d') || args.some((x) => isOption(x, '-details', 2));
  const [obj, cmd, ...rest] = args.filter((x) => x !== '-d' && !isOption(x, '-details', 2));
  if (stats && obj !== undefined && !matches(obj, 'link')) return err(`Error: podnet does not model bridge -s ${obj}: it keeps no ${matches(obj, 'fdb') ? 'fdb entry timers (used A/B)' : 'per-VLAN counters'}; drop -s.`, 255);
  if (obj === undefined) return err('Usage: bridge [ OPTIONS ] OBJECT { COMMAND | help }\nwhere  OBJECT := { link | fdb | mdb | vlan | vni | monitor }', 255);
  if (matches(obj, 'link') && cmd === 'set') return bridgeLinkSet(ctx, ns, rest, admin);
  if (matches(obj, 'fdb') && cmd !== undefined && matches(cmd, 'flush') && !FDB_VERBS.some((v) => matches(cmd, v))) return bridgeFdbFlush(ctx, ns, rest, admin);
  if (matches(obj, 'fdb') && cmd !== undefined) {
    const verb = FDB_VERBS.find((v) => matches(cmd, v));
    if (verb !== undefined) return bridgeFdbModify(ctx, ns, verb, rest, admin);
  }
  if (matches(obj, 'vlan') && cmd !== undefined && ['add', 'del', 'set', 'global', 'tunnelshow'].some((v) => matches(cmd, v))) {
    return err(`Error: podnet does not model bridge VLANs ("bridge vlan ${cmd}"): its bridges are made with vlan_filtering 0, as the CNI plugins make them.`, 255);
  }
  if (cmd !== undefined && !matches(cmd, 'show') && !matches(cmd, 'list')) return err(`Command "${cmd}" is unknown, try "bridge ${obj} help".`, 255);
  if (matches(obj, 'vlan')) {
    // A bridge with vlan_filtering 0 (every bridge podnet makes, as `ip -d link` shows) has no VLAN entries:
    // iproute2 6.1 prints the header alone (measured in a namespace, `bridge vlan show [dev PORT]`).
    const dev = rest[0] === 'dev' ? rest[1] : undefined;
    if (rest[0] === 'dev' && dev === undefined) return err('Command line is not complete. Try option "help"', 255);
    if (dev !== undefined && !linkNamed(ns, dev)) return err(`Cannot find device "${dev}"`, 255);
    return ok('port              vlan-id  \n');
  }
  if (matches(obj, 'link')) {
    const dev = rest[0] === 'dev' ? rest[1] : rest[0];
    if (rest.length > 0 && dev === undefined) return err('Command line is not complete. Try option "help"', 255);
    if (dev !== undefined && !linkNamed(ns, dev)) return err(`Cannot find device "${dev}"`, 255);
    const out: string[] = [];
    for (const l of sortedLinks(ns)) {
      if (!l.master || (dev !== undefined && l.name !== dev)) continue;
      const { flags } = flagsAndState(ctx.sim.state, ns, l);
      let at = '';
      if (l.kind === 'veth') {
        // bridge(8) names the peer by looking its ifindex up in the current namespace.
        let peerIdx: number | undefined;
        try { peerIdx = getNs(ctx.sim.state, l.peer.ns).links[l.peer.name]?.ifindex; } catch { peerIdx = undefined; }
        const local = sortedLinks(ns).find((x) => x.ifindex === peerIdx);
        at = local ? `@${local.name}` : peerIdx !== undefined ? `@if${peerIdx}` : '';
      }
      const fwd = l.up && hasCarrier(ctx.sim.state, ns, l) ? 'forwarding' : 'disabled';
      out.push(`${l.ifindex}: ${l.name}${at}: ${flags} mtu ${l.mtu} master ${l.master} state ${fwd} priority 32 cost 2 `);
      // The port's flags as a bridge made by `ip link add … type bridge` gives them; podnet models hairpin.
      if (details) out.push(`    hairpin ${l.hairpin === true ? 'on' : 'off'} guard off root_block off fastleave off learning on flood on mcast_flood on bcast_flood on mcast_router 1 mcast_to_unicast off neigh_suppress off vlan_tunnel off isolated off locked off `);
    }
    return ok(out.map((x) => `${x}\n`).join(''));
  }
  if (matches(obj, 'fdb')) return bridgeFdbShow(ctx.sim.state, ns, rest);
  return err(`Object "${obj}" is unknown, try "bridge help".`, 255);
}

/** A `bridge` command's change applied: bridge(8) exits 255 where ip(8) exits 2 on a kernel error. */
function bridgeApply(ctx: Ctx, action: Action, line: string): Output {
  try {
    ctx.sim.apply([action], `${ctx.ns}: ${line}`);
    return ok();
  } catch (e) {
    const o = kernelError(e);
    return o.status === 2 ? err(o.stderr.trimEnd(), 255) : o;
  }
}

/** `bridge link set dev DEV hairpin on|off` (the one port setting podnet models): a `link.set` with `hairpin`. */
function bridgeLinkSet(ctx: Ctx, ns: NetNs, rest: readonly string[], admin: boolean): Output {
  let dev: string | undefined;
  let hairpin: boolean | undefined;
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i]!;
    if (w === 'dev') {
      dev = rest[++i];
      if (dev === undefined) return err('Command line is not complete. Try option "help"', 255);
    } else if (w === 'hairpin') {
      const v = hairpinWord(rest[++i]);
      if (typeof v !== 'boolean') return v;
      hairpin = v;
    } else return err(`Error: podnet models only "hairpin" of the port settings of "bridge link set", not "${w}".`, 255);
  }
  if (dev === undefined) return err('Device is a required argument.', 255);
  if (!linkNamed(ns, dev)) return err(`Cannot find bridge device "${dev}"`, 255);
  if (hairpin === undefined) return ok();
  if (!admin) return err('RTNETLINK answers: Operation not permitted', 255);
  return bridgeApply(ctx, { op: 'link.set', ns: ns.id, name: dev, hairpin }, `bridge link set ${rest.join(' ')}`);
}

/** The `bridge fdb` commands that change a table, in the order iproute2's do_fdb tries their prefixes. */
const FDB_VERBS = ['add', 'append', 'replace', 'delete'] as const;
/** Words of `bridge fdb add` podnet does not model (VLANs, ports, VNIs, nexthops, flags of offloads). */
const FDB_UNMODELLED = ['port', 'vni', 'via', 'src_vni', 'vlan', 'nhid', 'router', 'use', 'extern_learn', 'sticky', 'activity_notify', 'inactive', 'norefresh'];

/** A `bridge fdb show` row and the device it is listed under. */
interface FdbRow { readonly dev: string; readonly line: string }

/**
 * `bridge fdb add | append | replace | del MAC dev DEV [dst IP] [self] [master] [static|permanent|local|
 * temp|dynamic]`, as iproute2 6.1's fdb_modify parses it (measured, scripts/bridge-fdb-formats.sh): without
 * `self` or `master` it is `self`; without a state, `permanent` (iproute2 assumes it). Refused before the
 * kernel sees it, exit 255: neither device nor address (`Device and address are required arguments.`), a
 * second address (`Error: either "to" is duplicate, or "X" is a garbage.`), a MAC sscanf cannot read
 * (`Invalid mac address X`), an unknown device (`Cannot find device "X"`); a dst that is no address exits
 * 1 (`Error: any valid address is expected rather than "X".`). The kernel's answers (File exists, No such
 * file or directory, Operation not supported, Invalid argument) come from core's `fdb.*` actions, exit 255.
 */
function bridgeFdbModify(ctx: Ctx, ns: NetNs, verb: (typeof FDB_VERBS)[number], rest: readonly string[], admin: boolean): Output {
  let addr: string | undefined;
  let dev: string | undefined;
  let dst: string | undefined;
  let self = false;
  let master = false;
  let state: 'static' | 'permanent' | 'dynamic' | undefined;
  const incomplete = err('Command line is not complete. Try option "help"', 255);
  for (let i = 0; i < rest.length; i++) {
    let w = rest[i]!;
    if (w === 'dev') {
      dev = rest[++i];
      if (dev === undefined) return incomplete;
    } else if (w === 'dst') {
      const v = rest[++i];
      if (v === undefined) return incomplete;
      try { parseIpv4(v); } catch { return err(`Error: any valid address is expected rather than "${v}".`, 1); }
      dst = v;
    } else if (w === 'self') self = true;
    else if (w === 'master') master = true;
    else if (w === 'local' || w === 'permanent') state = 'permanent';
    else if (w === 'temp' || w === 'static') state = 'static';
    else if (w === 'dynamic') state = 'dynamic';
    else if (FDB_UNMODELLED.includes(w)) return err(`Error: podnet does not model "${w}" of "bridge fdb ${verb}".`, 255);
    else {
      if (w === 'to') {
        const v = rest[++i];
        if (v === undefined) return incomplete;
        w = v;
      }
      if (addr !== undefined) return err(`Error: either "to" is duplicate, or "${w}" is a garbage.`, 255);
      addr = w;
    }
  }
  if (dev === undefined || addr === undefined) return err('Device and address are required arguments.', 255);
  // iproute2 reads the address with sscanf("%hhx:%hhx:%hhx:%hhx:%hhx:%hhx"): six hex octets.
  if (!/^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}$/.test(addr)) return err(`Invalid mac address ${addr}`, 255);
  const mac = addr.split(':').map((o) => o.toLowerCase().padStart(2, '0')).join(':');
  if (!linkNamed(ns, dev)) return err(`Cannot find device "${dev}"`, 255);
  if (!admin) return err('RTNETLINK answers: Operation not permitted', 255);
  // The kernel makes both entries (the bridge's and the device's own); podnet makes one per command.
  if (self && master) return err('Error: podnet does not model "self" and "master" together: give one of them.', 255);
  const action: Action = verb === 'delete'
    ? { op: 'fdb.del', ns: ns.id, dev, mac, master, ...(dst !== undefined ? { dst } : {}) }
    : { op: `fdb.${verb}`, ns: ns.id, dev, mac, master, ...(dst !== undefined ? { dst } : {}), ...(master || state !== undefined ? { state: state ?? 'permanent' } : {}) };
  return bridgeApply(ctx, action, `bridge fdb ${verb} ${rest.join(' ')}`);
}

/**
 * `bridge fdb flush dev DEV [self] [master] [permanent|nopermanent|static|dynamic]…` (measured,
 * scripts/route-verbs-formats.sh case l): the `fdb.flush` action; it prints nothing, with `-s` too. Without
 * a device `Device is a required argument.`, an unknown one `Cannot find bridge device "X"`, a device with
 * no FDB to flush (a port without `master`) `RTNETLINK answers: Operation not supported`, all exit 255.
 */
function bridgeFdbFlush(ctx: Ctx, ns: NetNs, rest: readonly string[], admin: boolean): Output {
  let dev: string | undefined;
  let master = false;
  const states: FdbFlushState[] = [];
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i]!;
    if (w === 'dev') {
      dev = rest[++i];
      if (dev === undefined) return err('Command line is not complete. Try option "help"', 255);
    } else if (w === 'master') master = true;
    else if (w === 'self') continue;
    else if (w === 'permanent' || w === 'nopermanent' || w === 'static' || w === 'dynamic') states.push(w);
    else return err(`Error: podnet models dev, self, master, permanent, nopermanent, static and dynamic of "bridge fdb flush", not "${w}".`, 255);
  }
  if (dev === undefined) return err('Device is a required argument.', 255);
  if (!linkNamed(ns, dev)) return err(`Cannot find bridge device "${dev}"`, 255);
  if (!admin) return err('RTNETLINK answers: Operation not permitted', 255);
  return bridgeApply(ctx, { op: 'fdb.flush', ns: ns.id, dev, ...(master ? { master } : {}), ...(states.length > 0 ? { states } : {}) }, `bridge fdb flush ${rest.join(' ')}`);
}

/**
 * `bridge fdb [show] [dev DEV] [br BRIDGE]` (measured, scripts/bridge-fdb-formats.sh): `dev` keeps the rows
 * listed under that device and leaves ` dev DEV` out of them; `br` keeps the bridge's own rows and its
 * ports' (a device that is no bridge: nothing, exit 0). An unknown one: `Cannot find device "X"` or
 * `Cannot find bridge device "X"`, exit 255.
 */
function bridgeFdbShow(state: ClusterState, ns: NetNs, rest: readonly string[]): Output {
  let dev: string | undefined;
  let br: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i]!;
    if (w !== 'dev' && w !== 'br') return err(`Error: podnet does not model "${w}" of "bridge fdb show".`, 255);
    const v = rest[++i];
    if (v === undefined) return err('Command line is not complete. Try option "help"', 255);
    if (w === 'dev') dev = v;
    else br = v;
  }
  if (br !== undefined && !linkNamed(ns, br)) return err(`Cannot find bridge device "${br}"`, 255);
  if (dev !== undefined && !linkNamed(ns, dev)) return err(`Cannot find device "${dev}"`, 255);
  const bridgeOf = (name: string): boolean => br !== undefined && linkNamed(ns, br)!.kind === 'bridge' && (name === br || linkNamed(ns, name)?.master === br);
  const rows = bridgeFdbLines(state, ns).filter((r) => (dev === undefined || r.dev === dev) && (br === undefined || bridgeOf(r.dev)));
  return ok(rows.map((r) => `${dev === undefined ? r.line : r.line.replace(` dev ${dev}`, '')}\n`).join(''));
}

/** The IPv4 all-hosts group (224.0.0.1) as a multicast MAC: every IPv4 device joins it when set up. */
const ALL_HOSTS_MAC = '01:00:5e:00:00:01';
/** 224.0.0.106, the IGMP multicast-router-discovery group a snooping bridge joins when it opens. */
const ALL_SNOOPERS_MAC = '01:00:5e:00:00:6a';

/**
 * `bridge fdb show` as the kernel dumps it (measured on Linux 6.18 with iproute2 6.1, a flannel-like node
 * built by hand): device by device in ifindex order. A bridge port lists its bridge's entries for it
 * first (newest first: learned pod MACs before the port's own `permanent` MAC), then its own `self`
 * multicast addresses; a bridge lists its `self` multicast addresses, then its own MAC (`dev cni0 master
 * cni0 permanent`, unless a port has that MAC); a VXLAN device lists its remote VTEPs, newest first. Up
 * Ethernet devices (not VXLAN) show the IPv4 groups they joined: `01:00:5e:00:00:01 dev eth0 self
 * permanent` (224.0.0.1) and on a bridge also 224.0.0.106 first; they leave them when set down. IPv6's
 * `33:33:…` rows are not printed (podnet is IPv4 only). Learned entries older than the bridge's
 * ageing time (300 s) are gone.
 */
function bridgeFdbLines(state: ClusterState, ns: NetNs): FdbRow[] {
  const out: FdbRow[] = [];
  const row = (line: string): FdbRow => ({ dev: line.split(' ')[2]!, line });
  const entries = Object.values(ns.fdb);
  const live = (e: (typeof entries)[number]) => e.permanent || state.now - e.updated <= 300_000;
  const selfGroups = (l: Link): FdbRow[] => {
    if (!l.up || l.kind === 'loopback' || l.kind === 'vxlan' || l.kind === 'ipip') return [];
    return [...(l.kind === 'bridge' ? [ALL_SNOOPERS_MAC] : []), ALL_HOSTS_MAC].map((m) => row(`${m} dev ${l.name} self permanent`));
  };
  for (const l of sortedLinks(ns)) {
    if (l.master) {
      for (const e of entries.filter((x) => x.dev === l.master && x.port === l.name && x.dst === null && live(x)).reverse()) {
        out.push(row(`${e.mac} dev ${l.name} master ${e.dev}${e.local ? ' permanent' : e.permanent ? ' static' : ''}`));
      }
    }
    if (l.kind === 'bridge') {
      out.push(...selfGroups(l));
      const ports = new Set(sortedLinks(ns).filter((x) => x.master === l.name).map((x) => x.mac));
      for (const e of entries.filter((x) => x.dev === l.name && x.port === null && x.dst === null && x.local).reverse()) {
        if (!ports.has(e.mac)) out.push(row(`${e.mac} dev ${l.name} master ${l.name} permanent`));
      }
      continue;
    }
    if (l.kind === 'vxlan') {
      // Oldest first, then reversed. The other nodes' entries (flanneld's) are the oldest; one replaced here
      // (`bridge fdb replace` of its MAC) keeps its place, as vxlan_fdb_update_existing changes it in place;
      // those deleted here, or taken back by their agent, are left out (core's peerEntries). Entries made
      // here come after them: newest first in the dump (measured: `02:00:00:00:00:09 dst 192.168.1.99` added
      // on node-1 is listed before flanneld's two, and a replaced one where it was).
      const own = entries.filter((e) => e.dev === l.name && e.dst !== null);
      const ownRow = (e: (typeof own)[number]) => `${e.mac} dev ${e.dev} dst ${formatIpv4(e.dst!)} self${e.permanent ? ' permanent' : ''}`;
      const shown = new Set(peerEntries(state, ns).filter((p) => p.dev === l.name).flatMap((p) => p.fdb.map((f) => f.mac)));
      const placed = new Set<string>();
      const rows: string[] = [];
      const unhidden: NetNs = { ...ns, peerSets: ns.peerSets.map((r) => ({ ...r, hiddenFdb: [] })) };
      for (const { dev, fdb } of peerEntries(state, unhidden)) {
        if (dev !== l.name) continue;
        for (const f of fdb) {
          if (shown.has(f.mac)) rows.push(`${f.mac} dev ${dev} dst ${formatIpv4(f.dst)} self permanent`);
          else {
            const mine = own.find((e) => e.mac === f.mac);
            if (mine !== undefined && !placed.has(f.mac)) { rows.push(ownRow(mine)); placed.add(f.mac); }
          }
        }
      }
      for (const e of own) if (!placed.has(e.mac)) rows.push(ownRow(e));
      out.push(...rows.reverse().map(row));
      continue;
    }
    // The device's own unicast list (`bridge fdb add MAC dev veth…` without `master`), in the order added,
    // before its multicast groups (measured: `02:00:00:00:00:01 self permanent` after the port's master rows).
    for (const e of entries) if (e.dev === l.name && e.port === null && e.dst === null && !e.local) out.push(row(`${e.mac} dev ${l.name} self permanent`));
    out.push(...selfGroups(l));
  }
  return out;
}
