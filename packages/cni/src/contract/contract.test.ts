import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createSimulator, formatCidr, ipRoute, isPodnetError, type CniDesign, type CniResult, type Simulator } from '@podnet/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flannel, flannelAgent } from '../designs/flannel.js';
import { seedLabSpec, simulatorFromSpec } from '../spec.js';
import { parseNetworkConfig, versionAtLeast } from './config.js';
import { fromConflist, fromNodeConfig } from './conflist-design.js';
import { printResult } from './result.js';
import { vethName } from './plugins.js';
import { addNetworkList, delNetworkList } from './runtime.js';

const fixture = (name: string): string => readFileSync(fileURLToPath(new URL(`../__fixtures__/reference/${name}`, import.meta.url)), 'utf8');
const FLANNEL = fixture('10-flannel.conflist');
const BRIDGE = fixture('bridge-host-local.conf');
const PTP = fixture('ptp.conf');
const SPEC_RESULT = JSON.parse(fixture('spec-add-result.json')) as Record<string, unknown>;

/** A reference file with some fields changed (the variants a user would write). */
const edit = (text: string, f: (o: Record<string, unknown>) => void): string => {
  const o = JSON.parse(text) as Record<string, unknown>;
  f(o);
  return JSON.stringify(o, null, 2);
};
const errorOf = (text: string) => {
  const p = parseNetworkConfig(text);
  return p.ok ? null : p.error;
};

/** One node on the default segment, pods a, b, c on it. */
function oneNode(design: CniDesign, pods = ['a', 'b']): Simulator {
  return createSimulator({ podCidr: '10.244.0.0/16', cni: design, nodes: [{ name: 'node-1' }], pods: pods.map((name) => ({ name, node: 'node-1' })) });
}

/** Adds a pod whose CNI ADD must fail: it stays ContainerCreating; returns the kubelet's event text. */
function failedAdd(sim: Simulator, name: string): string {
  const p = sim.addPod({ name, node: 'node-1' });
  expect(p.status).toMatchObject({ phase: 'ContainerCreating', reason: 'FailedCreatePodSandBox' });
  expect(p.status.message).toMatch(/^Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "[0-9a-f]{64}": plugin type="[^"]+" name="[^"]+" failed \(add\): /);
  return p.status.message!;
}

