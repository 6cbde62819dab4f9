/**
 * bridge() against the real plugin: packages/cni/scripts/real-bridge-plugin.sh ran the reference `bridge`
 * and `host-local` binaries on the file bridge({ ipMasq: true }) writes for a node whose podCIDR is
 * 10.244.0.0/24 (two pods, CHECK, DEL twice) and on two variants that fail, in network namespaces, and
 * recorded what they answered and built. podnet must answer and build the same.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createSimulator, formatCidr, ipRoute, type CniDesign, type CniResult, type Link, type Simulator } from '@podnet/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromConflist } from '../contract/conflist-design.js';
import { ipMasqChain } from '../contract/plugins.js';
import { bridge } from './bridge.js';

interface Fixture { kernel: string; plugin: string; steps: Record<string, { stdout: string; rc: number }> }
const fixture = JSON.parse(readFileSync(fileURLToPath(new URL('../__fixtures__/real-bridge-plugin.json', import.meta.url)), 'utf8')) as Fixture;
const step = (name: string) => fixture.steps[name]!;
const lines = (text: string) => text.split('\n').map((l) => l.trimEnd()).filter((l) => l.length > 0);

/** A result with what the kernel draws at random (MACs, the veth's name) and the sandbox path masked. */
const masked = (r: unknown) => JSON.parse(JSON.stringify(r)
  .replace(/"([0-9a-f]{2}:){5}[0-9a-f]{2}"/g, '"<mac>"').replace(/"veth[0-9a-f]{8}"/g, '"<veth>"').replace(/"sandbox":"[^"]*"/g, '"sandbox":"<netns>"')) as unknown;

/** `ip -o link show` lines → name, MTU and master of each link (`vethXXXXXXXX` as `<veth>`). */
const kernelLinks = (text: string) => lines(text).map((l) => {
  const m = /^\d+: ([^:@]+)(?:@\S+)?: <[^>]*> mtu (\d+)(?: .*? master (\S+))?/.exec(l)!;
  return `${m[1]!.replace(/^veth[0-9a-f]{8}$/, '<veth>')} mtu ${m[2]}${m[3] ? ` master ${m[3]}` : ''}`;
});
const podnetLinks = (links: Readonly<Record<string, Link>>, skip: readonly string[] = []) => Object.values(links)
  .filter((l) => !skip.includes(l.name)).sort((a, b) => a.ifindex - b.ifindex)
  .map((l) => `${l.name.replace(/^veth[0-9a-f]{8}$/, '<veth>')} mtu ${l.mtu}${l.master ? ` master ${l.master}` : ''}`);

/**
 * The masquerade of the pod at `ip`: the chain POSTROUTING sends its traffic to (`-s ip/32 … -j CNI-…`), then
 * that chain's rules, as `iptables -t nat -S` printed them (the comment left out) — the same from podnet's rules.
 */
const kernelMasq = (text: string, ip: string) => {
  const chain = new RegExp(`^-A POSTROUTING -s ${ip.replace(/\./g, '\\.')}/32 .* -j (CNI-[0-9a-f]+)$`).exec(lines(text).find((l) => l.includes(`-s ${ip}/32`)) ?? '')?.[1];
  return chain === undefined ? [] : lines(text).filter((l) => l.startsWith(`-A ${chain} `)).map((l) => l.replace(/^-A \S+ /, '').replace(/ -m comment --comment .* -j/, ' -j'));
};
/** The chain the real plugin jumped to for the pod at `ip`. */
const kernelChain = (text: string, ip: string) => /name: \\"(\w+)\\" id: \\"(\w+)\\"" -j (CNI-[0-9a-f]+)$/.exec(lines(text).find((l) => l.startsWith(`-A POSTROUTING -s ${ip}/32 `)) ?? '');
const podnetMasq = (sim: Simulator, ip: string) => {
  const rules = sim.node('node-1').host.rules;
  const jump = rules.find((r) => r.chain === 'POSTROUTING' && r.target === 'JUMP' && r.src !== null && formatCidr(r.src) === `${ip}/32`);
  return jump === undefined ? [] : rules.filter((r) => r.chain === jump.jump)
    .map((r) => `${r.notDst ? `! -d ${formatCidr(r.notDst)}` : `-d ${formatCidr(r.dst!)}`} -j ${r.target}`);
};

describe(`bridge() against the real plugin (${fixture.plugin.split('\n')[0]}, kernel ${fixture.kernel})`, () => {
  const design = bridge({ ipMasq: true });
  const sim = createSimulator({ cni: design, nodes: [{ name: 'node-1' }], pods: [{ name: 'a', node: 'node-1' }, { name: 'b', node: 'node-1' }] });
  const before = sim.pod('a');
  /** Pod a's sandbox as the runtime makes it (lo only), before ADD and after DEL. */
  const sandbox = { ...before, netns: { ...before.netns!, links: { lo: before.netns!.links['lo']! } } };

  it('writes the file the plugin ran', () => {
    expect(design.cniConfig!(sim.state, sim.node('node-1'))).toEqual({ '10-mynet.conf': step('file').stdout });
  });

  it('ADD answers the plugin\'s results: the bridge, the veth, eth0 in the sandbox, the address with its gateway, the default route', () => {
    expect(step('1-add-a').rc).toBe(0);
    expect(masked(sim.pod('a').cniResult)).toEqual(masked(JSON.parse(step('1-add-a').stdout)));
    expect(masked(sim.pod('b').cniResult)).toEqual(masked(JSON.parse(step('1-add-b').stdout)));
  });

  it('ADD builds what the plugin built: MTU 1500 (the kernel\'s, no `mtu` in the file), cni0 as the gateway, forwarding, the routes, the masquerade rules', () => {
    const host = sim.node('node-1').host;
    // The lab's host namespace has no uplink: podnet's node has its eth0 besides.
    expect(podnetLinks(host.links, ['eth0'])).toEqual(kernelLinks(step('1-host-links').stdout));
    expect(podnetLinks(sim.pod('a').netns!.links)).toEqual(kernelLinks(step('1-a-links').stdout));
    expect(host.links['cni0']!.addrs.map((a) => `inet ${formatCidr({ addr: a.ip, len: a.len })}`)).toEqual([/inet \S+/.exec(step('1-host-cni0').stdout)![0]]);
    expect(ipRoute(sim.state, 'node/node-1')).toEqual(expect.arrayContaining(lines(step('1-host-routes').stdout)));
    expect(ipRoute(sim.state, 'pod/default/a')).toEqual(lines(step('1-a-routes').stdout));
    expect(host.sysctl.ipForward).toBe(step('1-host-forward').stdout.trim() === '1');
    for (const ip of ['10.244.0.2', '10.244.0.3']) expect(podnetMasq(sim, ip)).toEqual(kernelMasq(step('1-host-nat').stdout, ip));
    // The chain's name is the plugin's utils.FormatChainName of the network's name and the container's ID:
    // the recording's containers were named `a` and `b`, podnet's have sandbox IDs.
    for (const ip of ['10.244.0.2', '10.244.0.3']) {
      const [, network, id, chain] = kernelChain(step('1-host-nat').stdout, ip)!;
      expect(ipMasqChain(network!, id!)).toBe(chain);
    }
    const a = sim.node('node-1').host.rules.find((r) => r.chain === 'POSTROUTING' && r.jump !== null && r.src?.addr === 0x0af40002)!;
    expect(a.jump).toBe(ipMasqChain('mynet', /id: "(\w+)"/.exec(a.comment!)![1]!));
  });

  it('CHECK passes; DEL removes the pod\'s eth0 (its host end goes with it) and its rules, keeps cni0; DEL again succeeds', () => {
    expect(step('2-check-a').rc).toBe(0);
    expect(design.podChecked!(sim.state, sim.pod('a'), sim.node('node-1'))).toEqual({});
    const del = design.podDeleted(sim.state, before, sim.node('node-1'));
    expect(del.actions.filter((a) => a.op === 'link.del')).toEqual([{ op: 'link.del', ns: 'pod/default/a', name: 'eth0' }]);
    const after = createSimulator({ cni: bridge({ ipMasq: true }), nodes: [{ name: 'node-1' }], pods: [{ name: 'a', node: 'node-1' }, { name: 'b', node: 'node-1' }] });
    after.deletePod('a');
    expect(step('2-del-a').rc).toBe(0);
    expect(podnetLinks(after.node('node-1').host.links, ['eth0'])).toEqual(kernelLinks(step('2-host-links').stdout));
    expect(after.node('node-1').host.links['cni0']!.addrs).toHaveLength(lines(step('2-host-cni0').stdout).length);
    expect(podnetMasq(after, '10.244.0.2')).toEqual(kernelMasq(step('2-host-nat').stdout, '10.244.0.2'));
    expect(podnetMasq(after, '10.244.0.3')).toEqual(kernelMasq(step('2-host-nat').stdout, '10.244.0.3'));
    // The second DEL finds the sandbox with lo only.
    expect(step('2-del-a-again').rc).toBe(0);
    expect(after.design.podDeleted(after.state, sandbox, after.node('node-1')).actions).toEqual([]);
  });

  it('the cni.dev example\'s IPAM default route beside isDefaultGateway fails ADD with the plugin\'s error; so does `"subnet": ""`', () => {
    const withRoute = JSON.parse(step('file').stdout) as { ipam: Record<string, unknown> };
    withRoute.ipam['routes'] = [{ dst: '0.0.0.0/0' }];
    const failed = createSimulator({ cni: fromConflist(JSON.stringify(withRoute)), nodes: [{ name: 'node-1' }] }).addPod({ name: 'c', node: 'node-1' });
    expect(step('3-add-ipam-default-route').rc).toBe(1);
    expect(failed.status.message).toContain(`failed (add): ${(JSON.parse(step('3-add-ipam-default-route').stdout) as { msg: string }).msg}`);
    // A node without a podCIDR gets `"subnet": ""`: host-local refuses it, with code and text of the plugin.
    const node = { ...sim.node('node-1'), podCidr: null };
    const r = design.podAdded(sim.state, { pod: sandbox, node, ifname: 'eth0', netns: '/var/run/netns/cni-1', containerId: 'd', requestedIp: null });
    const real = JSON.parse(step('3-add-no-subnet').stdout) as { code: number; msg: string };
    expect(r).toEqual({ error: { cniVersion: '1.0.0', code: real.code, msg: real.msg } });
    expect(JSON.parse(design.cniConfig!(sim.state, node)['10-mynet.conf']!)).toMatchObject({ ipam: { ranges: [[{ subnet: '' }]] } });
    expect(design.podChecked!(sim.state, sim.pod('a'), node)).toEqual({ error: { cniVersion: '1.0.0', code: real.code, msg: real.msg } });
  });

  it('a pinned address outside the node\'s range is host-local\'s "failed to allocate all requested IPs"', () => {
    const real = JSON.parse(step('4-host-local-ip-outside').stdout) as { code: number; msg: string };
    expect(step('4-host-local-ip-outside').rc).toBe(1);
    expect(() => sim.addPod({ name: 'pinned', node: 'node-1', ip: '10.244.5.9' })).toThrow(expect.objectContaining({ code: 'IP_OUTSIDE_RANGE', message: `CNI ADD for pod default/pinned failed: ${real.msg}` }));
  });
});

describe('bridge() is its node\'s file run through the CNI runtime', () => {
  it('property: on each node, whatever the options and pods, bridge() does what fromConflist of that node\'s file does', () => {
    const options = fc.record({ bridge: fc.constantFrom('cni0', 'mynet0'), ipMasq: fc.boolean(), mtu: fc.option(fc.constantFrom(1450, 1500, 9001), { nil: undefined }) }, { requiredKeys: [] });
    fc.assert(fc.property(options, fc.array(fc.record({ add: fc.boolean(), pod: fc.nat(4), node: fc.constantFrom('node-1', 'node-2') }), { maxLength: 8 }), (opts, ops) => {
      const design = bridge(opts);
      const build = (cni: (node: string) => CniDesign) => {
        // One simulator per node, each with that node's design, so fromConflist gets the node's own file.
        const sims = Object.fromEntries(['node-1', 'node-2'].map((n) => [n, createSimulator({ cni: cni(n), nodes: [{ name: 'node-1' }, { name: 'node-2' }] })]));
        for (const o of ops) {
          const sim = sims[o.node]!;
          const name = `p${o.pod}`;
          if (o.add && !sim.has(name)) sim.addPod({ name, node: o.node });
          else if (!o.add && sim.has(name)) sim.deletePod(name);
        }
        return Object.entries(sims).map(([n, sim]) => ({ host: sim.node(n).host, pods: sim.pods().map((p) => [p.name, p.ip, p.cniResult, p.netns]) }));
      };
      const probe = createSimulator({ cni: design, nodes: [{ name: 'node-1' }, { name: 'node-2' }] });
      const files = Object.fromEntries(['node-1', 'node-2'].map((n) => [n, design.cniConfig!(probe.state, probe.node(n))['10-mynet.conf']!]));
      expect(build(() => design)).toEqual(build((n) => fromConflist(files[n]!)));
      // The file says `mtu` only when given; without it the kernel's 1500.
      expect('mtu' in (JSON.parse(files['node-1']!) as object)).toBe(opts.mtu !== undefined);
    }), { numRuns: 20 });
  });
});
