/**
 * The Amazon VPC CNI (aws/amazon-vpc-cni-k8s) as a podnet design: ipamd attaches ENIs to the node and
 * assigns them secondary VPC addresses (or /28 prefixes), the aws-cni plugin gives each pod one of
 * them. Pod addresses are VPC (underlay subnet) addresses, so the VPC fabric routes them natively: it
 * answers ARP for every address assigned to an ENI (`vpc.assign` puts them in the segment's fabric table).
 *
 *   ipamd at start:  aws ec2 assign-private-ip-addresses --network-interface-id <eth0's ENI> --private-ip-addresses …
 *                    (WARM_ENI_TARGET=1: one whole ENI of free addresses; a new ENI is attached when fewer remain)
 *                    iptables -t nat -A POSTROUTING -d <VPC CIDR> -j RETURN        ("AWS SNAT CHAIN")
 *                    iptables -t nat -A POSTROUTING -j SNAT --to-source <node ip>  ("AWS, SNAT")
 *   CNI ADD:         ip link add eni<sha1(ns.pod)[:11]> type veth peer name eth0 netns <pod>
 *                    in the pod: ip addr add <ip>/32 dev eth0; ip route add 169.254.1.1 dev eth0 scope link
 *                                ip route add default via 169.254.1.1 dev eth0
 *                                ip neigh add 169.254.1.1 lladdr <host veth MAC> dev eth0 nud permanent
 *                    on the host: ip route add <ip> dev eni… scope link
 *                                 ip rule add to <ip> lookup main priority 512
 *                                 (a secondary ENI's address) ip rule add from <ip> lookup <N> priority 1536
 *   a new ENI:       ethN appears (device index N); ip link set ethN mtu <MTU> up; ip addr add <ENI ip>/<len> dev ethN
 *                    ip route add <gw>/32 dev ethN scope link table N+1; ip route add default via <gw> dev ethN table N+1
 *                    ip route del <subnet> dev ethN
 *
 * Simplified, and said so in docs/designs/aws-vpc.md: ipamd's warm pool is topped up in the same
 * transition as the ADD that drained it, not by a reconciler a little later; released addresses stay on
 * their ENI; no rp_filter=2 on eth0 and no CONNMARK rules.
 */
import {
  fail, cidrContains, formatIpv4, macFromSeed, maskOf, parseCidr, parseIpv4, shardGet, type Action, type ClusterState, type CniDesign,
  type CniResult, type DesignReaction, type Node, type Pod, type PodAddReaction, type PodAddRequest, type Segment,
} from '@podnet/core';
import { sha1Hex } from '../util/hash.js';
import { withEntry } from '../util/record.js';

/** An EC2 instance type's network limits (EC2 DescribeInstanceTypes: MaximumNetworkInterfaces, Ipv4AddressesPerInterface). */
export interface InstanceLimits {
  readonly enis: number;
  readonly ipv4PerEni: number;
  readonly vcpus: number;
  /**
   * Built on the AWS Nitro System: only those take /28 prefixes on their ENIs. ipamd on another instance
   * logs "Prefix delegation is not supported on non-nitro instance … hence falling back to default
   * (secondary IP) mode" and hands out secondary addresses (pkg/ipamd/ipamd.go).
   */
  readonly nitro: boolean;
}

/**
 * Network limits of common instance types, as aws/amazon-vpc-cni-k8s records them (pkg/vpc limits;
 * misc/eni-max-pods.txt holds the max pods they give: ENIs × (IPv4 per ENI − 1) + 2).
 */
