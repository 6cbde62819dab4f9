/**
 * Actions printed as the commands that do the same on a real node (`ip`, `bridge`, `sysctl`,
 * `iptables`), so a lab can show "what flannel just did" and a person can replay it in a namespace.
 */
import { formatIpv4 } from '../addr/ipv4.js';
import { netnsPath } from '../model/cluster.js';
import { findPod } from '../model/lookup.js';
import type { ClusterState, NsId, PeerEntry } from '../model/types.js';
import { shardGet } from '../util/shards.js';
import type { Action, IpRuleSpec, RouteSpec, RuleSpec } from './actions.js';

/** One command and where it runs. */
export interface Command {
  /** `node-1`, `default/pod-a`, `underlay`, or `every node but node-1` for shared entries. */
  readonly where: string;
  /** The namespace the command runs in; absent for shared peer-set entries (they run on every node but the owner). */
  readonly ns?: NsId;
  readonly command: string;
}

/** Options of {@link describeAction}. */
export interface DescribeOptions {
  /**
   * How a command names another namespace (`ip link add … peer name eth0 netns NAME`). By default a
   * pod's namespace is its CNI_NETNS path (`/var/run/netns/cni-…`, which `ip` opens as a path) when
   * `state` knows the pod, and its label otherwise; the kernel oracle maps namespaces to its own names.
   */
  readonly netnsName?: (ns: NsId) => string;
}

/** How a namespace id reads in a command listing. */
export function nsLabel(ns: NsId): string {
  if (ns.startsWith('node/')) return ns.slice(5);
  if (ns.startsWith('pod/')) return ns.slice(4);
  return ns;
}

function routeCmd(verb: 'add' | 'replace' | 'append' | 'prepend' | 'change' | 'del', r: RouteSpec): string {
  const parts = ['ip route', verb];
  if (r.type && r.type !== 'unicast') parts.push(r.type);
  parts.push(r.dst);
  if (r.via !== undefined) parts.push('via', r.via);
  if (r.dev !== undefined) parts.push('dev', r.dev);
  if (r.proto !== undefined && r.proto !== 'boot') parts.push('proto', r.proto);
  if (r.scope !== undefined) parts.push('scope', r.scope);
  if (r.src !== undefined) parts.push('src', r.src);
  if (r.metric !== undefined && r.metric !== 0) parts.push('metric', String(r.metric));
  if (r.onlink) parts.push('onlink');
  if (r.mtu !== undefined) parts.push('mtu', String(r.mtu));
  if (r.table !== undefined && r.table !== 254) parts.push('table', String(r.table));
  return parts.join(' ');
}

function ipRuleCmd(verb: 'add' | 'del', r: IpRuleSpec): string {
  const parts = ['ip rule', verb];
  if (r.from !== undefined) parts.push('from', r.from);
  if (r.to !== undefined) parts.push('to', r.to);
  if (r.table !== undefined) parts.push('lookup', r.table === 254 ? 'main' : String(r.table));
  if (r.priority !== undefined) parts.push('priority', String(r.priority));
  return parts.join(' ');
}

function ruleCmd(flag: '-A' | '-I' | '-R' | '-D', r: RuleSpec, position?: number): string {
  const parts = ['iptables', '-t', r.table, flag, r.chain, ...(position === undefined ? [] : [String(position)])];
  if (r.src !== undefined) parts.push('-s', r.src);
  if (r.notSrc !== undefined) parts.push('!', '-s', r.notSrc);
  if (r.dst !== undefined) parts.push('-d', r.dst);
  if (r.notDst !== undefined) parts.push('!', '-d', r.notDst);
  if (r.inIf !== undefined) parts.push('-i', r.inIf);
  if (r.outIf !== undefined) parts.push('-o', r.outIf);
  if (r.protocol !== undefined) parts.push('-p', r.protocol);
  if (r.dport !== undefined) parts.push('--dport', String(r.dport));
  if (r.mark !== undefined) parts.push('-m', 'mark', '--mark', r.mark);
  if (r.comment !== undefined) parts.push('-m', 'comment', '--comment', JSON.stringify(r.comment));
  parts.push('-j', r.target === 'JUMP' ? r.jump! : r.target);
  if (r.target === 'SNAT' && r.to !== undefined) parts.push('--to-source', r.to);
  if (r.target === 'DNAT' && r.to !== undefined) parts.push('--to-destination', r.to);
  return parts.join(' ');
}

