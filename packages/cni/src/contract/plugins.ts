/**
 * The reference plugins a node's /opt/cni/bin holds in podnet, each a pure function of (command,
 * configuration, invocation) that answers model actions and a result in the current shape, or a CNI
 * error — what the Go plugin does to a node, in podnet's action vocabulary:
 *
 * - `bridge` (plugins/main/bridge): the bridge (created on first use, its gateway address when
 *   `isGateway`), a veth per container on it, the IPAM addresses and routes in the container, a default
 *   route with `isDefaultGateway`, `ip_forward`, and with `ipMasq` the masquerade rules;
 * - `ptp` (plugins/main/ptp): a veth whose host end carries the gateway as a /32, a host route to the
 *   container's /32, and in the container the address with its prefix route replaced by a /32 route to the
 *   gateway and the subnet via the gateway;
 * - `host-local` (plugins/ipam/host-local), see ../ipam/host-local.ts;
 * - `loopback`, and the chained `portmap`, `bandwidth`, `tuning`, which pass `prevResult` through;
 * - `flannel` (flannel-io/cni-plugin), the meta-plugin that reads /run/flannel/subnet.env and delegates
 *   to `bridge` with host-local IPAM on the node's subnet.
 *
 * What is not modelled is refused with code 2 naming the field (bridge `vlan`, `vlanTrunk`,
 * `macspoofchk`), or recorded and documented (promiscuous mode, portmap's host ports, bandwidth's
 * shaping, tuning's sysctls): see docs/cni-contract.md. Hairpin mode is modelled (a `link.set` with
 * `hairpin` on the pod's port).
 */