describe('reading network configurations (libcni conf.go, skel)', () => {
  it('reads every real file: flannel\'s conflist, the bridge and ptp single configs, the calico and cilium templates once filled in', () => {
    const f = parseNetworkConfig(FLANNEL);
    expect(f.ok && { v: f.config.cniVersion, name: f.config.name, types: f.config.plugins.map((p) => p.type), format: f.config.format }).toEqual({ v: '0.3.1', name: 'cbr0', types: ['flannel', 'portmap'], format: 'conflist' });
    const b = parseNetworkConfig(BRIDGE);
    expect(b.ok && { v: b.config.cniVersion, name: b.config.name, types: b.config.plugins.map((p) => p.type), format: b.config.format }).toEqual({ v: '1.0.0', name: 'mynet', types: ['bridge'], format: 'conf' });
    // ptp.conf names no cniVersion: libcni and the plugins read that as 0.1.0.
    const p = parseNetworkConfig(PTP);
    expect(p.ok && { v: p.config.cniVersion, types: p.config.plugins.map((x) => x.type) }).toEqual({ v: '0.1.0', types: ['ptp'] });
    // flannel's net-conf.json is flanneld's configuration, not a CNI one.
    expect(errorOf(fixture('flannel-net-conf.json'))).toMatchObject({ code: 7, msg: 'error parsing configuration list: no name' });
    // The templates are not JSON until the installer fills them in.
    expect(errorOf(fixture('10-calico.conflist.template'))?.code).toBe(6);
    const calico = parseNetworkConfig(fixture('10-calico.conflist.template').replace('__CNI_MTU__', '1440'));
    expect(calico.ok && calico.config.plugins.map((x) => x.type)).toEqual(['calico', 'portmap']);
    const cilium = parseNetworkConfig(fixture('05-cilium.conflist.template').replace('{{.Debug | js }}', 'false').replace('{{.LogFile | js }}', '/var/run/cilium/cilium-cni.log'));
    expect(cilium.ok && cilium.config.plugins.map((x) => x.type)).toEqual(['cilium-cni']);
  });

  it('refuses invalid variants with the spec\'s codes and libcni\'s words', () => {
    expect(errorOf('{"name": "x", "plugins": [')).toMatchObject({ code: 6, msg: 'error parsing configuration list' });
    expect(errorOf('[1, 2]')).toMatchObject({ code: 6, details: 'json: cannot unmarshal array into Go value of type map[string]interface {}' });
    expect(errorOf(edit(FLANNEL, (o) => delete o['name']))).toMatchObject({ code: 7, msg: 'error parsing configuration list: no name' });
    expect(errorOf(edit(FLANNEL, (o) => (o['name'] = 42)))).toMatchObject({ code: 7, msg: 'error parsing configuration list: invalid name type float64' });
    expect(errorOf(edit(FLANNEL, (o) => (o['name'] = 'cbr 0')))).toEqual({ cniVersion: '0.3.1', code: 7, msg: 'invalid characters found in network name', details: 'cbr 0' });
    expect(errorOf(edit(FLANNEL, (o) => (o['name'] = '-cbr0')))).toMatchObject({ code: 7, details: '-cbr0' });
    expect(errorOf(edit(BRIDGE, (o) => delete o['name']))).toMatchObject({ code: 7, msg: 'missing network name:' });
    expect(errorOf(edit(FLANNEL, (o) => (o['cniVersion'] = '2.0.0')))).toEqual({
      cniVersion: '2.0.0', code: 1, msg: 'incompatible CNI versions',
      details: 'config is "2.0.0", plugin supports ["0.1.0" "0.2.0" "0.3.0" "0.3.1" "0.4.0" "1.0.0" "1.1.0"]',
    });
    expect(errorOf(edit(FLANNEL, (o) => (o['cniVersion'] = 1)))).toMatchObject({ code: 7, msg: 'error parsing configuration list: invalid cniVersion type float64' });
    expect(errorOf(edit(FLANNEL, (o) => (o['plugins'] = [])))).toMatchObject({ code: 7, msg: 'error parsing configuration list: no plugins in list' });
    expect(errorOf(edit(FLANNEL, (o) => (o['plugins'] = { type: 'flannel' })))).toMatchObject({ code: 7, msg: 'error parsing configuration list: invalid \'plugins\' type map[string]interface {}' });
    expect(errorOf(edit(FLANNEL, (o) => delete (o['plugins'] as Record<string, unknown>[])[1]!['type']))).toMatchObject({ code: 7, msg: 'failed to parse plugin config 1: error parsing configuration: missing \'type\'' });
    expect(errorOf(edit(FLANNEL, (o) => (o['disableCheck'] = 'maybe')))).toMatchObject({ code: 7, msg: 'error parsing configuration list: invalid value "maybe" for disableCheck' });
    expect(errorOf(edit(FLANNEL, (o) => delete o['plugins']))).toMatchObject({ code: 7, msg: 'no plugin configs found' });
  });

  it('reads disableCheck and disableGC as booleans or "true"/"false", and picks the highest usable of cniVersions', () => {
    const p = parseNetworkConfig(edit(FLANNEL, (o) => Object.assign(o, { disableCheck: 'TRUE', disableGC: true, cniVersions: ['1.0.0', '1.1.0', '9.0.0'] })));
    expect(p.ok && [p.config.disableCheck, p.config.disableGC, p.config.cniVersion]).toEqual([true, true, '1.1.0']);
  });

  it('turns invalid files into a typed error when a design is made of them', () => {
    try {
      fromConflist(edit(FLANNEL, (o) => (o['cniVersion'] = '2.0.0')));
      expect.unreachable();
    } catch (e) {
      expect(isPodnetError(e, 'CNI_CONFIG_INVALID')).toBe(true);
      expect((e as { details: { cniError: { code: number } } }).details.cniError.code).toBe(1);
    }
    // A config without cniVersion is 0.1.0, whose results have no `ips` list to address a pod from.
    expect(() => fromConflist(PTP)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
  });
});

describe('results in the shape of each spec version', () => {
  it('matches the spec\'s example ADD result for the spec\'s example bridge configuration', () => {
    // SPEC.md's example network (bridge cni0, host-local on 10.1.0.0/16, DNS 10.1.0.1) with a default
    // route; the pod asks for 10.1.0.5, the address of the spec's example.
    const conf = JSON.stringify({ cniVersion: '1.0.0', name: 'dbnet', type: 'bridge', bridge: 'cni0', ipam: { type: 'host-local', subnet: '10.1.0.0/16', gateway: '10.1.0.1', routes: [{ dst: '0.0.0.0/0' }] }, dns: { nameservers: ['10.1.0.1'] } });
    const sim = createSimulator({ podCidr: '10.244.0.0/16', cni: fromConflist(conf), nodes: [{ name: 'node-1' }], pods: [{ name: 'blue', node: 'node-1', ip: '10.1.0.5' }] });
    const result = sim.pod('blue').cniResult as CniResult;
    const shape = (r: Record<string, unknown>) => JSON.parse(JSON.stringify(r).replace(/"(\w\w:){5}\w\w"/g, '"MAC"').replace(/veth[0-9a-f]+/g, 'VETH').replace(/"\/var\/run\/netns\/[^"]+"/g, '"NETNS"')) as unknown;
    const { cniVersion, ...rest } = result;
    expect(cniVersion).toBe('1.0.0');
    expect(shape(rest)).toEqual(shape(SPEC_RESULT));
  });

  it('adds `version` to every IP for 0.3.x and 0.4.0, not for 1.0.0; 0.2.0 has the old ip4 shape', () => {
    const current = { interfaces: [], ips: [{ interface: 2, address: '10.1.0.5/16', gateway: '10.1.0.1' }], routes: [{ dst: '0.0.0.0/0' }], dns: {} };
    expect(printResult(current, '0.3.1').ips[0]).toEqual({ version: '4', interface: 2, address: '10.1.0.5/16', gateway: '10.1.0.1' });
    expect(printResult(current, '0.4.0').ips[0]?.version).toBe('4');
    expect(printResult(current, '1.1.0').ips[0]).toEqual({ interface: 2, address: '10.1.0.5/16', gateway: '10.1.0.1' });
    expect(printResult(current, '0.2.0')).toEqual({ cniVersion: '0.2.0', ip4: { ip: '10.1.0.5/16', gateway: '10.1.0.1', routes: [{ dst: '0.0.0.0/0' }] }, dns: {} });
  });
});

describe('plugin lists run as libcni runs them', () => {
  it('ADD chains flannel → bridge → host-local, then portmap with prevResult: the pod gets the 0.3.1 result', () => {
    const sim = simulatorWithConflist(FLANNEL);
    const r = sim.pod('pod-a').cniResult as CniResult;
    expect(r.cniVersion).toBe('0.3.1');
    expect(r.interfaces.map((i) => i.name)).toEqual(['cni0', expect.stringMatching(/^veth[0-9a-f]{8}$/), 'eth0']);
    expect(r.interfaces[2]!.sandbox).toMatch(/^\/var\/run\/netns\/cni-/);
    expect(r.ips).toEqual([{ version: '4', interface: 2, address: '10.244.1.4/24', gateway: '10.244.1.1' }]);
    expect(r.routes).toEqual([{ dst: '10.244.0.0/16' }, { dst: '0.0.0.0/0', gw: '10.244.1.1' }]);
  });

  it('runs 10-flannel.conflist with flanneld as the built-in flannel() design: same pings, traceroutes and routes', () => {
    const a = simulatorWithConflist(FLANNEL);
    const b = createSimulator({ ...seedLabSpec(), cni: flannel() });
    const ends = ['pod-a', 'pod-b', 'pod-c', 'pod-d', 'pod-e', 'pod-f', 'node-1', 'node-2', 'node-3'];
    const ipOf = (s: Simulator, n: string) => (n.startsWith('node') ? s.node(n).ip : s.pod(n).ip!);
    for (const from of ends) {
      for (const to of ends) {
        if (from === to) continue;
        const dst = [ipOf(a, to) >>> 24, (ipOf(a, to) >>> 16) & 255, (ipOf(a, to) >>> 8) & 255, ipOf(a, to) & 255].join('.');
        expect(a.ping(from, dst).lines, `${from} → ${to}`).toEqual(b.ping(from, dst).lines);
        expect(a.traceroute(from, dst).hops, `${from} → ${to}`).toEqual(b.traceroute(from, dst).hops);
      }
    }
    for (const ns of ['node/node-1', 'node/node-2', 'pod/default/pod-a', 'pod/default/pod-f']) expect(ipRoute(a.state, ns)).toEqual(ipRoute(b.state, ns));
    expect(a.check()).toEqual({ ok: true, violations: [] });
    // cniConfig() is the file as given.
    expect(Object.values(a.design.cniConfig!(a.state, a.node('node-1')))).toEqual([FLANNEL]);
  });

  it('the JSON cluster spec takes a conflist and a node agent', () => {
    const sim = simulatorFromSpec({ ...seedLabSpec(), cni: { type: 'conflist', conflist: FLANNEL, agent: 'flanneld' } });
    expect(sim.ping('pod-a', '10.244.3.9').ok).toBe(true);
    expect(() => simulatorFromSpec({ ...seedLabSpec(), cni: { type: 'conflist', conflist: FLANNEL, agent: 'bird' as 'flanneld' } })).toThrow('unknown node agent "bird" (known: flanneld)');
  });

  it('without flanneld the flannel plugin finds no subnet.env, and the pod never runs', () => {
    const sim = createSimulator({ podCidr: '10.244.0.0/16', cni: fromConflist(FLANNEL), nodes: [{ name: 'node-1' }] });
    expect(failedAdd(sim, 'a')).toMatch(/ failed \(add\): open \/run\/flannel\/subnet.env: no such file or directory$/);
    expect(sim.pods().map((p) => [p.name, p.status.phase, p.ip])).toEqual([['a', 'ContainerCreating', null]]);
  });

  it('an exhausted node subnet fails as kubelet reports it for flannel', () => {
    const sim = createSimulator({ podCidr: '10.244.0.0/16', nodeCidrMaskSize: 29, cni: flannel(), nodes: [{ name: 'node-1' }] });
    for (let i = 0; i < 5; i++) sim.addPod({ name: `p${i}`, node: 'node-1' });
    expect(sim.pods().map((p) => p.ip! & 255)).toEqual([2, 3, 4, 5, 6]);
    expect(failedAdd(sim, 'p5')).toMatch(/plugin type="flannel" name="cbr0" failed \(add\): failed to delegate add: failed to allocate for range 0: no IP addresses available in range set: 10\.244\.0\.1-10\.244\.0\.6$/);
  });

  it('an unknown plugin type fails as libcni fails to find the binary', () => {
    const calico = fixture('10-calico.conflist.template').replace('__CNI_MTU__', '1440');
    const sim = createSimulator({ podCidr: '10.244.0.0/16', cni: fromConflist(calico), nodes: [{ name: 'node-1' }] });
    expect(failedAdd(sim, 'a')).toMatch(/ failed \(add\): failed to find plugin "calico" in path \[\/opt\/cni\/bin\]$/);
  });

  it('refuses a field podnet cannot honour with code 2, naming key and value', () => {
    const design = fromConflist(edit(BRIDGE, (o) => (o['vlan'] = 100)));
    const sim = createSimulator({ podCidr: '10.244.0.0/16', cni: design, nodes: [{ name: 'node-1' }] });
    failedAdd(sim, 'a');
    expect(sim.pod('a').cniResult).toEqual({
      cniVersion: '1.0.0', code: 2, msg: 'unsupported field in network configuration: "vlan": 100', details: 'podnet does not model bridge VLAN filtering',
    });
  });

  it('a route whose gateway is off the pod\'s subnet fails as the kernel refuses it', () => {
    const conf = edit(BRIDGE_OK, (o) => ((o['ipam'] as Record<string, unknown>)['routes'] = [{ dst: '192.168.0.0/16', gw: '172.16.0.1' }]));
    const sim = createSimulator({ podCidr: '10.244.0.0/16', cni: fromConflist(conf), nodes: [{ name: 'node-1' }] });
    expect(failedAdd(sim, 'a')).toMatch(/ failed \(add\): failed to add route '\{192\.168\.0\.0 ffff0000\} via 172\.16\.0\.1 dev eth0': network is unreachable$/);
  });

  it('the cni.dev bridge example fails ADD: its IPAM default route and isDefaultGateway add the same route twice', () => {
    // calcGateways appends 0.0.0.0/0 via the gateway since the IPAM route has no gw; ConfigureIface has
    // already added that route (via the first address's gateway): netlink answers EEXIST. Go prints the
    // appended route's destination, net.IPv4zero with its 16-byte mask (the real plugin's text:
    // packages/cni/src/__fixtures__/real-bridge-plugin.json).
    const sim = createSimulator({ podCidr: '10.244.0.0/16', cni: fromConflist(BRIDGE), nodes: [{ name: 'node-1' }] });
    expect(failedAdd(sim, 'a')).toMatch(/ failed \(add\): failed to add route '\{0\.0\.0\.0 00000000000000000000ffff00000000\} via 10\.10\.0\.254 dev eth0': file exists$/);
  });
});

/** The reference bridge config without the IPAM default route: what works. */
const BRIDGE_OK = edit(BRIDGE, (o) => ((o['ipam'] as Record<string, unknown>)['routes'] = [{ dst: '192.168.0.0/16', gw: '10.10.5.1' }]));

describe('bridge with host-local ranges', () => {
  it('addresses pods from the range set, with the gateway on the bridge and the masquerade rules of ipMasq', () => {
    const sim = oneNode(fromConflist(BRIDGE_OK), ['a', 'b']);
    expect(sim.pods().map((p) => (sim.pod(p.name).cniResult as CniResult).ips)).toEqual([
      [{ interface: 2, address: '10.10.1.20/16', gateway: '10.10.0.254' }],
      [{ interface: 2, address: '10.10.1.21/16', gateway: '10.10.0.254' }],
    ]);
    expect(ipRoute(sim.state, 'pod/default/a')).toEqual([
      'default via 10.10.0.254 dev eth0',
      '10.10.0.0/16 dev eth0 proto kernel scope link src 10.10.1.20',
      '192.168.0.0/16 via 10.10.5.1 dev eth0',
    ]);
    expect(sim.node('node-1').host.links['mynet0']?.addrs.map((a) => a.len)).toEqual([16]);
    // POSTROUTING sends each pod's traffic to its own CNI-… chain, which masquerades it (ip.SetupIPMasq).
    const host = sim.node('node-1').host;
    expect(host.rules.filter((r) => r.chain === 'POSTROUTING' && r.target === 'JUMP').map((r) => r.src && formatCidr(r.src))).toEqual(['10.10.1.20/32', '10.10.1.21/32']);
    expect(host.rules.filter((r) => r.target === 'MASQUERADE').map((r) => r.chain)).toEqual(host.rules.filter((r) => r.chain === 'POSTROUTING' && r.target === 'JUMP').map((r) => r.jump));
    expect(sim.ping('a', '10.10.1.21').ok).toBe(true);
    expect(sim.ping('node-1', '10.10.1.20').ok).toBe(true);
  });

  it('gives each bridge its gateway with its own range\'s mask, whatever bridges of other masks got before', () => {
    // The bridge's address text and parse are remembered for the last gateway and mask asked: clusters
    // whose ranges share a gateway but not a mask must still each get their own (the kernel would refuse
    // a pod whose bridge holds another address: "already has an IP address different from").
    const conf = (len: number) => fromConflist(JSON.stringify({ cniVersion: '1.0.0', name: 'net', plugins: [{ type: 'bridge', bridge: 'br0', isGateway: true,
      ipam: { type: 'host-local', ranges: [[{ subnet: len === 16 ? '10.1.0.0/16' : len === 24 ? '10.1.0.0/24' : '10.1.0.0/20', gateway: '10.1.0.1' }]] } }] }));
    fc.assert(fc.property(fc.array(fc.constantFrom(16, 20, 24), { minLength: 1, maxLength: 12 }), (order) => {
      const sims = new Map<number, Simulator>();
      order.forEach((len, i) => {
        let sim = sims.get(len);
        if (!sim) sims.set(len, (sim = createSimulator({ podCidr: '10.244.0.0/16', cni: conf(len), nodes: [{ name: 'node-1' }] })));
        expect(sim.addPod({ name: `p${i}`, node: 'node-1' }).status.phase).toBe('Running');
      });
      for (const [len, sim] of sims) expect(sim.node('node-1').host.links['br0']!.addrs.map((a) => `${a.ip}/${a.len}`)).toEqual([`${(10 << 24) + (1 << 16) + 1}/${len}`]);
    }), { numRuns: 40, seed: 9 });
  });

  it('DEL is idempotent: deleting twice, or what was never added, succeeds and changes nothing more', () => {
    const sim = oneNode(fromConflist(BRIDGE_OK), ['a']);
    const design = sim.design;
    const pod = sim.pod('a');
    const node = sim.node('node-1');
    const first = design.podDeleted(sim.state, pod, node);
    expect(first.actions.map((a) => a.op)).toEqual(['link.del', 'rule.del', 'chain.flush', 'chain.del']);
    sim.deletePod('a');
    const after = sim.node('node-1');
    // The same DEL again, on the node as it is now: nothing left to remove, IPAM already released.
    const again = design.podDeleted(sim.state, { ...pod, netns: null }, after);
    expect(again.actions).toEqual([]);
    expect(again.nodeState).toEqual(after.cni);
    // A DEL for a container that was never added.
    const never = design.podDeleted(sim.state, { ...pod, key: 'default/never', name: 'never', uid: 'x', netns: null }, after);
    expect(never.actions).toEqual([]);
    // The address comes back only after the rest of the range (round-robin).
    sim.addPod({ name: 'c', node: 'node-1' });
    expect((sim.pod('c').cniResult as CniResult).ips[0]!.address).toBe('10.10.1.21/16');
  });

  it('CHECK passes on what ADD made, and reports drift with the plugin\'s message', () => {
    const sim = oneNode(fromConflist(BRIDGE_OK), ['a']);
    const check = () => sim.design.podChecked!(sim.state, sim.pod('a'), sim.node('node-1'));
    expect(check()).toEqual({});
    sim.apply({ op: 'route.del', ns: 'pod/default/a', dst: '192.168.0.0/16' });
    expect(check().error).toEqual({
      cniVersion: '1.0.0', code: 999,
      msg: 'Expected Route {Dst:{IP:192.168.0.0 Mask:ffff0000} GW:10.10.5.1 MTU:0 AdvMSS:0 Priority:0 Table:<nil> Scope:<nil>} not found in routing table',
    });
    sim.undo();
    sim.apply({ op: 'addr.del', ns: 'pod/default/a', dev: 'eth0', addr: '10.10.1.20/16' });
    expect(check().error?.msg).toBe('Failed to match addr 10.10.1.20/16 on interface eth0');
    sim.undo();
    const veth = Object.keys(sim.node('node-1').host.links).find((l) => l.startsWith('veth'))!;
    sim.apply({ op: 'link.set', ns: 'node/node-1', name: veth, master: null });
    expect(check().error?.msg).toBe('CNI veth created for bridge mynet0 was not found');
  });

  it('CHECK: disableCheck skips the plugins; lists older than 0.4.0 are refused by libcni', () => {
    // In a single .conf, disableCheck is a plugin field that libcni's ConfListFromConf does not carry over…
    const single = oneNode(fromConflist(edit(BRIDGE_OK, (o) => (o['disableCheck'] = true))), ['a']);
    single.apply({ op: 'addr.del', ns: 'pod/default/a', dev: 'eth0', addr: '10.10.1.20/16' });
    expect(single.design.podChecked!(single.state, single.pod('a'), single.node('node-1')).error?.msg).toBe('Failed to match addr 10.10.1.20/16 on interface eth0');
    // …in a conflist it is the list's, and the plugins are not called.
    const list = JSON.stringify({ cniVersion: '1.0.0', name: 'mynet', disableCheck: true, plugins: [JSON.parse(BRIDGE_OK) as unknown] });
    const sim = oneNode(fromConflist(list), ['a']);
    sim.apply({ op: 'addr.del', ns: 'pod/default/a', dev: 'eth0', addr: '10.10.1.20/16' });
    expect(sim.design.podChecked!(sim.state, sim.pod('a'), sim.node('node-1'))).toEqual({});
    const f = simulatorWithConflist(FLANNEL);
    expect(f.design.podChecked!(f.state, f.pod('pod-a'), f.node('node-1')).error?.msg).toBe('configuration version "0.3.1" does not support the CHECK command');
    expect(flannel().podChecked!(f.state, f.pod('pod-a'), f.node('node-1')).error?.msg).toBe('configuration version "0.3.1" does not support the CHECK command');
    // At 1.0.0 libcni runs CHECK, and flannel's own CHECK is a TODO that answers success: no drift is seen.
    const g = simulatorWithConflist(edit(FLANNEL, (o) => (o['cniVersion'] = '1.0.0')));
    g.apply({ op: 'addr.del', ns: 'pod/default/pod-a', dev: 'eth0', addr: '10.244.1.4/24' });
    expect(g.design.podChecked!(g.state, g.pod('pod-a'), g.node('node-1'))).toEqual({});
  });

  it('without a node agent, pods on different nodes cannot reach each other: the guarantees say so', () => {
    const sim = createSimulator({
      podCidr: '10.244.0.0/16', cni: fromConflist(edit(BRIDGE_OK, (o) => ((o['ipam'] as Record<string, unknown>)['ranges'] = [[{ subnet: '10.10.0.0/16' }]]))),
      nodes: [{ name: 'node-1' }, { name: 'node-2' }], pods: [{ name: 'a', node: 'node-1' }, { name: 'b', node: 'node-2', ip: '10.10.9.9' }],
    });
    expect(sim.ping('a', '10.10.9.9').ok).toBe(false);
    expect(sim.check().violations.map((v) => v.guarantee)).toContain('no-nat');
  });
});

describe('the CNI_* environment (skel, code 4)', () => {
  it('refuses a bad container ID or interface name before any plugin runs', () => {
    const sim = oneNode(fromConflist(BRIDGE_OK), []);
    const parsed = parseNetworkConfig(BRIDGE_OK);
    if (!parsed.ok) throw new Error(parsed.error.msg);
    const inv = { state: sim.state, node: sim.node('node-1'), podKey: 'default/x', podUid: 'u', podNetns: null, containerId: 'abc', netns: '/var/run/netns/x', ifname: 'eth0', args: '', files: {} };
    expect(addNetworkList(parsed.config, { ...inv, containerId: 'a/b' }, {})).toMatchObject({ ok: false, error: { code: 4, msg: 'invalid characters in containerID', details: 'a/b' } });
    expect(addNetworkList(parsed.config, { ...inv, ifname: 'eth0:1' }, {})).toMatchObject({ ok: false, error: { code: 4, msg: 'interface name contains / or : or whitespace characters' } });
    expect(addNetworkList(parsed.config, { ...inv, ifname: 'a-very-long-ifname' }, {})).toMatchObject({ ok: false, error: { code: 4, msg: 'interface name is too long' } });
    expect(addNetworkList(parsed.config, { ...inv, netns: '' }, {})).toMatchObject({ ok: false, error: { code: 4, msg: 'required env variables [CNI_NETNS] missing' } });
    // DEL needs no namespace: it releases what it can.
    expect(delNetworkList(parsed.config, { ...inv, netns: '' }, {}, null)).toMatchObject({ ok: true, actions: [] });
  });
});

describe('ptp', () => {
  const PTP_1 = edit(PTP, (o) => (o['cniVersion'] = '1.0.0'));

  it('wires a veth with the gateway as a /32 on the host end, a host route, and a /32 route to the gateway in the pod', () => {
    const sim = oneNode(fromConflist(PTP_1), ['a', 'b']);
    const r = sim.pod('a').cniResult as CniResult;
    expect(r.interfaces.map((i) => i.name)).toEqual([expect.stringMatching(/^veth/), 'eth0']);
    expect(r.ips).toEqual([{ interface: 1, address: '10.1.1.2/24', gateway: '10.1.1.1' }]);
    expect(r.dns).toEqual({ nameservers: ['10.1.1.1', '8.8.8.8'] });
    expect(ipRoute(sim.state, 'pod/default/a')).toEqual([
      '10.1.1.0/24 via 10.1.1.1 dev eth0 src 10.1.1.2',
      '10.1.1.1 dev eth0 scope link src 10.1.1.2',
    ]);
    const veth = r.interfaces[0]!.name;
    expect(ipRoute(sim.state, 'node/node-1')).toContain(`10.1.1.2 dev ${veth} scope host`);
    expect(sim.ping('node-1', '10.1.1.2').ok).toBe(true);
    expect(sim.ping('a', '10.1.1.3').ok).toBe(true);
    // The same gateway on every host-side veth is one local address of the node, not a duplicate.
    expect(sim.check()).toEqual({ ok: true, violations: [] });
    expect(sim.design.podChecked!(sim.state, sim.pod('a'), sim.node('node-1'))).toEqual({});
    sim.apply({ op: 'route.del', ns: 'pod/default/a', dst: '10.1.1.0/24' });
    expect(sim.design.podChecked!(sim.state, sim.pod('a'), sim.node('node-1')).error?.msg).toBe('Failed to find Gateway 10.1.1.1 for interface eth0');
  });
});

/** The seed lab with a design made of a conflist and flanneld. */
function simulatorWithConflist(text: string): Simulator {
  return createSimulator({ ...seedLabSpec(), cni: fromConflist(text, { agent: flannelAgent() }) });
}

describe('properties of a plugin list driven by random pod churn', () => {
  it('ADD/DEL through bridge + host-local: typed errors only, one owner per address, the store holds exactly the live pods, CHECK passes', () => {
    fc.assert(fc.property(fc.array(fc.record({ add: fc.boolean(), pod: fc.integer({ min: 0, max: 7 }) }), { maxLength: 25 }), (ops) => {
      const small = edit(BRIDGE_OK, (o) => Object.assign(o['ipam'] as Record<string, unknown>, { ranges: [[{ subnet: '10.10.0.0/29' }]], routes: [] }));
      const sim = oneNode(fromConflist(small), []);
      for (const op of ops) {
        const name = `p${op.pod}`;
        try {
          if (op.add) sim.addPod({ name, node: 'node-1' });
          else sim.deletePod(name);
        } catch (e) {
          expect(isPodnetError(e)).toBe(true);
          expect(['DUPLICATE_NAME', 'POD_NOT_FOUND', 'IP_EXHAUSTED']).toContain((e as { code: string }).code);
        }
        // Pods whose ADD failed (the range is full) wait in ContainerCreating without an address.
        const running = sim.pods().filter((p) => p.status.phase === 'Running');
        for (const p of sim.pods()) if (p.status.phase !== 'Running') expect([p.status.phase, p.ip]).toEqual(['ContainerCreating', null]);
        const live = running.map((p) => p.ip!);
        expect(new Set(live).size).toBe(live.length);
        const store = (sim.node('node-1').cni as { ipam: Record<string, { allocated: Record<string, unknown> }> }).ipam['/var/lib/cni/networks/mynet'];
        expect(Object.keys(store?.allocated ?? {}).sort()).toEqual(running.map((p) => `10.10.0.${p.ip! & 255}`).sort());
        for (const p of running) expect(sim.design.podChecked!(sim.state, p, sim.node('node-1'))).toEqual({});
      }
    }), { numRuns: 40 });
  });
});

describe('vethName', () => {
  it('is `veth` and eight hex digits of FNV-1a over the pod key, as it always was', () => {
    const reference = (key: string): string => {
      let h = 0x811c9dc5;
      for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
      return `veth${(h >>> 0).toString(16).padStart(8, '0')}`;
    };
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), (key) => {
      expect(vethName(key)).toBe(reference(key));
    }), { numRuns: 1000 });
  });
});

