/**
 * The counters value: the pure fold of a send's tally, zeroing, pruning, and how the simulator keeps them
 * (history entries: undo and redo restore them; a deleted pod's namespace and a re-made device start from zero).
 */
import { describe, expect, it } from 'vitest';
import { bare } from '../cni/testing/bare.js';
import { isPodnetError } from '../errors.js';
import { findNs } from '../model/lookup.js';
import { formatIpv4 } from '../addr/ipv4.js';
import { createSimulator, type Simulator } from '../sim/simulator.js';
import { icmpEcho } from './build.js';
import { countersAfter, countersPruned, countersZeroed, devCountersOf, NO_COUNTERS, policyCountersOf, ruleCountersOf, Tally, ZERO_DEV } from './counters.js';
import { send } from './engine.js';
import type { NfRule } from '../model/types.js';

const RULE = { table: 'filter', chain: 'FORWARD' } as NfRule;

describe('countersAfter, countersZeroed, countersPruned', () => {
  it('adds a tally to what was counted, leaving the counters it was given as they were', () => {
    const t = new Tally();
    t.tx('ns1', 'eth0', 2, 98);
    t.rx('ns1', 'eth0', 2, 84);
    t.dropped('ns1', 'eth0', 2, 'rx');
    t.hit('ns1', RULE, 84);
    t.hit('ns1', 'filter FORWARD', 84);
    const once = countersAfter(NO_COUNTERS, t);
    const twice = countersAfter(once, t);
    expect(NO_COUNTERS.size).toBe(0);
    expect(devCountersOf(once.get('ns1'), { name: 'eth0', ifindex: 2 })).toEqual({ ifindex: 2, rxPackets: 1, rxBytes: 84, rxDropped: 1, txPackets: 1, txBytes: 98, txDropped: 0 });
    expect(devCountersOf(twice.get('ns1'), { name: 'eth0', ifindex: 2 })).toMatchObject({ rxPackets: 2, rxBytes: 168, txBytes: 196 });
    expect(ruleCountersOf(twice.get('ns1'), RULE)).toEqual({ packets: 2, bytes: 168 });
    expect(policyCountersOf(twice.get('ns1'), 'filter', 'FORWARD')).toEqual({ packets: 2, bytes: 168 });
    // An empty tally changes nothing: the same value.
    expect(countersAfter(once, new Tally())).toBe(once);
    expect(() => countersAfter(once, {} as Tally)).toThrow(TypeError);
  });

  it('a device counted under another ifindex (deleted and made again) starts from zero', () => {
    const a = new Tally();
    a.tx('ns1', 'eth0', 2, 98);
    const b = new Tally();
    b.tx('ns1', 'eth0', 7, 42);
    const c = countersAfter(countersAfter(NO_COUNTERS, a), b);
    expect(devCountersOf(c.get('ns1'), { name: 'eth0', ifindex: 7 })).toMatchObject({ txPackets: 1, txBytes: 42 });
    expect(devCountersOf(c.get('ns1'), { name: 'eth0', ifindex: 2 })).toBe(ZERO_DEV);
  });

  it('-Z zeroes one table (or one chain of it, with its policy) and nothing else', () => {
    const t = new Tally();
    const nat = { table: 'nat', chain: 'POSTROUTING' } as NfRule;
    t.hit('ns1', RULE, 84);
    t.hit('ns1', nat, 84);
    t.hit('ns1', 'filter FORWARD', 84);
    t.hit('ns1', 'filter INPUT', 84);
    const c = countersAfter(NO_COUNTERS, t);
    const z = countersZeroed(c, 'ns1', 'filter', 'FORWARD');
    expect(ruleCountersOf(z.get('ns1'), RULE).packets).toBe(0);
    expect(policyCountersOf(z.get('ns1'), 'filter', 'FORWARD').packets).toBe(0);
    expect(policyCountersOf(z.get('ns1'), 'filter', 'INPUT').packets).toBe(1);
    expect(ruleCountersOf(z.get('ns1'), nat).packets).toBe(1);
    expect(ruleCountersOf(countersZeroed(c, 'ns1', 'nat', null).get('ns1'), nat).packets).toBe(0);
    expect(ruleCountersOf(c.get('ns1'), RULE).packets).toBe(1);
  });

  it('pruning drops namespaces gone, devices gone or re-made, rules deleted; keeps what is unchanged as it is', () => {
    const t = new Tally();
    t.tx('gone', 'eth0', 2, 1);
    t.tx('ns1', 'eth0', 2, 1);
    t.tx('ns1', 'cni0', 3, 1);
    t.hit('ns1', RULE, 1);
    const c = countersAfter(NO_COUNTERS, t);
    const p = countersPruned(c, (id) => (id === 'gone' ? null : { links: { eth0: { ifindex: 2 }, cni0: { ifindex: 9 } }, rules: [] }));
    expect([...p.keys()]).toEqual(['ns1']);
    expect([...p.get('ns1')!.devs.keys()]).toEqual(['eth0']);
    expect(p.get('ns1')!.rules.size).toBe(0);
    expect(countersPruned(c, () => true)).toBe(c);
  });
});

