/**
 * The list runtime's shortcuts answer what the plain way answers: a chained plugin that hands prevResult on
 * is skipped without building its input, and a pod's CNI_ARGS is not built to find its `IP=` pair.
 */
import { createSimulator, type CniDesign, type CniResult, type Node } from '@podnet/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flannel } from '../designs/flannel.js';
import { envIpText } from '../ipam/host-local.js';
import { parseNetworkConfig, type NetworkConfigList } from './config.js';
import { fromConflist, type NodeAgent } from './conflist-design.js';
import { cniArgsIpText, execPlugin, flannelDelegate, parseSubnetEnv, PodInvocation, SUBNET_ENV, type CniInvocation, type IpamStores, type PluginInput } from './plugins.js';
import { printResult, type CurrentResult } from './result.js';
import { addNetworkList, type ListOutcome } from './runtime.js';

/** libcni's AddNetworkList the plain way: every plugin run through execPlugin with its whole input. */
function plainAdd(list: NetworkConfigList, inv: CniInvocation, stores: IpamStores): ListOutcome {
  let prev: CurrentResult | null = null;
  let s = stores;
  const actions = [];
  for (const p of list.plugins) {
    const { prevResult: _dropped, ...rest } = p as Record<string, unknown>;
    const conf = { ...rest, type: p.type, name: list.name, cniVersion: list.cniVersion, ...(prev === null ? {} : { prevResult: prev }) } as PluginInput;
    const r = execPlugin('ADD', conf, inv, s);
    if (!r.ok) return { ok: false, error: r.error, plugin: p.type };
    actions.push(...r.actions);
    s = r.stores;
    prev = r.result;
  }
  return { ok: true, result: prev === null ? null : printResult(prev, list.cniVersion), actions, stores: s };
}

const MAIN = {
  bridge: { type: 'bridge', bridge: 'cni0', isGateway: true, ipam: { type: 'host-local', ranges: [[{ subnet: '10.22.0.0/24' }]], routes: [{ dst: '0.0.0.0/0' }] } },
  loopback: { type: 'loopback' },
  portmap: { type: 'portmap', capabilities: { portMappings: true } },
  tuning: { type: 'tuning' },
  unknown: { type: 'macvlan' },
} as const;
const CHAINED = [{ type: 'portmap', capabilities: { portMappings: true } }, { type: 'bandwidth' }, { type: 'tuning', sysctl: {} }, { type: 'loopback' }, { type: 'nope' }] as const;

describe('list runs without building what a pass-through plugin would be given', () => {
  it('answers, for any list, what running each plugin with its whole input answers', () => {
    const sim = createSimulator({ podCidr: '10.244.0.0/16', cni: flannel(), nodes: [{ name: 'node-1' }], pods: [] });
    const node = sim.node('node-1');
    const arb = fc.record({
      version: fc.constantFrom('0.3.1', '0.4.0', '1.0.0'),
      main: fc.constantFrom(...(Object.keys(MAIN) as (keyof typeof MAIN)[])),
      chain: fc.array(fc.constantFrom(...CHAINED), { maxLength: 4 }),
      id: fc.constantFrom('abc', 'def'),
    });
    let chainedResults = 0;
    fc.assert(fc.property(arb, ({ version, main, chain, id }) => {
      const parsed = parseNetworkConfig(JSON.stringify({ cniVersion: version, name: 'net', plugins: [MAIN[main], ...chain] }));
      if (!parsed.ok) throw new Error(parsed.error.msg);
      const inv: CniInvocation = { state: sim.state, node, podKey: 'default/x', podUid: 'u-1', podNetns: null, containerId: id, netns: '/var/run/netns/x', ifname: 'eth0', args: '', files: {} };
      const fast = addNetworkList(parsed.config, inv, {});
      expect(fast).toEqual(plainAdd(parsed.config, inv, {}));
      if (fast.ok && fast.result !== null && chain.length > 0) chainedResults++;
    }), { numRuns: 200, seed: 11 });
    // Most runs must have gone through chained plugins to a result, not stopped at an error.
    expect(chainedResults).toBeGreaterThan(20);
  });
});