/** A peer-set entry as the text a `peerset.put` carries. */
export interface PeerEntrySpec {
  readonly routes: readonly RouteSpec[];
  readonly neigh: readonly { readonly ip: string; readonly mac: string }[];
  readonly fdb: readonly { readonly mac: string; readonly dst: string }[];
}

function peerEntrySpec(e: PeerEntry): PeerEntrySpec {
  return {
    routes: e.routes.map((r) => ({ dst: `${formatIpv4(r.dst.addr)}/${r.dst.len}`, ...(r.via !== null ? { via: formatIpv4(r.via) } : {}) })),
    neigh: e.neigh.map((n) => ({ ip: formatIpv4(n.ip), mac: n.mac })),
    fdb: e.fdb.map((f) => ({ mac: f.mac, dst: formatIpv4(f.dst) })),
  };
}

/**
 * The commands that install (`put`) or remove (`del`) one node's entry of a shared peer set on
 * another node: its routes, permanent neighbours and VXLAN FDB entries on `dev`.
 */
export function peerEntryCommands(dev: string, e: PeerEntrySpec, verb: 'put' | 'del'): string[] {
  if (verb === 'put') {
    return [
      ...e.routes.map((r) => routeCmd('replace', { ...r, dev })),
      ...e.neigh.map((n) => `ip neigh replace ${n.ip} lladdr ${n.mac} dev ${dev} nud permanent`),
      ...e.fdb.map((f) => `bridge fdb append ${f.mac} dev ${dev} dst ${f.dst} self permanent`),
    ];
  }
  return [
    ...e.routes.map((r) => `ip route del ${r.dst}${r.via !== undefined ? ` via ${r.via}` : ''} dev ${dev}`),
    ...e.neigh.map((n) => `ip neigh del ${n.ip} dev ${dev}`),
    ...e.fdb.map((f) => `bridge fdb del ${f.mac} dev ${dev} dst ${f.dst}`),
  ];
}

/**
 * The commands an action stands for. `state` (the state the action applies to) lets shared peer-set
 * actions list the entries they remove or the namespaces they reach; without it they are described
 * generically.
 */