export const INSTANCE_TYPES: Readonly<Record<string, InstanceLimits>> = {
  't2.medium': { enis: 3, ipv4PerEni: 6, vcpus: 2, nitro: false },
  'm4.large': { enis: 2, ipv4PerEni: 10, vcpus: 2, nitro: false },
  't3.nano': { enis: 2, ipv4PerEni: 2, vcpus: 2, nitro: true },
  't3.micro': { enis: 2, ipv4PerEni: 2, vcpus: 2, nitro: true },
  't3.small': { enis: 3, ipv4PerEni: 4, vcpus: 2, nitro: true },
  't3.medium': { enis: 3, ipv4PerEni: 6, vcpus: 2, nitro: true },
  't3.large': { enis: 3, ipv4PerEni: 12, vcpus: 2, nitro: true },
  't3.xlarge': { enis: 4, ipv4PerEni: 15, vcpus: 4, nitro: true },
  't3.2xlarge': { enis: 4, ipv4PerEni: 15, vcpus: 8, nitro: true },
  'm5.large': { enis: 3, ipv4PerEni: 10, vcpus: 2, nitro: true },
  'm5.xlarge': { enis: 4, ipv4PerEni: 15, vcpus: 4, nitro: true },
  'm5.2xlarge': { enis: 4, ipv4PerEni: 15, vcpus: 8, nitro: true },
  'm5.4xlarge': { enis: 8, ipv4PerEni: 30, vcpus: 16, nitro: true },
  'm5.8xlarge': { enis: 8, ipv4PerEni: 30, vcpus: 32, nitro: true },
  'm5.12xlarge': { enis: 8, ipv4PerEni: 30, vcpus: 48, nitro: true },
  'm5.16xlarge': { enis: 15, ipv4PerEni: 50, vcpus: 64, nitro: true },
  'm5.24xlarge': { enis: 15, ipv4PerEni: 50, vcpus: 96, nitro: true },
  'c5.large': { enis: 3, ipv4PerEni: 10, vcpus: 2, nitro: true },
  'c5.xlarge': { enis: 4, ipv4PerEni: 15, vcpus: 4, nitro: true },
  'c5.2xlarge': { enis: 4, ipv4PerEni: 15, vcpus: 8, nitro: true },
  'c5.4xlarge': { enis: 8, ipv4PerEni: 30, vcpus: 16, nitro: true },
  'c5.9xlarge': { enis: 8, ipv4PerEni: 30, vcpus: 36, nitro: true },
  'r5.large': { enis: 3, ipv4PerEni: 10, vcpus: 2, nitro: true },
  'r5.xlarge': { enis: 4, ipv4PerEni: 15, vcpus: 4, nitro: true },
  'r5.2xlarge': { enis: 4, ipv4PerEni: 15, vcpus: 8, nitro: true },
  'r5.4xlarge': { enis: 8, ipv4PerEni: 30, vcpus: 16, nitro: true },
};

/** The limits of an instance type; throws a TypeError naming the known ones. */
export function instanceLimits(instanceType: string): InstanceLimits {
  const l = Object.prototype.hasOwnProperty.call(INSTANCE_TYPES, instanceType) ? INSTANCE_TYPES[instanceType] : undefined;
  if (!l) throw new TypeError(`unknown instance type "${String(instanceType)}" (known: ${Object.keys(INSTANCE_TYPES).join(', ')})`);
  return l;
}

/** Addresses in a delegated prefix (/28). */
const PREFIX_SIZE = 16;

/**
 * Max pods for an instance type, as EKS computes it. Secondary IPs: misc/eni-max-pods.txt's
 * ENIs × (IPv4 per ENI − 1) + 2 (the first address of each ENI is its own; +2 for the host-network pods
 * aws-node and kube-proxy). Prefix delegation: max-pods-calculator.sh's ENIs × ((IPv4 per ENI − 1) × 16) + 2,
 * capped at 110 on instances with at most 30 vCPUs and 250 above. Prefix delegation needs a Nitro instance;
 * elsewhere ipamd falls back to secondary addresses, and so does the formula.
 *
 * @example awsMaxPods('m5.large') // 29; awsMaxPods('m5.large', { prefixDelegation: true }) // 110
 */
export function awsMaxPods(instanceType: string, options: { readonly prefixDelegation?: boolean } = {}): number {
  const { enis, ipv4PerEni, vcpus, nitro } = instanceLimits(instanceType);
  if (!options.prefixDelegation || !nitro) return enis * (ipv4PerEni - 1) + 2;
  return Math.min(vcpus > 30 ? 250 : 110, enis * ((ipv4PerEni - 1) * PREFIX_SIZE) + 2);
}

/**
 * How many nodes of a type one subnet of `/len` holds when every node fills all its ENIs (the worst case
 * of the warm pool): each node consumes ENIs × IPv4 per ENI addresses (every slot, including each ENI's
 * primary); AWS reserves 5 addresses per subnet.
 */