describe('CNI_ARGS of a pod invocation', () => {
  const sim = createSimulator({ podCidr: '10.244.0.0/16', cni: flannel(), nodes: [{ name: 'node-1' }], pods: [] });
  const piece = fc.oneof(fc.constantFrom('default', 'p-1', 'a;IP=10.9.9.9', 'IP=1.2.3.4', ';', '=', 'x;IP=bad=y', ''), fc.string({ maxLength: 12 }));

  it('reads the IP= value CNI_ARGS holds, built or not, whatever the names hold', () => {
    fc.assert(fc.property(piece, piece, piece, piece, fc.option(fc.oneof(fc.constantFrom('10.244.1.9', '1.2.3;4', 'a=b'), fc.string({ maxLength: 8 }))), (namespace, name, containerId, uid, requested) => {
      const pod = { namespace, name, key: `${namespace}/${name}`, uid, netns: null };
      const inv = new PodInvocation(sim.state, sim.node('node-1'), pod, containerId, '/var/run/netns/x', 'eth0', requested, {});
      const fresh = new PodInvocation(sim.state, sim.node('node-1'), pod, containerId, '/var/run/netns/x', 'eth0', requested, {});
      // Asked before the text is built, and after: the text's own answer either way.
      expect(cniArgsIpText(fresh)).toBe(envIpText(inv.args));
      expect(cniArgsIpText(inv)).toBe(envIpText(inv.args));
      expect(inv.args).toBe(`IgnoreUnknown=1;K8S_POD_NAMESPACE=${namespace};K8S_POD_NAME=${name};K8S_POD_INFRA_CONTAINER_ID=${containerId};K8S_POD_UID=${uid}${requested === null ? '' : `;IP=${requested}`}`);
    }), { numRuns: 300, seed: 5 });
  });

  it('holds a pinned address for host-local, and none otherwise', () => {
    const s = createSimulator({ podCidr: '10.244.0.0/16', cni: flannel(), nodes: [{ name: 'node-1' }], pods: [{ name: 'a', node: 'node-1', ip: '10.244.0.77' }, { name: 'b', node: 'node-1' }] });
    expect((s.pod('a').cniResult as CniResult).ips[0]!.address).toBe('10.244.0.77/24');
    expect((s.pod('b').cniResult as CniResult).ips[0]!.address).not.toBe('10.244.0.77/24');
  });
});

describe('what bridge and host-local read of a configuration, once per configuration object', () => {
  it('answers an ADD with a configuration seen before as with a fresh copy of it', () => {
    const sim = createSimulator({ podCidr: '10.244.0.0/16', cni: flannel(), nodes: [{ name: 'node-1' }], pods: [] });
    const node = sim.node('node-1');
    const confArb = fc.record({
      type: fc.constant('bridge'), name: fc.constant('net'), cniVersion: fc.constantFrom('0.3.1', '1.0.0'),
      bridge: fc.option(fc.constantFrom('cni0', 'br1', ''), { nil: undefined }),
      isGateway: fc.option(fc.boolean(), { nil: undefined }), isDefaultGateway: fc.option(fc.boolean(), { nil: undefined }),
      hairpinMode: fc.option(fc.boolean(), { nil: undefined }), promiscMode: fc.option(fc.boolean(), { nil: undefined }),
      vlan: fc.option(fc.constantFrom(0, 5), { nil: undefined }), mtu: fc.option(fc.constantFrom(1400, 9000), { nil: undefined }),
      ipam: fc.option(fc.record({ type: fc.constant('host-local'), ranges: fc.constantFrom([[{ subnet: '10.22.0.0/24' }]], [[{ subnet: '10.23.0.0/30' }]], [[{ subnet: 'bad' }]]) }), { nil: undefined }),
    }, { requiredKeys: ['type', 'name', 'cniVersion'] });
    fc.assert(fc.property(fc.array(confArb, { minLength: 1, maxLength: 4 }), fc.constantFrom('', 'IgnoreUnknown=1;IP=10.22.0.9'), (confs, args) => {
      const inv: CniInvocation = { state: sim.state, node, podKey: 'default/x', podUid: 'u-1', podNetns: null, containerId: 'abc', netns: '/var/run/netns/x', ifname: 'eth0', args, files: {} };
      for (const c of confs) {
        const seen = c as PluginInput;
        const first = execPlugin('ADD', seen, inv, {});
        expect(execPlugin('ADD', seen, inv, {})).toEqual(first);
        expect(execPlugin('ADD', structuredClone(seen), inv, {})).toEqual(first);
        expect(execPlugin('ADD', { ...seen, prevResult: { interfaces: [], ips: [], routes: [], dns: {} } } as PluginInput, inv, {})).toEqual(first);
      }
    }), { numRuns: 150, seed: 3 });
  });
});