export function describeAction(a: Action, state?: ClusterState, options: DescribeOptions = {}): Command[] {
  const at = (ns: NsId, command: string): Command => ({ where: nsLabel(ns), ns, command });
  const netns = options.netnsName ?? ((ns: NsId) => {
    const pod = state && ns.startsWith('pod/') ? findPod(state, ns.slice(4)) : undefined;
    return pod ? netnsPath(pod) : nsLabel(ns);
  });
  switch (a.op) {
    case 'link.add': {
      const head = [`ip link add ${a.name}`];
      if (a.mac !== undefined) head.push(`address ${a.mac}`);
      if (a.mtu !== undefined) head.push(`mtu ${a.mtu}`);
      let type: string;
      if (a.kind === 'veth') {
        // The peer's own options follow `peer name X` (ip-link(8)): without them the peer keeps MTU 1500.
        const peer = [`type veth peer name ${a.peer?.name ?? '?'}`];
        if (a.peer?.mac !== undefined) peer.push(`address ${a.peer.mac}`);
        if (a.peer?.mtu !== undefined) peer.push(`mtu ${a.peer.mtu}`);
        if (a.peer && a.peer.ns !== a.ns) peer.push(`netns ${netns(a.peer.ns)}`);
        type = peer.join(' ');
      }
      else if (a.kind === 'vxlan' && a.vxlan?.external) type = `type vxlan external dstport ${a.vxlan.dstPort}`;
      else if (a.kind === 'vxlan' && a.vxlan) type = `type vxlan id ${a.vxlan.vni} local ${a.vxlan.local} dev ${a.vxlan.dev} dstport ${a.vxlan.dstPort}${a.vxlan.learning ? '' : ' nolearning'}`;
      else if (a.kind === 'ipip') type = `type ipip${a.ipip?.local ? ` local ${a.ipip.local}` : ''}`;
      else type = `type ${a.kind}`;
      const out = [at(a.ns, `${head.join(' ')} ${type}`)];
      if (a.master !== undefined) out.push(at(a.ns, `ip link set ${a.name} master ${a.master}`));
      if (a.up) out.push(at(a.ns, `ip link set ${a.name} up`));
      if (a.kind === 'veth' && a.peer?.up) out.push(at(a.peer.ns, `ip link set ${a.peer.name} up`));
      return out;
    }
    case 'link.del':
      return [at(a.ns, `ip link del ${a.name}`)];
    case 'link.set': {
      const parts = [`ip link set ${a.name}`];
      if (a.mtu !== undefined) parts.push(`mtu ${a.mtu}`);
      if (a.mac !== undefined) parts.push(`address ${a.mac}`);
      if (a.master !== undefined) parts.push(a.master === null ? 'nomaster' : `master ${a.master}`);
      if (a.up !== undefined) parts.push(a.up ? 'up' : 'down');
      // Last: iproute2 reads everything after `type bridge_slave` as the port's settings.
      if (a.hairpin !== undefined) parts.push(`type bridge_slave hairpin ${a.hairpin ? 'on' : 'off'}`);
      return [at(a.ns, parts.join(' '))];
    }
    case 'addr.add':
    case 'addr.del':
      return [at(a.ns, `ip addr ${a.op === 'addr.add' ? 'add' : 'del'} ${a.addr} dev ${a.dev}${a.op === 'addr.add' && a.scope && a.scope !== 'global' ? ` scope ${a.scope}` : ''}${a.op === 'addr.add' && a.noprefixroute === true ? ' noprefixroute' : ''}`)];
    case 'addr.replace':
    case 'addr.change':
      return [at(a.ns, `ip addr ${a.op.slice(5)} ${a.addr} dev ${a.dev}${a.scope && a.scope !== 'global' ? ` scope ${a.scope}` : ''}${a.noprefixroute === true ? ' noprefixroute' : ''}`)];
    case 'addr.flush':
      return [at(a.ns, `ip addr flush dev ${a.dev}${a.primary === true ? ' primary' : ''}${a.secondary === true ? ' secondary' : ''}${a.scope !== undefined ? ` scope ${a.scope}` : ''}${a.to !== undefined ? ` to ${a.to}` : ''}`)];
    case 'route.add':
    case 'route.replace':
    case 'route.append':
    case 'route.prepend':
    case 'route.change':
      return [at(a.ns, routeCmd(a.op.slice(6) as 'add', a))];
    case 'route.flush': {
      const parts = ['ip route flush'];
      for (const k of ['root', 'match', 'exact', 'dev', 'via', 'proto', 'type', 'scope'] as const) if (a[k] !== undefined) parts.push(k, a[k]);
      if (a.table !== undefined) parts.push('table', a.table === 254 ? 'main' : String(a.table));
      return [at(a.ns, parts.join(' '))];
    }
    case 'neigh.flush': {
      const sel = a.dev !== undefined ? `dev ${a.dev}` : a.to !== undefined ? `to ${a.to}` : 'all';
      return [at(a.ns, `ip neigh flush ${sel}${a.nud !== undefined ? a.nud.map((n) => ` nud ${n}`).join('') : ''}`)];
    }
    case 'route.del':
      return [at(a.ns, routeCmd('del', a))];
    case 'route.flushCache':
      return [at(a.ns, 'ip route flush cache')];
    case 'route.cacheException':
      return [at(a.ns, `ip route get ${/^\d+\|/.test(a.key) ? formatIpv4(Number(a.key.slice(0, a.key.indexOf('|'))) >>> 0) : a.key}`)];
    case 'iprule.add':
    case 'iprule.del':
      return [at(a.ns, ipRuleCmd(a.op === 'iprule.add' ? 'add' : 'del', a))];
    case 'neigh.add':
    case 'neigh.replace':
      return [at(a.ns, `ip neigh ${a.op === 'neigh.add' ? 'add' : 'replace'} ${a.ip} lladdr ${a.mac} dev ${a.dev} nud permanent`)];
    case 'neigh.del':
      return [at(a.ns, `ip neigh del ${a.ip} dev ${a.dev}`)];
    case 'fdb.add':
    case 'fdb.append':
    case 'fdb.replace': {
      // What the action does, as iproute2 would be told it: `master STATE` for a bridge port's entry (the
      // action's default state is static), `dst IP self permanent` for a VXLAN device, `self` otherwise.
      const verb = a.op.slice(4);
      const how = a.dst !== undefined ? ` dst ${a.dst} self permanent` : a.master === false ? ' self permanent' : ` master ${a.state ?? 'static'}`;
      return [at(a.ns, `bridge fdb ${verb} ${a.mac} dev ${a.dev}${how}`)];
    }
    case 'fdb.flush':
      return [at(a.ns, `bridge fdb flush dev ${a.dev}${a.master === true ? ' master' : ''}${(a.states ?? []).map((x) => ` ${x}`).join('')}`)];
    case 'fdb.del':
      return [at(a.ns, `bridge fdb del ${a.mac} dev ${a.dev}${a.dst !== undefined ? ` dst ${a.dst}` : ''}${a.master === true ? ' master' : ''}`)];
    case 'sysctl.set':
      return [at(a.ns, `sysctl -w ${a.key}=${a.value}`)];
    case 'rule.append':
    case 'rule.insert':
    case 'rule.replace':
    case 'rule.del':
      return [at(a.ns, ruleCmd(a.op === 'rule.append' ? '-A' : a.op === 'rule.insert' ? '-I' : a.op === 'rule.replace' ? '-R' : '-D', a.rule, a.op === 'rule.insert' || a.op === 'rule.replace' ? a.position : undefined))];
    case 'chain.policy':
      return [at(a.ns, `iptables -t ${a.table} -P ${a.chain} ${a.policy}`)];
    case 'chain.new':
    case 'chain.del':
    case 'chain.flush':
      return [at(a.ns, `iptables -t ${a.table} ${a.op === 'chain.new' ? '-N' : a.op === 'chain.del' ? '-X' : '-F'} ${a.chain}`)];
    case 'conntrack.delete':
      return [at(a.ns, a.protocol === undefined && a.src === undefined && a.dst === undefined && a.srcNat === undefined && a.dstNat === undefined ? 'conntrack -F'
        : `conntrack -D${a.protocol !== undefined ? ` -p ${a.protocol}` : ''}${a.src !== undefined ? ` -s ${a.src}` : ''}${a.dst !== undefined ? ` -d ${a.dst}` : ''}${a.srcNat !== undefined ? ` -n ${a.srcNat}` : ''}${a.dstNat !== undefined ? ` -g ${a.dstNat}` : ''}`)];
    case 'listen':
      return [at(a.ns, `# a process listens on ${a.protocol.toUpperCase()} port ${a.port}`)];
    case 'peerset.put': {
      const where = `every node but ${a.owner}${a.group === undefined ? '' : ` (group ${a.group})`}`;
      return peerEntryCommands(a.dev, a, 'put').map((command) => ({ where, command }));
    }
    case 'peerset.del': {
      const where = `every node but ${a.owner}`;
      const set = state?.peerSets[a.set];
      const entry = set ? shardGet(set.entries, a.owner) : undefined;
      if (!entry) return [{ where, command: `# forget ${a.owner}'s entries of ${a.set}` }];
      return peerEntryCommands(set!.dev, peerEntrySpec(entry), 'del').map((command) => ({ where, command }));
    }
    case 'peerset.restore': {
      const set = state?.peerSets[a.set];
      const entry = set ? shardGet(set.entries, a.owner) : undefined;
      if (!entry) return [at(a.ns, `# put ${a.owner}'s ${a.set} routes back here`)];
      return peerEntrySpec(entry).routes.map((r) => at(a.ns, routeCmd('add', { ...r, dev: set!.dev })));
    }
    case 'peerset.attach': {
      const which = a.match === undefined ? 'every other node\'s' : a.match === 'same' ? `the ${a.group} nodes'` : `the nodes outside ${a.group}'s`;
      return [at(a.ns, `# install ${which} ${a.set} entries (routes, neighbours, FDB) here${a.via === undefined ? '' : `, each route via ${a.via}`}`)];
    }
    case 'tc.attach':
      // What cilium's loader does through netlink, as tc(8) would type it.
      return [
        at(a.ns, `tc qdisc replace dev ${a.dev} clsact`),
        at(a.ns, `tc filter replace dev ${a.dev} ${a.direction} prio 1 handle 1 bpf da obj ${a.obj} sec ${a.sec}${a.encapDev ? `  # compiled with ENCAP_IFINDEX = ${a.encapDev}` : ''}`),
      ];
    case 'tc.detach':
      return [at(a.ns, `tc filter del dev ${a.dev} ${a.direction} prio 1 handle 1 bpf`)];
    case 'bpf.map.update':
      // bpftool takes keys and values as hex bytes; the map is shown the way cilium-dbg lists it.
      if (a.map === 'cilium_lxc') {
        const v = a.value;
        return [at(a.ns, `# cilium_lxc[${a.key}] = ${v.host ? '(localhost)' : `{ ifname ${v.dev}, mac ${v.mac}, identity ${v.identity} }`}   (cilium-dbg bpf endpoint list)`)];
      }
      return [{ where: 'every node', command: `# cilium_tunnel_map[${a.key}] = ${a.value.endpoint}   (cilium-dbg bpf tunnel list; the map is one for the cluster in podnet)` }];
    case 'bpf.map.delete':
      return a.map === 'cilium_lxc'
        ? [at(a.ns, `# delete cilium_lxc[${a.key}]`)]
        : [{ where: 'every node', command: `# delete cilium_tunnel_map[${a.key}]` }];
    case 'vpc.assign': {
      // The cloud API, not the node, does this: the EC2 CLI calls ipamd makes through the SDK.
      const where = `aws (${a.node})`;
      const out: Command[] = [];
      if (a.attach) {
        out.push(
          { where, command: `aws ec2 create-network-interface --subnet-id subnet-${a.segment}${a.primaryIp ? ` --private-ip-address ${a.primaryIp}` : ''}  # → ${a.eni}` },
          { where, command: `aws ec2 attach-network-interface --network-interface-id ${a.eni} --instance-id i-${a.node} --device-index ${a.deviceIndex}` },
        );
      }
      if (a.ips && a.ips.length) out.push({ where, command: `aws ec2 assign-private-ip-addresses --network-interface-id ${a.eni} --private-ip-addresses ${a.ips.join(' ')}` });
      if (a.prefixes && a.prefixes.length) out.push({ where, command: `aws ec2 assign-private-ip-addresses --network-interface-id ${a.eni} --ipv4-prefixes ${a.prefixes.join(' ')}` });
      return out;
    }
    case 'vpc.unassign': {
      const where = 'aws';
      const out: Command[] = [];
      if (a.ips && a.ips.length) out.push({ where, command: `aws ec2 unassign-private-ip-addresses --network-interface-id ${a.eni} --private-ip-addresses ${a.ips.join(' ')}` });
      if (a.prefixes && a.prefixes.length) out.push({ where, command: `aws ec2 unassign-private-ip-addresses --network-interface-id ${a.eni} --ipv4-prefixes ${a.prefixes.join(' ')}` });
      if (a.detach) out.push({ where, command: `aws ec2 detach-network-interface --attachment-id eni-attach-${a.eni.slice(4)}` }, { where, command: `aws ec2 delete-network-interface --network-interface-id ${a.eni}` });
      return out;
    }
  }
}
