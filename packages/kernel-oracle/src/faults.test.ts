import { bridgeFdb, createClusterState, describeAction, formatIpv4, ipRoute, type CniDesign } from '@podnet/core';
import { seedLabSpec } from '@podnet/cni';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FAULT_KINDS, faultActions, type FaultKind, type FaultPick } from './faults.js';
import { buildRecorded } from './oracle.js';
import { Renderer, sysctlWrites } from './replay.js';
import { DESIGNS, faultedTopologyArb } from './scenarios.js';

const PREFIX = 'pno4242-f-';
const bare = { name: 'bare' } as unknown as CniDesign;
const flannelVxlan = DESIGNS.find((d) => d.name === 'flannel-vxlan')!;

const seedLab = () => {
  const { nodes, pods, cni: _cni, ...settings } = seedLabSpec();
  return { label: 'seed lab', settings, nodes, pods };
};

function render(topo: Parameters<typeof buildRecorded>[1]) {
  const built = buildRecorded(flannelVxlan, topo);
  const r = new Renderer(PREFIX);
  r.underlay(createClusterState(topo.settings, bare).underlay);
  for (const x of built.rec.log) r.reaction(x);
  return { ...built, r };
}

describe('faults after the build', () => {
  it('faulted topology I of a seed is the one fast-check replays with that seed and path (--fault-path and shrinking)', () => {
    const sample = fc.sample(faultedTopologyArb(), { seed: 9, numRuns: 5 });
    let seen: unknown;
    fc.check(fc.property(faultedTopologyArb(), (t) => { seen = t; return false; }), { seed: 9, path: '3', numRuns: 1, endOnFailure: true });
    expect(seen).toEqual(sample[3]);
    for (const t of sample) expect(t.faults!.length).toBeGreaterThanOrEqual(1);
  });

  it('each kind resolves to the raw actions a person types, against the state it is applied to', () => {
    const { sim } = buildRecorded(flannelVxlan, seedLab());
    const got = Object.fromEntries(FAULT_KINDS.map((kind) => [kind, faultActions(sim, { kind, ns: 0, item: 1, mtu: 9000 })]));
    // node-1's links, sorted: cni0, eth0, flannel.1, veth…; item 1 is eth0.
    expect(got['linkDown']).toEqual([{ op: 'link.set', ns: 'node/node-1', name: 'eth0', up: false }]);
    expect(got['linkBounce']).toEqual([{ op: 'link.set', ns: 'node/node-1', name: 'eth0', up: false }, { op: 'link.set', ns: 'node/node-1', name: 'eth0', up: true }]);
    expect(got['mtu']).toEqual([{ op: 'link.set', ns: 'node/node-1', name: 'eth0', mtu: 9000 }]);
    const line = ipRoute(sim.state, 'node/node-1')[1]!;
    expect(line).toBe('10.244.1.0/24 dev cni0 proto kernel scope link src 10.244.1.1');
    expect(got['routeDel']).toEqual([{ op: 'route.del', ns: 'node/node-1', dst: '10.244.1.0/24', dev: 'cni0' }]);
    expect(got['neighDel']).toEqual([{ op: 'neigh.del', ns: 'node/node-1', ip: '10.244.3.0', dev: 'flannel.1' }]);
    // node-1's FDB: cni0's own MAC (not picked), its ports' own MACs (`master`: the entry is the bridge's),
    // flannel.1's VTEPs.
    const fdb = bridgeFdb(sim.state, 'node/node-1');
    expect(fdb[0]).toMatch(/ dev cni0 master cni0 permanent$/);
    expect(fdb[2]).toMatch(/ dev veth\w+ master cni0 permanent$/);
    expect(got['fdbDel']).toEqual([{ op: 'fdb.del', ns: 'node/node-1', mac: fdb[2]!.split(' ')[0], dev: fdb[2]!.split(' ')[2], master: true }]);
    expect(faultActions(sim, { kind: 'fdbDel', ns: 0, item: 2 })![0]).toMatchObject({ op: 'fdb.del', ns: 'node/node-1', dev: 'flannel.1' });
    expect(faultActions(sim, { kind: 'fdbDel', ns: 0, item: 2 })![0]).not.toHaveProperty('master');
    expect(got['forwardOff']).toEqual([{ op: 'sysctl.set', ns: 'node/node-1', key: 'net.ipv4.ip_forward', value: 0 }]);
    expect(got['forwardDrop']).toEqual([{ op: 'rule.insert', ns: 'node/node-1', rule: { table: 'filter', chain: 'FORWARD', inIf: 'eth0', target: 'DROP' } }]);
  });

  it("session 36's kinds: sysctls as procps takes them, the new verbs, on the devices where they matter", () => {
    const { sim } = buildRecorded(flannelVxlan, seedLab());
    const at = (kind: FaultKind, ns: number, item: number) => faultActions(sim, { kind, ns, item });
    // node-1's links, sorted: cni0, eth0, flannel.1, then its veths; `all` comes first for rp_filter, and the
    // value is the item's quotient by the number of scopes: 1, 2, 5.
    const scopes = 1 + Object.keys(sim.node('node-1').host.links).filter((l) => l !== 'lo').length;
    expect(at('rpFilter', 0, 0)).toEqual([{ op: 'sysctl.set', ns: 'node/node-1', key: 'net.ipv4.conf.all.rp_filter', value: 1 }]);
    expect(at('rpFilter', 0, scopes + 3)).toEqual([{ op: 'sysctl.set', ns: 'node/node-1', key: 'net.ipv4.conf.flannel/1.rp_filter', value: 2 }]);
    expect(at('rpFilter', 1, 2 * scopes + 1)).toEqual([{ op: 'sysctl.set', ns: 'node/node-2', key: 'net.ipv4.conf.cni0.rp_filter', value: 5 }]);
    // Node-wide and per-device settings only on nodes: ns 3 is node-1 again (three nodes), not a pod.
    expect(at('devForwardOff', 3, 2)).toEqual([{ op: 'sysctl.set', ns: 'node/node-1', key: 'net.ipv4.conf.flannel/1.forwarding', value: 0 }]);
    expect(at('forwardTwo', 0, 9)).toEqual([{ op: 'sysctl.set', ns: 'node/node-1', key: 'net.ipv4.ip_forward', value: 2 }]);
    // proxy_arp anywhere: ns 3 is the first pod.
    expect(at('proxyArp', 3, 0)).toEqual([{ op: 'sysctl.set', ns: 'pod/default/pod-a', key: 'net.ipv4.conf.eth0.proxy_arp', value: 1 }]);
    // A pod's default route again, through its device alone (on-link); node-1's route to node-2's pods
    // through its underlay device.
    expect(at('routePrepend', 3, 0)).toEqual([{ op: 'route.prepend', ns: 'pod/default/pod-a', dst: 'default', dev: 'eth0' }]);
    // node-1's own routes and prefix routes, not flannel's shared per-peer ones (podnet does not model
    // prepending to those: seed 3002 faulted #42): default, 10.244.1.0/24 (cni0's), 192.168.1.0/24 (eth0's).
    const routes = ipRoute(sim.state, 'node/node-1');
    expect(routes).toContain('10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink');
    const dsts = new Set(Array.from({ length: 40 }, (_, item) => (at('routeAppend', 0, item)![0] as { dst: string }).dst));
    expect([...dsts].sort()).toEqual(['10.244.1.0/24', '192.168.1.0/24', 'default']);
    // cni0's prefix route (the second of the three): its hops are cni0's peers eth0, flannel.1, …, then the
    // default route's gateway.
    expect(at('routeAppend', 0, 1)).toEqual([{ op: 'route.append', ns: 'node/node-1', dst: '10.244.1.0/24', dev: 'eth0' }]);
    expect(at('routePrepend', 0, 1 + 3)).toEqual([{ op: 'route.prepend', ns: 'node/node-1', dst: '10.244.1.0/24', dev: 'flannel.1' }]);
    // The neighbours are all permanent after the build: a bare flush, `nud permanent`, `nud all`.
    expect(at('neighFlush', 0, 0)).toEqual([{ op: 'neigh.flush', ns: 'node/node-1', dev: 'flannel.1' }]);
    expect(at('neighFlush', 0, 1)).toEqual([{ op: 'neigh.flush', ns: 'node/node-1', dev: 'flannel.1', nud: ['permanent'] }]);
    expect(at('neighFlush', 0, 2)).toEqual([{ op: 'neigh.flush', ns: 'node/node-1', dev: 'flannel.1', nud: ['all'] }]);
    // Flushes of routes and addresses on devices with an address: cni0, eth0, flannel.1 (node), eth0 (pod).
    expect(at('routeFlush', 0, 0)).toEqual([{ op: 'route.flush', ns: 'node/node-1', dev: 'cni0' }]);
    expect(at('addrFlush', 3, 5)).toEqual([{ op: 'addr.flush', ns: 'pod/default/pod-a', dev: 'eth0' }]);
    expect(at('addrFlush', 0, 2)).toEqual([{ op: 'addr.flush', ns: 'node/node-1', dev: 'flannel.1' }]);
    // FDB flushes: the bridge (nopermanent), the VXLAN device, a port (with master); a pod has none to flush.
    // The bridge's whole FDB would take its own MAC's entry, which leaves the node's probes to its pods to a
    // race (seed 3002 faulted #13): `nopermanent` keeps it.
    expect(at('fdbFlush', 0, 0)).toEqual([{ op: 'fdb.flush', ns: 'node/node-1', dev: 'cni0', states: ['nopermanent'] }]);
    expect(at('fdbFlush', 0, 1)).toEqual([{ op: 'fdb.flush', ns: 'node/node-1', dev: 'flannel.1' }]);
    expect(at('fdbFlush', 0, 2)).toMatchObject([{ op: 'fdb.flush', ns: 'node/node-1', dev: expect.stringMatching(/^veth/), master: true }]);
    expect(at('fdbFlush', 3, 0)).toBeNull();
  });

  it('route append/prepend/change never land on a key an agent shares, also where it shares one with the node (overlapping IPAM, seed 3002 faulted #42)', () => {
    const overlapping = DESIGNS.find((d) => d.name === 'broken-overlapping-ipam')!;
    let seen: Parameters<typeof buildRecorded>[1] | undefined;
    fc.check(fc.property(faultedTopologyArb(), (t) => { seen = t; return false; }), { seed: 3002, path: '42', numRuns: 1, endOnFailure: true });
    for (const d of [overlapping, flannelVxlan]) {
      const { sim } = buildRecorded(d, { ...seen!, faults: [] });
      let picked = 0;
      for (const kind of ['routeAppend', 'routePrepend', 'routeChange'] as const) {
        for (let ns = 0; ns < 3; ns++) {
          for (let item = 0; item < 24; item++) {
            for (const a of faultActions(sim, { kind, ns, item }) ?? []) {
              picked++;
              // Applied one after another: a later one may meet an earlier one's route (File exists), never
              // podnet's UNSUPPORTED for an agent's shared route.
              try { sim.apply(a); } catch (e) { expect((e as { code?: string }).code, `${d.name} ${kind} ${ns} ${item}`).not.toBe('UNSUPPORTED'); }
            }
          }
        }
      }
      expect(picked).toBeGreaterThan(100);
    }
  });

  it("session 36's kinds are applied by podnet and printed as commands procps and iproute2 take", () => {
    const picks: FaultPick[] = [
      { kind: 'rpFilter', ns: 0, item: 3 }, { kind: 'devForwardOff', ns: 1, item: 2 }, { kind: 'forwardTwo', ns: 2, item: 0 },
      { kind: 'proxyArp', ns: 0, item: 2 }, { kind: 'routePrepend', ns: 3, item: 0 }, { kind: 'neighFlush', ns: 0, item: 2 },
      { kind: 'routeFlush', ns: 4, item: 0 }, { kind: 'addrFlush', ns: 5, item: 0 }, { kind: 'fdbFlush', ns: 1, item: 1 },
    ];
    const { r, faults } = render({ ...seedLab(), faults: picks });
    expect(faults).toEqual([
      'sysctl -w net.ipv4.conf.flannel/1.rp_filter=1 [node/node-1]',
      'sysctl -w net.ipv4.conf.flannel/1.forwarding=0 [node/node-2]',
      'sysctl -w net.ipv4.ip_forward=2 [node/node-3]',
      'sysctl -w net.ipv4.conf.flannel/1.proxy_arp=1 [node/node-1]',
      'ip route prepend default dev eth0 [pod/default/pod-a]',
      'ip neigh flush dev flannel.1 nud all [node/node-1]',
      'ip route flush dev eth0 [pod/default/pod-b]',
      'ip addr flush dev eth0 [pod/default/pod-c]',
      'bridge fdb flush dev flannel.1 [node/node-2]',
    ]);
    // None refused by podnet: each is replayed as a line the kernel must take, in the namespace it hit; the
    // sysctls are written to the device's own file (flannel/1 is /proc/sys/…/flannel.1/…).
    const faulted = r.lines.filter((l) => l.origin.startsWith('fault '));
    expect(faulted.length).toBe(picks.length);
    expect(faulted.every((l) => !l.refused)).toBe(true);
    expect(sysctlWrites(faulted[0]!.shell.replace(/^nsenter \S+ /, ''))).toEqual(['echo 1 > /proc/sys/net/ipv4/conf/flannel.1/rp_filter']);
    expect(faulted[6]!.shell).toBe(`ip -n ${r.names.of('pod/default/pod-b')} route flush dev eth0`);
  });

  it("session 37's kinds: accept_local, route_localnet, conf.default, another endpoint's address, addr replace/change, route change", () => {
    const { sim } = buildRecorded(flannelVxlan, seedLab());
    const cmd = (kind: FaultKind, ns: number, item: number) => faultActions(sim, { kind, ns, item })!.map((a) => describeAction(a)[0]!.command);
    // Scopes all, default, then the devices; anywhere (ns 3 is the first pod).
    expect(cmd('acceptLocal', 0, 0)).toEqual(['sysctl -w net.ipv4.conf.all.accept_local=1']);
    expect(cmd('acceptLocal', 3, 1)).toEqual(['sysctl -w net.ipv4.conf.default.accept_local=1']);
    expect(cmd('routeLocalnet', 0, 4)).toEqual(['sysctl -w net.ipv4.conf.flannel/1.route_localnet=1']);
    expect(cmd('confDefault', 0, 0)).toEqual(['sysctl -w net.ipv4.conf.default.rp_filter=1']);
    expect(cmd('confDefault', 3, 2)).toEqual(['sysctl -w net.ipv4.conf.default.accept_local=1']);
    // Another endpoint's address, never one inside a subnet of the namespace's devices (its peers could ask
    // for it, and two ARP answers race): a pod of node-1 takes a node's address or another node's pod's;
    // node-1 takes only other nodes' pods (192.168.1.0/24 and 10.244.1.0/24 are its own).
    expect(cmd('addrDup', 3, 1)).toEqual(['ip addr add 192.168.1.12/32 dev eth0']);
    expect(cmd('addrDup', 4, 7)).toEqual(['ip addr add 192.168.1.11/24 dev eth0']);
    for (let item = 0; item < 40; item++) {
      const [a] = faultActions(sim, { kind: 'addrDup', ns: 0, item })! as [{ addr: string }];
      expect(a.addr, String(item)).toMatch(/^10\.244\.[23]\./);
    }
    // An address retyped: as it is, noprefixroute, scope link, scope host; never with another length (another
    // address for the kernel, refused by podnet, which keeps one entry per address: seed 3201 faulted #26).
    expect(cmd('addrReplace', 0, 0)).toEqual(['ip addr replace 10.244.1.1/24 dev cni0']);
    expect(cmd('addrChange', 3, 1)).toEqual(['ip addr change 10.244.1.4/24 dev eth0 noprefixroute']);
    for (let item = 0; item < 40; item++) {
      const [a] = faultActions(sim, { kind: 'addrChange', ns: 1, item })! as [{ addr: string; dev: string }];
      const had = sim.node('node-2').host.links[a.dev]!.addrs.map((x) => `${formatIpv4(x.ip)}/${x.len}`);
      expect(had, String(item)).toContain(a.addr);
    }
    // route change picks as route append does: the node's own routes and prefix routes, another next hop.
    expect(cmd('routeChange', 0, 0)).toEqual(['ip route change default dev eth0']);
    expect(cmd('routeChange', 1, 13)).toEqual(['ip route change 10.244.2.0/24 via 192.168.1.1 dev eth0']);
  });

  it('refuses a fault that is not one', () => {
    const { sim } = buildRecorded(flannelVxlan, seedLab());
    expect(() => faultActions(sim, { kind: 'unplug' as never, ns: 0, item: 0 })).toThrow(/needs a kind/);
    expect(() => faultActions(sim, { kind: 'linkDown', ns: -1, item: 0 })).toThrow(/non-negative integers/);
  });

  it('a fault is replayed after the build, in the namespace it hit, as describeAction prints it', () => {
    const { r, faults } = render({ ...seedLab(), faults: [{ kind: 'linkDown', ns: 0, item: 2 }, { kind: 'forwardOff', ns: 1, item: 0 }] });
    expect(faults).toEqual(['ip link set flannel.1 down [node/node-1]', 'sysctl -w net.ipv4.ip_forward=0 [node/node-2]']);
    const n0 = r.names.of('node/node-1');
    const n1 = r.names.of('node/node-2');
    const down = r.lines.findIndex((l) => l.shell === `ip -n ${n0} link set flannel.1 down`);
    const off = r.lines.findIndex((l) => l.shell === `nsenter --net=/run/netns/${n1} sysctl -w net.ipv4.ip_forward=0`);
    expect(down).toBeGreaterThan(0);
    expect(off).toBeGreaterThan(down);
    // After every line the build itself made.
    expect(r.lines.slice(down + 1).every((l) => l.origin.startsWith('fault '))).toBe(true);
  });

  it('a fault podnet refuses is replayed too, as a line the kernel must refuse (the script stops if it accepts)', () => {
    const { r } = render(seedLab());
    const n0 = r.names.of('node/node-1');
    r.reaction({ kind: 'fault', what: 'ip neigh del 10.9.9.9 dev flannel.1', actions: [{ op: 'neigh.del', ns: 'node/node-1', ip: '10.9.9.9', dev: 'flannel.1' }], refused: 'RTNETLINK answers: No such file or directory' });
    r.reaction({ kind: 'fault', what: 'sysctl', actions: [{ op: 'sysctl.set', ns: 'node/node-1', key: 'net.ipv4.conf.nope.forwarding', value: 1 }], refused: 'no such device' });
    const refused = r.lines.filter((l) => l.refused);
    expect(refused.map((l) => l.shell)).toEqual([`ip -n ${n0} neigh del 10.9.9.9 dev flannel.1`, `nsenter --net=/run/netns/${n0} sysctl -w net.ipv4.conf.nope.forwarding=1`]);
    expect(refused[0]!.origin).toMatch(/^fault ip neigh del 10\.9\.9\.9 dev flannel\.1 \(podnet refused: RTNETLINK/);
    const script = r.script('/tmp/pno-err');
    for (const l of refused) expect(script).toContain(`if ${l.shell} 2>"$T"; then echo "ORACLE-ACCEPTED ${r.lines.indexOf(l)}" >&2; exit 98; fi`);
    // Nothing of the build is batched past them: the refused lines come last, in order.
    expect(script.indexOf(refused[0]!.shell)).toBeLessThan(script.indexOf(refused[1]!.shell));
    expect(script.slice(script.indexOf(refused[1]!.shell)).split('\n').filter((l) => l.startsWith('ip ')).length).toBe(0);
  });
});