export function awsNodesPerSubnet(instanceType: string, len: number, options: { readonly prefixDelegation?: boolean } = {}): number {
  if (!Number.isInteger(len) || len < 16 || len > 28) throw new RangeError(`a VPC subnet is /16 to /28, not /${String(len)}`);
  const { enis, ipv4PerEni, nitro } = instanceLimits(instanceType);
  const perNode = options.prefixDelegation && nitro ? enis * (1 + (ipv4PerEni - 1) * PREFIX_SIZE) : enis * ipv4PerEni;
  return Math.floor((2 ** (32 - len) - 5) / perNode);
}

/** Options of {@link awsVpc}. */
export interface AwsVpcOptions {
  readonly instanceType: string;
  /** ENABLE_PREFIX_DELEGATION: /28 prefixes instead of single secondary addresses (Nitro instances). */
  readonly prefixDelegation?: boolean;
  /** WARM_IP_TARGET: keep this many free addresses (overrides WARM_ENI_TARGET). */
  readonly warmIpTarget?: number;
  /** WARM_ENI_TARGET (default 1): keep this many whole ENIs' worth of free addresses. */
  readonly warmEniTarget?: number;
  /** WARM_PREFIX_TARGET (default 1; prefix delegation only): keep this many whole free /28 prefixes. */
  readonly warmPrefixTarget?: number;
  /** AWS_VPC_K8S_CNI_EXTERNALSNAT (default false): when true, the node does not SNAT traffic leaving the VPC. */
  readonly externalSnat?: boolean;
  /** AWS_VPC_K8S_CNI_VETHPREFIX (default `eni`). */
  readonly vethPrefix?: string;
}

/** One ENI as ipamd's datastore holds it. */
export interface AwsEni {
  readonly id: string;
  readonly deviceIndex: number;
  /** A secondary ENI's own primary address (eth0's is the node IP). */
  readonly primary?: string;
  /**
   * Secondary addresses (dotted) and delegated /28 prefixes (`a.b.c.d/28`): each takes one of the ENI's
   * address slots. A node that ran before prefix delegation was turned on holds both.
   */
  readonly slots: readonly string[];
}

/** ipamd's datastore for one node. */
export interface AwsNodeState {
  readonly enis: readonly AwsEni[];
  /** Address (dotted) → the sandbox holding it. */
  readonly assigned: Readonly<Record<string, string>>;
  /** How many addresses are assigned (the size of `assigned`, kept so that ADD does not count). */
  readonly used: number;
}

/** Per subnet, the highest address not yet handed out (allocation runs downwards from the top). */
interface AwsClusterState {
  readonly cursor: Readonly<Record<string, number>>;
}

/** The host-side veth name aws-cni gives a pod: the prefix and 11 hex digits of sha1("<namespace>.<pod>"). */
export function awsVethName(namespace: string, pod: string, prefix = 'eni'): string {
  return `${prefix}${sha1Hex(`${namespace}.${pod}`).slice(0, 11)}`;
}

/** The ENI id ipamd would get back for a node's device index (random in EC2, derived here). */
export function eniId(node: string, deviceIndex: number): string {
  return `eni-${sha1Hex(`eni|${node}|${deviceIndex}`).slice(0, 17)}`;
}

/** The error aws-cni returns from ADD when ipamd has no address for the pod. */
export const AWS_NO_IP_MESSAGE = 'add cmd: failed to assign an IP address to container';
/** What ipamd's datastore answers (and logs in ipamd.log) when the pool is empty. */
export const IPAMD_NO_IP_MESSAGE = 'AssignPodIPv4Address: no available IP/Prefix addresses';

const GATEWAY = '169.254.1.1';

/** The ENIs ipamd has attached to a node of an {@link awsVpc} cluster, lowest device first ([] for another design's node). */
export function awsEnis(node: Node): readonly AwsEni[] {
  const st = node.cni as Partial<AwsNodeState> | null;
  return Array.isArray(st?.enis) ? st.enis : [];
}

const isPrefixSlot = (slot: string): boolean => slot.endsWith('/28');

/**
 * aws-node's container environment as its manifest (config/master/aws-k8s-cni.yaml) sets it, for the
 * variables podnet models; `kubectl set env daemonset/aws-node --list` prints it.
 */
function awsNodeEnv(o: AwsVpcOptions): Record<string, string> {
  return {
    AWS_VPC_K8S_CNI_EXTERNALSNAT: String(o.externalSnat ?? false),
    AWS_VPC_K8S_CNI_VETHPREFIX: o.vethPrefix ?? 'eni',
    ENABLE_PREFIX_DELEGATION: String(o.prefixDelegation ?? false),
    WARM_ENI_TARGET: String(o.warmEniTarget ?? 1),
    ...(o.warmIpTarget !== undefined ? { WARM_IP_TARGET: String(o.warmIpTarget) } : {}),
    WARM_PREFIX_TARGET: String(o.warmPrefixTarget ?? 1),
  };
}

