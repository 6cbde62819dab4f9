/**
 * The CNI reference `bridge` plugin with host-local IPAM (containernetworking/plugins plugins/main/bridge),
 * as every design here that delegates to it calls it: flannel's CNI plugin delegates to it, and
 * {@link ../designs/bridge.ts} is it alone. ADD: the bridge (created on the first pod, with the gateway
 * address when isGateway), a veth per pod with its host end on the bridge, the pod's address from
 * host-local, and the routes. DEL: the host veth goes (and with it the pod end), the address is released.
 */
import {
  cidrContains, formatCidr, formatIpv4, macFromSeed, sandboxId, type Action, type Cidr, type ClusterState, type CniResult, type DesignReaction,
  type Node, type Pod, type PodAddReaction, type PodAddRequest,
} from '@podnet/core';
import { vethName } from '../contract/plugins.js';
import { allocateOnSubnet, EMPTY_HOST_LOCAL, hostLocalDel, type HostLocalStore } from '../ipam/host-local.js';

/** What a design using the bridge plugin keeps per node: host-local's allocations. */
export interface BridgeNodeState {
  readonly ipam: HostLocalStore;
}

/** The bridge plugin's configuration as a design passes it. */
export interface BridgePluginConfig {
  /** `bridge` (default cni0). */
  readonly bridge: string;
  /** `mtu` of the bridge and the veths. */
  readonly mtu: number;
  /** host-local's `subnet`. */
  readonly subnet: Cidr;
  /** Routes the pod gets besides its default route (`isDefaultGateway`), each via the gateway. */
  readonly routes: readonly string[];
  /** `ipMasq`: masquerade what the pod sends outside `subnet` (per-pod rules, as the plugin's CNI-… chain). */
  readonly ipMasq: boolean;
  /** The CNI result's version. */
  readonly cniVersion: string;
  /** The network's `name` (the masquerade rules' comment carries it, as the plugin's FormatComment). */
  readonly network: string;
}

/** The plugin's rule comment (utils.FormatComment): `name: "<network>" id: "<container id>"`. */
function ruleComment(network: string, containerId: string): string {
  return `name: ${JSON.stringify(network)} id: ${JSON.stringify(containerId)}`;
}

/** A node's bridge-plugin state (empty before its first pod). */
export function bridgeNodeState(node: Node): BridgeNodeState {
  return (node.cni as BridgeNodeState | null) ?? { ipam: EMPTY_HOST_LOCAL };
}

/** The plugin's ipMasq chain for one pod (CNI-…: `-d <subnet> -j ACCEPT`, `! -d 224.0.0.0/4 -j MASQUERADE`). */
function masqRules(subnet: string): { readonly dst?: string; readonly notDst?: string; readonly target: 'ACCEPT' | 'MASQUERADE' }[] {
  return [{ dst: subnet, target: 'ACCEPT' }, { notDst: '224.0.0.0/4', target: 'MASQUERADE' }];
}

/** CNI ADD of the bridge plugin with host-local IPAM. */
export function bridgeAdd(state: ClusterState, req: PodAddRequest, c: BridgePluginConfig): PodAddReaction {
  void state;
  const { node, pod } = req;
  const got = allocateOnSubnet(c.subnet, bridgeNodeState(node).ipam, req, c.cniVersion, (msg) => `failed to allocate for range 0: ${msg}`);
  if ('error' in got) return got;
  const { range } = got;
  const h = `node/${node.name}`;
  const p = `pod/${pod.key}`;
  const gw = formatIpv4(range.gateway);
  const veth = vethName(pod.key);
  const ip = formatIpv4(got.ip);
  const actions: Action[] = [];
  if (!node.host.links[c.bridge]) {
    actions.push(
      { op: 'link.add', ns: h, name: c.bridge, kind: 'bridge', mtu: c.mtu, mac: macFromSeed(`${c.bridge}|${node.name}`) },
      { op: 'addr.add', ns: h, dev: c.bridge, addr: `${gw}/${c.subnet.len}` },
      { op: 'link.set', ns: h, name: c.bridge, up: true },
    );
  }
  const podMac = macFromSeed(`eth0|${pod.key}|${pod.uid}`);
  const hostMac = macFromSeed(`${veth}|${pod.uid}`);
  actions.push(
    { op: 'link.add', ns: h, name: veth, kind: 'veth', mtu: c.mtu, mac: hostMac, master: c.bridge, up: true, peer: { ns: p, name: req.ifname, mac: podMac, mtu: c.mtu, up: true } },
    { op: 'addr.add', ns: p, dev: req.ifname, addr: `${ip}/${c.subnet.len}` },
    // isDefaultGateway gives the default route; the IPAM routes add the rest, each via the gateway.
    { op: 'route.add', ns: p, dst: 'default', via: gw, dev: req.ifname },
    ...c.routes.map((dst): Action => ({ op: 'route.add', ns: p, dst, via: gw, dev: req.ifname })),
  );
  if (c.ipMasq) {
    for (const r of masqRules(formatCidr(c.subnet))) {
      actions.push({ op: 'rule.append', ns: h, rule: { table: 'nat', chain: 'POSTROUTING', src: `${ip}/32`, ...r, comment: ruleComment(c.network, req.containerId) } });
    }
  }
  const bridgeMac = node.host.links[c.bridge]?.mac ?? macFromSeed(`${c.bridge}|${node.name}`);
  const result: CniResult = {
    cniVersion: c.cniVersion,
    interfaces: [{ name: c.bridge, mac: bridgeMac }, { name: veth, mac: hostMac }, { name: req.ifname, mac: podMac, sandbox: req.netns }],
    ips: [{ address: `${ip}/${c.subnet.len}`, gateway: gw, interface: 2 }],
    routes: [...c.routes.map((dst) => ({ dst })), { dst: '0.0.0.0/0', gw }],
    dns: {},
  };
  return { actions, result, nodeState: { ipam: got.store } satisfies BridgeNodeState };
}

/** CNI DEL of the bridge plugin: the veth goes, host-local releases the address, the masquerade rules go. */
export function bridgeDel(pod: Pod, node: Node, c: Pick<BridgePluginConfig, 'ipMasq' | 'subnet' | 'network'>): DesignReaction {
  const veth = vethName(pod.key);
  const h = `node/${node.name}`;
  const actions: Action[] = node.host.links[veth] ? [{ op: 'link.del', ns: h, name: veth }] : [];
  const st = bridgeNodeState(node);
  const ip = pod.ip === null ? null : formatIpv4(pod.ip);
  const owner = ip === null ? undefined : st.ipam.allocated[ip];
  if (c.ipMasq && ip !== null && owner !== undefined && cidrContains(c.subnet, pod.ip!)) {
    const id = owner.id;
    for (const r of masqRules(formatCidr(c.subnet))) {
      actions.push({ op: 'rule.del', ns: h, rule: { table: 'nat', chain: 'POSTROUTING', src: `${ip}/32`, ...r, comment: ruleComment(c.network, id) } });
    }
  }
  return { actions, nodeState: { ipam: hostLocalDel(st.ipam, owner?.id ?? sandboxId(pod), owner?.ifname ?? 'eth0') } satisfies BridgeNodeState };
}
