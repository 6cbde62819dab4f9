/**
 * flanneld's iptables chains as the forwarding engine runs them: FLANNEL-POSTRTG (nat, from POSTROUTING) and
 * FLANNEL-FWD (filter, from FORWARD), jumps and RETURN, `! -s` and `-m mark`. The kernel behaviours behind
 * them were measured in namespaces (pnkr30, docs/designs/flannel.md "iptables").
 */
import { ipRoute, ruleIs, ruleSpecOf, type Action } from '@podnet/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { vtepMac } from './designs/flannel.js';
import { flannel, hostGwLabSpec, seedLabSpec, simulatorFromSpec } from './index.js';

/** Where pod-c's address saw the echo request from pod-a come from (the source on the last hop). */
function sourceAtPodC(sim: ReturnType<typeof simulatorFromSpec>): string | undefined {
  const trace = sim.ping('pod-a', '10.244.2.3').traces[0]!;
  const at = trace.steps.find((s) => s.ns === 'pod/default/pod-c' && s.ip !== null && s.ip.payload.kind === 'icmp' && s.ip.payload.type === 8);
  return at?.ip === null || at === undefined ? undefined : [24, 16, 8, 0].map((b) => (at.ip!.header.src >>> b) & 255).join('.');
}

describe('flanneld\'s chains on a node', () => {
  it('leave pod-to-pod traffic alone at its own nodes: FLANNEL-POSTRTG RETURNs it, FLANNEL-FWD ACCEPTs it', () => {
    const sim = simulatorFromSpec(seedLabSpec());
    expect(sourceAtPodC(sim)).toBe('10.244.1.4');
    expect(sim.check().ok).toBe(true);
  });

  it('masquerade what a node forwards between two other nodes\' pods: neither end is in its lease', () => {
    const sim = simulatorFromSpec(seedLabSpec());
    // node-1 sends node-3's subnet through node-2's VTEP; node-2 forwards it on to node-3.
    sim.apply({ op: 'route.replace', ns: 'node/node-1', dst: '10.244.3.0/24', via: '10.244.2.0', dev: 'flannel.1', onlink: true });
    const trace = sim.ping('pod-a', '10.244.3.2').traces[0]!;
    const at = trace.steps.find((s) => s.ns === 'pod/default/pod-e' && s.ip?.payload.kind === 'icmp' && s.ip.payload.type === 8)!;
    expect(at.ip!.header.src).toBe(0x0af40200); // node-2's flannel.1 address, 10.244.2.0
    expect(sim.check().violations.some((v) => v.guarantee === 'no-nat' && v.explanation.includes('at node/node-2 flannel.1'))).toBe(true);
  });

  it('name the lease flanneld writes to subnet.env, also where a mistake makes it another node\'s (broken.overlappingIpam)', () => {
    // Every node's lease is the first node's subnet: its pods talk to each other unmasqueraded, as flanneld's
    // RETURNs for its lease say (naming the node's podCIDR instead masqueraded them; pnpm differential found it).
    const sim = simulatorFromSpec({ ...seedLabSpec(), pods: [], cni: { type: 'broken', mistake: 'overlappingIpam' } });
    const a = sim.addPod({ name: 'a', node: 'node-2' });
    const b = sim.addPod({ name: 'b', node: 'node-2' });
    expect(sim.node('node-2').host.rules.find((r) => r.chain === 'FLANNEL-POSTRTG' && r.src !== null && r.dst !== null && r.src.len === 24)!.src!.addr).toBe(a.ip! & 0xffffff00);
    const trace = sim.ping('a', [24, 16, 8, 0].map((s) => (b.ip! >>> s) & 255).join('.')).traces[0]!;
    expect(trace.violations).toEqual([]);
  });

  it('a mark match: kube-proxy\'s 0x4000/0x4000 never matches (nothing marks a packet), --mark 0 matches every packet', () => {
    const sim = simulatorFromSpec(seedLabSpec());
    sim.apply({ op: 'rule.insert', ns: 'node/node-1', rule: { table: 'filter', chain: 'FORWARD', mark: '0x4000/0x4000', target: 'DROP' } });
    expect(sim.ping('pod-a', '10.244.2.3').ok).toBe(true);
    sim.apply({ op: 'rule.insert', ns: 'node/node-1', rule: { table: 'filter', chain: 'FORWARD', mark: '0', target: 'DROP' } });
    expect(sim.ping('pod-a', '10.244.2.3').ok).toBe(false);
  });

  it('a chain of one\'s own: ! -s, RETURN back to the caller, and a DROP only what the chain does not RETURN', () => {
    const sim = simulatorFromSpec(seedLabSpec());
    sim.apply([
      { op: 'chain.new', ns: 'node/node-2', table: 'filter', chain: 'GUARD' },
      // Traffic from outside the pod CIDR goes on to the next rule of FORWARD; pod-a's is dropped, pod-b's returned.
      { op: 'rule.append', ns: 'node/node-2', rule: { table: 'filter', chain: 'GUARD', notSrc: '10.244.0.0/16', target: 'RETURN' } },
      { op: 'rule.append', ns: 'node/node-2', rule: { table: 'filter', chain: 'GUARD', src: '10.244.1.5/32', target: 'RETURN' } },
      { op: 'rule.append', ns: 'node/node-2', rule: { table: 'filter', chain: 'GUARD', dst: '10.244.2.0/24', target: 'DROP' } },
      { op: 'rule.insert', ns: 'node/node-2', rule: { table: 'filter', chain: 'FORWARD', target: 'JUMP', jump: 'GUARD' } },
    ]);
    const a = sim.ping('pod-a', '10.244.2.3');
    expect(a.ok).toBe(false);
    expect(a.traces[0]!.disposition).toBe('filtered');
    expect(sim.ping('pod-b', '10.244.2.3').ok).toBe(true);
    // Replies from node-2's pods leave by FORWARD too: to node-1's subnet, not dropped by the chain.
    expect(sim.ping('pod-c', '10.244.1.5').ok).toBe(true);
  });
});