import { sha512 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import {
  formatIpv4, macFromSeed, macFromSeeds, netnsPath, parseIfAddr, parseIpv4, type Action, type ClusterState, type CniError, type Link, type NetNs, type Node, type RuleSpec,
  YoungWeakMap,
} from '@podnet/core';
import {
  EMPTY_HOST_LOCAL, envIpText, hostLocalAdd, hostLocalCheck, hostLocalDel, inBuild, loadHostLocalConfigFor, loadSubnetHostLocalConfig, type HostLocalConfig, type HostLocalStore, type IpamError,
} from '../ipam/host-local.js';
import { CNI_ERROR_CODES, cniError, goType } from './config.js';
import type { CurrentResult } from './result.js';
import { withKey } from '../util/record.js';
import { textMemo } from './memo.js';

/** Where and for whom a plugin runs: the CNI_* environment plus what it can see of the node. */
export interface CniInvocation {
  readonly state: ClusterState;
  readonly node: Node;
  /** The pod (`namespace/name`) whose sandbox this is. */
  readonly podKey: string;
  /** The pod's uid (seeds the MAC addresses a kernel would pick at random). */
  readonly podUid: string;
  /** The sandbox's namespace: during ADD, the one the runtime just made; later, the pod's. */
  readonly podNetns: NetNs | null;
  /** CNI_CONTAINERID. */
  readonly containerId: string;
  /** CNI_NETNS. */
  readonly netns: string;
  /** CNI_IFNAME. */
  readonly ifname: string;
  /** CNI_ARGS (`IgnoreUnknown=1;K8S_POD_NAMESPACE=…;IP=…`). */
  readonly args: string;
  /** Files on the node that plugins read (path → content), e.g. /run/flannel/subnet.env. */
  readonly files: Readonly<Record<string, string>>;
}

/**
 * The invocation a conflist design makes for a pod's ADD, DEL or CHECK. CNI_ARGS (`args`) is built when
 * read: host-local asks {@link cniArgsIpText} for its `IP=` value, which this invocation answers from the
 * request when no value of the pairs before it holds a `;` (only such a value could start one more pair),
 * so the ~200-character text a pod ADD used to build and scan is never made. CNI_NETNS given as null is the
 * pod's own path (`netnsPath(pod)`), made when read: no plugin's DEL reads it, and a DEL made it (four
 * FNV-1a rounds over the pod's UID) for every pod deleted.
 * @internal
 */
export class PodInvocation implements CniInvocation {
  readonly #namespace: string;
  readonly #name: string;
  readonly #requested: string | null;
  #args: string | null = null;
  #netns: string | null;

  constructor(
    readonly state: ClusterState, readonly node: Node, pod: { readonly namespace: string; readonly name: string; readonly key: string; readonly uid: string; readonly netns: NetNs | null },
    readonly containerId: string, netns: string | null, readonly ifname: string, requested: string | null, readonly files: Readonly<Record<string, string>>,
  ) {
    this.podKey = pod.key;
    this.podUid = pod.uid;
    this.podNetns = pod.netns;
    this.#namespace = pod.namespace;
    this.#name = pod.name;
    this.#requested = requested;
    this.#netns = netns;
  }

  readonly podKey: string;
  readonly podUid: string;
  readonly podNetns: NetNs | null;

  get netns(): string {
    return (this.#netns ??= netnsPath({ uid: this.podUid }));
  }

  get args(): string {
    return (this.#args ??= `IgnoreUnknown=1;K8S_POD_NAMESPACE=${this.#namespace};K8S_POD_NAME=${this.#name};K8S_POD_INFRA_CONTAINER_ID=${this.containerId};K8S_POD_UID=${this.podUid}${this.#requested === null ? '' : `;IP=${this.#requested}`}`);
  }

  /** `envIpText(this.args)`, from the parts when they say it alone. */
  ipText(): string | null {
    const r = this.#requested;
    const plain = this.#namespace.indexOf(';') < 0 && this.#name.indexOf(';') < 0 && this.containerId.indexOf(';') < 0 && this.podUid.indexOf(';') < 0
      && (r === null || (r.indexOf(';') < 0 && r.indexOf('=') < 0));
    return plain ? r : envIpText(this.args);
  }
}

/** The value of CNI_ARGS' first `IP=` pair ({@link envIpText}), without building the text of a {@link PodInvocation}. */
export function cniArgsIpText(inv: CniInvocation): string | null {
  return inv instanceof PodInvocation ? inv.ipText() : envIpText(inv.args);
}

/** IPAM stores of the node, by data directory and network name (`/var/lib/cni/networks/<name>`). */
export type IpamStores = Readonly<Record<string, HostLocalStore>>;

/** What one plugin run answers. */
export type PluginOutcome =
  | { readonly ok: true; readonly result: CurrentResult | null; readonly actions: readonly Action[]; readonly stores: IpamStores }
  | { readonly ok: false; readonly error: CniError };

/** A plugin's configuration as the runtime hands it over: the file's object plus name, cniVersion, prevResult. */
export type PluginInput = Readonly<Record<string, unknown>> & { readonly type: string; readonly name: string; readonly cniVersion: string; readonly prevResult?: CurrentResult };

/** A CNI command. */
export type CniCommand = 'ADD' | 'DEL' | 'CHECK';

/**
 * A plugin. `known` is the `Readings` of `conf` when the caller holds them already (flannel's memo entry
 * for its delegate): the plugin reads them there rather than looking the configuration up.
 */
export type Plugin = (cmd: CniCommand, conf: PluginInput, inv: CniInvocation, stores: IpamStores, known?: Readings) => PluginOutcome;

/** The directories libcni searches, as kubelet and containerd configure them. */
export const CNI_PATH = ['/opt/cni/bin'] as const;

/**
 * `a.b.c.d/len` → address and length, for texts host-local and the plugins built themselves (already
 * valid); the strict parser of user input lives in core.
 */
function ifAddr(text: string): { ip: number; len: number } {
  const slash = text.indexOf('/');
  return slash < 0 ? { ip: parseIpv4(text), len: 32 } : { ip: parseIpv4(text.slice(0, slash)), len: Number(text.slice(slash + 1)) };
}

const ok = (result: CurrentResult | null, actions: readonly Action[], stores: IpamStores): PluginOutcome => ({ ok: true, result, actions, stores });
/** A plain Go error out of a plugin: skel reports it with code 999. */
const plain = (conf: PluginInput, msg: string): PluginOutcome => ({ ok: false, error: cniError(conf.cniVersion, CNI_ERROR_CODES.INTERNAL, msg) });
const unsupported = (conf: PluginInput, key: string, value: unknown, why: string): PluginOutcome => ({
  ok: false, error: cniError(conf.cniVersion, CNI_ERROR_CODES.UNSUPPORTED_FIELD, `unsupported field in network configuration: "${key}": ${JSON.stringify(value)}`, why),
});

/**
 * The namespace id `prefix + name`, taken from the namespace when it is that one: the id string the
 * model already holds, not one more copy of it in every action and link a pod keeps.
 */
const nsIdOf = (ns: NetNs | null | undefined, prefix: string, name: string): string => {
  const id = ns?.id;
  return id !== undefined && id.length === prefix.length + name.length && id.startsWith(prefix) && id.endsWith(name) ? id : `${prefix}${name}`;
};
const hostNs = (inv: CniInvocation) => nsIdOf(inv.node.host, 'node/', inv.node.name);
const podNs = (inv: CniInvocation) => nsIdOf(inv.podNetns, 'pod/', inv.podKey);
const linkOf = (ns: NetNs | null | undefined, name: string): Link | undefined => (ns && Object.prototype.hasOwnProperty.call(ns.links, name) ? ns.links[name] : undefined);

/** The host-side veth name (ip.RandomVethName picks `veth` + 8 random hex digits; derived from the pod here). */
export function vethName(podKey: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < podKey.length; i++) h = Math.imul(h ^ podKey.charCodeAt(i), 0x01000193);
  // One flat string (the host link's name and key, kept per pod), not `veth` + toString + padStart pieces.
  return String.fromCharCode(118, 101, 116, 104, hexCode(h >>> 28), hexCode(h >>> 24), hexCode(h >>> 20), hexCode(h >>> 16), hexCode(h >>> 12), hexCode(h >>> 8), hexCode(h >>> 4), hexCode(h));
}

/**
 * {@link vethName}, one string per pod key: the host end's name becomes a key of the host's links table, and a
 * text used as a key before is found at once, where a fresh one goes through V8's string table on the runtime's
 * slow path (see host-local's keyText). A property campaign's runs name the same few pods again and again.
 * Bounded (textMemo, 65,536 keys). Not kept during a bulk build, which names each pod once:
 * the map's misses and inserts were 4 % of a 5,000-node build.
 */
function keptVethName(podKey: string): string {
  return inBuild() ? vethName(podKey) : vethNames(podKey);
}
const vethNames = textMemo(vethName, 65_536);

/** The char code of the lower-case hex digit of `x`'s low four bits. */
function hexCode(x: number): number {
  const d = x & 15;
  return d < 10 ? 48 + d : 87 + d;
}

function bool(conf: PluginInput, key: string): boolean {
  return conf[key] === true;
}

function mtuOf(conf: PluginInput): number {
  const m = conf['mtu'];
  return typeof m === 'number' && m > 0 ? m : 1500;
}

/** What the plugins read of one configuration object, each read when first asked ({@link perConfig}). */
interface Readings {
  storeKey: string | undefined;
  hostLocalPlan: { readonly loaded: HostLocalConfig | IpamError; readonly key: string } | undefined;
  bridgeSettings: BridgeSettings | undefined;
}

/**
 * Every configuration's {@link Readings}, in one map: a new node's first ADD reads three of its delegate's,
 * and a map per reading made three entries (a weak map's new entry was ~1-3 µs of that ADD).
 */
const readings = new YoungWeakMap<PluginInput, Readings>();

/** The {@link Readings} of a configuration without a prevResult, made (empty) the first time it is asked for. */
function readingsOf(conf: PluginInput): Readings {
  let r = readings.get(conf);
  if (r === undefined) readings.set(conf, (r = { storeKey: undefined, hostLocalPlan: undefined, bridgeSettings: undefined }));
  return r;
}

/**
 * `read` of a configuration, once per configuration object (flannel's delegate is one per node, a list's
 * plugin one per list), kept as its reading `name` in `known` (the configuration's readings, when the caller
 * holds them) or else in the weak map; a configuration carrying a prevResult is a copy made for one run, read
 * as it comes.
 */
function perConfig<K extends keyof Readings>(name: K, read: (conf: PluginInput) => NonNullable<Readings[K]>): (conf: PluginInput, known?: Readings) => NonNullable<Readings[K]> {
  return (conf, known) => {
    if (conf.prevResult !== undefined) return read(conf);
    const r = known ?? readingsOf(conf);
    let v = r[name];
    if (v === undefined) r[name] = v = read(conf);
    return v as NonNullable<Readings[K]>;
  };
}

/** The store's directory: `ipam.dataDir` (host-local's default /var/lib/cni/networks), then the network's name. */
function storeDir(conf: PluginInput): string {
  const ipam = (conf['ipam'] ?? {}) as Record<string, unknown>;
  return `${typeof ipam['dataDir'] === 'string' ? ipam['dataDir'] : '/var/lib/cni/networks'}/${conf.name}`;
}

/** {@link storeDir}, once per configuration object. */
const storeKey = perConfig('storeKey', storeDir);

/**
 * What host-local reads of a configuration (whose `ipam` is an object) when CNI_ARGS asks for no address:
 * its loaded configuration (or the error) and its store's directory.
 */
const hostLocalPlan = perConfig('hostLocalPlan', (conf): { readonly loaded: HostLocalConfig | IpamError; readonly key: string } => (
  { loaded: loadHostLocalConfigFor(conf['ipam'] as Record<string, unknown>, conf.cniVersion, null, conf), key: storeKey(conf) }
));

/** host-local, called directly or delegated to by bridge, ptp (ipam.ExecAdd/ExecDel/ExecCheck). */
const hostLocal: Plugin = (cmd, conf, inv, stores, known) => {
  const ipam = conf['ipam'];
  if (ipam === null || typeof ipam !== 'object') return plain(conf, 'IPAM config missing \'ipam\' key');
  const ipText = cniArgsIpText(inv);
  const plan = ipText === null ? hostLocalPlan(conf, known) : null;
  const loaded = plan !== null ? plan.loaded : loadHostLocalConfigFor(ipam as Record<string, unknown>, conf.cniVersion, ipText, conf);
  if ('error' in loaded) return plain(conf, loaded.error);
  const key = plan !== null ? plan.key : storeKey(conf, known);
  const store = stores[key] ?? EMPTY_HOST_LOCAL;
  if (cmd === 'DEL') return ok(null, [], withKey(stores, key, hostLocalDel(store, inv.containerId, inv.ifname)));
  if (cmd === 'CHECK') {
    const e = hostLocalCheck(store, inv.containerId, inv.ifname);
    return e ? plain(conf, e.error) : ok(null, [], stores);
  }
  const got = hostLocalAdd(loaded, store, inv.containerId, inv.ifname);
  if ('error' in got) return plain(conf, got.error);
  // A store extended in place (a cluster being built) is already where it was.
  return ok({ interfaces: NO_INTERFACES, ips: got.result.ips, routes: got.result.routes, dns: NO_DNS }, [], got.store === stores[key] ? stores : withKey(stores, key, got.store));
};


/** host-local's empty DNS section: one shared (frozen) object, which every pod's result holds. */
const NO_DNS: CurrentResult['dns'] = Object.freeze({});
/** host-local's interfaces (an IPAM result has none), shared likewise. */
const NO_INTERFACES: CurrentResult['interfaces'] = Object.freeze([]);

/** Runs the IPAM plugin a main plugin names (the ipam section's `type`). */
function execIpam(cmd: CniCommand, conf: PluginInput, inv: CniInvocation, stores: IpamStores, known?: Readings): PluginOutcome {
  const type = ((conf['ipam'] ?? {}) as Record<string, unknown>)['type'];
  if (type !== 'host-local') return plain(conf, `failed to find plugin "${String(type)}" in path [${CNI_PATH.join(' ')}]`);
  return hostLocal(cmd, conf, inv, stores, known);
}

/**
 * ipam.ConfigureIface: the container's addresses, then the result's routes, each via its own gateway or
 * else the first address's (netlink.RouteAddEcmp: NLM_F_CREATE without NLM_F_EXCL, so the kernel
 * refuses only a route identical to one present — "file exists"). Appends the actions to `actions` (the
 * plugin's own list: no list of its own to copy over) and answers null, or answers the error.
 */
function configureIface(inv: CniInvocation, result: CurrentResult, actions: Action[], goDefault?: CurrentResult['routes'][number]): string | null {
  const p = podNs(inv);
  const ips = result.ips;
  let v4gw: string | undefined;
  for (let i = 0; i < ips.length; i++) {
    actions.push({ op: 'addr.add', ns: p, dev: inv.ifname, addr: ips[i]!.address });
    if (v4gw === undefined) v4gw = ips[i]!.gateway;
  }
  // Routes mostly share one gateway: the last answer is kept (loops, not closures: every pod ADD runs this).
  let lastGw: string | null = null;
  let lastOnLink = false;
  const routes = result.routes;
  for (let k = 0; k < routes.length; k++) {
    const r = routes[k]!;
    const gw = r.gw ?? v4gw;
    // A route to a destination an earlier route of the list has (a scan: lists hold a few routes).
    let j = 0;
    while (j < k && routes[j]!.dst !== r.dst) j++;
    if (j < k) {
      if ((routes[j]!.gw ?? v4gw) === gw) return `${routeText(r, gw, inv, goDefault)}: file exists`;
      return `${routeText(r, gw, inv, goDefault)}: podnet keeps one route per destination (the kernel would add a second one)`;
    }
    if (gw !== undefined && gw !== lastGw) {
      lastGw = gw;
      lastOnLink = onLinkOf(gw, ips);
    }
    if (gw !== undefined && !lastOnLink) return `${routeText(r, gw, inv, goDefault)}: network is unreachable`;
    const dst = r.dst === '0.0.0.0/0' ? 'default' : r.dst;
    actions.push(gw === undefined ? { op: 'route.add', ns: p, dst, dev: inv.ifname } : { op: 'route.add', ns: p, dst, via: gw, dev: inv.ifname });
  }
  return null;
}

/** The container has only the addresses just added: a gateway must lie in one of their prefixes. */
function onLinkOf(gw: string, ips: CurrentResult['ips']): boolean {
  const g = parseIpv4(gw);
  for (let i = 0; i < ips.length; i++) {
    const a = ifAddr(ips[i]!.address);
    const m = a.len === 0 ? 0 : (0xffffffff << (32 - a.len)) >>> 0;
    if (((a.ip & m) >>> 0) === ((g & m) >>> 0)) return true;
  }
  return false;
}

/**
 * A route as configureIface's errors print it: Go prints the route's net.IPNet value field by field, a
 * 4-byte mask for a parsed destination, the 16-byte net.IPv4zero for the default route the bridge
 * plugin's calcGateways builds (`goDefault`).
 */
function routeText(r: CurrentResult['routes'][number], gw: string | undefined, inv: CniInvocation, goDefault: CurrentResult['routes'][number] | undefined): string {
  const [ip, len] = r.dst.split('/');
  const mask = r === goDefault ? '00000000000000000000ffff00000000' : (Number(len) === 0 ? 0 : (0xffffffff << (32 - Number(len))) >>> 0).toString(16).padStart(8, '0');
  return `failed to add route '{${ip} ${mask}} via ${gw ?? '<nil>'} dev ${inv.ifname}'`;
}

/**
 * The chain the plugins' ipMasq uses for a container (utils.FormatChainName): `CNI-` and the first 24 hex
 * digits of the SHA-512 of the network's name and the container's ID — `CNI-89e35ba6e44144d1485f156c` for
 * `mynet` and `a`, as the real bridge plugin named it (packages/cni/scripts/real-bridge-plugin.sh).
 */
export function ipMasqChain(network: string, containerId: string): string {
  return `CNI-${bytesToHex(sha512(new TextEncoder().encode(network + containerId))).slice(0, 24)}`;
}

/**
 * ip.SetupIPMasq for each of the container's addresses: the container's chain (made if missing) ACCEPTs its
 * subnet and masquerades the rest but multicast, each rule once (AppendUnique), and POSTROUTING sends the
 * address's traffic there (`-s IP -j CNI-…`), all with the `name: … id: …` comment.
 */
function ipMasqRules(inv: CniInvocation, conf: PluginInput, result: CurrentResult): Action[] {
  const h = hostNs(inv);
  const comment = `name: "${conf.name}" id: "${inv.containerId}"`;
  const chain = ipMasqChain(conf.name, inv.containerId);
  const actions: Action[] = [];
  const seen = new Set<string>();
  const unique = (rule: RuleSpec): void => {
    const key = JSON.stringify(rule);
    if (!seen.has(key)) { seen.add(key); actions.push({ op: 'rule.append', ns: h, rule }); }
  };
  if (!inv.node.host.nfChains.includes(`nat ${chain}`)) actions.push({ op: 'chain.new', ns: h, table: 'nat', chain });
  for (const ip of result.ips) {
    const { ip: addr, len } = ifAddr(ip.address);
    const net = `${formatIpv4(len === 0 ? 0 : (addr & ((0xffffffff << (32 - len)) >>> 0)) >>> 0)}/${len}`;
    unique({ table: 'nat', chain, dst: net, target: 'ACCEPT', comment });
    unique({ table: 'nat', chain, notDst: '224.0.0.0/4', target: 'MASQUERADE', comment });
    unique({ table: 'nat', chain: 'POSTROUTING', src: `${formatIpv4(addr)}/32`, target: 'JUMP', jump: chain, comment });
  }
  return actions;
}

/**
 * ip.TeardownIPMasq for each of the container's addresses: POSTROUTING's jump for the address, then the
 * chain, flushed and deleted; what is missing is passed over, as the plugin ignores "does not exist" — the
 * container's addresses now may include one it was not given (an `ip addr add` in the pod), whose jump was
 * never added.
 */
function ipMasqTeardown(inv: CniInvocation, conf: PluginInput, addrs: readonly string[]): Action[] {
  const h = hostNs(inv);
  const chain = ipMasqChain(conf.name, inv.containerId);
  const jumps = inv.node.host.rules.filter((r) => r.table === 'nat' && r.chain === 'POSTROUTING' && r.target === 'JUMP' && r.jump === chain && r.src !== null);
  const actions: Action[] = [];
  for (const a of addrs) {
    const { ip } = ifAddr(a);
    const r = jumps.find((x) => x.src!.addr === ip && x.src!.len === 32);
    if (r !== undefined) actions.push({ op: 'rule.del', ns: h, rule: { table: 'nat', chain: 'POSTROUTING', src: `${formatIpv4(ip)}/32`, target: 'JUMP', jump: chain, ...(r.comment !== null ? { comment: r.comment } : {}) } });
  }
  const left = jumps.length - actions.length;
  if (inv.node.host.nfChains.includes(`nat ${chain}`)) {
    if (inv.node.host.rules.some((r) => r.table === 'nat' && r.chain === chain)) actions.push({ op: 'chain.flush', ns: h, table: 'nat', chain });
    // Deleted once nothing jumps to it (a jump for an address the container no longer has would keep it busy).
    if (left === 0) actions.push({ op: 'chain.del', ns: h, table: 'nat', chain });
  }
  return actions;
}

/** The container's IPv4 addresses as `a.b.c.d/len` (what ip.DelLinkByNameAddr returns before deleting). */
function podAddrs(inv: CniInvocation): string[] {
  const l = linkOf(inv.podNetns, inv.ifname);
  return l ? l.addrs.map((a) => `${formatIpv4(a.ip)}/${a.len}`) : [];
}

/** ip.SetupVeth refuses a container interface name that exists already. */
function vethExists(conf: PluginInput, inv: CniInvocation): PluginOutcome | null {
  return linkOf(inv.podNetns, inv.ifname) ? plain(conf, `container veth name provided (${inv.ifname}) already exists`) : null;
}

/** The veth pair's `link.add`, appended to `actions`, and the result's entries of its two ends. */
function vethPair(inv: CniInvocation, mtu: number, actions: Action[], master?: string): { host: { name: string; mac: string }; cont: { name: string; mac: string; sandbox: string } } {
  const veth = keptVethName(inv.podKey);
  const hostMac = macFromSeeds(veth, inv.podUid);
  const contMac = macFromSeeds(inv.ifname, inv.podKey, inv.podUid);
  const peer = { ns: podNs(inv), name: inv.ifname, mac: contMac, mtu, up: true };
  // Two literals, not a conditional spread (which builds the object on V8's slow path).
  const add: Action = master
    ? { op: 'link.add', ns: hostNs(inv), name: veth, kind: 'veth', mtu, mac: hostMac, master, up: true, peer }
    : { op: 'link.add', ns: hostNs(inv), name: veth, kind: 'veth', mtu, mac: hostMac, up: true, peer };
  actions.push(add);
  return {
    host: { name: veth, mac: hostMac },
    cont: { name: inv.ifname, mac: contMac, sandbox: inv.netns },
  };
}

/** `10.244.1.4/24` → `10.244.1.1`: the first address of the prefix (calcGateways' default gateway). */
function firstHost(address: string): string {
  const a = ifAddr(address);
  return formatIpv4(((a.ip & ((0xffffffff << (32 - a.len)) >>> 0)) + 1) >>> 0);
}

/** `10.244.1.4/24` → `10.244.1.1/24` style: the gateway with the address's mask. */
const withMask = (gw: string, address: string): string => `${gw}/${address.split('/')[1]}`;

/**
 * {@link withMask}'s address and prefix length as numbers, without its text: a node's bridge mostly holds the
 * address already, and only an action or an error needs the text. The pods of a run's nodes come in turns, so
 * the last answer remembered (the text, its parse and a spread of the parse into a new object) rarely fitted:
 * that was ~12 % of the self time under a CNI ADD in small-cluster runs.
 */
function gatewayAddr(gw: string, address: string): { readonly ip: number; readonly len: number } {
  const at = address.indexOf('/') + 1;
  const n = address.length - at;
  // host-local's `a.b.c.d/len`: one slash, then one or two digits (what Number reads of them).
  const d0 = address.charCodeAt(at) - 48;
  const d1 = n === 2 ? address.charCodeAt(at + 1) - 48 : 0;
  if (at > 0 && (n === 1 || n === 2) && d0 >= 0 && d0 <= 9 && d1 >= 0 && d1 <= 9) return { ip: gatewayIp(gw), len: n === 1 ? d0 : d0 * 10 + d1 };
  return ifAddr(withMask(gw, address));
}

/** `parseIpv4(gw)`, the last answer handed out again (a node's gateway text is one string, host-local's). */
function gatewayIp(gw: string): number {
  if (gw !== lastGw) {
    const ip = parseIpv4(gw);
    lastGw = gw;
    lastGwIp = ip;
  }
  return lastGwIp;
}
let lastGw: string | null = null;
let lastGwIp = 0;

/** netlink's Addr.String and types.Route.String, as CHECK's messages print them. */
function goRoute(r: { dst: string; gw?: string }): string {
  const [ip, len] = r.dst.split('/');
  const n = Number(len);
  const mask = (n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0).toString(16).padStart(8, '0');
  return `{Dst:{IP:${ip} Mask:${mask}} GW:${r.gw ?? '<nil>'} MTU:0 AdvMSS:0 Priority:0 Table:<nil> Scope:<nil>}`;
}

/** ip.ValidateExpectedInterfaceIPs and ip.ValidateExpectedRoute, in the container. */
function validateContainerIpsAndRoutes(inv: CniInvocation, conf: PluginInput, prev: CurrentResult): PluginOutcome | null {
  const ns = inv.podNetns;
  const link = linkOf(ns, inv.ifname);
  if (!ns) return plain(conf, `failed to open netns "${inv.netns}": unknown FS magic on "${inv.netns}": 0`);
  for (const ip of prev.ips) {
    if (!link) return plain(conf, `Cannot find container link ${inv.ifname}`);
    const { ip: addr, len } = ifAddr(ip.address);
    if (!link.addrs.some((a) => a.ip === addr && a.len === len)) return plain(conf, `Failed to match addr ${ip.address} on interface ${inv.ifname}`);
    const net = len === 0 ? 0 : (addr & ((0xffffffff << (32 - len)) >>> 0)) >>> 0;
    const hasPrefix = [...ns.routes, ...kernelPrefixes(ns)].some((r) => r.dst.addr === net && r.dst.len === len);
    if (!hasPrefix) return plain(conf, `Failed to find Gateway ${ip.gateway ?? '<nil>'} for interface ${inv.ifname}`);
  }
  for (const r of prev.routes) {
    const [d, l] = r.dst.split('/');
    const dst = ifAddr(`${d}/${l}`);
    const want = r.gw === undefined ? null : ifAddr(`${r.gw}/32`).ip;
    // The default route is looked up by destination alone; any other by destination and gateway
    // (netlink's RT_FILTER_DST | RT_FILTER_GW: a route listed without gw matches only a gateway-less one).
    const found = ns.routes.some((x) => x.dst.addr === dst.ip && x.dst.len === dst.len && (dst.len === 0 || x.via === want))
      || (want === null && dst.len > 0 && kernelPrefixes(ns).some((x) => x.dst.addr === dst.ip && x.dst.len === dst.len));
    if (!found) return plain(conf, `Expected Route ${goRoute(r)} not found in routing table`);
  }
  return null;
}

function kernelPrefixes(ns: NetNs): { dst: { addr: number; len: number } }[] {
  const out: { dst: { addr: number; len: number } }[] = [];
  for (const l of Object.values(ns.links)) {
    if (!l.up || l.kind === 'loopback') continue;
    for (const a of l.addrs) if (a.len < 32 && a.scope !== 'host' && !a.noPrefixRoute) out.push({ dst: { addr: a.len === 0 ? 0 : (a.ip & ((0xffffffff << (32 - a.len)) >>> 0)) >>> 0, len: a.len } });
  }
  return out;
}

/** Bridge fields podnet refuses when set (code 2), and why. */
const BRIDGE_UNMODELLED = [
  ['vlan', 'podnet does not model bridge VLAN filtering'], ['vlanTrunk', 'podnet does not model bridge VLAN filtering'],
  ['macspoofchk', 'podnet does not model the nftables MAC spoof check'],
] as const;

/**
 * Result entries every pod of a node gets alike (the bridge's interface, the default route via its
 * gateway): the last one made is handed out again while it fits, frozen, rather than one more object
 * for every pod's stored result.
 */
let lastIface: { readonly name: string; readonly mac: string } = Object.freeze({ name: '', mac: '' });
function bridgeIface(name: string, mac: string): { readonly name: string; readonly mac: string } {
  if (lastIface.name !== name || lastIface.mac !== mac) lastIface = Object.freeze({ name, mac });
  return lastIface;
}
let lastDefault: CurrentResult['routes'][number] = Object.freeze({ dst: '0.0.0.0/0' });
function defaultVia(gw: string | undefined): CurrentResult['routes'][number] {
  if (lastDefault.gw !== gw) lastDefault = Object.freeze(gw === undefined ? { dst: '0.0.0.0/0' } : { dst: '0.0.0.0/0', gw });
  return lastDefault;
}

/**
 * A result's route list, the last one handed out again (frozen) while it holds the same routes: the pods of
 * a node get the same routes (IPAM's and the default route, each one shared object), so their results can
 * share the list too rather than keep one each.
 */
let lastRoutes: CurrentResult['routes'] = Object.freeze([]);
/** The list of `routes` and then `extra` (when given), as {@link lastRoutes} when it holds the same: built only when not. */
function sharedRoutes(routes: CurrentResult['routes'], extra: CurrentResult['routes'][number] | undefined): CurrentResult['routes'] {
  const n = routes.length;
  let same = lastRoutes.length === n + (extra === undefined ? 0 : 1) && (extra === undefined || lastRoutes[n] === extra);
  for (let i = 0; same && i < n; i++) same = routes[i] === lastRoutes[i];
  // Built at its exact size (every pod's result keeps it): a copy that is pushed onto reserves ~17 slots.
  if (!same) lastRoutes = Object.freeze(extra === undefined ? routes.slice() : routes.concat([extra]));
  return lastRoutes;
}

const NO_ADDRS: Link['addrs'] = Object.freeze([]);

/** Whether the bridge holds the address (host-scope ones aside): a loop, not a closure per pod ADD. */
function bridgeHas(addrs: Link['addrs'], want: { readonly ip: number; readonly len: number }): boolean {
  for (let i = 0; i < addrs.length; i++) if (addrs[i]!.scope !== 'host' && addrs[i]!.ip === want.ip && addrs[i]!.len === want.len) return true;
  return false;
}

/** Whether the actions so far add `addr` to `dev` in `ns`. */
function adds(actions: readonly Action[], ns: string, dev: string, addr: string): boolean {
  for (let i = 0; i < actions.length; i++) {
    const a = actions[i]!;
    if (a.op === 'addr.add' && a.ns === ns && a.dev === dev && a.addr === addr) return true;
  }
  return false;
}

/** What the bridge plugin reads of its configuration: the same for every pod ADD given that configuration. */
interface BridgeSettings {
  readonly brName: string;
  readonly isLayer3: boolean;
  /** The ADD's refusal of the configuration itself (a field podnet does not model, hairpin with promiscuous mode), or null. */
  readonly refused: ((conf: PluginInput) => PluginOutcome) | null;
  readonly isDefaultGW: boolean;
  readonly isGW: boolean;
  readonly mtu: number;
  /** `hairpinMode`: hairpin mode on each pod's port of the bridge (setupVeth's netlink.LinkSetHairpin). */
  readonly hairpin: boolean;
}

function readBridgeSettings(conf: PluginInput): BridgeSettings {
  const brName = typeof conf['bridge'] === 'string' && conf['bridge'] !== '' ? conf['bridge'] : 'cni0';
  const isLayer3 = typeof (conf['ipam'] as Record<string, unknown> | undefined)?.['type'] === 'string';
  let refused: BridgeSettings['refused'] = null;
  for (let i = 0; i < BRIDGE_UNMODELLED.length && refused === null; i++) {
    const [key, why] = BRIDGE_UNMODELLED[i]!;
    const v = conf[key];
    if (v !== undefined && v !== 0 && v !== false && !(Array.isArray(v) && v.length === 0)) refused = (c) => unsupported(c, key, v, why);
  }
  const isDefaultGW = bool(conf, 'isDefaultGateway');
  const isGW = bool(conf, 'isGateway') || isDefaultGW;
  if (refused === null && bool(conf, 'hairpinMode') && bool(conf, 'promiscMode')) refused = (c) => plain(c, 'cannot set hairpin mode and promiscuous mode at the same time');
  return { brName, isLayer3, refused, isDefaultGW, isGW, mtu: mtuOf(conf), hairpin: bool(conf, 'hairpinMode') };
}

/** {@link readBridgeSettings}, once per configuration object ({@link perConfig}). */
const bridgeSettings = perConfig('bridgeSettings', readBridgeSettings);

const bridge: Plugin = (cmd, conf, inv, stores, known) => {
  const settings = bridgeSettings(conf, known);
  const { brName, isLayer3 } = settings;
  const h = hostNs(inv);
  if (cmd === 'DEL') {
    // Idempotent: a missing namespace or interface is not an error; IPAM is released in any case. The
    // container's addresses (read before anything is removed: nothing here changes the node) only for ipMasq's teardown.
    const actions: Action[] = linkOf(inv.podNetns, inv.ifname) ? [{ op: 'link.del', ns: podNs(inv), name: inv.ifname }] : [];
    let s = stores;
    if (isLayer3) {
      const r = execIpam('DEL', conf, inv, stores, known);
      if (!r.ok) return r;
      s = r.stores;
    }
    if (isLayer3 && bool(conf, 'ipMasq')) actions.push(...ipMasqTeardown(inv, conf, podAddrs(inv)));
    return ok(null, actions, s);
  }
  if (cmd === 'CHECK') return bridgeCheck(conf, inv, stores, brName, isLayer3, known);
  if (settings.refused !== null) return settings.refused(conf);
  const { isDefaultGW, isGW, mtu } = settings;
  const existing = linkOf(inv.node.host, brName);
  if (existing && existing.kind !== 'bridge') return plain(conf, `failed to create bridge "${brName}": "${brName}" already exists but is not a bridge`);
  const dup = vethExists(conf, inv);
  if (dup) return dup;
  const actions: Action[] = [];
  const brMac = existing?.mac ?? macFromSeed(`${brName}|${inv.node.name}`);
  if (!existing) actions.push({ op: 'link.add', ns: h, name: brName, kind: 'bridge', mtu, mac: brMac }, { op: 'link.set', ns: h, name: brName, up: true });
  const pair = vethPair(inv, mtu, actions, brName);
  // setupVeth: LinkSetMaster, then LinkSetHairpin(hostVeth, hairpinMode); off is the new port's default, so
  // only `true` changes anything (flannel's delegate and the bridge design ask for it, kubenet does not).
  if (settings.hairpin) actions.push({ op: 'link.set', ns: h, name: pair.host.name, hairpin: true });
  const interfaces = [bridgeIface(brName, brMac), pair.host, pair.cont];
  let result: CurrentResult;
  let s = stores;
  if (isLayer3) {
    const r = execIpam('ADD', conf, inv, stores, known);
    if (!r.ok) return r;
    s = r.stores;
    const ipam = r.result!;
    if (ipam.ips.length === 0) return plain(conf, 'IPAM plugin returned missing IP config');
    // calcGateways: every address is on the container interface (index 2); a gateway is filled in when
    // the bridge is one; isDefaultGateway adds a default route unless IPAM gave one with a gateway.
    const ips = ipam.ips.map((ip) => {
      const gateway = ip.gateway ?? (isGW ? firstHost(ip.address) : undefined);
      // Two literals, not a conditional spread (which builds each object on V8's slow path).
      return gateway === undefined ? { interface: 2, address: ip.address } : { interface: 2, address: ip.address, gateway };
    });
    let goDefault: CurrentResult['routes'][number] | undefined;
    if (isDefaultGW && !ipam.routes.some((r) => r.gw !== undefined && r.dst === '0.0.0.0/0')) {
      const gw = ips.find((i) => i.gateway !== undefined)?.gateway;
      goDefault = defaultVia(gw);
    }
    result = { interfaces, ips, routes: sharedRoutes(ipam.routes, goDefault), dns: ipam.dns };
    const refused = configureIface(inv, result, actions, goDefault);
    if (refused !== null) return plain(conf, refused);
    if (isGW) {
      for (const ip of ips) {
        if (ip.gateway === undefined) continue;
        const addrs = existing?.addrs ?? NO_ADDRS;
        if (bridgeHas(addrs, gatewayAddr(ip.gateway, ip.address))) continue;
        const want = withMask(ip.gateway, ip.address);
        if (adds(actions, h, brName, want)) continue;
        const have = addrs.filter((a) => a.scope !== 'host');
        if (have.length > 0) {
          if (!bool(conf, 'forceAddress')) return plain(conf, `failed to set bridge addr: "${brName}" already has an IP address different from ${want}`);
          for (const a of have) actions.push({ op: 'addr.del', ns: h, dev: brName, addr: `${formatIpv4(a.ip)}/${a.len}` });
        }
        actions.push({ op: 'addr.add', ns: h, dev: brName, addr: want });
      }
      if (!inv.node.host.sysctl.ipForward) actions.push({ op: 'sysctl.set', ns: h, key: 'net.ipv4.ip_forward', value: 1 });
    }
    if (bool(conf, 'ipMasq')) actions.push(...ipMasqRules(inv, conf, result));
  } else result = { interfaces, ips: [], routes: [], dns: {} };
  // Use DNS settings of the configuration when given, else what IPAM said.
  const dns = conf['dns'] as CurrentResult['dns'] | undefined;
  if (dns && Object.keys(dns).length > 0) result = { ...result, dns };
  return ok(result, actions, s);
};

function bridgeCheck(conf: PluginInput, inv: CniInvocation, stores: IpamStores, brName: string, isLayer3: boolean, known: Readings | undefined): PluginOutcome {
  if (!inv.podNetns) return plain(conf, `failed to open netns "${inv.netns}": unknown FS magic on "${inv.netns}": 0`);
  if (isLayer3) {
    const r = execIpam('CHECK', conf, inv, stores, known);
    if (!r.ok) return r;
  }
  const prev = conf.prevResult;
  if (!prev) return plain(conf, 'Required prevResult missing');
  const br = prev.interfaces.find((i) => i.name === brName);
  const cont = prev.interfaces.find((i) => i.name === inv.ifname && i.sandbox === inv.netns);
  // validateCniBrInterface
  if (!br) return plain(conf, 'Interface name missing ');
  const brLink = linkOf(inv.node.host, br.name);
  if (!brLink) return plain(conf, `Interface name ${br.name} not found`);
  if (br.sandbox) return plain(conf, `Interface ${br.name} should not be in sandbox`);
  if (brLink.kind !== 'bridge') return plain(conf, `Interface ${br.name} does not have link type of bridge`);
  if (br.mac && br.mac !== brLink.mac) return plain(conf, `Bridge interface ${br.name} Mac doesn't match: ${br.mac}`);
  if (!cont) return plain(conf, `Sandbox in prevResult  doesn't match configured netns: ${inv.netns}`);
  // validateCniContainerInterface
  const contLink = linkOf(inv.podNetns, cont.name);
  if (!contLink) return plain(conf, `Interface name ${cont.name} not found`);
  if (contLink.kind !== 'veth') return plain(conf, `Error: Container interface ${cont.name} not of type veth`);
  if (cont.mac && cont.mac !== contLink.mac) return plain(conf, `Interface ${cont.name} Mac ${cont.mac} doesn't match container Mac: ${contLink.mac}`);
  // The host veth whose peer is the container interface and whose master is the bridge.
  const found = prev.interfaces.some((i) => {
    if (i.name === br.name || i.name === cont.name) return false;
    const l = linkOf(inv.node.host, i.name);
    return l?.kind === 'veth' && l.peer.ns === podNs(inv) && l.peer.name === cont.name && l.master === br.name;
  });
  if (!found) return plain(conf, `CNI veth created for bridge ${brName} was not found`);
  const e = validateContainerIpsAndRoutes(inv, conf, prev);
  return e ?? ok(null, [], stores);
}

const ptp: Plugin = (cmd, conf, inv, stores, known) => {
  const h = hostNs(inv);
  const p = podNs(inv);
  if (cmd === 'DEL') {
    const r = execIpam('DEL', conf, inv, stores, known);
    if (!r.ok) return r;
    const addrs = podAddrs(inv);
    const actions: Action[] = linkOf(inv.podNetns, inv.ifname) ? [{ op: 'link.del', ns: p, name: inv.ifname }] : [];
    if (addrs.length > 0 && bool(conf, 'ipMasq')) actions.push(...ipMasqTeardown(inv, conf, addrs));
    return ok(null, actions, r.stores);
  }
  if (cmd === 'CHECK') {
    if (!inv.podNetns) return plain(conf, `failed to open netns "${inv.netns}": unknown FS magic on "${inv.netns}": 0`);
    const r = execIpam('CHECK', conf, inv, stores, known);
    if (!r.ok) return r;
    const prev = conf.prevResult;
    if (!prev) return plain(conf, 'ptp: Required prevResult missing');
    const cont = prev.interfaces.find((i) => i.name === inv.ifname && i.sandbox === inv.netns);
    if (!cont) return plain(conf, `Sandbox in prevResult  doesn't match configured netns: ${inv.netns}`);
    const l = linkOf(inv.podNetns, cont.name);
    if (!l) return plain(conf, `ptp: Container Interface name in prevResult: ${cont.name} not found`);
    if (l.kind !== 'veth') return plain(conf, `Error: Container interface ${cont.name} not of type veth/p2p`);
    if (cont.mac && cont.mac !== l.mac) return plain(conf, `ptp: Interface ${cont.name} Mac ${cont.mac} doesn't match container Mac: ${l.mac}`);
    return validateContainerIpsAndRoutes(inv, conf, prev) ?? ok(null, [], stores);
  }
  const r = execIpam('ADD', conf, inv, stores, known);
  if (!r.ok) return r;
  const ipam = r.result!;
  if (ipam.ips.length === 0) return plain(conf, 'IPAM plugin returned missing IP config');
  const dup = vethExists(conf, inv);
  if (dup) return dup;
  const mtu = mtuOf(conf);
  const actions: Action[] = [];
  const pair = vethPair(inv, mtu, actions);
  let result: CurrentResult = { interfaces: [pair.host, pair.cont], ips: ipam.ips.map((ip) => ({ interface: 1, ...ip })), routes: ipam.routes, dns: ipam.dns };
  if (!inv.node.host.sysctl.ipForward) actions.push({ op: 'sysctl.set', ns: h, key: 'net.ipv4.ip_forward', value: 1 });
  const refused = configureIface(inv, result, actions);
  if (refused !== null) return plain(conf, refused);
  for (const ip of result.ips) {
    const { ip: addr, len } = ifAddr(ip.address);
    const src = formatIpv4(addr);
    const net = `${formatIpv4(len === 0 ? 0 : (addr & ((0xffffffff << (32 - len)) >>> 0)) >>> 0)}/${len}`;
    if (ip.gateway === undefined) return plain(conf, `failed to add route {Ifindex: 2 Dst: ${net} Src: ${src} Gw: <nil> Flags: [] Table: 0 Realm: 0}: invalid argument`);
    // The container: the prefix route goes, a /32 to the gateway and the subnet via the gateway come.
    actions.push(
      { op: 'route.del', ns: p, dst: net, dev: inv.ifname },
      { op: 'route.add', ns: p, dst: `${ip.gateway}/32`, dev: inv.ifname, scope: 'link', src },
      { op: 'route.add', ns: p, dst: net, via: ip.gateway, dev: inv.ifname, src },
    );
  }
  // The host: the gateway as a /32 on the veth, a host route to the container.
  for (const ip of result.ips) {
    actions.push(
      { op: 'addr.add', ns: h, dev: pair.host.name, addr: `${ip.gateway}/32` },
      { op: 'route.add', ns: h, dst: `${ip.address.split('/')[0]}/32`, dev: pair.host.name, scope: 'host' },
    );
  }
  if (bool(conf, 'ipMasq')) actions.push(...ipMasqRules(inv, conf, result));
  const dns = conf['dns'] as CurrentResult['dns'] | undefined;
  if (dns && Object.keys(dns).length > 0) result = { ...result, dns };
  return ok(result, actions, r.stores);
};

const loopback: Plugin = (cmd, conf, inv, stores) => {
  if (cmd !== 'ADD') return ok(null, [], stores);
  return ok({
    interfaces: [{ name: 'lo', mac: '00:00:00:00:00:00', sandbox: inv.netns }],
    ips: [{ interface: 0, address: '127.0.0.1/8' }],
    routes: [], dns: {},
  }, [], stores);
};

/** portmap, bandwidth, tuning: chained plugins that hand `prevResult` on (their own effects are not modelled). */
const passThrough = (name: string): Plugin => {
  const run: Plugin = (cmd, conf, _inv, stores) => {
    if (cmd !== 'ADD') return ok(null, [], stores);
    if (!conf.prevResult) return plain(conf, name === 'tuning' ? 'Required prevResult missing' : 'must be called as chained plugin');
    return ok(conf.prevResult, [], stores);
  };
  PASSES_ON.add(run);
  return run;
};
/** The plugins {@link passThrough} made. */
const PASSES_ON = new WeakSet<Plugin>();

/**
 * Whether the plugin `type` names, run for ADD with a `prevResult`, answers that result, no actions and the
 * stores as they were, whatever else its configuration and the invocation hold: a list run then hands the
 * result on without building the plugin's input (a copy of its configuration gaining `prevResult`, at every
 * pod ADD of a list that ends in portmap). The same function {@link execPlugin} would run decides it.
 */
export function passesOnAdd(type: string): boolean {
  const run = Object.prototype.hasOwnProperty.call(PLUGINS, type) ? PLUGINS[type] : undefined;
  return run !== undefined && PASSES_ON.has(run);
}

/** The subnet.env flanneld writes, parsed as the flannel plugin parses it (loadFlannelSubnetEnv). */
export interface FlannelSubnetEnv {
  readonly network: string;
  readonly subnet: string;
  readonly mtu: number;
  readonly ipMasq: boolean;
}

/** Where flanneld writes it, and the flannel plugin reads it (`subnetFile`). */
export const SUBNET_ENV = '/run/flannel/subnet.env';

/** Parses a subnet.env; the missing keys are named as the plugin names them. */
export function parseSubnetEnv(path: string, text: string): FlannelSubnetEnv | { error: string } {
  const v: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) v[line.slice(0, i)] = line.slice(i + 1);
  }
  const cidr = (t: string | undefined): string | null | { error: string } => {
    if (t === undefined) return null;
    try {
      const { ip, len } = parseIfAddr(t);
      return `${formatIpv4(len === 0 ? 0 : (ip & ((0xffffffff << (32 - len)) >>> 0)) >>> 0)}/${len}`;
    } catch {
      return { error: `invalid CIDR address: ${t}` };
    }
  };
  const network = cidr(v['FLANNEL_NETWORK']);
  const subnet = cidr(v['FLANNEL_SUBNET']);
  if (typeof network === 'object' && network !== null) return network;
  if (typeof subnet === 'object' && subnet !== null) return subnet;
  const mtu = v['FLANNEL_MTU'] === undefined ? null : Number(v['FLANNEL_MTU']);
  if (mtu !== null && !(Number.isInteger(mtu) && mtu >= 0)) return { error: `strconv.ParseUint: parsing "${v['FLANNEL_MTU']}": invalid syntax` };
  const missing: string[] = [];
  if (network === null) missing.push('FLANNEL_NETWORK', 'FLANNEL_IPV6_NETWORK');
  if (subnet === null) missing.push('FLANNEL_SUBNET', 'FLANNEL_IPV6_SUBNET');
  if (mtu === null) missing.push('FLANNEL_MTU');
  if (v['FLANNEL_IPMASQ'] === undefined) missing.push('FLANNEL_IPMASQ');
  if (missing.length > 0) return { error: `${path} is missing ${missing.join(', ')}` };
  return { network: network!, subnet: subnet!, mtu: mtu!, ipMasq: v['FLANNEL_IPMASQ'] === 'true' };
}