describe("flannel's delegate, whose host-local plan is filed when it is made", () => {
  it('answers ADD and DEL as a fresh copy of it, read through its text, does', () => {
    const sim = createSimulator({ podCidr: '10.244.0.0/16', cni: flannel(), nodes: [{ name: 'node-1' }], pods: [] });
    const node = sim.node('node-1');
    const arb = fc.record({
      octets: fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })),
      len: fc.constantFrom(16, 24, 28, 30, 31),
      version: fc.constantFrom('0.3.1', '1.0.0'),
      delegate: fc.constantFrom('plain', 'gateway', 'args', 'ptp'),
      ipam: fc.option(fc.constantFrom({}, { routes: [{ dst: '192.168.0.0/16' }] }, { dataDir: '/tmp/ipam' }), { nil: undefined }),
      runtimeConfig: fc.boolean(),
      name: fc.constantFrom('cbr0', 'net'),
    });
    let added = 0;
    fc.assert(fc.property(arb, ({ octets: [a, b], len, version, delegate: kind, ipam, runtimeConfig: rc, name }) => {
      // Requested addresses inside the node's subnet (but for the smallest ones), so that most ADDs allocate.
      const delegate = kind === 'gateway' ? { hairpinMode: true, isDefaultGateway: true } : kind === 'args' ? { args: { cni: { ips: [`10.${a}.${b}.5`] } } } : kind === 'ptp' ? { type: 'ptp' } : {};
      const runtimeConfig = rc ? { ips: [`10.${a}.${b}.6/${len}`] } : undefined;
      const text = `FLANNEL_NETWORK=10.0.0.0/8\nFLANNEL_SUBNET=10.${a}.${b}.1/${len}\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n`;
      const conf = { type: 'flannel', name, cniVersion: version, delegate, ...(ipam ? { ipam } : {}), ...(runtimeConfig ? { runtimeConfig } : {}) } as PluginInput;
      const env = parseSubnetEnv(SUBNET_ENV, text);
      if ('error' in env) throw new Error(env.error);
      const d = flannelDelegate(conf, env);
      if (typeof d === 'string') throw new Error(d);
      const inv: CniInvocation = { state: sim.state, node, podKey: 'default/x', podUid: 'u-1', podNetns: null, containerId: 'abc', netns: '/var/run/netns/x', ifname: 'eth0', args: '', files: { [SUBNET_ENV]: text } };
      const add = execPlugin('ADD', d, inv, {});
      expect(add).toEqual(execPlugin('ADD', structuredClone(d), inv, {}));
      if (!add.ok) return;
      added++;
      expect(execPlugin('DEL', d, inv, add.stores)).toEqual(execPlugin('DEL', structuredClone(d), inv, add.stores));
    }), { numRuns: 200, seed: 7 });
    // Most delegates must have allocated, not stopped at an error.
    expect(added).toBeGreaterThan(50);
  });
});