describe('a FORWARD policy of DROP (iptables -P FORWARD DROP, what Docker sets on a node)', () => {
  const dockerOnNode1 = (forwardRules: boolean) => {
    const sim = simulatorFromSpec({ ...seedLabSpec(), cni: { type: 'flannel', backend: 'vxlan', iptablesForwardRules: forwardRules } });
    sim.apply({ op: 'chain.policy', ns: 'node/node-1', table: 'filter', chain: 'FORWARD', policy: 'DROP' });
    return sim;
  };

  it('cuts node-1\'s pods off, same-node pairs too (their bridged frames pass FORWARD), unless flanneld\'s FLANNEL-FWD accepts them first', () => {
    const without = dockerOnNode1(false);
    expect(without.ping('pod-a', '10.244.2.3').ok).toBe(false);
    const cut = without.ping('pod-a', '10.244.1.5');
    expect(cut.ok).toBe(false);
    expect(cut.traces[0]!.steps.some((s) => s.note.includes('filter FORWARD policy DROP'))).toBe(true);
    expect(without.check().violations.some((v) => v.guarantee === 'no-nat')).toBe(true);
    const withRules = dockerOnNode1(true);
    expect(withRules.ping('pod-a', '10.244.2.3').ok).toBe(true);
    expect(withRules.ping('pod-a', '10.244.1.5').ok).toBe(true);
    expect(withRules.check().ok).toBe(true);
  });

  it('flannel\'s two iptables switches take booleans only', () => {
    expect(() => flannel({ iptablesForwardRules: 'no' as never })).toThrow('flannel iptablesForwardRules must be true or false, not no');
    expect(() => flannel({ ipMasq: 1 as never })).toThrow('flannel ipMasq must be true or false, not 1');
  });

  it('is refused where iptables refuses it, and the state stays as it was', () => {
    const sim = simulatorFromSpec(seedLabSpec());
    const before = sim.state;
    for (const [a, message] of [
      [{ op: 'chain.policy', ns: 'node/node-1', table: 'nat', chain: 'POSTROUTING', policy: 'DROP' }, 'the use of DROP is therefore inhibited'],
      [{ op: 'chain.policy', ns: 'node/node-1', table: 'filter', chain: 'FLANNEL-FWD', policy: 'DROP' }, 'Bad built-in chain name.'],
      [{ op: 'chain.policy', ns: 'node/node-1', table: 'filter', chain: 'FORWARD', policy: 'REJECT' }, 'Bad policy name.'],
    ] as const) {
      expect(() => sim.apply(a as never)).toThrow(message);
      expect(sim.state).toBe(before);
    }
  });
});