/**
 * The configuration flannel hands its delegate (doCmdAdd and getDelegateIPAM): the `delegate` object
 * plus name, type `bridge`, ipMasq = not FLANNEL_IPMASQ, mtu = FLANNEL_MTU, isGateway for a bridge,
 * cniVersion, and host-local IPAM on the node's subnet with a route to the flannel network; or why flannel
 * refuses the configuration.
 */
export function flannelDelegate(conf: PluginInput, env: FlannelSubnetEnv): PluginInput | string {
  const d = (conf['delegate'] ?? {}) as Record<string, unknown>;
  if (typeof d !== 'object' || Array.isArray(d)) return `failed to load netconf: json: cannot unmarshal ${goType(d)} into Go struct field NetConf.delegate of type map[string]interface {}`;
  if ('type' in d && typeof d['type'] !== 'string') return '\'delegate\' dictionary, if present, must have (string) \'type\' field';
  if ('name' in d) return '\'delegate\' dictionary must not have \'name\' field, it\'ll be set by flannel';
  if ('ipam' in d) return '\'delegate\' dictionary must not have \'ipam\' field, it\'ll be set by flannel';
  const ipamIn = (conf['ipam'] ?? {}) as Record<string, unknown>;
  const out = withKey<unknown>(d, 'name', conf.name);
  if (!('type' in out)) out['type'] = 'bridge';
  if (!('ipMasq' in out)) out['ipMasq'] = !env.ipMasq;
  if (!('mtu' in out)) out['mtu'] = env.mtu;
  if (out['type'] === 'bridge' && !('isGateway' in out)) out['isGateway'] = true;
  out['cniVersion'] = conf.cniVersion;
  const ipam = withKey<unknown>(ipamIn, 'type', ipamIn['type'] ?? 'host-local');
  ipam['ranges'] = [[{ subnet: env.subnet }]];
  ipam['routes'] = [...(Array.isArray(ipamIn['routes']) ? ipamIn['routes'] : []), { dst: env.network }];
  out['ipam'] = ipam;
  if (conf['runtimeConfig'] !== undefined) out['runtimeConfig'] = conf['runtimeConfig'];
  const delegate = out as PluginInput;
  // No ipam section (kube-flannel's conflist), nothing the delegate's host-local reads besides it: its section
  // is made of the subnet.env's texts alone, and its plan is filed now, made of their numbers (hostLocalPlan
  // would read it through its JSON text: a new node's first ADD paid ~2 µs for the text and its parse, and two
  // weak-map entries). A fresh node's first ADD (freshab, in-process, both orders): x0.81 / base x1.59 swapped
  // with the plan's other savings.
  if ((conf['ipam'] === undefined || conf['ipam'] === null) && delegate['args'] === undefined && delegate['runtimeConfig'] === undefined
    && typeof env.subnet === 'string' && typeof env.network === 'string' && typeof conf.name === 'string' && typeof conf.cniVersion === 'string') {
    const key = storeDir(delegate);
    const loaded = loadSubnetHostLocalConfig(ipam, conf.cniVersion, env.subnet, env.network);
    readings.set(delegate, { storeKey: key, hostLocalPlan: { loaded, key }, bridgeSettings: undefined });
  }
  return delegate;
}

