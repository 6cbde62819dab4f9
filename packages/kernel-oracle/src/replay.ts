/**
 * Rendering a recorded cluster into kernel commands. What core creates itself becomes the commands
 * that make it (each node's host namespace with eth0 on its segment, each pod's namespace with lo,
 * every underlay segment as a namespace holding a Linux bridge, the router with one leg per segment);
 * what the design did is its recorded actions, printed by {@link describeAction} and run as is.
 *
 * The result is one POSIX sh script: every line runs in a namespace of this topology (`ip -n NS`,
 * `bridge -n NS`, `nsenter --net=/run/netns/NS`) and names the action it came from, so a command the
 * kernel refuses is reported against the podnet action that asked for it.
 */
import {
  describeAction, formatIpv4, peerEntryCommands, UNDERLAY_NS, type Action, type NsId, type PeerEntrySpec, type Route, type Underlay,
} from '@podnet/core';
import { BRIDGE_NF, inNs, NETNS_DIR, nsrunCommand, shellWord } from './kernel.js';
import type { NsSnapshot, Reaction } from './record.js';

/** One line of the build script and where it came from. */
export interface ScriptLine {
  readonly shell: string;
  /** The podnet side: the action (or core's own setup) this line renders. */
  readonly origin: string;
  /**
   * A node agent's command (flanneld's per-peer routes, neighbours, FDB entries): the agent logs a
   * refusal and carries on, so the build does too; the tables then show whether podnet refused the same.
   */
  readonly tolerant?: boolean;
  /** A new namespace's own settings, its first command: the script runs them all right after creating the namespaces. */
  readonly init?: boolean;
  /** A fault podnet refused (faults.ts): the kernel must refuse it too; if it accepts, the build stops there. */
  readonly refused?: boolean;
}


/**
 * The nsrun.pl steps (kernel.ts) that stand for `command` run in kernel namespace `k` as line `idx` of the
 * build, when it is `sysctl [-q] -w key=value…`: one write per key, in order, as sysctl makes them.
 * Anything else gives null (it runs as itself, under nsenter).
 */
export function sysctlSteps(idx: number, k: string, command: string): string[] | null {
  inNs(k);
  return sysctlPairs(command)?.map(([key, v]) => `S\t${idx}\t${k}\t${key}\t${v}`) ?? null;
}

/** The key=value pairs of `sysctl [-q] -w key=value…`, or null for any other command. */
function sysctlPairs(command: string): [string, string][] | null {
  const [prog, ...words] = command.trim().split(/\s+/);
  const flags = words.filter((w) => w.startsWith('-'));
  const pairs = words.filter((w) => !w.startsWith('-'));
  if (prog !== 'sysctl' || !flags.includes('-w') || !flags.every((f) => f === '-w' || f === '-q') || pairs.length === 0) return null;
  if (!pairs.every((p) => /^[\w./-]+=[\w.:/-]*$/.test(p))) return null;
  return pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]);
}

/** A sysctl key's file: procps maps a key's dots to the path's slashes, and a slash (a dot in a device name) to a dot. */
const sysctlPath = (key: string) => `/proc/sys/${key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'))}`;

/**
 * The shell lines that write what `sysctl -w key=value…` writes, one `echo value > /proc/sys/…` per key
 * (the value and a newline, as sysctl writes it), for a shell already in the namespace; null for any
 * other command.
 */
export function sysctlWrites(command: string): string[] | null {
  return sysctlPairs(command)?.map(([k, v]) => `echo ${v} > ${sysctlPath(k)}`) ?? null;
}

/**
 * True for a setting whose effect does not depend on which links exist when it is made, so it may run
 * before or after link changes of its namespace: an iptables rule (matched by interface names when
 * packets pass) and `net.ipv4.ip_forward` (Linux writes it to `all`, `default` and every device, so a
 * device made afterwards copies it from `default`: the same end state in either order). Other sysctls
 * (`conf.DEV.*` needs DEV, `conf.default.*` is copied to devices made later) keep their place.
 */