describe('flanneld\'s resync loop (--iptables-resync, 5 s by default) as the clock advances', () => {
  const saveOf = (sim: ReturnType<typeof simulatorFromSpec>, node = 'node-1') => sim.node(node).host.rules.map((r) => `${r.table} ${r.chain} ${r.target}${r.jump ? ` ${r.jump}` : ''}${r.src ? ` -s ${r.src.addr >>> 24}…/${r.src.len}` : ''}`);

  it('puts back the FORWARD jump someone deleted at the next run of the loop, 5 s after flanneld started, and the pods meet again', () => {
    const sim = simulatorFromSpec(seedLabSpec());
    const rules = saveOf(sim);
    sim.apply([
      { op: 'chain.policy', ns: 'node/node-1', table: 'filter', chain: 'FORWARD', policy: 'DROP' },
      { op: 'rule.del', ns: 'node/node-1', rule: { table: 'filter', chain: 'FORWARD', target: 'JUMP', jump: 'FLANNEL-FWD', comment: 'flanneld forward' } },
    ]);
    expect(sim.ping('pod-a', '10.244.1.5').ok).toBe(false);
    sim.advance(4999);
    expect(sim.ping('pod-a', '10.244.1.5').ok).toBe(false);
    sim.advance(1);
    expect(sim.ping('pod-a', '10.244.1.5').ok).toBe(true);
    expect(saveOf(sim)).toEqual(rules);
    expect(sim.check().ok).toBe(true);
    // One change in the history: the clock and what the loop did, undone together.
    expect(sim.history().at(-1)).toBe('advance 1ms');
    sim.undo();
    expect(sim.ping('pod-a', '10.244.1.5').ok).toBe(false);
  });

  it('appends its whole set again, after what others put in the chain since: a stray MASQUERADE that came first stays first', () => {
    const sim = simulatorFromSpec(seedLabSpec());
    sim.apply([
      { op: 'chain.flush', ns: 'node/node-1', table: 'nat', chain: 'POSTROUTING' },
      { op: 'rule.append', ns: 'node/node-1', rule: { table: 'nat', chain: 'POSTROUTING', src: '10.244.1.0/24', target: 'MASQUERADE' } },
    ]);
    sim.advance(5000);
    expect(saveOf(sim).filter((r) => r.startsWith('nat POSTROUTING'))).toEqual(['nat POSTROUTING MASQUERADE -s 10…/24', 'nat POSTROUTING JUMP FLANNEL-POSTRTG']);
    // FLANNEL-POSTRTG's rules were there: deleted and appended again, in flanneld's order.
    expect(saveOf(sim).filter((r) => r.startsWith('nat FLANNEL-POSTRTG')).map((r) => r.split(' ')[2])).toEqual(['RETURN', 'RETURN', 'RETURN', 'RETURN', 'MASQUERADE', 'MASQUERADE']);
  });

  it('makes its chain again when it was deleted, and leaves the forward set alone when only the masquerade set lost a rule', () => {
    const sim = simulatorFromSpec({ ...seedLabSpec(), cni: { type: 'flannel', backend: 'host-gw' } });
    const forward = sim.node('node-2').host.rules.filter((r) => r.table === 'filter');
    sim.apply([
      { op: 'rule.del', ns: 'node/node-2', rule: { table: 'nat', chain: 'POSTROUTING', target: 'JUMP', jump: 'FLANNEL-POSTRTG', comment: 'flanneld masq' } },
      { op: 'chain.flush', ns: 'node/node-2', table: 'nat', chain: 'FLANNEL-POSTRTG' },
      { op: 'chain.del', ns: 'node/node-2', table: 'nat', chain: 'FLANNEL-POSTRTG' },
    ]);
    sim.advance(5000);
    expect(sim.node('node-2').host.nfChains).toContain('nat FLANNEL-POSTRTG');
    expect(sim.node('node-2').host.rules.filter((r) => r.chain === 'FLANNEL-POSTRTG')).toHaveLength(6);
    expect(sim.node('node-2').host.rules.filter((r) => r.table === 'filter').every((r, i) => r === forward[i])).toBe(true);
  });

  it('with every rule in place, the clock alone moves: no node changes', () => {
    const sim = simulatorFromSpec(seedLabSpec());
    const nodes = sim.state.nodes;
    sim.advance(60_000);
    expect(sim.state.nodes).toBe(nodes);
    expect(sim.now()).toBe(60_000);
  });

  it('property: whatever of its rules was deleted, and whatever was added around them, one run of the loop leaves every flanneld rule there once, in flanneld\'s order', () => {
    const base = simulatorFromSpec(seedLabSpec());
    const own = base.node('node-1').host.rules.map(ruleSpecOf);
    const stray = (i: number): Action => ({ op: 'rule.append', ns: 'node/node-1', rule: { table: i % 2 ? 'filter' : 'nat', chain: i % 2 ? 'FORWARD' : 'POSTROUTING', src: `10.${i}.0.0/16`, target: i % 2 ? 'DROP' : 'MASQUERADE' } });
    fc.assert(fc.property(fc.subarray(own.map((_, i) => i)), fc.array(fc.nat(9), { maxLength: 3 }), fc.boolean(), (gone, strays, strayFirst) => {
      const sim = simulatorFromSpec(seedLabSpec());
      const dels: Action[] = gone.map((i) => ({ op: 'rule.del', ns: 'node/node-1', rule: own[i]! }));
      const adds = strays.map(stray);
      sim.apply(strayFirst ? [...adds, ...dels] : [...dels, ...adds]);
      sim.advance(5000);
      const rules = sim.node('node-1').host.rules;
      // Each of flanneld's rules once; within a chain, in the order flanneld appends them.
      for (const spec of own) expect(rules.filter((r) => ruleIs(r, spec))).toHaveLength(1);
      const order = (chain: string) => rules.filter((r) => r.chain === chain && own.some((o) => ruleIs(r, o))).map((r) => own.findIndex((o) => ruleIs(r, o)));
      for (const chain of ['POSTROUTING', 'FLANNEL-POSTRTG', 'FORWARD', 'FLANNEL-FWD']) expect(order(chain)).toEqual([...order(chain)].sort((x, y) => x - y));
      // What flanneld does not own is left as it was.
      expect(rules.filter((r) => !own.some((o) => ruleIs(r, o)))).toHaveLength(strays.length);
    }), { numRuns: 60 });
  });

  it('iptablesResync sets the period in seconds; anything but a whole number of seconds from 1 is refused', () => {
    const sim = simulatorFromSpec({ ...seedLabSpec(), cni: { type: 'flannel', iptablesResync: 30 } });
    sim.apply({ op: 'rule.del', ns: 'node/node-3', rule: { table: 'filter', chain: 'FORWARD', target: 'JUMP', jump: 'FLANNEL-FWD', comment: 'flanneld forward' } });
    sim.advance(29_000);
    expect(sim.node('node-3').host.rules.some((r) => r.chain === 'FORWARD')).toBe(false);
    sim.advance(1_000);
    expect(sim.node('node-3').host.rules.some((r) => r.chain === 'FORWARD')).toBe(true);
    for (const bad of [0, 2.5, -5, '5']) expect(() => flannel({ iptablesResync: bad as never })).toThrow(/flannel iptablesResync must be a whole number of seconds, 1 or more/);
  });
});