/**
 * What the flannel plugin made of a node's files: the subnet.env it read, parsed, the delegate it made of it for
 * `conf` (null when the file is refused) and that delegate's {@link Readings} (null when there is none).
 */
interface FlannelReading {
  readonly path: string;
  readonly text: string;
  readonly env: FlannelSubnetEnv | { error: string };
  readonly conf: PluginInput;
  readonly delegate: PluginInput | string | null;
  readonly readings: Readings | null;
}

/**
 * The flannel plugin's one memo: what it made of a files record, by the record. flanneld hands every ADD and DEL
 * on a node the same frozen record, and the nodes of every property run with the same lease numbers the same
 * record (flannel.ts keeps it per lease): one identity lookup finds the parsed file, the delegate and the
 * delegate's readings (its bridge settings and host-local plan), which the delegate's plugins are handed rather
 * than look up (a delegate made anew for every pod would be read anew). It replaces three: a
 * weak map of records to parses, parseSubnetEnv's memo of texts (with its last answer), and a two-level weak map
 * of delegates by configuration and parse. The record's text and the configuration are compared, so a record
 * changed in place, or read for another configuration, is read again.
 */
const flannelReadings = new YoungWeakMap<Readonly<Record<string, string>>, FlannelReading>();

function flannelReading(files: Readonly<Record<string, string>>, path: string, text: string, conf: PluginInput): FlannelReading {
  const known = flannelReadings.get(files);
  if (known !== undefined && known.text === text && known.conf === conf && known.path === path) return known;
  const env = parseSubnetEnv(path, text);
  const delegate = 'error' in env ? null : flannelDelegate(conf, env);
  const read: FlannelReading = { path, text, env, conf, delegate, readings: delegate === null || typeof delegate === 'string' ? null : readingsOf(delegate) };
  flannelReadings.set(files, read);
  return read;
}