describe('versionAtLeast', () => {
  it('compares dotted triples numerically, whatever was asked before (its answers are remembered)', () => {
    const part = fc.constantFrom('0', '1', '2', '10', 'x');
    const version = fc.tuple(part, part, part).map((t) => t.join('.'));
    fc.assert(
      fc.property(fc.array(fc.tuple(version, version), { minLength: 1, maxLength: 30 }), (pairs) => {
        for (const [v, min] of pairs) {
          const a = v.split('.').map(Number);
          const b = min.split('.').map(Number);
          const valid = [...a, ...b].every((n) => Number.isInteger(n));
          const d = a.map((n, i) => n - b[i]!).find((x) => x !== 0) ?? 0;
          expect(versionAtLeast(v, min)).toBe(valid && d >= 0);
        }
      }),
      { numRuns: 100, seed: 7 },
    );
  });
});

describe('fromNodeConfig: a configuration file per node', () => {
  const text = (subnet: string, version = '1.0.0') => JSON.stringify({ cniVersion: version, name: 'mynet', type: 'bridge', isDefaultGateway: true, ipam: { type: 'host-local', ranges: [[{ subnet }]] } });
  const twoNodes = (byNode: Record<string, string>) => createSimulator({
    podCidr: '10.244.0.0/16', cni: fromNodeConfig((node) => byNode[node.name]!, { name: 'per-node', fileName: '10-mynet.conf' }), nodes: [{ name: 'node-1' }, { name: 'node-2' }],
  });

  it('each node runs and shows its own file', () => {
    const sim = twoNodes({ 'node-1': text('10.10.1.0/24'), 'node-2': text('10.10.2.0/24') });
    expect([sim.addPod({ name: 'a', node: 'node-1' }).ip, sim.addPod({ name: 'b', node: 'node-2' }).ip].map((ip) => ip === null ? null : formatCidr({ addr: ip, len: 32 }))).toEqual(['10.10.1.2/32', '10.10.2.2/32']);
    expect(sim.design.cniConfig!(sim.state, sim.node('node-2'))).toEqual({ '10-mynet.conf': text('10.10.2.0/24') });
    expect(sim.design.podChecked!(sim.state, sim.pod('b'), sim.node('node-2'))).toEqual({});
    expect(() => fromNodeConfig('x' as never, { name: 'n', fileName: 'f' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('a file libcni refuses, or of a version before 0.3.0, fails ADD and CHECK on its node only; DEL there does nothing', () => {
    const sim = twoNodes({ 'node-1': text('10.10.1.0/24'), 'node-2': '{"cniVersion": "1.0.0", "name": "my net", "type": "bridge"}' });
    const a = sim.addPod({ name: 'a', node: 'node-1' });
    expect(a.status.phase).toBe('Running');
    const b = sim.addPod({ name: 'b', node: 'node-2' });
    expect(b.status.phase).toBe('ContainerCreating');
    expect(b.status.message).toMatch(/ failed \(add\): invalid characters found in network name: my net$/);
    expect(sim.design.podChecked!(sim.state, a, sim.node('node-2'))).toEqual({ error: { cniVersion: '1.0.0', code: 7, msg: 'invalid characters found in network name', details: 'my net' } });
    expect(sim.design.podDeleted(sim.state, a, sim.node('node-2'))).toEqual({ actions: [] });
    const old = twoNodes({ 'node-1': text('10.10.1.0/24', '0.2.0'), 'node-2': text('10.10.2.0/24') });
    expect(old.addPod({ name: 'c', node: 'node-1' }).status.message).toMatch(/cniVersion 0\.2\.0 gives results of the pre-0\.3\.0 shape/);
    expect(old.addPod({ name: 'd', node: 'node-2' }).status.phase).toBe('Running');
  });

  it('every pod\'s result lists its own node\'s IPAM routes, in whatever order pods of different nodes are added', () => {
    // Results of consecutive pods share one route list while their routes are the same (plugins.ts sharedRoutes).
    const variants = [
      [{ dst: '10.50.0.0/16' }],
      [{ dst: '10.50.0.0/16' }, { dst: '10.60.0.0/16', gw: '10.10.1.9' }],
      [{ dst: '10.70.0.0/16' }, { dst: '10.60.0.0/16', gw: '10.10.2.9' }],
      [],
    ];
    const conf = (i: number) => JSON.stringify({ cniVersion: '1.0.0', name: 'mynet', type: 'bridge', ipam: { type: 'host-local', ranges: [[{ subnet: `10.10.${i}.0/24` }]], routes: variants[i] } });
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 12 }), (onNode) => {
        const sim = createSimulator({
          podCidr: '10.244.0.0/16', cni: fromNodeConfig((node) => conf(Number(node.name.slice(5))), { name: 'per-node', fileName: '10-mynet.conf' }),
          nodes: [0, 1, 2, 3].map((i) => ({ name: `node-${i}` })), pods: onNode.map((n, i) => ({ name: `p${i}`, node: `node-${n}` })),
        });
        onNode.forEach((n, i) => expect((sim.pod(`p${i}`).cniResult as CniResult).routes).toEqual(variants[n]));
      }),
      { numRuns: 60, seed: 3 },
    );
  });
});