describe('flannel host-gw\'s route check (every 10 s), as the clock advances', () => {
  const del = { op: 'route.del', ns: 'node/node-1', dst: '10.244.3.0/24', via: '192.168.1.13', dev: 'eth0' } as const;

  it('adds a deleted lease route again 10 s after flanneld started, not before; the VXLAN backend has no such loop', () => {
    const sim = simulatorFromSpec(hostGwLabSpec());
    sim.apply(del);
    expect(sim.ping('pod-a', '10.244.3.2').ok).toBe(false);
    sim.advance(9_999);
    expect(sim.ping('pod-a', '10.244.3.2').ok).toBe(false);
    sim.advance(1);
    expect(sim.ping('pod-a', '10.244.3.2').ok).toBe(true);
    expect(ipRoute(sim.state, 'node/node-1')).toContain('10.244.3.0/24 via 192.168.1.13 dev eth0');
    const vxlan = simulatorFromSpec(seedLabSpec());
    vxlan.apply({ op: 'route.del', ns: 'node/node-1', dst: '10.244.3.0/24', via: '10.244.3.0', dev: 'flannel.1', onlink: true });
    vxlan.advance(60_000);
    expect(vxlan.ping('pod-a', '10.244.3.2').ok).toBe(false);
  });

  it('cannot put back a route whose prefix another route holds (File exists), and the restore action refuses it too', () => {
    const sim = simulatorFromSpec(hostGwLabSpec());
    sim.apply({ op: 'route.replace', ns: 'node/node-1', dst: '10.244.3.0/24', dev: 'eth0' });
    sim.advance(30_000);
    expect(ipRoute(sim.state, 'node/node-1').filter((l) => l.startsWith('10.244.3.0/24'))).toEqual(['10.244.3.0/24 dev eth0 scope link']);
    const before = sim.state;
    expect(() => sim.apply({ op: 'peerset.restore', ns: 'node/node-1', set: 'flannel', owner: 'node-3' })).toThrow('RTNETLINK answers: File exists');
    expect(() => sim.apply({ op: 'peerset.restore', ns: 'node/node-1', set: 'flannel', owner: 'node-2' })).toThrow('RTNETLINK answers: File exists');
    expect(() => sim.apply({ op: 'peerset.restore', ns: 'node/node-1', set: 'flannel', owner: 'node-9' })).toThrow('has no entry of node-9');
    expect(sim.state).toBe(before);
  });
});