/** Go's strconv.ParseBool, which ipamd's getEnvBoolWithDefault uses; anything else keeps the default. */
function parseGoBool(v: string | undefined, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return dflt;
}

/** A non-negative integer as strconv.Atoi reads it, or undefined (ipamd then keeps its default). */
function parseGoCount(v: string | undefined): number | undefined {
  if (v === undefined || !/^[+-]?\d+$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** kubectl's IsEnvVarName (k8s.io/apimachinery validation). */
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** Variables ipamd reads once and podnet does not re-apply to a running node (its iptables, its veth names). */
const FIXED_AT_START = ['AWS_VPC_K8S_CNI_EXTERNALSNAT', 'AWS_VPC_K8S_CNI_VETHPREFIX'];

/** The AWS VPC CNI as a podnet design. */
export function awsVpc(options: AwsVpcOptions): CniDesign {
  if (options === null || typeof options !== 'object') throw new TypeError('awsVpc needs { instanceType }');
  return makeAwsVpc(options, awsNodeEnv(options));
}

/**
 * `awsVpc` with its environment as given: what `reconfigure` returns. ipamd reads the variables it knows
 * as Go parses them (a value it cannot parse keeps the default) and ignores the others, which stay in
 * the DaemonSet.
 */
function reconfigureAwsVpc(options: AwsVpcOptions, env: Readonly<Record<string, string>>, changes: Readonly<Record<string, string | null>>): CniDesign {
  const next: Record<string, string> = { ...env };
  for (const [k, v] of Object.entries(changes)) {
    if (!ENV_NAME.test(k)) fail('INVALID_SETTING', `invalid env: ${k}: a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit`, { name: k });
    if (v !== null && typeof v !== 'string') fail('INVALID_SETTING', `the value of ${k} must be a string (or null to unset it), not ${typeof v}`, { name: k });
    if (v === null) delete next[k];
    else next[k] = v;
    if (FIXED_AT_START.includes(k) && next[k] !== env[k]) {
      fail('UNSUPPORTED', `podnet does not re-apply ${k} to running nodes (ipamd programs it when a node starts); build the cluster with it instead`, { name: k });
    }
  }
  const pd = parseGoBool(next['ENABLE_PREFIX_DELEGATION'], false);
  const warmPrefix = parseGoCount(next['WARM_PREFIX_TARGET']) ?? 1;
  if (pd && warmPrefix === 0 && next['WARM_IP_TARGET'] === undefined) {
    // amazon-vpc-cni-k8s docs/prefix-and-ip-target.md: "Setting either WARM_PREFIX_TARGET or both WARM_IP_TARGET and
    // MINIMUM_IP_TARGET environment variables to zero is not supported with prefix delegation enabled."
    fail('INVALID_SETTING', 'WARM_PREFIX_TARGET=0 is not supported with ENABLE_PREFIX_DELEGATION=true (ipamd would keep no free prefix)', { name: 'WARM_PREFIX_TARGET' });
  }
  const warmIp = parseGoCount(next['WARM_IP_TARGET']);
  const { warmIpTarget: _unset, ...fixed } = options;
  return makeAwsVpc({
    ...fixed, prefixDelegation: pd, warmEniTarget: parseGoCount(next['WARM_ENI_TARGET']) ?? 1, warmPrefixTarget: warmPrefix,
    ...(warmIp !== undefined ? { warmIpTarget: warmIp } : {}),
  }, next);
}

/** The instance type of each design {@link awsVpc} made (what `eksctl create nodegroup --node-type` must match). */
// Not a memo: what a design was made for cannot be read back from it (a plain WeakMap, never dropped).
const INSTANCE_TYPE_OF = new WeakMap<CniDesign, string>();

/** The EC2 instance type an {@link awsVpc} design models, or undefined for another design. */
export function awsInstanceType(design: CniDesign): string | undefined {
  return INSTANCE_TYPE_OF.get(design);
}

function makeAwsVpc(options: AwsVpcOptions, env: Readonly<Record<string, string>>): CniDesign {
  const design = buildAwsVpc(options, env);
  INSTANCE_TYPE_OF.set(design, options.instanceType);
  return design;
}

function buildAwsVpc(options: AwsVpcOptions, env: Readonly<Record<string, string>>): CniDesign {
  const limits = instanceLimits(options.instanceType);
  // Prefix delegation needs a Nitro instance; elsewhere ipamd falls back to secondary addresses.
  const pd = options.prefixDelegation === true && limits.nitro;
  const warmIp = options.warmIpTarget;
  const warmEni = options.warmEniTarget ?? 1;
  const warmPrefix = options.warmPrefixTarget ?? 1;
  if (warmIp !== undefined && (!Number.isInteger(warmIp) || warmIp < 0)) throw new RangeError(`warmIpTarget ${String(warmIp)} must be a non-negative integer`);
  if (!Number.isInteger(warmEni) || warmEni < 0) throw new RangeError(`warmEniTarget ${String(warmEni)} must be a non-negative integer`);
  if (!Number.isInteger(warmPrefix) || warmPrefix < 0) throw new RangeError(`warmPrefixTarget ${String(warmPrefix)} must be a non-negative integer`);
  const prefix = options.vethPrefix ?? 'eni';
  const slotsPerEni = limits.ipv4PerEni - 1;
  const maxPods = awsMaxPods(options.instanceType, { prefixDelegation: pd });

  const nodeState = (node: Node): AwsNodeState => (node.cni as AwsNodeState | null) ?? { enis: [], assigned: {}, used: 0 };
  const clusterState = (state: ClusterState): AwsClusterState => (state.cni as AwsClusterState | null) ?? { cursor: {} };
  const ns = (n: string) => `node/${n}`;

  /** How many addresses the node's ENIs hold for pods. */
  const poolSize = (enis: readonly AwsEni[]): number => {
    let n = 0;
    for (const e of enis) for (const s of e.slots) n += isPrefixSlot(s) ? PREFIX_SIZE : 1;
    return n;
  };
  /** The first free address in slot order (ipamd hands out the lowest device's first), or undefined. */
  const firstFree = (st: AwsNodeState): string | undefined => {
    for (const e of st.enis) {
      for (const s of e.slots) {
        if (!isPrefixSlot(s)) {
          if (st.assigned[s] === undefined) return s;
          continue;
        }
        const base = parseIpv4(s.split('/')[0]!);
        for (let i = 0; i < PREFIX_SIZE; i++) {
          const ip = formatIpv4((base + i) >>> 0);
          if (st.assigned[ip] === undefined) return ip;
        }
      }
    }
    return undefined;
  };
  /** Whether an address is one of the node's and free. */
  const isFree = (st: AwsNodeState, ip: string): boolean => {
    if (st.assigned[ip] !== undefined) return false;
    const n = parseIpv4(ip);
    return st.enis.some((e) => e.slots.some((s) => (isPrefixSlot(s) ? cidrContains(parseCidr(s), n) : s === ip)));
  };

  /**
   * Takes `count` free slots of the subnet, downwards from the cursor: single addresses, or /28-aligned
   * prefixes none of whose addresses is in use. Null when the subnet has run out.
   */
  const take = (state: ClusterState, seg: Segment, cursor: number, count: number, prefixes: boolean): { slots: string[]; cursor: number } | null => {
    const low = (seg.cidr.addr + 4) >>> 0;
    const used = (ip: number) => ip === seg.gateway || shardGet(state.ipIndex, String(ip)) !== undefined || fabricHas(seg, ip);
    const slots: string[] = [];
    let c = cursor;
    while (slots.length < count) {
      if (prefixes) {
        const base = ((c - PREFIX_SIZE) & maskOf(28)) >>> 0;
        if (base < low || !cidrContains(seg.cidr, base)) return null;
        c = base;
        let clear = true;
        for (let i = 0; i < PREFIX_SIZE && clear; i++) if (used((base + i) >>> 0)) clear = false;
        if (clear) slots.push(`${formatIpv4(base)}/28`);
      } else {
        c = (c - 1) >>> 0;
        if (c < low) return null;
        if (!used(c)) slots.push(formatIpv4(c));
      }
    }
    return { slots, cursor: c };
  };

  /**
   * ipamd's reconciler: what to assign so that the warm target holds, as vpc.assign actions, and the
   * node's and the cluster's new state. Stops quietly at the instance's or the subnet's limit.
   */
  const topUp = (state: ClusterState, node: Node, st0: AwsNodeState, cs0: AwsClusterState): { actions: Action[]; st: AwsNodeState; cs: AwsClusterState } => {
    // How many addresses must be free: WARM_IP_TARGET, else WARM_ENI_TARGET whole ENIs (prefix mode: WARM_PREFIX_TARGET=1).
    const want = warmIp !== undefined && !pd ? warmIp : pd ? warmPrefix * PREFIX_SIZE : warmEni * slotsPerEni;
    // Nearly every ADD finds the pool warm enough: answer without copying anything.
    if (poolSize(st0.enis) - st0.used >= want) return { actions: [], st: st0, cs: cs0 };
    const seg = state.underlay.segments[node.segment]!;
    const last = (seg.cidr.addr + 2 ** (32 - seg.cidr.len) - 1) >>> 0;
    let cursor = cs0.cursor[seg.name] ?? last;
    const enis: { id: string; deviceIndex: number; primary?: string; slots: string[] }[] = st0.enis.map((e) => ({ ...e, slots: [...e.slots] }));
    const actions: Action[] = [];
    const free = () => poolSize(enis) - st0.used;
    while (free() < want) {
      let eni = enis.find((e) => e.slots.length < slotsPerEni);
      let attach = false;
      let primaryIp: string | undefined;
      if (!eni) {
        if (enis.length >= limits.enis) break;
        const deviceIndex = enis.length;
        eni = { id: eniId(node.name, deviceIndex), deviceIndex, slots: [] };
        enis.push(eni);
        attach = deviceIndex > 0;
        if (attach) {
          // A new ENI's own primary address takes one address of the subnet.
          const p = take(state, seg, cursor, 1, false);
          if (!p) { enis.pop(); break; }
          cursor = p.cursor;
          primaryIp = p.slots[0]!;
          eni.primary = primaryIp;
        }
      }
      // Without WARM_IP_TARGET ipamd fills a whole ENI at once; with it, just what is missing.
      const room = slotsPerEni - eni.slots.length;
      const need = warmIp !== undefined && !pd ? Math.min(room, want - free()) : pd ? 1 : room;
      const got = take(state, seg, cursor, need, pd);
      if (!got) {
        if (attach) enis.pop();
        break;
      }
      cursor = got.cursor;
      eni.slots.push(...got.slots);
      const dev = eniDev(eni.deviceIndex);
      const base = { op: 'vpc.assign', segment: seg.name, eni: eni.id, deviceIndex: eni.deviceIndex, node: node.name, ns: ns(node.name), dev } as const;
      actions.push({ ...base, ...(attach ? { attach: true } : {}), ...(primaryIp !== undefined ? { primaryIp } : {}), ...(pd ? { prefixes: got.slots } : { ips: got.slots }) });
      if (attach) actions.push(...setupEni(node, seg, dev, eni.deviceIndex, primaryIp!));
    }
    return { actions, st: { enis, assigned: st0.assigned, used: st0.used }, cs: { cursor: { ...cs0.cursor, [seg.name]: cursor } } };
  };

  return {
    name: pd ? 'aws-vpc-prefix' : 'aws-vpc',
    maxPods: () => maxPods,
    settings: env,
    reconfigure: (changes) => reconfigureAwsVpc(options, env, changes),
    agentRestarted(state, node): DesignReaction {
      // aws-node's new pod: ipamd starts, reads the ENIs it already has (their addresses and prefixes stay
      // with the pods using them) and tops the warm pool up in its current mode, if the ENIs have room.
      const up = topUp(state, node, nodeState(node), clusterState(state));
      return up.actions.length ? { actions: up.actions, nodeState: up.st, clusterState: up.cs } : { actions: [] };
    },
    nodeAdded(state, node): DesignReaction {
      const h = ns(node.name);
      const actions: Action[] = [{ op: 'sysctl.set', ns: h, key: 'net.ipv4.ip_forward', value: 1 }];
      if (!options.externalSnat) {
        // AWS-SNAT-CHAIN-0: the VPC stays unNATed, the rest leaves with the node's primary address.
        for (const s of Object.values(state.underlay.segments)) {
          actions.push({ op: 'rule.append', ns: h, rule: { table: 'nat', chain: 'POSTROUTING', dst: `${formatIpv4(s.cidr.addr)}/${s.cidr.len}`, target: 'ACCEPT', comment: 'AWS SNAT CHAIN' } });
        }
        actions.push({ op: 'rule.append', ns: h, rule: { table: 'nat', chain: 'POSTROUTING', target: 'SNAT', to: formatIpv4(node.ip), comment: 'AWS, SNAT' } });
      }
      const up = topUp(state, node, { enis: [], assigned: {}, used: 0 }, clusterState(state));
      return { actions: [...actions, ...up.actions], nodeState: up.st, clusterState: up.cs };
    },
    nodeRemoved(_state, node): DesignReaction {
      // The instance terminates: its secondary ENIs are detached and deleted, every address goes back to the subnet.
      const st = nodeState(node);
      const actions: Action[] = [];
      for (const e of st.enis) {
        const ips = [...(e.primary ? [e.primary] : []), ...e.slots.filter((x) => !isPrefixSlot(x))];
        const prefixes = e.slots.filter(isPrefixSlot);
        if (ips.length === 0 && prefixes.length === 0) continue;
        actions.push({ op: 'vpc.unassign', segment: node.segment, eni: e.id, ...(ips.length ? { ips } : {}), ...(prefixes.length ? { prefixes } : {}), ...(e.deviceIndex > 0 ? { detach: true } : {}) });
      }
      return { actions };
    },
    podAdded(state, req: PodAddRequest): PodAddReaction {
      const { node, pod } = req;
      const st = nodeState(node);
      let ip: string | undefined;
      if (req.requestedIp !== null) {
        const want = formatIpv4(req.requestedIp);
        if (!isFree(st, want)) return { error: { cniVersion: '0.4.0', code: 999, msg: AWS_NO_IP_MESSAGE, details: `${want} is not a free address of ${node.name}'s ENIs` } };
        ip = want;
      } else ip = firstFree(st);
      if (ip === undefined) {
        // ipamd's datastore is empty and the instance (or the subnet) allows no more: the plugin's ADD fails.
        return { error: { cniVersion: '0.4.0', code: 999, msg: AWS_NO_IP_MESSAGE, details: IPAMD_NO_IP_MESSAGE } };
      }
      const assigned: AwsNodeState = { enis: st.enis, assigned: withEntry(st.assigned, ip, req.containerId), used: st.used + 1 };
      const up = topUp(state, node, assigned, clusterState(state));
      const h = ns(node.name);
      const p = `pod/${pod.key}`;
      const veth = awsVethName(pod.namespace, pod.name, prefix);
      const mtu = state.underlay.segments[node.segment]?.mtu ?? 9001;
      const hostMac = macFromSeed(`${veth}|${pod.uid}`);
      const podMac = macFromSeed(`eth0|${pod.key}|${pod.uid}`);
      const actions: Action[] = [
        ...up.actions,
        { op: 'link.add', ns: h, name: veth, kind: 'veth', mtu, mac: hostMac, up: true, peer: { ns: p, name: req.ifname, mac: podMac, mtu, up: true } },
        { op: 'addr.add', ns: p, dev: req.ifname, addr: `${ip}/32` },
        { op: 'route.add', ns: p, dst: `${GATEWAY}/32`, dev: req.ifname, scope: 'link' },
        { op: 'route.add', ns: p, dst: 'default', via: GATEWAY, dev: req.ifname },
        { op: 'neigh.add', ns: p, dev: req.ifname, ip: GATEWAY, mac: hostMac },
        { op: 'route.add', ns: h, dst: `${ip}/32`, dev: veth, scope: 'link' },
        ...podRules('iprule.add', h, ip, eniOf(up.st, ip)),
      ];
      const result: CniResult = {
        cniVersion: '0.4.0',
        interfaces: [{ name: veth, mac: hostMac }, { name: req.ifname, mac: podMac, sandbox: req.netns }],
        ips: [{ address: `${ip}/32`, interface: 1 }],
        routes: [],
        dns: {},
      };
      return { actions, result, nodeState: up.st, clusterState: up.cs };
    },
    podDeleted(_state, pod: Pod, node: Node): DesignReaction {
      const st = nodeState(node);
      const veth = awsVethName(pod.namespace, pod.name, prefix);
      const actions: Action[] = node.host.links[veth] ? [{ op: 'link.del', ns: ns(node.name), name: veth }] : [];
      const ip = pod.ip === null ? undefined : formatIpv4(pod.ip);
      if (ip === undefined || st.assigned[ip] === undefined) return { actions };
      // teardownIPBasedContainerRouteRules: the pod's rules go (those that are there).
      const rules = node.host.ipRules ?? [];
      const at = (x: string | undefined) => (x === undefined ? null : pod.ip);
      actions.push(...podRules('iprule.del', ns(node.name), ip, eniOf(st, ip))
        .filter((a) => rules.some((r) => r.priority === a.priority && (r.from?.addr ?? null) === at(a.from) && (r.to?.addr ?? null) === at(a.to))));
      // The address goes back to the warm pool: it stays on its ENI.
      const assigned = { ...st.assigned };
      delete assigned[ip];
      return { actions, nodeState: { enis: st.enis, assigned, used: st.used - 1 } satisfies AwsNodeState };
    },
    cniConfig(state, node): Record<string, string> {
      const mtu = state.underlay.segments[node.segment]?.mtu ?? 9001;
      return {
        '10-aws.conflist': JSON.stringify({
          cniVersion: '0.4.0', name: 'aws-cni',
          plugins: [{ name: 'aws-cni', type: 'aws-cni', vethPrefix: prefix, mtu: String(mtu) }, { type: 'portmap', capabilities: { portMappings: true }, snat: true }],
        }, null, 2) + '\n',
      };
    },
  };
}

/** The NIC an ENI is on the instance: device index N is ethN (Amazon Linux 2's names; eth0 is the primary ENI). */
function eniDev(deviceIndex: number): string {
  return `eth${deviceIndex}`;
}

/** ToContainerRulePriority and FromPodRulePriority of pkg/networkutils. */
const TO_POD_RULE_PRIORITY = 512;
const FROM_POD_RULE_PRIORITY = 1536;

/**
 * ipamd's setupENINetwork for a new ENI: the NIC up at the subnet's MTU with the ENI's primary address,
 * route table N (device index + 1) with the subnet's gateway on-link and a default route through it, and
 * the kernel's prefix route for the subnet on that NIC taken out of main (so main keeps eth0's).
 */
function setupEni(node: Node, seg: Segment, dev: string, deviceIndex: number, primaryIp: string): Action[] {
  const h = `node/${node.name}`;
  const gw = formatIpv4(seg.gateway);
  const table = deviceIndex + 1;
  const subnet = `${formatIpv4(seg.cidr.addr)}/${seg.cidr.len}`;
  return [
    { op: 'link.set', ns: h, name: dev, up: true, mtu: seg.mtu },
    { op: 'addr.add', ns: h, dev, addr: `${primaryIp}/${seg.cidr.len}` },
    { op: 'route.add', ns: h, dst: `${gw}/32`, dev, scope: 'link', table },
    { op: 'route.add', ns: h, dst: 'default', via: gw, dev, table },
    { op: 'route.del', ns: h, dst: subnet, dev },
  ];
}

/** The device index of the ENI holding `ip` (a secondary address or one of a delegated /28). */
function eniOf(st: AwsNodeState, ip: string): number {
  const a = parseIpv4(ip);
  for (const e of st.enis) for (const s of e.slots) if (isPrefixSlot(s) ? cidrContains(parseCidr(s), a) : s === ip) return e.deviceIndex;
  return 0;
}

/**
 * setupIPBasedContainerRouteRules: every pod gets `to <ip> lookup main` (priority 512), so traffic for it
 * stays on the node whatever its source; a pod on a secondary ENI also `from <ip> lookup N` (priority
 * 1536), so what it sends leaves by its own ENI.
 */
function podRules(op: 'iprule.add' | 'iprule.del', h: string, ip: string, deviceIndex: number): Extract<Action, { op: 'iprule.add' | 'iprule.del' }>[] {
  const out: Extract<Action, { op: 'iprule.add' | 'iprule.del' }>[] = [{ op, ns: h, to: ip, table: 254, priority: TO_POD_RULE_PRIORITY }];
  if (deviceIndex > 0) out.push({ op, ns: h, from: ip, table: deviceIndex + 1, priority: FROM_POD_RULE_PRIORITY });
  return out;
}

function fabricHas(seg: Segment, ip: number): boolean {
  if (!seg.fabric) return false;
  return shardGet(seg.fabric, String(ip)) !== undefined || shardGet(seg.fabric, `${(ip & maskOf(28)) >>> 0}/28`) !== undefined;
}

