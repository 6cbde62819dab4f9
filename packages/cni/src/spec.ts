/**
 * The cluster spec as plain JSON (DESIGN.md "The cluster spec"): one description that builds a
 * simulator, used by labs, examples, tests and the kernel oracle.
 */
import { createSimulator, fail, shown, type ClusterSettings, type NodeSpec, type PodSpec, type Simulator, type SimulatorSpec } from '@podnet/core';
import { awsVpc, type AwsVpcOptions } from './designs/aws-vpc.js';
import { calico, type CalicoOptions } from './designs/calico.js';
import { cilium } from './designs/cilium.js';
import { nativeVpc } from './designs/native-vpc.js';
import { fromConflist } from './contract/conflist-design.js';
import { bridge } from './designs/bridge.js';
import { broken } from './designs/broken.js';
import { flannel, flannelAgent } from './designs/flannel.js';

/** The plain-JSON cluster spec. */
export interface ClusterSpecJson extends ClusterSettings {
  /**
   * The design: `flannel`, `calico`, `cilium`, `aws-vpc`, `native-vpc`, `bridge`, a `broken` one, or `conflist` — a CNI configuration file's text (what
   * /etc/cni/net.d holds), with `agent: 'flanneld'` when flanneld connects the nodes (see docs/cni-contract.md).
   */
  readonly cni?:
    | ({ readonly type: 'calico' } & CalicoOptions)
    | { readonly type: 'flannel'; readonly backend?: 'vxlan' | 'host-gw'; readonly ipMasq?: boolean; readonly iptablesForwardRules?: boolean; readonly iptablesResync?: number }
    | { readonly type: 'bridge'; readonly bridge?: string; readonly ipMasq?: boolean; readonly mtu?: number }
    | { readonly type: 'broken'; readonly mistake: keyof typeof broken }
    | { readonly type: 'cilium'; readonly routing?: 'tunnel' | 'native' }
    | ({ readonly type: 'aws-vpc' } & AwsVpcOptions)
    | { readonly type: 'native-vpc'; readonly provider: 'gke' | 'azure' }
    | { readonly type: 'conflist'; readonly conflist: string; readonly agent?: 'flanneld' };
  readonly nodes: readonly NodeSpec[];
  readonly pods: readonly PodSpec[];
}

/** Resolves the spec's `cni` object to a design. */
export function designFromSpec(cni: ClusterSpecJson['cni']): SimulatorSpec['cni'] {
  const c = cni ?? { type: 'flannel', backend: 'vxlan' };
  if (c.type === 'flannel') {
    return flannel({ backend: c.backend ?? 'vxlan', ...(c.ipMasq === undefined ? {} : { ipMasq: c.ipMasq }), ...(c.iptablesForwardRules === undefined ? {} : { iptablesForwardRules: c.iptablesForwardRules }), ...(c.iptablesResync === undefined ? {} : { iptablesResync: c.iptablesResync }) });
  }
  try {
    if (c.type === 'cilium') return cilium({ routing: c.routing ?? 'tunnel' });
    if (c.type === 'aws-vpc') return awsVpc(c);
    if (c.type === 'native-vpc') return nativeVpc({ provider: c.provider });
  } catch (e) {
    if (e instanceof TypeError || e instanceof RangeError) fail('INVALID_ARGUMENT', `cni: ${e.message}`);
    throw e;
  }
  if (c.type === 'calico') {
    const { type: _type, ...options } = c;
    return calico(options);
  }
  if (c.type === 'conflist') {
    if (typeof c.conflist !== 'string') fail('INVALID_ARGUMENT', 'cni.conflist must be the text of a CNI configuration file');
    if (c.agent !== undefined && c.agent !== 'flanneld') fail('INVALID_ARGUMENT', `unknown node agent "${shown(c.agent)}" (known: flanneld)`);
    return fromConflist(c.conflist, c.agent === 'flanneld' ? { agent: flannelAgent() } : {});
  }
  if (c.type === 'bridge') return bridge({ ...(c.bridge === undefined ? {} : { bridge: c.bridge }), ...(c.ipMasq === undefined ? {} : { ipMasq: c.ipMasq }), ...(c.mtu === undefined ? {} : { mtu: c.mtu }) });
  if (c.type === 'broken') {
    const make = Object.prototype.hasOwnProperty.call(broken, c.mistake) ? broken[c.mistake] : undefined;
    if (!make) return fail('INVALID_ARGUMENT', `unknown broken design "${shown(c.mistake)}" (known: ${Object.keys(broken).join(', ')})`);
    return make();
  }
  return fail('INVALID_ARGUMENT', `unknown cni type "${shown((c as { type: unknown }).type)}" (known: flannel, calico, cilium, aws-vpc, native-vpc, bridge, broken, conflist)`);
}