describe('flanneld starting again on a node (its pod deleted: sim.restartAgents)', () => {
  const host = (sim: ReturnType<typeof simulatorFromSpec>) => sim.node('node-1').host;

  it('puts back what was changed by hand on that node: a route replaced, a neighbour and an FDB entry deleted, flannel.1 down without its address', () => {
    const sim = simulatorFromSpec(seedLabSpec());
    const routes = ipRoute(sim.state, 'node/node-1');
    sim.apply([
      { op: 'route.replace', ns: 'node/node-1', dst: '10.244.3.0/24', dev: 'eth0' },
      { op: 'neigh.del', ns: 'node/node-1', dev: 'flannel.1', ip: '10.244.2.0' },
      { op: 'fdb.del', ns: 'node/node-1', dev: 'flannel.1', mac: vtepMac('node-2') },
      { op: 'addr.del', ns: 'node/node-1', dev: 'flannel.1', addr: '10.244.1.0/32' },
      { op: 'link.set', ns: 'node/node-1', name: 'flannel.1', up: false },
    ]);
    expect(sim.ping('pod-a', '10.244.2.3').ok).toBe(false);
    sim.restartAgents(['node-1']);
    expect(ipRoute(sim.state, 'node/node-1')).toEqual(routes);
    expect(host(sim).links['flannel.1']!.up).toBe(true);
    expect(sim.ping('pod-a', '10.244.2.3').ok).toBe(true);
    expect(sim.ping('pod-a', '10.244.3.2').ok).toBe(true);
    expect(sim.check().ok).toBe(true);
    expect(sim.history().at(-1)).toBe('restartAgents node-1');
  });

  it('appends all its rules again, after what others put in the chains: a stray rule inserted first stays first', () => {
    const sim = simulatorFromSpec(seedLabSpec());
    sim.apply({ op: 'rule.insert', ns: 'node/node-1', rule: { table: 'nat', chain: 'POSTROUTING', src: '10.244.1.0/24', target: 'MASQUERADE' } });
    sim.apply({ op: 'rule.append', ns: 'node/node-1', rule: { table: 'filter', chain: 'FORWARD', target: 'DROP' } });
    sim.restartAgents(['node-1']);
    const chain = (c: string) => host(sim).rules.filter((r) => r.chain === c).map((r) => `${r.target}${r.jump ? ` ${r.jump}` : ''}`);
    expect(chain('POSTROUTING')).toEqual(['MASQUERADE', 'JUMP FLANNEL-POSTRTG']);
    // The DROP appended after flanneld's jump now comes before it: pods of node-1 are cut apart.
    expect(chain('FORWARD')).toEqual(['DROP', 'JUMP FLANNEL-FWD']);
    expect(sim.ping('pod-a', '10.244.1.5').ok).toBe(false);
  });

  it('with host-gw, replaces a route of another gateway; other nodes are left as they were', () => {
    const sim = simulatorFromSpec(hostGwLabSpec());
    const node2 = sim.node('node-2');
    sim.apply({ op: 'route.replace', ns: 'node/node-1', dst: '10.244.3.0/24', via: '192.168.1.12', dev: 'eth0' });
    sim.restartAgents(['node-1']);
    expect(ipRoute(sim.state, 'node/node-1')).toContain('10.244.3.0/24 via 192.168.1.13 dev eth0');
    expect(sim.node('node-2')).toBe(node2);
  });

  it('an unknown node is refused and nothing changes; a restart that finds everything in place only moves its rules', () => {
    const sim = simulatorFromSpec(seedLabSpec());
    const before = sim.state;
    expect(() => sim.restartAgents(['node-9'])).toThrow(/node-9/);
    expect(() => sim.restartAgents('node-1' as never)).toThrow('restartAgents takes a list of node names');
    expect(() => sim.apply({ op: 'peerset.restore', ns: 'node/node-1', set: 'flannel', owner: 'node-2', replace: 'yes' as never })).toThrow('peerset.restore.replace must be true or false, not "yes"');
    expect(sim.state).toBe(before);
    const routes = ipRoute(sim.state, 'node/node-1');
    sim.restartAgents();
    expect(ipRoute(sim.state, 'node/node-1')).toEqual(routes);
    expect(sim.check().ok).toBe(true);
  });
});