describe("the flannel plugin's subnet.env, remembered on the files record it was read from", () => {
  it('reads the text the record holds now, whatever it was asked before', () => {
    const sim = createSimulator({ podCidr: '10.244.0.0/16', cni: flannel(), nodes: [{ name: 'node-1' }], pods: [] });
    const node = sim.node('node-1');
    const files: Record<string, string> = { [SUBNET_ENV]: 'FLANNEL_NETWORK=10.0.0.0/8\nFLANNEL_SUBNET=10.1.2.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n' };
    const inv: CniInvocation = { state: sim.state, node, podKey: 'default/x', podUid: 'u-1', podNetns: null, containerId: 'abc', netns: '/var/run/netns/x', ifname: 'eth0', args: '', files };
    const conf = { type: 'flannel', name: 'cbr0', cniVersion: '0.3.1', delegate: {} } as PluginInput;
    const first = execPlugin('ADD', conf, inv, {});
    expect(first.ok && first.result?.ips[0]?.address).toBe('10.1.2.2/24');
    expect(execPlugin('ADD', conf, inv, {})).toEqual(first);
    files[SUBNET_ENV] = 'FLANNEL_NETWORK=10.0.0.0/8\nFLANNEL_SUBNET=10.7.0.1/16\nFLANNEL_MTU=1400\nFLANNEL_IPMASQ=true\n';
    const second = execPlugin('ADD', conf, inv, {});
    expect(second.ok && second.result?.ips[0]?.address).toBe('10.7.0.2/16');
    files[SUBNET_ENV] = 'FLANNEL_NETWORK=10.0.0.0/8\n';
    const broken = execPlugin('ADD', conf, inv, {});
    expect(broken.ok ? '' : broken.error.msg).toContain('is missing FLANNEL_SUBNET');
  });

  it('delegates as the configuration it runs with says, whatever configuration read the record before', () => {
    const sim = createSimulator({ podCidr: '10.244.0.0/16', cni: flannel(), nodes: [{ name: 'node-1' }], pods: [] });
    const node = sim.node('node-1');
    const text = 'FLANNEL_NETWORK=10.0.0.0/8\nFLANNEL_SUBNET=10.1.2.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n';
    const files = Object.freeze({ [SUBNET_ENV]: text });
    const inv = (f: Readonly<Record<string, string>>): CniInvocation => ({ state: sim.state, node, podKey: 'default/x', podUid: 'u-1', podNetns: null, containerId: 'abc', netns: '/var/run/netns/x', ifname: 'eth0', args: '', files: f });
    const confs = [
      { type: 'flannel', name: 'cbr0', cniVersion: '0.3.1', delegate: {} },
      { type: 'flannel', name: 'cbr0', cniVersion: '0.3.1', delegate: { bridge: 'br9', mtu: 1400 } },
      { type: 'flannel', name: 'cbr0', cniVersion: '0.3.1', delegate: { name: 'refused' } },
    ] as PluginInput[];
    for (const conf of [...confs, ...confs]) {
      // The same record each time, against a record of the same text never read before.
      expect(execPlugin('ADD', conf, inv(files), {})).toEqual(execPlugin('ADD', conf, inv({ [SUBNET_ENV]: text }), {}));
    }
    const [plainConf, br9] = confs;
    const a = execPlugin('ADD', plainConf!, inv(files), {});
    const b = execPlugin('ADD', br9!, inv(files), {});
    expect(a.ok && a.result?.interfaces[0]?.name).toBe('cni0');
    expect(b.ok && b.result?.interfaces[0]?.name).toBe('br9');
  });
});

describe("a conflist design's agent", () => {
  it('sees the node the design was given, with its own state as `cni`, as a spread of it gives', () => {
    /** The node each design call was given (as it was then: a build writes its records in place), then what the agent saw of it. */
    const given: Node[] = [];
    const seen: Node[] = [];
    const agent: NodeAgent = {
      name: 'watcher',
      nodeAdded: (_s, node) => { seen.push({ ...node }); return { actions: [], nodeState: `agent of ${node.name}` }; },
      nodeRemoved: (_s, node) => { seen.push({ ...node }); return { actions: [] }; },
      files: (_s, node) => { seen.push({ ...node }); return {}; },
    };
    const inner = fromConflist(JSON.stringify({ cniVersion: '0.3.1', name: 'net', plugins: [{ type: 'bridge', ipam: { type: 'host-local', subnet: '10.22.0.0/16' } }] }), { agent });
    const design: CniDesign = {
      ...inner,
      nodeAdded: (s, n) => { given.push({ ...n }); return inner.nodeAdded(s, n); },
      nodeRemoved: (s, n) => { given.push({ ...n }); return inner.nodeRemoved(s, n); },
      podAdded: (s, q) => { given.push({ ...q.node }); return inner.podAdded(s, q); },
      podDeleted: (s, p, n) => { given.push({ ...n }); return inner.podDeleted(s, p, n); },
    };
    const sim = createSimulator({ podCidr: '10.244.0.0/16', cni: design, nodes: [{ name: 'node-1' }, { name: 'node-2' }], pods: [{ name: 'a', node: 'node-1' }] });
    sim.cordon('node-2');
    sim.addPod({ name: 'b', node: 'node-2' });
    sim.deletePod('a');
    sim.removeNode('node-2');
    // Joins, b's ADD on the cordoned node, a's DEL, then the removal: b's DEL and the leave.
    expect(seen.map((n) => n.name)).toEqual(['node-1', 'node-2', 'node-1', 'node-2', 'node-1', 'node-2', 'node-2']);
    expect(seen).toHaveLength(given.length);
    for (let i = 0; i < seen.length; i++) {
      const g = given[i]!;
      const want = { ...g, cni: (g.cni as { agent: unknown } | null)?.agent ?? null };
      // The same keys in the same order (a cordoned node's `unschedulable` included), the same values (the very
      // objects: compared one by one, since a value may hold drafts of a transition that has ended).
      expect(Object.keys(seen[i]!)).toEqual(Object.keys(want));
      for (const k of Object.keys(want) as (keyof Node)[]) expect(seen[i]![k]).toBe(want[k]);
    }
    expect(seen.at(-1)!.unschedulable).toBe(true);
  });
});