describe('the simulator keeps counters beside its states', () => {
  const underlay = { podCidr: '10.244.0.0/16', underlay: { segments: [{ name: 'dc', cidr: '172.16.0.0/24', gateway: '172.16.0.1' }] } };
  function twoNodes(): Simulator {
    return createSimulator({ ...underlay, cni: bare, nodes: [{ name: 'node-a' }, { name: 'node-b' }] });
  }
  const nic = (sim: Simulator, node: string) => Object.values(sim.node(node).host.links).find((l) => l.kind === 'physical')!;
  const ipOf = (sim: Simulator, node: string) => formatIpv4(nic(sim, node).addrs[0]!.ip);
  const count = (sim: Simulator, node: string) => devCountersOf(sim.counters(node), nic(sim, node));

  it('a send counts; a change keeps the counts; undo and redo restore them with the state', () => {
    const sim = twoNodes();
    sim.ping('node-a', ipOf(sim, 'node-b'));
    const after1 = count(sim, 'node-a');
    // The ARP request and the echo request out, the reply and the echo reply in (whole frames).
    expect(after1).toMatchObject({ txPackets: 2, txBytes: 42 + 98, rxPackets: 2, rxBytes: 42 + 98 });
    sim.addNode({ name: 'node-c' });
    expect(count(sim, 'node-a')).toEqual(after1);
    sim.ping('node-a', ipOf(sim, 'node-b'));
    const after2 = count(sim, 'node-a');
    expect(after2).toMatchObject({ txPackets: 3, rxPackets: 3 });
    sim.undo(); // back before addNode: the counters as they were then
    expect(count(sim, 'node-a')).toEqual(after1);
    sim.redo();
    expect(count(sim, 'node-a')).toEqual(after2);
  });

  it('a node removed and added again under the same name counts from zero, as a new namespace does', () => {
    const sim = twoNodes();
    sim.ping('node-a', ipOf(sim, 'node-b'));
    expect(count(sim, 'node-b').rxPackets).toBe(2);
    sim.removeNode('node-b');
    sim.addNode({ name: 'node-b' });
    expect(count(sim, 'node-b').rxPackets).toBe(0);
  });

  it('validates: a namespace that does not exist, a table, a chain; and send\'s tally option', () => {
    const sim = twoNodes();
    const code = (f: () => unknown): string | undefined => { try { f(); } catch (e) { return isPodnetError(e) ? e.code : 'other'; } return undefined; };
    expect(code(() => sim.counters('nope'))).toBe('NAMESPACE_NOT_FOUND');
    expect(code(() => sim.counters(3 as unknown as string))).toBe('INVALID_ARGUMENT');
    expect(code(() => sim.zeroCounters('node-a', 'mangle' as 'nat'))).toBe('INVALID_ARGUMENT');
    expect(code(() => sim.zeroCounters('node-a', 'filter', 'NOSUCH'))).toBe('CHAIN_NOT_FOUND');
    expect(code(() => sim.zeroCounters('nope'))).toBe('NAMESPACE_NOT_FOUND');
    expect(code(() => sim.zeroCounters('node-a', 'nat', 'POSTROUTING'))).toBeUndefined();
    expect(sim.counters('node-a')).toBe(sim.counters('node/node-a'));
    expect(findNs(sim.state, 'node/node-a')).toBeDefined();
    expect(code(() => send(sim.state, 'node/node-a', icmpEcho(nic(sim, 'node-b').addrs[0]!.ip), { tally: {} as Tally }))).toBe('INVALID_ARGUMENT');
  });

  it('a send with a tally takes the same steps to the same state as without, and the tally holds what moved', () => {
    const sim = twoNodes();
    const pkt = icmpEcho(nic(sim, 'node-b').addrs[0]!.ip);
    const t = new Tally();
    const plain = send(sim.state, 'node/node-a', pkt);
    const counted = send(sim.state, 'node/node-a', pkt, { tally: t });
    expect(counted.trace.steps.map((x) => x.kind)).toEqual(plain.trace.steps.map((x) => x.kind));
    expect(counted.trace.disposition).toBe('delivered');
    expect(t.empty).toBe(false);
    expect(new Tally().empty).toBe(true);
  });
});

describe('counters: false', () => {
  it('a simulator made with counters: false counts nothing (a property run\'s), and refuses what is not a boolean', () => {
    const spec = { podCidr: '10.244.0.0/16', underlay: { segments: [{ name: 'dc', cidr: '172.16.0.0/24', gateway: '172.16.0.1' }] }, cni: bare, nodes: [{ name: 'node-a' }, { name: 'node-b' }] };
    const sim = createSimulator({ ...spec, counters: false });
    const nic = Object.values(sim.node('node-b').host.links).find((l) => l.kind === 'physical')!;
    sim.ping('node-a', formatIpv4(nic.addrs[0]!.ip));
    expect(sim.counting).toBe(false);
    expect(devCountersOf(sim.counters('node-b'), nic).rxPackets).toBe(0);
    expect(() => createSimulator({ ...spec, counters: 'yes' as unknown as boolean })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