const flannel: Plugin = (cmd, conf, inv, stores) => {
  // CHECK is a TODO in the flannel plugin: it answers success without looking.
  if (cmd === 'CHECK') return ok(null, [], stores);
  const path = typeof conf['subnetFile'] === 'string' ? conf['subnetFile'] : SUBNET_ENV;
  const text = inv.files[path];
  if (text === undefined) {
    // DEL reads the delegate configuration flannel saved at ADD; podnet derives it again (see docs), and
    // without the file there is nothing flannel could have delegated: nothing to undo.
    return cmd === 'DEL' ? ok(null, [], stores) : plain(conf, `open ${path}: no such file or directory`);
  }
  const read = flannelReading(inv.files, path, text, conf);
  if (read.delegate === null) return cmd === 'DEL' ? ok(null, [], stores) : plain(conf, (read.env as { error: string }).error);
  const delegate = read.delegate;
  if (typeof delegate === 'string') return plain(conf, delegate);
  const run = PLUGINS[delegate.type];
  if (!run) return plain(conf, `failed to delegate add: failed to find plugin "${delegate.type}" in path [${CNI_PATH.join(' ')}]`);
  // The delegate's readings are the entry's: its plugin reads them there, not through the weak map.
  const r = run(cmd, delegate, inv, stores, read.readings!);
  // delegateAdd wraps the delegate's error in a plain one ("failed to delegate add: …", code 999).
  if (!r.ok && cmd === 'ADD') return plain(conf, `failed to delegate add: ${r.error.msg}${r.error.details ? `; ${r.error.details}` : ''}`);
  return r;
};

/** The plugins podnet's /opt/cni/bin holds, by type. */
export const PLUGINS: Readonly<Record<string, Plugin>> = {
  bridge, ptp, 'host-local': hostLocal, loopback, flannel,
  portmap: passThrough('portmap'), bandwidth: passThrough('bandwidth'), tuning: passThrough('tuning'),
};

/**
 * Runs one plugin by type, as libcni's FindInPath + ExecPlugin would: an unknown type is the error
 * libcni gives when the binary is not in CNI_PATH.
 */
export function execPlugin(cmd: CniCommand, conf: PluginInput, inv: CniInvocation, stores: IpamStores): PluginOutcome {
  const run = Object.prototype.hasOwnProperty.call(PLUGINS, conf.type) ? PLUGINS[conf.type] : undefined;
  if (!run) return { ok: false, error: cniError(conf.cniVersion, 0, `failed to find plugin "${conf.type}" in path [${CNI_PATH.join(' ')}]`) };
  return run(cmd, conf, inv, stores);
}
