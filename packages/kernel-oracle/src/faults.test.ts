import { bridgeFdb, createClusterState, ipRoute, type CniDesign } from '@podnet/core';
import { seedLabSpec } from '@podnet/cni';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FAULT_KINDS, faultActions } from './faults.js';
import { buildRecorded } from './oracle.js';
import { Renderer } from './replay.js';
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