/** Builds a simulator from a plain-JSON spec. */
export function simulatorFromSpec(spec: ClusterSpecJson, options: Omit<SimulatorSpec, 'cni' | keyof ClusterSettings | 'nodes' | 'pods'> = {}): Simulator {
  if (spec === null || typeof spec !== 'object') fail('INVALID_ARGUMENT', 'the cluster spec must be an object');
  return createSimulator({ ...options, ...spec, cni: designFromSpec(spec.cni) });
}

/** The lesson's three-node cluster: pod CIDR 10.244.0.0/16, pods A–F at the lesson's IPs, flannel VXLAN. */
export function seedLabSpec(): ClusterSpecJson {
  return {
    podCidr: '10.244.0.0/16',
    nodeCidrMaskSize: 24,
    underlay: { segments: [{ name: 'rack-a', cidr: '192.168.1.0/24', gateway: '192.168.1.1', mtu: 1500 }] },
    cni: { type: 'flannel', backend: 'vxlan' },
    nodes: [
      { name: 'node-1', ip: '192.168.1.11', podCidr: '10.244.1.0/24' },
      { name: 'node-2', ip: '192.168.1.12', podCidr: '10.244.2.0/24' },
      { name: 'node-3', ip: '192.168.1.13', podCidr: '10.244.3.0/24' },
    ],
    pods: [
      { name: 'pod-a', node: 'node-1', ip: '10.244.1.4' },
      { name: 'pod-b', node: 'node-1', ip: '10.244.1.5' },
      { name: 'pod-c', node: 'node-2', ip: '10.244.2.3' },
      { name: 'pod-d', node: 'node-2', ip: '10.244.2.7' },
      { name: 'pod-e', node: 'node-3', ip: '10.244.3.2' },
      { name: 'pod-f', node: 'node-3', ip: '10.244.3.9' },
    ],
  };
}

/**
 * The seed lab's nodes and pods with flannel's host-gw backend (what packages/kernel-oracle/scripts/host-gw.sh
 * builds in real namespaces). `segments: 2` moves node-3 to a second underlay segment, rack-b
 * (192.168.2.0/24), behind the underlay router: its host-gw routes cannot be installed.
 */
export function hostGwLabSpec(options: { readonly segments?: 1 | 2 } = {}): ClusterSpecJson {
  const two = options.segments === 2;
  if (options.segments !== undefined && options.segments !== 1 && !two) fail('INVALID_ARGUMENT', `segments must be 1 or 2, not ${shown(options.segments)}`);
  const seed = seedLabSpec();
  return {
    ...seed,
    underlay: {
      segments: [
        { name: 'rack-a', cidr: '192.168.1.0/24', gateway: '192.168.1.1', mtu: 1500 },
        ...(two ? [{ name: 'rack-b', cidr: '192.168.2.0/24', gateway: '192.168.2.1', mtu: 1500 }] : []),
      ],
    },
    cni: { type: 'flannel', backend: 'host-gw' },
    nodes: two ? [...seed.nodes.slice(0, 2), { name: 'node-3', ip: '192.168.2.13', podCidr: '10.244.3.0/24', segment: 'rack-b' }] : seed.nodes,
  };
}
