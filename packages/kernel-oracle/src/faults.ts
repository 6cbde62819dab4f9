/**
 * Faults: what a student in a lab (or @podnet/testing's fault events) does to a running cluster — a link
 * taken down (or down and up again), its MTU changed, a route, a neighbour or an FDB entry deleted,
 * forwarding switched off, every forwarded packet dropped by iptables; and session 36's sysctls (rp_filter
 * 1/2/5, a device's forwarding, ip_forward=2, proxy_arp) and verbs (route append/prepend, neigh, route, addr
 * and fdb flush); session 37's accept_local, route_localnet and conf.default writes, another endpoint's
 * address on a device, `ip addr replace/change` and `ip route change`. Each is drawn as indexes and
 * resolved against the state it is applied to (like the testing package's events), so every drawn
 * sequence is valid by construction and shrinking an index towards 0 keeps it valid. A fault becomes the
 * raw actions the lab shell and `Simulator.apply` take; the kernel replays them as `describeAction`
 * prints them.
 */
import { allRoutes, bridgeFdb, cidr, cidrContains, formatCidr, formatIpv4, ipNeigh, ipRoute, isPodnetError, kernelRoutes, type Action, type NsId, type Simulator } from '@podnet/core';
import fc from 'fast-check';

/** The kinds of fault, each a command a person types on a node or in a pod. */
export const FAULT_KINDS = [
  'linkDown', 'linkBounce', 'mtu', 'routeDel', 'forwardOff', 'neighDel', 'fdbDel', 'forwardDrop',
  // Session 36's verbs and sysctls, as a student types them (model/sysctl.ts, ops/flush.ts).
  'rpFilter', 'devForwardOff', 'forwardTwo', 'proxyArp', 'routeAppend', 'routePrepend', 'neighFlush', 'routeFlush', 'addrFlush', 'fdbFlush',
  // Session 37's: the own-address source check and accept_local, route_localnet, conf.default's copies,
  // another endpoint's address on a device, `ip addr replace/change`, `ip route change`.
  'acceptLocal', 'routeLocalnet', 'confDefault', 'addrDup', 'addrReplace', 'addrChange', 'routeChange',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * One fault, as indexes: the namespace (nodes' hosts first, then running pods, modulo their number; the
 * node-wide ones — forwarding, rp_filter, iptables — among nodes only) and the item in it (a link, a route,
 * a neighbour, an FDB entry, modulo their number; where a fault picks two things, the second is the item
 * divided by the number of the first, so 0 is still the first of each).
 */
export interface FaultPick {
  readonly kind: FaultKind;
  readonly ns: number;
  readonly item: number;
  /** For `mtu`: the new MTU. */
  readonly mtu?: number;
}

/** MTUs a fault sets: below, at and above what the designs use (9000 is more than VXLAN over 1500 allows). */
export const FAULT_MTUS = [1280, 1400, 1450, 9000] as const;

/** rp_filter values a fault writes: strict, loose, and a non-zero other than 2, which the kernel takes as loose (fib_validate_source tests `rpf == 1`). */
export const FAULT_RP_FILTERS = [1, 2, 5] as const;

/**
 * What `confDefault` writes to `net.ipv4.conf.default.NAME`: the settings whose write reaches the devices
 * that never set their own (in practice those without an address: a node's veth ends), and two whose write
 * reaches no device that exists (forwarding, route_localnet), which must change nothing.
 */
export const FAULT_CONF_DEFAULTS = [
  ['rp_filter', 1], ['rp_filter', 2], ['accept_local', 1], ['proxy_arp', 1], ['send_redirects', 0], ['forwarding', 0], ['route_localnet', 1], ['log_martians', 1],
] as const;

/**
 * How `addrReplace` and `addrChange` retype an address the device has: as it is, without its prefix route,
 * in scope link or host — none of which changes it (inet_rtm_newaddr updates only the metric and the
 * lifetimes of an address that is there: packages/cli/scripts/arp-own-source.txt (a)). Not with another
 * prefix length: for the kernel that is another address beside it, its own prefix route with it; podnet
 * keeps one entry per address and refuses it (seed 3201 faulted #26, docs/kernel-oracle.md).
 */
export const FAULT_ADDR_EDITS = [{}, { noprefixroute: true }, { scope: 'link' }, { scope: 'host' }] as const;

/** The kinds that act on a node's host only (node-wide settings, or settings of a node's devices). */
const NODE_ONLY: readonly FaultKind[] = ['forwardOff', 'forwardDrop', 'rpFilter', 'devForwardOff', 'forwardTwo'];

/**
 * A device as procps' sysctl names it in a key: a dot inside a device name is written as a slash
 * (`net.ipv4.conf.flannel/1.forwarding` is /proc/sys/net/ipv4/conf/flannel.1/forwarding; sysctl(8)).
 */
const sysctlDev = (dev: string): string => dev.replaceAll('.', '/');

/** Faults after the build: 1 to `max` of them, any kind, on any namespace. */
export function faultsArb(max = 3): fc.Arbitrary<FaultPick[]> {
  const pick = fc.record({ kind: fc.constantFrom(...FAULT_KINDS), ns: fc.nat({ max: 15 }), item: fc.nat({ max: 31 }), mtu: fc.constantFrom(...FAULT_MTUS) })
    .map(({ kind, ns, item, mtu }): FaultPick => (kind === 'mtu' ? { kind, ns, item, mtu } : { kind, ns, item }));
  return fc.array(pick, { minLength: 1, maxLength: max });
}

/** Where a fault landed: its actions as applied, or refused by podnet (with the error), or nothing to pick. */
export type AppliedFault =
  | { readonly ok: true; readonly actions: readonly Action[] }
  | { readonly ok: false; readonly actions: readonly Action[]; readonly error: string };

/** The first word after `word` in a table line (`dev cni0` → `cni0`). */
const after = (line: string, word: string): string | undefined => {
  const w = line.trim().split(/\s+/);
  const i = w.indexOf(word);
  return i >= 0 ? w[i + 1] : undefined;
};

/**
 * The actions a fault stands for in the simulator's current state, or null when it has nothing to act
 * on (a namespace without routes, neighbours or FDB entries).
 */
export function faultActions(sim: Simulator, f: FaultPick): Action[] | null {
  if (f === null || typeof f !== 'object' || !FAULT_KINDS.includes(f.kind)) throw new TypeError(`a fault needs a kind (${FAULT_KINDS.join(', ')})`);
  if (![f.ns, f.item].every((n) => Number.isInteger(n) && n >= 0)) throw new TypeError(`a fault's ns and item are non-negative integers, not ${String(f.ns)} and ${String(f.item)}`);
  const nodes = sim.nodes().map((n) => `node/${n.name}` as NsId);
  const pods = sim.pods().filter((p) => p.status.phase === 'Running' && p.netns !== null).map((p) => `pod/${p.key}` as NsId);
  const spaces = [...nodes, ...pods];
  if (spaces.length === 0) return null;
  const among = NODE_ONLY.includes(f.kind) ? nodes : spaces;
  const ns = among[f.ns % among.length];
  if (ns === undefined) return null;
  const nsObj = ns.startsWith('node/') ? sim.node(ns.slice(5)).host : sim.pod(ns.slice(4)).netns!;
  const links = Object.keys(nsObj.links).filter((l) => l !== 'lo').sort();
  const nth = <T>(xs: readonly T[]): T | null => (xs.length === 0 ? null : xs[f.item % xs.length]!);
  // The second pick of a fault that makes two: the item's quotient by the first's count.
  const second = <T>(first: number, xs: readonly T[]): T | null => (xs.length === 0 || first === 0 ? null : xs[Math.floor(f.item / first) % xs.length]!);
  // Devices with an address: where flushing addresses or routes changes what the namespace reaches
  // (a pod's eth0, a node's eth0 and cni0, flannel.1 with its /32).
  const addressed = links.filter((l) => nsObj.links[l]!.addrs.length > 0);
  switch (f.kind) {
    case 'linkDown': {
      const name = nth(links);
      return name === null ? null : [{ op: 'link.set', ns, name, up: false }];
    }
    case 'linkBounce': {
      const name = nth(links);
      return name === null ? null : [{ op: 'link.set', ns, name, up: false }, { op: 'link.set', ns, name, up: true }];
    }
    case 'mtu': {
      const name = nth(links);
      return name === null ? null : [{ op: 'link.set', ns, name, mtu: f.mtu ?? 1400 }];
    }
    case 'routeDel': {
      const line = nth(ipRoute(sim.state, ns));
      if (line === null) return null;
      const w = line.trim().split(/\s+/);
      const dst = w[0] === 'blackhole' || w[0] === 'unreachable' || w[0] === 'prohibit' ? w[1]! : w[0]!;
      const via = after(line, 'via');
      const dev = after(line, 'dev');
      const metric = after(line, 'metric');
      return [{ op: 'route.del', ns, dst, ...(via ? { via } : {}), ...(dev ? { dev } : {}), ...(metric ? { metric: Number(metric) } : {}) }];
    }
    case 'neighDel': {
      const line = nth(ipNeigh(sim.state, ns));
      if (line === null) return null;
      const dev = after(line, 'dev');
      return dev === undefined ? null : [{ op: 'neigh.del', ns, ip: line.trim().split(/\s+/)[0]!, dev }];
    }
    case 'fdbDel': {
      // VXLAN `dst` entries and `static` ones a person or an agent added, and a port's own MAC (`permanent`
      // alone), which lives in its bridge: `master`, which `bridge fdb del` needs for it (without, the kernel
      // looks in the port's own list and answers `No such file or directory`). Not the bridge's own MAC
      // (`dev cni0 master cni0 permanent`): podnet deletes it as the kernel does (oracle-findings.test.ts),
      // but then the node's probes to its pods depend on the order the concurrent probes ran in: a pod's ARP
      // request left the node a STALE entry (its ping then gets no reply) or did not (Host Unreachable).
      const line = nth(bridgeFdb(sim.state, ns).filter((l) => {
        const w = l.trim().split(/\s+/);
        return w[2] !== w[4] || w[3] !== 'master';
      }));
      if (line === null) return null;
      const dev = after(line, 'dev');
      const master = after(line, 'master');
      return dev === undefined ? null : [{ op: 'fdb.del', ns, mac: line.trim().split(/\s+/)[0]!, dev, ...(master !== undefined ? { master: true } : {}) }];
    }
    case 'forwardOff':
      return [{ op: 'sysctl.set', ns, key: 'net.ipv4.ip_forward', value: 0 }];
    case 'forwardTwo':
      // Any non-zero int forwards (IN_DEV_FORWARD tests the int; sysctl-formats.sh case f): 2 must change nothing.
      return [{ op: 'sysctl.set', ns, key: 'net.ipv4.ip_forward', value: 2 }];
    case 'rpFilter': {
      // `all` or one device; the kernel takes max(all, dev), 1 strict, any other non-zero loose.
      const scopes = ['all', ...links];
      const scope = nth(scopes)!;
      const value = second(scopes.length, FAULT_RP_FILTERS)!;
      return [{ op: 'sysctl.set', ns, key: `net.ipv4.conf.${scope === 'all' ? scope : sysctlDev(scope)}.rp_filter`, value }];
    }
    case 'devForwardOff': {
      // The input device's own forwarding decides (ip_route_input_slow: IN_DEV_FORWARD(in_dev)).
      const dev = nth(links);
      return dev === null ? null : [{ op: 'sysctl.set', ns, key: `net.ipv4.conf.${sysctlDev(dev)}.forwarding`, value: 0 }];
    }
    case 'proxyArp': {
      const dev = nth(links);
      return dev === null ? null : [{ op: 'sysctl.set', ns, key: `net.ipv4.conf.${sysctlDev(dev)}.proxy_arp`, value: 1 }];
    }
    case 'acceptLocal':
    case 'routeLocalnet': {
      // `all`, `default` (copied to the devices that never set their own: accept_local; route_localnet's
      // reaches none) or one device. accept_local lets a packet whose source is one of the namespace's own
      // addresses in (fib_validate_source); route_localnet matters only for 127/8, which no probe uses.
      const scopes = ['all', 'default', ...links];
      const scope = nth(scopes)!;
      return [{ op: 'sysctl.set', ns, key: `net.ipv4.conf.${scope === 'all' || scope === 'default' ? scope : sysctlDev(scope)}.${f.kind === 'acceptLocal' ? 'accept_local' : 'route_localnet'}`, value: 1 }];
    }
    case 'confDefault': {
      const [name, value] = nth(FAULT_CONF_DEFAULTS)!;
      return [{ op: 'sysctl.set', ns, key: `net.ipv4.conf.default.${name}`, value }];
    }
    case 'addrDup': {
      // Another endpoint's address (a node's eth0, another pod's eth0) on a device with an address: as a /32
      // or with the owner's prefix length (a prefix route with it). Not one inside a subnet of any of the
      // namespace's devices: a peer there could ask for it, and Linux answers ARP for a local address on
      // any device (arp_ignore 0), so two answers to one request would race (a neighbour entry takes the
      // one that arrives first).
      if (addressed.length === 0) return null;
      const dev = nth(addressed)!;
      const subnets = Object.values(nsObj.links).flatMap((l) => l.addrs.map((a) => cidr(a.ip, a.len)));
      const owners = [...nodes.map((n) => sim.node(n.slice(5)).host), ...pods.map((p) => sim.pod(p.slice(4)).netns!)];
      const theirs = owners.flatMap((o) => o.links['eth0']?.addrs.filter((a) => a.scope === 'global') ?? [])
        .filter((a) => !subnets.some((c) => cidrContains(c, a.ip)));
      const uniq = [...new Map(theirs.map((a) => [a.ip, a])).values()];
      const other = second(addressed.length, uniq);
      if (other === null) return null;
      const len = Math.floor(f.item / addressed.length / uniq.length) % 2 === 0 ? 32 : other.len;
      return [{ op: 'addr.add', ns, dev, addr: `${formatIpv4(other.ip)}/${len}` }];
    }
    case 'addrReplace':
    case 'addrChange': {
      // An address a device has, retyped (FAULT_ADDR_EDITS).
      const addrs = addressed.flatMap((dev) => nsObj.links[dev]!.addrs.map((a) => ({ dev, a })));
      const hit = nth(addrs);
      if (hit === null) return null;
      const edit: { noprefixroute?: boolean; scope?: 'link' | 'host' } = second(addrs.length, FAULT_ADDR_EDITS)!;
      const scope = edit.scope ?? (hit.a.scope === 'global' ? undefined : hit.a.scope);
      return [{
        op: f.kind === 'addrReplace' ? 'addr.replace' : 'addr.change', ns, dev: hit.dev, addr: `${formatIpv4(hit.a.ip)}/${hit.a.len}`,
        ...(scope !== undefined ? { scope } : {}), ...(edit.noprefixroute === true ? { noprefixroute: true } : {}),
      }];
    }
    case 'routeAppend':
    case 'routePrepend':
    case 'routeChange': {
      // A second route for a prefix the table has, through another next hop: another device of the
      // namespace, the route's own device without its gateway, or a gateway another route uses (with its
      // device, and onlink where that route has it).
      // Prepended, it is the one lookups take; appended, it waits behind the first (fib_table_insert).
      // Not an agent's shared route (flannel's, calico's per-peer routes, listed in every node from one peer
      // set): podnet refuses to append or prepend to one (UNSUPPORTED, ops/actions.ts), where the kernel
      // takes it (seed 3002 faulted #42), so only the namespace's own routes and its prefix routes are picked.
      const keyOf = (dst: string, metric: number) => `${dst === 'default' ? '0.0.0.0/0' : dst.includes('/') ? dst : `${dst}/32`} ${metric}`;
      // A key an agent's route shares with one of the node's own (overlapping IPAM, a node that came back) is
      // refused all the same: left out too.
      const own = new Set([...nsObj.routes, ...kernelRoutes(nsObj)].map((r) => keyOf(formatCidr(r.dst), r.metric)));
      const shared = new Set(allRoutes(sim.state, nsObj)
        .filter((r) => !nsObj.routes.includes(r) && !(r.proto === 'kernel' && r.via === null && r.src !== null))
        .map((r) => keyOf(formatCidr(r.dst), r.metric)));
      const all = ipRoute(sim.state, ns);
      const lines = all.filter((l) => {
        const w = l.trim().split(/\s+/);
        const k = keyOf(w[0] === 'blackhole' || w[0] === 'unreachable' || w[0] === 'prohibit' ? w[1]! : w[0]!, Number(after(l, 'metric') ?? 0));
        return own.has(k) && !shared.has(k);
      });
      const line = nth(lines);
      if (line === null) return null;
      const w = line.trim().split(/\s+/);
      const typed = w[0] === 'blackhole' || w[0] === 'unreachable' || w[0] === 'prohibit';
      const dst = typed ? w[1]! : w[0]!;
      const via = after(line, 'via');
      const dev = after(line, 'dev');
      const metric = after(line, 'metric');
      type Hop = { via?: string; dev: string; onlink?: boolean };
      // A route through a gateway also gets its device alone (on-link: a pod's `default dev eth0`).
      const hops: Hop[] = [...(via !== undefined && dev !== undefined ? [{ dev }] : []), ...links.filter((l) => l !== dev).map((l) => ({ dev: l }))];
      for (const other of all) {
        const g = after(other, 'via');
        const d = after(other, 'dev');
        if (g === undefined || d === undefined || g === via || hops.some((h) => h.via === g && h.dev === d)) continue;
        hops.push({ via: g, dev: d, ...(other.trim().split(/\s+/).includes('onlink') ? { onlink: true } : {}) });
      }
      const hop = second(lines.length, hops);
      if (hop === null) return null;
      // Changed (NLM_F_REPLACE without CREATE), the route's next hop becomes this one.
      const op = f.kind === 'routeAppend' ? 'route.append' : f.kind === 'routePrepend' ? 'route.prepend' : 'route.change';
      return [{ op, ns, dst, ...hop, ...(metric ? { metric: Number(metric) } : {}) }];
    }
    case 'neighFlush': {
      // After the build every neighbour entry is permanent (nothing has been sent), which a bare flush keeps
      // (iproute2 leaves out NUD_PERMANENT): the devices with entries, with `nud permanent` and `nud all` too.
      const devs = [...new Set(ipNeigh(sim.state, ns).map((l) => after(l, 'dev')).filter((d): d is string => d !== undefined))].sort();
      const dev = nth(devs.length > 0 ? devs : links);
      if (dev === null) return null;
      const nud = second(devs.length > 0 ? devs.length : links.length, [undefined, ['permanent'], ['all']] as const);
      return [{ op: 'neigh.flush', ns, dev, ...(nud ? { nud: [...nud] } : {}) }];
    }
    case 'routeFlush': {
      const dev = nth(addressed.length > 0 ? addressed : links);
      return dev === null ? null : [{ op: 'route.flush', ns, dev }];
    }
    case 'addrFlush': {
      const dev = nth(addressed);
      return dev === null ? null : [{ op: 'addr.flush', ns, dev }];
    }
    case 'fdbFlush': {
      // A VXLAN device (its remote VTEPs), a bridge port with `master` (the bridge's entries on that port, its
      // own MAC's), or a bridge with `nopermanent`. Not a bridge's whole FDB: its own MAC's entry goes with it,
      // and then a node's probe to its pod depends on whether a pod's ARP request reached the node first
      // (seed 3002 faulted #13, flannel-vxlan and two more designs: podnet `Destination Host Unreachable`, the
      // kernel `no reply` in the run, agreeing when replayed alone), the race fdbDel leaves out too
      // (docs/kernel-oracle.md, "A device's own FDB entry"). `nopermanent` keeps the local entries; after
      // the build there is no other, so both sides must keep the FDB as it was.
      const devs = links.filter((l) => nsObj.links[l]!.kind === 'bridge' || nsObj.links[l]!.kind === 'vxlan' || nsObj.links[l]!.master !== null);
      const dev = nth(devs);
      if (dev === null) return null;
      const link = nsObj.links[dev]!;
      return [{ op: 'fdb.flush', ns, dev, ...(link.master !== null ? { master: true } : {}), ...(link.kind === 'bridge' ? { states: ['nopermanent' as const] } : {}) }];
    }
    case 'forwardDrop': {
      // Everything forwarded, or what comes in from (goes out to) the underlay: inserted, ahead of what a design
      // put in FORWARD (flanneld's jump to FLANNEL-FWD, whose ACCEPTs would decide first). The bare rule also drops
      // frames bridged between two pods of a node (br_netfilter, on in the oracle's namespaces as in
      // podnet's: see docs/kernel-oracle.md); `-i eth0`/`-o eth0` never match a bridged frame (cni0 in, cni0 out).
      const which = f.item % 3;
      return [{ op: 'rule.insert', ns, rule: { table: 'filter', chain: 'FORWARD', ...(which === 1 ? { inIf: 'eth0' } : which === 2 ? { outIf: 'eth0' } : {}), target: 'DROP' } }];
    }
  }
}

/**
 * Applies a fault to the simulator, one action at a time as a person types them: each that podnet
 * refuses (a PodnetError) leaves the state as it was and is reported with its error, the kernel then
 * being expected to refuse it too. Returns one entry per command typed.
 */
export function applyFault(sim: Simulator, f: FaultPick): AppliedFault[] {
  const actions = faultActions(sim, f);
  if (actions === null) return [];
  const out: AppliedFault[] = [];
  for (const a of actions) {
    try {
      sim.apply(a, `fault ${f.kind}`);
      out.push({ ok: true, actions: [a] });
    } catch (e) {
      if (!isPodnetError(e)) throw e;
      out.push({ ok: false, actions: [a], error: e.message });
    }
  }
  return out;
}