export function linkFree(command: string): boolean {
  if (/^iptables /.test(command)) return true;
  return sysctlPairs(command)?.every(([k]) => k === 'net.ipv4.ip_forward') ?? false;
}

/** The kernel names of one topology's namespaces, both ways. */
export class NsNames {
  readonly #byId = new Map<string, string>();
  readonly #byName = new Map<string, string>();
  #pods = 0;
  #nodes = 0;
  constructor(readonly prefix: string) {
    // Namespace names are file names under /run/netns; interface names stay podnet's own.
    if (!/^pno\d+-[0-9a-z]+-$/.test(prefix)) throw new Error(`bad topology prefix "${prefix}"`);
  }
  /** The kernel name of a podnet namespace (`node/x`, `pod/ns/name`, `underlay`) or of segment `seg:NAME`. */
  of(id: string): string {
    const hit = this.#byId.get(id);
    if (hit !== undefined) return hit;
    throw new Error(`namespace ${id} has no kernel rendering (yet)`);
  }
  has(id: string): boolean {
    return this.#byId.has(id);
  }
  /** Assigns a short kernel name to a podnet namespace. */
  assign(id: string, segmentIndex?: number): string {
    const existing = this.#byId.get(id);
    if (existing !== undefined) return existing;
    let short: string;
    if (id === UNDERLAY_NS) short = 'r';
    else if (id.startsWith('seg:')) short = `s${segmentIndex ?? 0}`;
    else if (id.startsWith('node/')) short = `n${this.#nodes++}`;
    else short = `p${this.#pods++}`;
    const name = `${this.prefix}${short}`;
    this.#byId.set(id, name);
    this.#byName.set(name, id);
    return name;
  }
  forget(id: string): void {
    const n = this.#byId.get(id);
    if (n !== undefined) this.#byName.delete(n);
    this.#byId.delete(id);
  }
  /** The podnet id a kernel name stands for. */
  idOf(name: string): string | undefined {
    return this.#byName.get(name);
  }
  entries(): [string, string][] {
    return [...this.#byId.entries()];
  }
}

/** A command podnet accepted but the oracle cannot run in a kernel (a gap in the vocabulary's rendering). */
export class NoKernelRendering extends Error {}

const routeSpecOf = (r: Route) => ({
  dst: r.dst.len === 0 ? 'default' : `${formatIpv4(r.dst.addr)}/${r.dst.len}`,
  ...(r.via !== null ? { via: formatIpv4(r.via) } : {}),
  ...(r.dev !== null ? { dev: r.dev } : {}),
  ...(r.proto !== 'boot' ? { proto: r.proto } : {}),
  ...(r.scope !== 'global' ? { scope: r.scope } : {}),
  ...(r.src !== null ? { src: formatIpv4(r.src) } : {}),
  ...(r.metric !== 0 ? { metric: r.metric } : {}),
  ...(r.onlink ? { onlink: true } : {}),
  ...(r.type !== 'unicast' ? { type: r.type } : {}),
});

/** How a namespace includes a peer set (`peerset.attach`): whose entries it installs, and through which gateway. */
interface Attachment {
  readonly ns: NsId;
  readonly self: string;
  readonly group?: string;
  readonly match?: 'same' | 'other';
  readonly via?: string;
}

/**
 * Shared peer sets, expanded into the per-namespace commands the node agents run, as core's routing
 * reads them (refUses, routeVia): a namespace installs every entry but its own node's; with `match` only
 * the entries of its own group (`same`) or of the other groups (`other`); with `via` each route through
 * that gateway instead of the entry's own next hop (BIRD's recursive next hop: not onlink). A namespace
 * may include one set twice with different matches (calico: same-subnet peers plainly, the others through
 * the gateway).
 */
class PeerSets {
  readonly #sets = new Map<string, { dev: string; entries: Map<string, PeerEntrySpec & { readonly group?: string }>; attached: Attachment[] }>();
  #set(name: string, dev?: string) {
    let s = this.#sets.get(name);
    if (!s) this.#sets.set(name, (s = { dev: dev ?? '?', entries: new Map(), attached: [] }));
    if (dev !== undefined) s.dev = dev;
    return s;
  }
  static #uses(at: Attachment, owner: string, group: string | undefined): boolean {
    if (owner === at.self) return false;
    if (at.match === undefined) return true;
    return (group === at.group) === (at.match === 'same');
  }
  /** The entry as `at` installs it: its routes through the attachment's gateway when it names one. */
  static #through(e: PeerEntrySpec, at: Attachment): PeerEntrySpec {
    const via = at.via;
    if (via === undefined) return e;
    return { ...e, routes: e.routes.map(({ onlink: _onlink, ...r }) => ({ ...r, via })) };
  }
  #commands(dev: string, e: PeerEntrySpec & { readonly group?: string }, owner: string, verb: 'put' | 'del', only: readonly Attachment[]): { ns: NsId; command: string }[] {
    return only.filter((at) => PeerSets.#uses(at, owner, e.group))
      .flatMap((at) => peerEntryCommands(dev, PeerSets.#through(e, at), verb).map((command) => ({ ns: at.ns, command })));
  }
  /** The commands an action on a peer set stands for, per namespace. */
  expand(a: Action): { ns: NsId; command: string }[] {
    const out: { ns: NsId; command: string }[] = [];
    if (a.op === 'peerset.put') {
      const s = this.#set(a.set, a.dev);
      const old = s.entries.get(a.owner);
      s.entries.set(a.owner, a);
      if (old) out.push(...this.#commands(s.dev, old, a.owner, 'del', s.attached));
      out.push(...this.#commands(s.dev, a, a.owner, 'put', s.attached));
    } else if (a.op === 'peerset.del') {
      const s = this.#set(a.set);
      const old = s.entries.get(a.owner);
      s.entries.delete(a.owner);
      if (old) out.push(...this.#commands(s.dev, old, a.owner, 'del', s.attached));
    } else if (a.op === 'peerset.attach') {
      const s = this.#set(a.set);
      if (s.attached.some((x) => x.ns === a.ns && x.match === a.match)) return out;
      const at: Attachment = {
        ns: a.ns, self: a.self, ...(a.group === undefined ? {} : { group: a.group }), ...(a.match === undefined ? {} : { match: a.match }), ...(a.via === undefined ? {} : { via: a.via }),
      };
      s.attached.push(at);
      for (const [owner, e] of s.entries) out.push(...this.#commands(s.dev, e, owner, 'put', [at]));
    }
    return out;
  }
  /** A namespace went away: it no longer renders any set. */
  detach(ns: NsId): void {
    for (const s of this.#sets.values()) s.attached = s.attached.filter((x) => x.ns !== ns);
  }
}

/** Builds the script that renders a recorded cluster in the kernel. */
export class Renderer {
  readonly lines: ScriptLine[] = [];
  /** Actions left out because nothing the oracle probes can see them (listening processes off the probed ports). */
  readonly unrendered: string[] = [];
  readonly names: NsNames;
  readonly #peers = new PeerSets();
  readonly #segIndex = new Map<string, number>();
  #ports = 0;
  /** Per namespace, the veth ends in it whose peer lives in another namespace, with that peer. */
  readonly #crossing = new Map<string, Map<string, { ns: string; dev: string }>>();
  /** Namespaces whose `lo` is still to be brought up (with their first batch of commands). */
  readonly #loDown = new Set<string>();

  #pair(a: { ns: string; dev: string }, b: { ns: string; dev: string }): void {
    for (const [x, y] of [[a, b], [b, a]] as const) {
      let m = this.#crossing.get(x.ns);
      if (!m) this.#crossing.set(x.ns, (m = new Map()));
      m.set(x.dev, y);
    }
  }

  /** A veth end goes: its peer goes with it. */
  #unpair(ns: string, dev: string): void {
    const peer = this.#crossing.get(ns)?.get(dev);
    this.#crossing.get(ns)?.delete(dev);
    if (peer) this.#crossing.get(peer.ns)?.delete(peer.dev);
  }

  constructor(prefix: string) {
    this.names = new NsNames(prefix);
  }

  #line(shell: string, origin: string, flag?: 'tolerant' | 'init' | 'refused'): void {
    const m = /^ip -n (\S+) /.exec(shell);
    if (m && this.#loDown.delete(m[1]!)) this.lines.push({ shell: `ip -n ${m[1]!} link set lo up`, origin: `core creates ${this.names.idOf(m[1]!) ?? m[1]!}` });
    this.lines.push(flag === undefined ? { shell, origin } : { shell, origin, [flag]: true });
  }

  /** A command as describeAction prints it, run in the kernel namespace standing for `ns`. */
  #inNs(ns: NsId, command: string, origin: string, tolerant: boolean | 'refused' = false): void {
    if (command.startsWith('#')) throw new NoKernelRendering(`${origin} prints as a comment ("${command}"), not a command`);
    const k = this.names.of(ns);
    const flag = tolerant === 'refused' ? 'refused' : tolerant ? 'tolerant' : undefined;
    if (flag === 'refused' && /^(sysctl|iptables) /.test(command)) {
      this.#line(`${inNs(k).join(' ')} ${command}`, origin, flag);
      return;
    }
    if (command.startsWith('ip ')) this.#line(`ip -n ${k} ${command.slice(3)}`, origin, flag);
    else if (command.startsWith('bridge ')) this.#line(`bridge -n ${k} ${command.slice(7)}`, origin, flag);
    else if (/^(sysctl|iptables) /.test(command)) this.#line(`${inNs(k).join(' ')} ${command}`, origin);
    else throw new NoKernelRendering(`${origin} prints as "${command}", which is not an ip/bridge/sysctl/iptables command`);
  }

  #newNs(id: string, forward: boolean, rpFilter: number, bridgeNf: boolean, segmentIndex?: number, redirects = true): string {
    const k = this.names.assign(id, segmentIndex);
    const origin = `core creates ${id}`;
    this.#line(`ip netns add ${k}`, origin);
    // podnet models IPv4 only: without IPv6, no router solicitations or DAD teach bridges MACs behind
    // podnet's back. ICMP errors are not rate limited in podnet (the kernel allows a burst of 6, then 1/s
    // per destination), so concurrent probes would otherwise see '*' the model cannot predict.
    // br_netfilter (net.bridge.bridge-nf-call-iptables: frames bridged between two ports of cni0 pass
    // iptables) is set as podnet models it, on as on Kubernetes nodes; a segment's bridge, a switch in
    // podnet, keeps it off. The designs that render a bridge need the module (scenarios.ts). ICMP
    // redirects stay on, as podnet sends and takes them, except in a VPC's router: podnet's stands for a
    // cloud's implicit router, which sends none.
    this.#line(`${inNs(k).join(' ')} sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv4.icmp_ratelimit=0 net.ipv4.icmp_msgs_per_sec=100000 net.ipv4.icmp_msgs_burst=100000 net.ipv4.ip_forward=${forward ? 1 : 0} net.ipv4.conf.all.rp_filter=${rpFilter} net.ipv4.conf.default.rp_filter=${rpFilter}${redirects ? '' : ' net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0'}${BRIDGE_NF ? ` net.bridge.bridge-nf-call-iptables=${bridgeNf ? 1 : 0}` : ''}`, origin, 'init');
    this.#loDown.add(k);
    return k;
  }

  /** The underlay: a bridge per segment (an L2 switch), and the router with a leg on each. */
  underlay(u: Underlay): void {
    const router = this.#newNs(UNDERLAY_NS, u.router.sysctl.ipForward, u.router.sysctl.rpFilter, u.router.sysctl.bridgeNfCallIptables, undefined, u.vpcRouter !== true);
    let i = 0;
    for (const seg of Object.values(u.segments)) {
      this.#segIndex.set(seg.name, i);
      const s = this.#newNs(`seg:${seg.name}`, false, 0, false, i++);
      const origin = `core creates segment ${seg.name}`;
      this.#line(`ip -n ${s} link add br0 mtu ${seg.mtu} type bridge`, origin);
      this.#line(`ip -n ${s} link set br0 up`, origin);
      const leg = u.router.links[seg.name];
      if (!leg) throw new NoKernelRendering(`the router has no leg on segment ${seg.name}`);
      this.#line(`ip -n ${s} link add r mtu ${leg.mtu} type veth peer name ${leg.name} address ${leg.mac} mtu ${leg.mtu} netns ${router}`, `core creates the router's leg on ${seg.name}`);
      this.#line(`ip -n ${s} link set r master br0 up`, origin);
      for (const a of leg.addrs) this.#line(`ip -n ${router} addr add ${formatIpv4(a.ip)}/${a.len} dev ${leg.name}`, `core gives the router ${formatIpv4(a.ip)}`);
      if (leg.up) this.#line(`ip -n ${router} link set ${leg.name} up`, origin);
    }
    for (const r of u.router.routes) {
      for (const c of describeAction({ op: 'route.add', ns: UNDERLAY_NS, ...routeSpecOf(r) })) this.#inNs(UNDERLAY_NS, c.command, 'core: a router route');
    }
    // A VPC's router keeps the TTL (underlay.router: 'vpc'). Linux cannot forward without decrementing it,
    // but the TTL target can add one first: the packet leaves with the TTL it came with, a TTL of 1 is
    // forwarded, and the router never answers time exceeded (measured: traceroute no longer lists it).
    if (u.vpcRouter) this.#inNs(UNDERLAY_NS, 'iptables -t mangle -A PREROUTING -j TTL --ttl-inc 1', 'core: a VPC router, which keeps the TTL');
  }

  /** A namespace core created (a node's host, a pod's), with its physical links plugged into their segments. */
  #coreNs(snap: NsSnapshot): void {
    const k = this.#newNs(snap.id, snap.ipForward, snap.rpFilter, snap.bridgeNf);
    for (const l of snap.links) {
      if (l.kind === 'loopback') continue;
      const origin = `core creates ${l.name} in ${snap.id}`;
      if (l.kind !== 'physical' || l.segment === undefined) throw new NoKernelRendering(`core created a ${l.kind} link ${l.name} in ${snap.id}; only physical links are rendered`);
      const seg = this.names.of(`seg:${l.segment}`);
      const port = `n${this.#ports++}`;
      this.#line(`ip -n ${seg} link add ${port} mtu ${l.mtu} type veth peer name ${l.name} address ${l.mac} mtu ${l.mtu} netns ${k}`, origin);
      this.#line(`ip -n ${seg} link set ${port} master br0 up`, origin);
      this.#pair({ ns: snap.id, dev: l.name }, { ns: `seg:${l.segment}`, dev: port });
      for (const a of l.addrs) this.#line(`ip -n ${k} addr add ${formatIpv4(a.ip)}/${a.len} dev ${l.name}`, origin);
      if (l.up) this.#line(`ip -n ${k} link set ${l.name} up`, origin);
    }
    for (const r of snap.routes) {
      for (const c of describeAction({ op: 'route.add', ns: snap.id, ...routeSpecOf(r) })) this.#inNs(snap.id, c.command, `core: ${c.command} in ${snap.id}`);
    }
  }

  #actions(actions: readonly Action[], what: string, refused = false): void {
    const netnsName = (ns: NsId) => this.names.of(ns);
    for (const a of actions) {
      if (a.op === 'peerset.put' || a.op === 'peerset.del' || a.op === 'peerset.attach') {
        for (const c of this.#peers.expand(a)) this.#inNs(c.ns, c.command, `${what}: ${a.op} ${a.set}`, true);
        continue;
      }
      if (a.op === 'link.add' && a.kind === 'veth' && a.peer && a.peer.ns !== a.ns) {
        this.#pair({ ns: a.ns, dev: a.name }, { ns: a.peer.ns, dev: a.peer.name });
      }
      if (a.op === 'link.del') this.#unpair(a.ns, a.name);
      if (a.op === 'listen') {
        // A listening process changes only what reaches its port. The oracle's probes are ICMP and UDP to
        // traceroute's ports 33434–33441: a listener elsewhere cannot change them, one there would.
        if (a.protocol === 'udp' && a.port >= 33434 && a.port <= 33441) throw new NoKernelRendering(`${what}: a process listening on udp/${a.port} (traceroute's ports) is not rendered`);
        this.unrendered.push(`${what}: listen ${a.protocol}/${a.port}`);
        continue;
      }
      for (const c of describeAction(a, undefined, { netnsName })) {
        if (c.ns === undefined) throw new NoKernelRendering(`${what}: ${c.command} has no namespace`);
        this.#inNs(c.ns, c.command, `${what}: ${c.command} [${c.where}]`, refused ? 'refused' : false);
      }
    }
  }

  /**
   * A namespace goes, and with it the other end of each veth it held. The kernel tears a namespace
   * down asynchronously, so its links are deleted first: the veth peers vanish before the next command.
   */
  #delNs(id: string): void {
    const k = this.names.of(id);
    const origin = `core deletes ${id}`;
    for (const dev of [...(this.#crossing.get(id)?.keys() ?? [])]) {
      this.#line(`ip -n ${k} link del ${dev}`, origin);
      this.#unpair(id, dev);
    }
    this.#crossing.delete(id);
    this.#loDown.delete(k);
    this.#line(`ip netns del ${k}`, origin);
    this.names.forget(id);
  }

  /**
   * True when every line that put a link into kernel namespace `k` made a veth end there, and no `bridge`
   * command ran there. `bridge fdb show` lists, per device, the bridge's or VXLAN device's own entries and
   * otherwise the device's address lists (ndo_dflt_fdb_dump): its multicast groups, which the oracle drops
   * as podnet models none, and secondary unicast addresses, which only a `bridge fdb add … self` on it or a
   * device stacked on it (macvlan and the like) adds. So such a namespace's FDB holds no row the comparison
   * keeps (measured: a veth up with an address lists `33:33:00:00:00:01` and `01:00:5e:00:00:01` only).
   */
  onlyVeths(k: string): boolean {
    inNs(k);
    const here = `(?:-n |netns )${k}(?=\\s|$)`;
    for (const { shell } of this.lines) {
      if (!new RegExp(here).test(shell) || /^ip netns (?:add|del) /.test(shell) || shell.startsWith('nsenter ')) continue;
      if (shell.startsWith(`bridge -n ${k} `)) return false;
      const add = /^ip -n \S+ link add /.test(shell);
      // A link made here or with an end here: a veth; a link moved here (`link set … netns k`): anything.
      if (add ? !/ type veth(?=\s|$)/.test(shell) : new RegExp(`netns ${k}(?=\\s|$)`).test(shell)) return false;
    }
    return true;
  }

  /** Replays one recorded reaction. */
  reaction(r: Reaction): void {
    switch (r.kind) {
      case 'clusterCreated':
        this.#actions(r.actions, 'clusterCreated');
        return;
      case 'nodeAdded':
        this.#coreNs(r.host);
        this.#actions(r.actions, `nodeAdded ${r.node}`);
        return;
      case 'podAdded':
        if (r.netns && !this.names.has(r.netns.id)) this.#coreNs(r.netns);
        this.#actions(r.actions, `podAdded ${r.pod}`);
        return;
      case 'podDeleted': {
        this.#actions(r.actions, `podDeleted ${r.pod}`);
        const id = `pod/${r.pod}`;
        if (this.names.has(id)) this.#delNs(id);
        return;
      }
      case 'fault':
        this.#actions(r.actions, `fault ${r.what}${r.refused === undefined ? '' : ` (podnet refused: ${r.refused})`}`, r.refused !== undefined);
        return;
      case 'nodeRemoved': {
        this.#actions(r.actions, `nodeRemoved ${r.node}`);
        const id = `node/${r.node}`;
        this.#delNs(id);
        this.#peers.detach(id);
        return;
      }
    }
  }

  /**
   * The whole script: stops at the first command the kernel refuses and names it. Starting a process
   * costs far more than a command (10–20 ms of CPU here), so:
   * - every namespace is created first, by one `ip -batch -`, and every new namespace's settings (its
   *   `init` line) right after, before anything else touches it, all by one nsrun.pl (kernel.ts);
   * - `ip` (and `bridge`) commands of one namespace run together as one `ip -n NS -batch -`. A command
   *   joins an earlier batch of its namespace only when nothing since touched that namespace (or a
   *   namespace it names), so each namespace sees its commands in the recorded order; deleting a
   *   namespace is a barrier for everything. A node agent's refusals (tolerant lines) do not end the build,
   *   so a batch holding one runs with `-force` and only a refusal of another line fails the build;
   * - consecutive `nsenter` commands of one namespace (sysctl, iptables) run in one sh there, which
   *   writes the sysctls itself; iptables rules and ip_forward may pass link changes (linkFree).
   * `errFile` is a scratch file for the batches' error output (a temporary one when absent).
   */
  script(errFile?: string): string {
    if (errFile !== undefined && !/^\/[\w./-]+$/.test(errFile)) throw new Error(`bad error file path "${errFile}"`);
    for (const k of [...this.#loDown]) this.#line(`ip -n ${k} link set lo up`, `core creates ${this.names.idOf(k) ?? k}`);
    type Unit = { key: string | null; head: string; body: string[]; idx: number[]; tol: boolean[]; touches: Set<string> | 'all' };
    const units: Unit[] = [{ key: 'ip|', head: 'ip', body: [], idx: [], tol: [], touches: new Set() }];
    const inits: string[] = [];
    const unsafe = /[$`"'|;&<>]/;
    // What a line touches: a namespace `k` as a whole (links come and go), or one table of it: `k#l3`
    // (addresses, routes, neighbours), `k#fdb` (bridge and VXLAN FDBs), `k#sys` (sysctls, iptables). Two
    // lines touching different tables of a namespace commute, so they may pass each other. Deleting a link
    // can take its veth peer in another namespace along: such a line (`*`) moves past nothing. Settings
    // that do not depend on the links (iptables rules, ip_forward: see linkFree) touch only `k@sys`, which
    // the namespace as a whole does not hit, so they may pass link changes but no other setting, which
    // touches `k@sys` as well.
    const hits = (x: string, y: string) => x === y || x === y.split('#')[0] || y === x.split('#')[0];
    const overlaps = (a: Set<string> | 'all', b: Set<string>) => a === 'all' || (b.has('*') && a.size > 0) || [...b].some((x) => [...a].some((y) => hits(x, y)));
    const join = (key: string, touches: Set<string>, head: string, body: string, i: number, tol: boolean) => {
      let at = -1;
      for (let u = units.length - 1; u >= 1; u--) {
        if (units[u]!.key === key) { at = u; break; }
        if (overlaps(units[u]!.touches, touches)) break;
      }
      if (at >= 0) {
        const u = units[at]!;
        u.body.push(body);
        u.idx.push(i);
        u.tol.push(tol);
        for (const t of touches) (u.touches as Set<string>).add(t);
      } else units.push({ key, head, body: [body], idx: [i], tol: [tol], touches });
    };
    this.lines.forEach((l, i) => {
      if (l.refused) {
        units.push({ key: 'refused', head: l.shell, body: [], idx: [i], tol: [false], touches: 'all' });
        return;
      }
      const exec = /^nsenter --net=\S+\/(\S+) (.*)$/.exec(l.shell);
      if (exec) {
        const steps = l.init ? sysctlSteps(i, exec[1]!, exec[2]!) : null;
        if (steps) inits.push(...steps);
        else if (l.init) units.push({ key: null, head: l.shell, body: [], idx: [i], tol: [false], touches: new Set([exec[1]!]) });
        else join(`exec|${exec[1]!}`, new Set(linkFree(exec[2]!) ? [`${exec[1]!}@sys`] : [`${exec[1]!}#sys`, `${exec[1]!}@sys`]), `nsenter --net=${NETNS_DIR}/${exec[1]!}`, exec[2]!, i, false);
        return;
      }
      const m = /^(ip|bridge) (?:-n (\S+) )?(.*)$/.exec(l.shell);
      const add = m && m[1] === 'ip' && !m[2] ? /^netns add (\S+)$/.exec(m[3]!) : null;
      if (add) {
        units[0]!.body.push(m![3]!);
        units[0]!.idx.push(i);
        units[0]!.tol.push(false);
        return;
      }
      if (!m || !m[2] || unsafe.test(m[3]!)) {
        units.push({ key: null, head: l.shell, body: [], idx: [i], tol: [false], touches: 'all' });
        return;
      }
      const table = m[1] === 'bridge' ? (/^fdb /.test(m[3]!) ? '#fdb' : '') : /^(route|neigh|addr) /.test(m[3]!) ? '#l3' : '';
      const touches = new Set([`${m[2]}${table}`, ...[...m[3]!.matchAll(/\bnetns (\S+)/g)].map((x) => x[1]!), ...(/^link del /.test(m[3]!) ? ['*'] : [])]);
      join(`${m[1]}|${m[2]}`, touches, `${m[1]} -n ${m[2]}`, m[3]!, i, l.tolerant === true);
    });
    const out = [
      // A POSIX sh script (dash starts programs for half of what bash costs). Where a batch's complaints go
      // (a file the caller made saves two programs per topology); `pick N a1 a2 …` is aN.
      'set -u', ...(errFile === undefined ? ['T=$(mktemp)', `trap 'rm -f "$T"' EXIT`] : [`T=${errFile}`]), `fail() { echo "ORACLE-FAILED $1" >&2; exit 97; }`,
      'pick() { shift "$1"; echo "$1"; }',
      // After a -force batch: a refusal of a tolerant line is the agent's log line; of any other, the end.
      'chk() { for n in $(grep -o "Command failed -:[0-9]*" "$T" | cut -d: -f2); do [ "$(pick "$n" $3)" = 1 ] || { cat "$T" >&2; fail "$(pick "$n" $2)"; }; done; sed "s/^/ORACLE-REFUSED $1: /" "$T" >&2; }',
    ];
    const heredoc = (body: readonly string[]) => `\n${body.join('\n')}\nORACLE_EOF`;
    // Every new namespace's settings come from one nsrun.pl (kernel.ts), which enters each namespace itself
    // and writes them as sysctl does, instead of an nsenter and a sysctl per namespace; it names a failing
    // line itself.
    const initUnit = inits.length ? [`${nsrunCommand().map(shellWord).join(' ')} <<'ORACLE_EOF' || exit 97${heredoc(inits)}`] : [];
    for (const u of [units[0]!, ...initUnit, ...units.slice(1)]) {
      if (typeof u === 'string') out.push(u);
      else if (u.key === null) out.push(`${u.head} || fail ${u.idx[0]!}`);
      // A fault podnet refused: the kernel must refuse it too (what it says goes to the error file).
      else if (u.key === 'refused') out.push(`if ${u.head} 2>"$T"; then echo "ORACLE-ACCEPTED ${u.idx[0]!}" >&2; exit 98; fi`);
      else if (u.key.startsWith('exec|')) {
        // One program: as itself. More: one sh there, writing each sysctl itself (sysctlWrites).
        if (u.body.length === 1) out.push(`${u.head} ${u.body[0]!} || fail ${u.idx[0]!}`);
        else out.push(`${u.head} sh -s <<'ORACLE_EOF' || fail ${u.idx[0]!}${heredoc(u.body.flatMap((b, j) => (sysctlWrites(b) ?? [b]).map((c) => `${c} || { echo "ORACLE-FAILED ${u.idx[j]!}" >&2; exit 97; }`)))}`);
      } else if (u.tol.some((t) => t)) {
        out.push(`${u.head} -force -batch - 2>"$T" <<'ORACLE_EOF' || chk ${u.head.split(' ')[2]!} '${u.idx.join(' ')}' '${u.tol.map((t) => (t ? 1 : 0)).join(' ')}'${heredoc(u.body)}`);
      } else if (u.body.length) {
        out.push(`${u.head} -batch - 2>"$T" <<'ORACLE_EOF' || { cat "$T" >&2; n=$(grep -o 'Command failed -:[0-9]*' "$T" | head -1 | cut -d: -f2); fail "$(pick "\${n:-1}" ${u.idx.join(' ')})"; }${heredoc(u.body)}`);
      }
    }
    return out.join('\n') + '\n';
  }
}

