/**
 * An action list is applied with the namespace it last looked up remembered (actions never create or
 * remove a namespace): applying a list must give what applying its actions one list each gives, on
 * random lists over several namespaces that add, change and delete links (a veth's far end in another
 * namespace), addresses, routes, neighbours and sysctls — with the same error when one fails, and the
 * state unchanged then.
 */
import fc from 'fast-check';
import { produce } from 'immer';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isPodnetError } from '../errors.js';
import { addNodeState, createClusterState } from '../model/cluster.js';
import { getNs } from '../model/lookup.js';
import { shardGet } from '../util/shards.js';
import { bare } from '../cni/testing/bare.js';
import type { ClusterState } from '../model/types.js';
import { applyActions, type Action } from './actions.js';
import { formatRoute, ipRoute } from '../query/render.js';
import { formatIpv4, parseIpv4 } from '../addr/ipv4.js';
import { isLocalAddress, lookupRouteIn, selectSource } from './routing.js';

const start: ClusterState = ['a', 'b'].reduce((s, n) => addNodeState(s, { name: `node-${n}` }, bare).state, createClusterState({ podCidr: '10.244.0.0/16' }, bare));

const NS = ['node/node-a', 'node/node-b', 'underlay'] as const;
const DEVS = ['br0', 'v0', 'v1', 'lo', 'eth0'] as const;

const actionArb: fc.Arbitrary<Action> = fc.tuple(fc.constantFrom(...NS), fc.constantFrom(...NS), fc.constantFrom(...DEVS), fc.constantFrom(...DEVS), fc.integer({ min: 1, max: 9 }), fc.nat({ max: 13 }))
  .map(([ns, other, dev, dev2, n, op]): Action => {
    switch (op) {
      case 0: case 10: return { op: 'link.add', ns, name: dev, kind: 'bridge' };
      case 1: case 11: case 12: case 13: return { op: 'link.add', ns, name: dev, kind: 'veth', up: true, peer: { ns: other, name: dev2, up: true } };
      // Hairpin mode (n 5 and 6) is refused off a bridge port, and goes when a port changes master (n > 6).
      case 2: return { op: 'link.set', ns, name: dev, up: n % 2 === 0, ...(n > 6 ? { master: dev2 } : {}), ...(n === 5 || n === 6 ? { hairpin: n === 5 } : {}) };
      case 3: return { op: 'addr.add', ns, dev, addr: `10.${n}.0.1/24` };
      case 4: return { op: 'addr.del', ns, dev, addr: `10.${n}.0.1/24` };
      case 5: return { op: 'route.add', ns, dst: `10.${100 + n}.0.0/16`, via: `10.${n}.0.2` };
      case 6: return { op: 'neigh.add', ns, dev, ip: `10.${n}.0.9`, mac: '02:00:00:00:00:09' };
      case 7: return { op: 'sysctl.set', ns, key: `net.ipv4.conf.${dev}.proxy_arp`, value: n % 2 };
      case 8: return { op: 'link.del', ns, name: dev };
      default: return { op: 'route.del', ns, dst: `10.${100 + n}.0.0/16` };
    }
  });

const outcome = (f: () => ClusterState): { state: ClusterState } | { code: string } => {
  try {
    return { state: f() };
  } catch (e) {
    if (!isPodnetError(e)) throw e;
    return { code: e.code };
  }
};

describe('applyActions', () => {
  it('applies a list as its actions one list each would, and fails alike', () => {
    let long = 0;
    fc.assert(
      fc.property(fc.array(actionArb, { minLength: 8, maxLength: 20 }), fc.nat(), (raw, at) => {
        // The actions that apply one after another, one list each (those that fail there are left out).
        const good: Action[] = [];
        let one = start;
        for (const a of raw) {
          const r = outcome(() => applyActions(one, [a]));
          if ('state' in r) {
            good.push(a);
            one = r.state;
          }
        }
        expect(outcome(() => applyActions(start, good))).toEqual({ state: one });
        if (good.length >= 4) long++;
        // A list that also holds an action that fails fails with that action's error, as the same
        // actions one list each do when they reach it.
        // Either a missing device in a namespace that exists, or a namespace id that names none — the
        // empty id too, which a list's memory of the namespace it last looked up must not answer.
        const [bad, code]: [Action, string] = at % 3 === 0
          ? [{ op: 'listen', ns: ['', 'pod/none'][at % 2]!, protocol: 'tcp', port: 80 }, 'NAMESPACE_NOT_FOUND']
          : [{ op: 'route.add', ns: NS[at % NS.length]!, dst: '10.200.0.0/16', dev: 'missing0' }, 'LINK_NOT_FOUND'];
        const list = [...good.slice(0, at % (good.length + 1)), bad, ...good.slice(at % (good.length + 1))];
        const whole = outcome(() => applyActions(start, list));
        expect(whole).toEqual({ code });
        expect(whole).toEqual(outcome(() => list.reduce((s, a) => applyActions(s, [a]), start)));
      }),
      { numRuns: 200, seed: 3 },
    );
    // Most lists must apply several actions in a row, over the namespaces in turn.
    expect(long).toBeGreaterThan(80);
  });
});

describe('an interface named __proto__', () => {
  const startJson = JSON.stringify(start);
  // A host namespace's links are a prototype-less record (util/dict.ts), the underlay's and a pod's a
  // plain object: the name used to add a key to the first and throw immer's bare Error on the others.
  it('is refused with a typed error in every namespace, as a device and as a veth peer, and nothing changes', () => {
    const adds: Action[] = [
      ...NS.map((ns): Action => ({ op: 'link.add', ns, name: '__proto__', kind: 'bridge' })),
      ...NS.map((ns): Action => ({ op: 'link.add', ns: 'node/node-a', name: 'v9', kind: 'veth', peer: { ns, name: '__proto__' } })),
    ];
    for (const a of adds) {
      let caught: unknown;
      try { applyActions(start, [a]); } catch (e) { caught = e; }
      expect(isPodnetError(caught) && caught.code).toBe('UNSUPPORTED');
    }
    expect(JSON.stringify(start)).toBe(startJson);
  });
});

/**
 * immer makes a draft (a proxy, finalised at the end) of every object read through the draft, written or
 * not: a veth deletion read its peer, the peer's addresses, an FDB and the cluster's peer sets that way
 * without changing them. Counted by watching the proxies immer creates (its drafts' bookkeeping, the same
 * `modified_` that util/immer.ts's snapshot reads): after the transition every one must have been written.
 */
describe('deleting a veth', () => {
  afterEach(() => vi.restoreAllMocks());

  /** Applies the actions, returning the state and how many drafts were made and how many were never written. */
  const counted = (s: ClusterState, actions: Action[]): { state: ClusterState; drafts: number; unwritten: number } => {
    const states: { modified_: boolean }[] = [];
    const revocable = Proxy.revocable;
    vi.spyOn(Proxy, 'revocable').mockImplementation((target, handler) => {
      states.push((Array.isArray(target) ? target[0] : target) as { modified_: boolean });
      return revocable(target, handler);
    });
    const state = applyActions(s, actions);
    vi.restoreAllMocks();
    return { state, drafts: states.length, unwritten: states.filter((x) => x.modified_ !== true).length };
  };

  it('counts the drafts immer makes (the counter the zero-draft checks below rely on)', () => {
    const states: unknown[] = [];
    const revocable = Proxy.revocable;
    vi.spyOn(Proxy, 'revocable').mockImplementation((target, handler) => {
      states.push(target);
      return revocable(target, handler);
    });
    const next = produce(start, (d) => {
      d.podCount = d.podCount + 1;
    });
    vi.restoreAllMocks();
    expect(next.podCount).toBe(start.podCount + 1);
    // If immer stopped making its drafts with Proxy.revocable, every zero-draft check here would pass vacuously.
    expect(states.length).toBeGreaterThan(0);
  });

  const veths = (s: ClusterState): [string, string][] => NS.flatMap((ns) => Object.values(getNs(s, ns).links).filter((l) => l.kind === 'veth').map((l): [string, string] => [ns, l.name]));

  it('takes both ends, their addresses, FDB entries and attached peer routes, and drafts only what it writes', () => {
    const wired = applyActions(start, [
      { op: 'link.add', ns: 'node/node-a', name: 'br0', kind: 'bridge', up: true },
      { op: 'link.add', ns: 'node/node-a', name: 'v0', kind: 'veth', up: true, master: 'br0', peer: { ns: 'node/node-b', name: 'v1', up: true } },
      { op: 'addr.add', ns: 'node/node-a', dev: 'v0', addr: '10.7.0.1/24' },
      { op: 'addr.add', ns: 'node/node-b', dev: 'v1', addr: '10.7.0.2/24' },
      { op: 'peerset.put', set: 'peers', dev: 'v0', owner: 'x', routes: [{ dst: '10.9.0.0/24', via: '10.7.0.2' }], neigh: [], fdb: [] },
      { op: 'peerset.attach', ns: 'node/node-a', set: 'peers', self: 'node-a' },
    ]);
    expect(getNs(wired, 'node/node-a').peerSets).toHaveLength(1);
    const { state, unwritten } = counted(wired, [{ op: 'link.del', ns: 'node/node-b', name: 'v1' }]);
    expect(unwritten).toBe(0);
    const a = getNs(state, 'node/node-a');
    expect(Object.keys(a.links).sort()).toEqual(['br0', 'eth0', 'lo']);
    expect(Object.keys(getNs(state, 'node/node-b').links).sort()).toEqual(['eth0', 'lo']);
    expect(Object.values(a.fdb).map((e) => e.port)).toEqual([null]); // the bridge's own entry stays
    expect(a.peerSets).toEqual([]);
    expect(shardGet(state.ipIndex, String(0x0a070001))).toBeUndefined();
    expect(shardGet(state.ipIndex, String(0x0a070002))).toBeUndefined();
    // What the deletion does not touch is shared with the state before it.
    expect(state.peerSets).toBe(wired.peerSets);
  });

  it('writes every draft it makes, from either end, on random namespaces', () => {
    let deleted = 0;
    let drafts = 0;
    fc.assert(
      fc.property(fc.array(actionArb, { minLength: 4, maxLength: 20 }), (raw) => {
        const s = raw.reduce((acc, a) => {
          const r = outcome(() => applyActions(acc, [a]));
          return 'state' in r ? r.state : acc;
        }, start);
        for (const [ns, name] of veths(s)) {
          const c = counted(s, [{ op: 'link.del', ns, name }]);
          drafts += c.drafts;
          expect(c.unwritten).toBe(0);
          deleted++;
        }
      }),
      { numRuns: 100, seed: 5 },
    );
    expect(deleted).toBeGreaterThan(50);
    // On node and underlay namespaces a deletion writes plain copies only (util/immer.ts transition): no draft at all.
    expect(drafts).toBe(0);
  });
});

describe('rule.insert at a position (iptables -I CHAIN N)', () => {
  const ns = 'node/node-a';
  const rule = (src: string, chain: 'FORWARD' | 'INPUT' = 'FORWARD') => ({ table: 'filter' as const, chain, src, target: 'DROP' as const });
  const srcs = (s: ClusterState) => getNs(s, ns).rules.filter((r) => r.chain === 'FORWARD').map((r) => r.src!.addr >>> 24);
  // FORWARD: 1, 2, 3, with an INPUT rule between its first two in the shared list.
  const three = applyActions(start, [rule('1.0.0.0/8'), rule('9.0.0.0/8', 'INPUT'), rule('2.0.0.0/8'), rule('3.0.0.0/8')].map((r) => ({ op: 'rule.append', ns, rule: r })));

  it('numbers the rule within its chain, other chains\' rules aside; one past the last appends', () => {
    expect(srcs(applyActions(three, [{ op: 'rule.insert', ns, rule: rule('7.0.0.0/8'), position: 2 }]))).toEqual([1, 7, 2, 3]);
    expect(srcs(applyActions(three, [{ op: 'rule.insert', ns, rule: rule('7.0.0.0/8'), position: 4 }]))).toEqual([1, 2, 3, 7]);
    expect(srcs(applyActions(three, [{ op: 'rule.insert', ns, rule: rule('7.0.0.0/8') }]))).toEqual([7, 1, 2, 3]);
  });

  it('refuses a number past one after the last, or not a positive integer, as iptables does, and changes nothing', () => {
    for (const [position, message] of [[5, 'iptables: Index of insertion too big'], [0, "iptables: Invalid rule number `0'"], [1.5, "iptables: Invalid rule number `1.5'"]] as const) {
      const r = outcome(() => applyActions(three, [{ op: 'rule.insert', ns, rule: rule('7.0.0.0/8'), position }]));
      expect(r).toEqual({ code: 'INVALID_ARGUMENT' });
      expect(() => applyActions(three, [{ op: 'rule.insert', ns, rule: rule('7.0.0.0/8'), position }])).toThrow(message);
    }
    expect(srcs(three)).toEqual([1, 2, 3]);
  });
});

describe('rule.replace (iptables -R CHAIN N)', () => {
  const ns = 'node/node-a';
  const rule = (src: string, chain: 'FORWARD' | 'INPUT' = 'FORWARD') => ({ table: 'filter' as const, chain, src, target: 'DROP' as const });
  const srcs = (s: ClusterState, chain = 'FORWARD') => getNs(s, ns).rules.filter((r) => r.chain === chain).map((r) => r.src!.addr >>> 24);
  const three = applyActions(start, [rule('1.0.0.0/8'), rule('9.0.0.0/8', 'INPUT'), rule('2.0.0.0/8'), rule('3.0.0.0/8')].map((r) => ({ op: 'rule.append', ns, rule: r })));

  it('puts the rule in the place of the one numbered N in its chain, other chains\' rules aside', () => {
    const s = applyActions(three, [{ op: 'rule.replace', ns, rule: rule('7.0.0.0/8'), position: 2 }]);
    expect(srcs(s)).toEqual([1, 7, 3]);
    expect(srcs(s, 'INPUT')).toEqual([9]);
    expect(srcs(applyActions(three, [{ op: 'rule.replace', ns, rule: rule('7.0.0.0/8'), position: 3 }]))).toEqual([1, 2, 7]);
  });

  it('refuses a number past the last, or not a positive integer, in iptables\' words, and changes nothing', () => {
    for (const [position, message] of [[4, 'iptables: Index of replacement too big.'], [0, "iptables: Invalid rule number `0'"], [1.5, "iptables: Invalid rule number `1.5'"]] as const) {
      expect(outcome(() => applyActions(three, [{ op: 'rule.replace', ns, rule: rule('7.0.0.0/8'), position }]))).toEqual({ code: 'INVALID_ARGUMENT' });
      expect(() => applyActions(three, [{ op: 'rule.replace', ns, rule: rule('7.0.0.0/8'), position }])).toThrow(message);
    }
    expect(() => applyActions(three, [{ op: 'rule.replace', ns, rule: rule('7.0.0.0/8', 'INPUT'), position: 2 }])).toThrow('iptables: Index of replacement too big.');
    expect(srcs(three)).toEqual([1, 2, 3]);
  });

  it('judges the chains as they would be with the replacement: a MASQUERADE a PREROUTING jump reaches is refused (RULE_REPLACE), the rule it replaces no longer counts', () => {
    const nat = applyActions(start, [
      { op: 'chain.new', ns, table: 'nat', chain: 'PRE' },
      { op: 'rule.append', ns, rule: { table: 'nat', chain: 'PREROUTING', target: 'JUMP', jump: 'PRE' } },
      { op: 'rule.append', ns, rule: { table: 'nat', chain: 'PRE', target: 'ACCEPT' } },
    ]);
    expect(() => applyActions(nat, [{ op: 'rule.replace', ns, rule: { table: 'nat', chain: 'PRE', target: 'MASQUERADE' }, position: 1 }])).toThrow('RULE_REPLACE failed (Invalid argument): rule in chain PRE');
    // PREROUTING's only jump replaced by an ACCEPT: PRE is reached by no hook, and may then masquerade.
    const cut = applyActions(nat, [{ op: 'rule.replace', ns, rule: { table: 'nat', chain: 'PREROUTING', target: 'ACCEPT' }, position: 1 }]);
    expect(getNs(applyActions(cut, [{ op: 'rule.replace', ns, rule: { table: 'nat', chain: 'PRE', target: 'MASQUERADE' }, position: 1 }]), ns).rules.map((r) => `${r.chain} ${r.target}`)).toEqual(['PREROUTING ACCEPT', 'PRE MASQUERADE']);
  });
});

describe('rule actions validate what iptables would refuse', () => {
  it('a port without tcp or udp, a port out of range, an unmodelled protocol, a long comment: INVALID_ARGUMENT, state unchanged', () => {
    const ns = 'node/node-a';
    for (const rule of [
      { table: 'filter', chain: 'FORWARD', dport: 80, target: 'DROP' },
      { table: 'filter', chain: 'FORWARD', protocol: 'icmp', dport: 80, target: 'DROP' },
      { table: 'filter', chain: 'FORWARD', protocol: 'tcp', dport: 65536, target: 'DROP' },
      { table: 'filter', chain: 'FORWARD', protocol: 'sctp', target: 'DROP' },
      { table: 'filter', chain: 'FORWARD', comment: 'x'.repeat(256), target: 'DROP' },
    ]) {
      expect(outcome(() => applyActions(start, [{ op: 'rule.append', ns, rule } as unknown as Action])), JSON.stringify(rule).slice(0, 80)).toEqual({ code: 'INVALID_ARGUMENT' });
    }
    expect(getNs(applyActions(start, [{ op: 'rule.append', ns, rule: { table: 'filter', chain: 'FORWARD', protocol: 'udp', dport: 8472, target: 'DROP' } }]), ns).rules).toHaveLength(1);
  });
});

describe('chains of a namespace\'s own (iptables -N, -X, -F, -j CHAIN, -j RETURN), as nf_tables takes and refuses them', () => {
  const ns = 'node/node-a';
  const mk = (table: 'nat' | 'filter', chain: string): Action => ({ op: 'chain.new', ns, table, chain });
  const jump = (table: 'nat' | 'filter', chain: string, to: string): Action => ({ op: 'rule.append', ns, rule: { table, chain, target: 'JUMP', jump: to } });
  /** The error a list of actions meets (code and message), or null; the state must be `start` after it. */
  const refusal = (actions: readonly Action[]): { code: string; message: string } | null => {
    try {
      applyActions(start, actions);
      return null;
    } catch (e) {
      if (!isPodnetError(e)) throw e;
      return { code: e.code, message: e.message };
    }
  };

  it('makes, lists and deletes chains per table: a name a table has built in elsewhere is free (-N POSTROUTING in filter)', () => {
    const s = applyActions(start, [mk('filter', 'MY-CHAIN'), mk('filter', 'POSTROUTING'), mk('nat', 'MY-CHAIN')]);
    expect(getNs(s, ns).nfChains).toEqual(['filter MY-CHAIN', 'filter POSTROUTING', 'nat MY-CHAIN']);
    const t = applyActions(s, [{ op: 'chain.del', ns, table: 'filter', chain: 'MY-CHAIN' }, { op: 'chain.del', ns, table: 'filter', chain: 'POSTROUTING' }, { op: 'chain.del', ns, table: 'nat', chain: 'MY-CHAIN' }]);
    expect(getNs(t, ns).nfChains).toEqual([]);
  });

  it('refuses what the kernel refused (measured, pnc30), with its words, and changes nothing', () => {
    const cases: [readonly Action[], string, string][] = [
      [[mk('filter', 'FORWARD')], 'CHAIN_EXISTS', 'iptables: Chain already exists.'],
      [[mk('filter', 'A'), mk('filter', 'A')], 'CHAIN_EXISTS', 'iptables: Chain already exists.'],
      [[mk('filter', 'ACCEPT')], 'INVALID_ARGUMENT', 'iptables v1.8.9 (nf_tables): chain name may not clash with target name'],
      [[mk('filter', 'A'.repeat(29))], 'INVALID_ARGUMENT', `iptables v1.8.9 (nf_tables): chain name \`${'A'.repeat(29)}' too long (must be under 29 chars)`],
      [[mk('filter', '-bad')], 'INVALID_ARGUMENT', "iptables v1.8.9 (nf_tables): chain name not allowed to start with `-'"],
      [[jump('filter', 'FORWARD', 'NOSUCH')], 'CHAIN_NOT_FOUND', "iptables v1.8.9 (nf_tables): Chain 'NOSUCH' does not exist"],
      [[{ op: 'rule.append', ns, rule: { table: 'filter', chain: 'NOSUCH', target: 'DROP' } }], 'CHAIN_NOT_FOUND', 'iptables: No chain/target/match by that name.'],
      [[{ op: 'rule.append', ns, rule: { table: 'filter', chain: 'PREROUTING', target: 'DROP' } }], 'CHAIN_NOT_FOUND', 'iptables: No chain/target/match by that name.'],
      // A chain with rules, or one a rule jumps to, or a built-in one, is busy.
      [[mk('filter', 'A'), { op: 'rule.append', ns, rule: { table: 'filter', chain: 'A', target: 'DROP' } }, { op: 'chain.del', ns, table: 'filter', chain: 'A' }], 'CHAIN_IN_USE', 'iptables v1.8.9 (nf_tables):  CHAIN_DEL failed (Device or resource busy): chain A'],
      [[mk('filter', 'A'), mk('filter', 'B'), jump('filter', 'B', 'A'), { op: 'chain.del', ns, table: 'filter', chain: 'A' }], 'CHAIN_IN_USE', 'iptables v1.8.9 (nf_tables):  CHAIN_DEL failed (Device or resource busy): chain A'],
      [[{ op: 'chain.del', ns, table: 'filter', chain: 'FORWARD' }], 'CHAIN_IN_USE', 'iptables v1.8.9 (nf_tables):  CHAIN_DEL failed (Device or resource busy): chain FORWARD'],
      [[{ op: 'chain.del', ns, table: 'filter', chain: 'NOSUCH' }], 'CHAIN_NOT_FOUND', 'iptables: No chain/target/match by that name.'],
      // A loop of jumps a built-in chain reaches; the error names the chain of the rule added.
      [[mk('filter', 'A'), mk('filter', 'B'), jump('filter', 'A', 'B'), jump('filter', 'B', 'A'), jump('filter', 'FORWARD', 'A')], 'CHAIN_IN_USE', 'iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Too many links): rule in chain FORWARD'],
      [[mk('filter', 'A'), jump('filter', 'FORWARD', 'A'), { op: 'rule.insert', ns, rule: { table: 'filter', chain: 'A', target: 'JUMP', jump: 'A' } }], 'CHAIN_IN_USE', 'iptables v1.8.9 (nf_tables):  RULE_INSERT failed (Too many links): rule in chain A'],
      // A nat target reached from a hook it may not act in.
      [[mk('nat', 'M'), { op: 'rule.append', ns, rule: { table: 'nat', chain: 'M', target: 'MASQUERADE' } }, jump('nat', 'PREROUTING', 'M')], 'INVALID_ARGUMENT', 'iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain PREROUTING'],
      [[mk('nat', 'D'), jump('nat', 'PREROUTING', 'D'), { op: 'rule.append', ns, rule: { table: 'nat', chain: 'D', target: 'SNAT', to: '10.244.1.1' } }], 'INVALID_ARGUMENT', 'iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain D'],
      [[{ op: 'rule.append', ns, rule: { table: 'nat', chain: 'PREROUTING', target: 'MASQUERADE' } }], 'INVALID_ARGUMENT', 'iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain PREROUTING'],
    ];
    for (const [actions, code, message] of cases) expect(refusal(actions), JSON.stringify(actions.at(-1))).toEqual({ code, message });
  });

  it('takes a loop no built-in chain reaches, and a MASQUERADE in a chain only POSTROUTING reaches (measured)', () => {
    const s = applyActions(start, [mk('filter', 'A'), mk('filter', 'B'), jump('filter', 'A', 'B'), jump('filter', 'B', 'A'), jump('filter', 'A', 'A')]);
    expect(getNs(s, ns).rules.map((r) => `${r.chain}>${r.jump}`)).toEqual(['A>B', 'B>A', 'A>A']);
    const t = applyActions(start, [mk('nat', 'M'), { op: 'rule.append', ns, rule: { table: 'nat', chain: 'M', target: 'MASQUERADE' } }, jump('nat', 'POSTROUTING', 'M')]);
    expect(getNs(t, ns).rules).toHaveLength(2);
  });

  it('-F empties a chain, which can then go once nothing jumps to it', () => {
    const s = applyActions(start, [mk('filter', 'A'), { op: 'rule.append', ns, rule: { table: 'filter', chain: 'A', notSrc: '10.244.0.0/16', mark: '0x4000/0x4000', target: 'DROP' } }]);
    expect(getNs(s, ns).rules[0]).toMatchObject({ notSrc: { addr: 0x0af40000, len: 16 }, mark: { value: 0x4000, mask: 0x4000 } });
    const t = applyActions(s, [{ op: 'chain.flush', ns, table: 'filter', chain: 'A' }, { op: 'chain.del', ns, table: 'filter', chain: 'A' }]);
    expect(getNs(t, ns).rules).toEqual([]);
    expect(getNs(t, ns).nfChains).toEqual([]);
  });
});

describe('ip route replace of an address\'s prefix route', () => {
  // node-a's eth0 is 192.168.1.11/24; 192.168.1.12 is node-b.
  const routes = (s: ClusterState): string[] => ipRoute(s, 'node/node-a').filter((l) => l.startsWith('10.99.0.0/24'));
  const withAddr = applyActions(start, [{ op: 'addr.add', ns: 'node/node-a', dev: 'eth0', addr: '10.99.0.5/24' }]);
  const replace = (metric?: number): Action => ({ op: 'route.replace', ns: 'node/node-a', dst: '10.99.0.0/24', via: '192.168.1.12', dev: 'eth0', ...(metric === undefined ? {} : { metric }) });

  it('takes its place (metric 0), the address stays, and deleting the route leaves the prefix without one', () => {
    expect(routes(withAddr)).toEqual(['10.99.0.0/24 dev eth0 proto kernel scope link src 10.99.0.5']);
    const replaced = applyActions(withAddr, [replace()]);
    expect(routes(replaced)).toEqual(['10.99.0.0/24 via 192.168.1.12 dev eth0']);
    const deleted = applyActions(replaced, [{ op: 'route.del', ns: 'node/node-a', dst: '10.99.0.0/24', via: '192.168.1.12', dev: 'eth0' }]);
    expect(routes(deleted)).toEqual([]);
    expect(getNs(deleted, 'node/node-a').links['eth0']!.addrs.filter((a) => a.len === 24)).toHaveLength(2);
  });

  it('of another metric is a second route; `ip route add` of the key is refused', () => {
    expect(routes(applyActions(withAddr, [replace(5)]))).toEqual(['10.99.0.0/24 dev eth0 proto kernel scope link src 10.99.0.5', '10.99.0.0/24 via 192.168.1.12 dev eth0 metric 5']);
    expect(outcome(() => applyActions(withAddr, [{ ...replace(), op: 'route.add' } as Action]))).toEqual({ code: 'ROUTE_EXISTS' });
  });
});

/**
 * What the kernel does with an address's prefix route when its device goes down and up, and with an address
 * added with `noprefixroute`: packages/cli/scripts/prefix-route-formats.sh, recorded on Linux 6.18 in
 * packages/cli/src/__fixtures__/prefix-route-formats.txt (the case letters are its sections). node-a stands
 * for the recording's namespace: d1 192.0.2.1/24, d2 203.0.113.1/24, d3 without an address, each a veth whose
 * other end is in node-b, and (as there) no default route.
 */
describe('prefix routes coming back when their device comes up, and noprefixroute (prefix-route-formats.txt)', () => {
  const A = 'node/node-a';
  const lab = applyActions(start, [
    { op: 'route.del', ns: A, dst: 'default' },
    ...(['1', '2', '3'] as const).map((n): Action => ({ op: 'link.add', ns: A, name: `d${n}`, kind: 'veth', up: true, peer: { ns: 'node/node-b', name: `e${n}`, up: true } })),
    { op: 'addr.add', ns: A, dev: 'd1', addr: '192.0.2.1/24' },
    { op: 'addr.add', ns: A, dev: 'd2', addr: '203.0.113.1/24' },
  ]);
  const run = (s: ClusterState, ...actions: Action[]): ClusterState => applyActions(s, actions);
  const downUp = (dev: string): Action[] => [{ op: 'link.set', ns: A, name: dev, up: false }, { op: 'link.set', ns: A, name: dev, up: true }];
  /** `ip route` of the recording's prefixes, in order. */
  const routes = (s: ClusterState): string[] => ipRoute(s, A).filter((l) => /^(192\.0\.2|198\.51\.100|10\.[789]\.)/.test(l));
  /** The route `ip route get` takes, as `ip route` prints it, or null (`Network is unreachable`). */
  const used = (s: ClusterState, ip: string): string | null => {
    const r = lookupRouteIn(s, getNs(s, A), parseIpv4(ip));
    return r === null ? null : formatRoute(s, getNs(s, A), r);
  };
  const K = '192.0.2.0/24 dev d1 proto kernel scope link src 192.0.2.1';
  const delK: Action = { op: 'route.del', ns: A, dst: '192.0.2.0/24', dev: 'd1' };

  it('(a) a deleted prefix route comes back when its device goes down and up', () => {
    const deleted = run(lab, delK);
    expect(routes(deleted)).toEqual([]);
    expect(used(deleted, '192.0.2.7')).toBeNull();
    const back = run(deleted, ...downUp('d1'));
    expect(routes(back)).toEqual([K]);
    expect(used(back, '192.0.2.7')).toBe(K);
    expect(getNs(back, A).links['d1']!.addrs[0]).toEqual({ ip: parseIpv4('192.0.2.1'), len: 24, scope: 'global' });
  });

  it('(a2) it comes back after a route of its prefix added meanwhile, which stays first and used', () => {
    const via = '192.0.2.0/24 via 203.0.113.9 dev d2';
    const s = run(lab, delK, { op: 'route.add', ns: A, dst: '192.0.2.0/24', via: '203.0.113.9', dev: 'd2' }, ...downUp('d1'));
    expect(routes(s)).toEqual([via, K]);
    expect(used(s, '192.0.2.7')).toBe(via);
    // `ip route del 192.0.2.0/24` takes the first.
    const t = run(s, { op: 'route.del', ns: A, dst: '192.0.2.0/24' });
    expect(routes(t)).toEqual([K]);
    expect(used(t, '192.0.2.7')).toBe(K);
  });

  it('(a3, e) another device going down and up, or d1 losing and regaining carrier, brings nothing back', () => {
    expect(routes(run(lab, delK, ...downUp('d2')))).toEqual([]);
    const lost = run(lab, delK, { op: 'link.set', ns: 'node/node-b', name: 'e1', up: false });
    expect(routes(lost)).toEqual([]);
    expect(routes(run(lost, { op: 'link.set', ns: 'node/node-b', name: 'e1', up: true }))).toEqual([]);
    // (e2) with the route there, carrier loss marks it linkdown and it stays used.
    const e2 = run(lab, { op: 'link.set', ns: 'node/node-b', name: 'e1', up: false });
    expect(routes(e2)).toEqual([`${K} linkdown`]);
    expect(used(e2, '192.0.2.7')).toBe(`${K} linkdown`);
  });

  it('(a5) the same prefix on d1 and d3: the one that came back last is listed last; the first is used, replaced and deleted', () => {
    const K3 = '192.0.2.0/24 dev d3 proto kernel scope link src 192.0.2.5';
    const both = run(lab, { op: 'addr.add', ns: A, dev: 'd3', addr: '192.0.2.5/24' });
    expect(routes(both)).toEqual([K, K3]);
    expect(used(both, '192.0.2.7')).toBe(K);
    const d1Again = run(both, ...downUp('d1'));
    expect(routes(d1Again)).toEqual([K3, K]);
    expect(used(d1Again, '192.0.2.7')).toBe(K3);
    const d3Again = run(d1Again, { op: 'route.del', ns: A, dst: '192.0.2.0/24', dev: 'd3' }, ...downUp('d3'));
    expect(routes(d3Again)).toEqual([K, K3]);
    expect(used(d3Again, '192.0.2.7')).toBe(K);
    // Not in the recording, the kernel's rule (fib_table_delete, fib_table_insert with NLM_F_REPLACE): a delete
    // without a device, or a replace, takes the first.
    expect(routes(run(d1Again, { op: 'route.del', ns: A, dst: '192.0.2.0/24' }))).toEqual([K]);
    expect(routes(run(d1Again, { op: 'route.replace', ns: A, dst: '192.0.2.0/24', via: '203.0.113.9', dev: 'd2' }))).toEqual(['192.0.2.0/24 via 203.0.113.9 dev d2', K]);
    // An address added to d1 while d3's is there comes after it too.
    const later = run(lab, { op: 'addr.del', ns: A, dev: 'd1', addr: '192.0.2.1/24' }, { op: 'addr.add', ns: A, dev: 'd3', addr: '192.0.2.5/24' }, { op: 'addr.add', ns: A, dev: 'd1', addr: '192.0.2.1/24' });
    expect(routes(later)).toEqual([K3, K]);
  });

  it('(a6) deleted, an address added while the device is down: both prefix routes on up', () => {
    const s = run(lab, delK, { op: 'link.set', ns: A, name: 'd1', up: false }, { op: 'addr.add', ns: A, dev: 'd1', addr: '10.7.0.1/16' }, { op: 'link.set', ns: A, name: 'd1', up: true });
    expect(routes(s)).toEqual(['10.7.0.0/16 dev d1 proto kernel scope link src 10.7.0.1', K]);
    expect(used(s, '10.7.0.7')).toBe('10.7.0.0/16 dev d1 proto kernel scope link src 10.7.0.1');
  });

  it('(b) replaced through d2 onlink: back after down/up, listed after the route that replaced it', () => {
    const via = '192.0.2.0/24 via 203.0.113.9 dev d2 onlink';
    const replaced = run(lab, { op: 'route.replace', ns: A, dst: '192.0.2.0/24', via: '203.0.113.9', dev: 'd2', onlink: true });
    expect(routes(replaced)).toEqual([via]);
    const back = run(replaced, ...downUp('d1'));
    expect(routes(back)).toEqual([via, K]);
    expect(used(back, '192.0.2.7')).toBe(via);
    expect(routes(run(back, { op: 'route.del', ns: A, dst: '192.0.2.0/24', via: '203.0.113.9' }))).toEqual([K]);
    // (b2) of metric 5 it was a second route all along.
    const b2 = run(lab, { op: 'route.replace', ns: A, dst: '192.0.2.0/24', via: '203.0.113.9', dev: 'd2', metric: 5 }, ...downUp('d1'));
    expect(routes(b2)).toEqual([K, '192.0.2.0/24 via 203.0.113.9 dev d2 metric 5']);
  });

  it('(c) an address with noprefixroute has none, also after down/up; its own address stays local', () => {
    const np: Action = { op: 'addr.add', ns: A, dev: 'd1', addr: '198.51.100.1/24', noprefixroute: true };
    const s = run(lab, np);
    expect(getNs(s, A).links['d1']!.addrs[1]).toEqual({ ip: parseIpv4('198.51.100.1'), len: 24, scope: 'global', noPrefixRoute: true, noprefixrouteFlag: true });
    expect(routes(s)).toEqual([K]);
    expect(used(s, '198.51.100.7')).toBeNull();
    expect(isLocalAddress(getNs(s, A), parseIpv4('198.51.100.1'))).toBe(true);
    const t = run(s, ...downUp('d1'));
    expect(routes(t)).toEqual([K]);
    expect(used(t, '198.51.100.7')).toBeNull();
    expect(getNs(t, A).links['d1']!.addrs[1]).toMatchObject({ noPrefixRoute: true, noprefixrouteFlag: true });
    // A route added by hand is an ordinary route: deleted once, the second delete finds none.
    const added = run(t, { op: 'route.add', ns: A, dst: '198.51.100.0/24', dev: 'd1' });
    expect(routes(added)).toEqual([K, '198.51.100.0/24 dev d1 scope link']);
    const gone = run(added, { op: 'route.del', ns: A, dst: '198.51.100.0/24', dev: 'd1' });
    expect(outcome(() => run(gone, { op: 'route.del', ns: A, dst: '198.51.100.0/24', dev: 'd1' }))).toEqual({ code: 'ROUTE_NOT_FOUND' });
    expect(outcome(() => run(gone, { op: 'addr.add', ns: A, dev: 'd1', addr: '198.51.100.1/24' }))).toEqual({ code: 'ADDRESS_EXISTS' });
    // A /32 and a link-scope address with the flag: none either.
    const more = run(gone, { op: 'addr.add', ns: A, dev: 'd1', addr: '198.51.100.9/32', noprefixroute: true }, { op: 'addr.add', ns: A, dev: 'd1', addr: '10.8.0.1/24', scope: 'link', noprefixroute: true });
    expect(routes(more)).toEqual([K]);
  });

  it('(c2) noprefixroute on a device that is down: none when it comes up, the other address gets its own', () => {
    const s = run(lab, { op: 'link.set', ns: A, name: 'd3', up: false }, { op: 'addr.add', ns: A, dev: 'd3', addr: '198.51.100.1/24', noprefixroute: true },
      { op: 'addr.add', ns: A, dev: 'd3', addr: '10.9.0.1/24' }, { op: 'link.set', ns: A, name: 'd3', up: true });
    expect(routes(s)).toEqual(['10.9.0.0/24 dev d3 proto kernel scope link src 10.9.0.1', K]);
    expect(used(s, '198.51.100.7')).toBeNull();
  });

  it('(c, d) the local table: the flagged address gets its local and broadcast routes; a deleted prefix route leaves it alone', () => {
    const local = (s: ClusterState): string[] => ipRoute(s, A, 255).filter((l) => !l.includes(' lo '));
    expect(local(run(lab, { op: 'addr.add', ns: A, dev: 'd1', addr: '198.51.100.1/24', noprefixroute: true }))).toContain('local 198.51.100.1 dev d1 proto kernel scope host src 198.51.100.1');
    expect(local(run(lab, { op: 'addr.add', ns: A, dev: 'd1', addr: '198.51.100.1/24', noprefixroute: true }))).toContain('broadcast 198.51.100.255 dev d1 proto kernel scope link src 198.51.100.1');
    expect(local(run(lab, delK))).toEqual(local(lab));
  });

  it('any sequence of deletes, replaces, down/up and carrier changes on d1 and d3 gives the `ip route` of the recording\'s rules', () => {
    // The rules, from the recording: of 192.0.2.0/24 the kernel holds routes in the order they came, the
    // prefix routes of d1 (K) and of d3 (K3, once 192.0.2.5/24 is added there) and one through d2 (V). A
    // prefix route goes when its device goes down and is appended when it comes up (whether or not it had
    // been deleted) or its address is added to it up; a delete takes K (`dev d1`), K3 (`dev d3`), V (`via`)
    // or the first (neither); `replace` (metric 0) replaces the first route of the prefix, `add` is refused
    // while there is one; carrier changes only mark K `linkdown`. The address with `noprefixroute` never has a route.
    const V = '192.0.2.0/24 via 203.0.113.9 dev d2 onlink';
    const spec = { ns: A, dst: '192.0.2.0/24', via: '203.0.113.9', dev: 'd2', onlink: true } as const;
    const ops = [
      { name: 'del K', action: delK },
      { name: 'replace V', action: { op: 'route.replace', ...spec } },
      { name: 'add V', action: { op: 'route.add', ...spec } },
      { name: 'del V', action: { op: 'route.del', ns: A, dst: '192.0.2.0/24', via: '203.0.113.9' } },
      { name: 'del first', action: { op: 'route.del', ns: A, dst: '192.0.2.0/24' } },
      { name: 'd1 down', action: { op: 'link.set', ns: A, name: 'd1', up: false } },
      { name: 'd1 up', action: { op: 'link.set', ns: A, name: 'd1', up: true } },
      { name: 'e1 down', action: { op: 'link.set', ns: 'node/node-b', name: 'e1', up: false } },
      { name: 'e1 up', action: { op: 'link.set', ns: 'node/node-b', name: 'e1', up: true } },
      { name: 'add noprefixroute', action: { op: 'addr.add', ns: A, dev: 'd1', addr: '198.51.100.1/24', noprefixroute: true } },
      { name: 'del noprefixroute', action: { op: 'addr.del', ns: A, dev: 'd1', addr: '198.51.100.1/24' } },
      { name: 'add d3 address', action: { op: 'addr.add', ns: A, dev: 'd3', addr: '192.0.2.5/24' } },
      { name: 'del d3 address', action: { op: 'addr.del', ns: A, dev: 'd3', addr: '192.0.2.5/24' } },
      { name: 'del K3', action: { op: 'route.del', ns: A, dst: '192.0.2.0/24', dev: 'd3' } },
      { name: 'd3 down', action: { op: 'link.set', ns: A, name: 'd3', up: false } },
      { name: 'd3 up', action: { op: 'link.set', ns: A, name: 'd3', up: true } },
    ] as const satisfies readonly { name: string; action: Action }[];
    const K3 = '192.0.2.0/24 dev d3 proto kernel scope link src 192.0.2.5';
    fc.assert(
      fc.property(fc.array(fc.nat({ max: ops.length - 1 }), { maxLength: 25 }), (picks) => {
        let s = lab;
        let list: ('K' | 'K3' | 'V')[] = ['K'];
        let d1 = true;
        let d3 = true;
        let a3 = false;
        let carrier = true;
        let npr = false;
        for (const p of picks) {
          const { name, action } = ops[p]!;
          // The reference: what the kernel answers (null: accepted) and the list after it.
          let refused: string | null = null;
          const drop = (x: 'K' | 'K3' | 'V'): void => { if (list.includes(x)) list = list.filter((y) => y !== x); else refused = 'ROUTE_NOT_FOUND'; };
          switch (name) {
            case 'del K': drop('K'); break;
            case 'del V': drop('V'); break;
            case 'del first': if (list.length === 0) refused = 'ROUTE_NOT_FOUND'; else list = list.slice(1); break;
            case 'replace V': if (list.length === 0) list = ['V']; else list = ['V', ...list.slice(1)]; break;
            case 'add V': if (list.length > 0) refused = 'ROUTE_EXISTS'; else list = ['V']; break;
            case 'd1 down': if (d1) list = list.filter((y) => y !== 'K'); d1 = false; break;
            case 'd1 up': if (!d1) list = [...list, 'K']; d1 = true; break;
            case 'e1 down': carrier = false; break;
            case 'e1 up': carrier = true; break;
            case 'add noprefixroute': if (npr) refused = 'ADDRESS_EXISTS'; npr = true; break;
            case 'del noprefixroute': if (!npr) refused = 'ADDRESS_NOT_FOUND'; npr = false; break;
            case 'add d3 address': if (a3) refused = 'ADDRESS_EXISTS'; else if (d3) list = [...list, 'K3']; a3 = true; break;
            case 'del d3 address': if (!a3) refused = 'ADDRESS_NOT_FOUND'; list = list.filter((y) => y !== 'K3'); a3 = false; break;
            case 'del K3': drop('K3'); break;
            case 'd3 down': if (d3) list = list.filter((y) => y !== 'K3'); d3 = false; break;
            case 'd3 up': if (!d3 && a3) list = [...list, 'K3']; d3 = true; break;
          }
          const r = outcome(() => run(s, action));
          if ('state' in r) s = r.state;
          expect('code' in r ? r.code : null, `${picks.map((i) => ops[i]!.name).join(', ')}`).toBe(refused);
          const lines = list.map((x) => (x === 'V' ? V : x === 'K3' ? K3 : `${K}${carrier ? '' : ' linkdown'}`));
          expect(routes(s), name).toEqual(lines);
          expect(used(s, '192.0.2.7')).toBe(lines[0] ?? null);
          expect(used(s, '198.51.100.7')).toBeNull();
        }
      }),
      { numRuns: 400, seed: 33 },
    );
  });

  it('(f) a route without a gateway takes its device\'s first address as source, one with a gateway the address of its subnet', () => {
    const s = run(lab, { op: 'addr.add', ns: A, dev: 'd1', addr: '10.2.0.1/24' }, { op: 'route.add', ns: A, dst: '10.2.0.128/25', dev: 'd1' },
      { op: 'route.add', ns: A, dst: '10.3.5.0/24', via: '10.2.0.9', dev: 'd1' }, { op: 'addr.add', ns: A, dev: 'd1', addr: '198.51.100.1/24', noprefixroute: true },
      { op: 'route.add', ns: A, dst: '198.51.100.0/24', dev: 'd1' });
    const src = (ip: string): string | null => {
      const r = lookupRouteIn(s, getNs(s, A), parseIpv4(ip))!;
      const x = selectSource(getNs(s, A), r, parseIpv4(ip));
      return x === null ? null : formatIpv4(x);
    };
    expect(src('10.2.0.130')).toBe('192.0.2.1');
    expect(src('10.2.0.7')).toBe('10.2.0.1');
    expect(src('10.3.5.7')).toBe('10.2.0.1');
    expect(src('198.51.100.7')).toBe('192.0.2.1');
    // MASQUERADE and an ARP request ask with the next hop (nf_nat_masquerade_ipv4, arp_solicit:
    // inet_select_addr(dev, next hop)), so the same gatewayless route gives them the address of its subnet.
    const byNexthop = (ip: string) => formatIpv4(selectSource(getNs(s, A), lookupRouteIn(s, getNs(s, A), parseIpv4(ip))!, parseIpv4(ip), 'nexthop')!);
    expect(byNexthop('10.2.0.130')).toBe('10.2.0.1');
    expect(byNexthop('10.3.5.7')).toBe('10.2.0.1');
  });

  it('addr.add refuses a noprefixroute or scope that is not one, leaving the state as it was', () => {
    expect(outcome(() => run(lab, { op: 'addr.add', ns: A, dev: 'd1', addr: '198.51.100.1/24', noprefixroute: 'yes' as unknown as boolean }))).toEqual({ code: 'INVALID_ARGUMENT' });
    expect(outcome(() => run(lab, { op: 'addr.add', ns: A, dev: 'd1', addr: '198.51.100.1/24', scope: 'site' as unknown as 'global' }))).toEqual({ code: 'INVALID_ARGUMENT' });
    expect(getNs(lab, A).links['d1']!.addrs).toHaveLength(1);
  });
});

describe('secondary addresses (secondary-addr-formats.txt): invariants over random address changes', () => {
  const A = 'node/node-a';
  const base = applyActions(start, [
    { op: 'link.add', ns: A, name: 'd1', kind: 'veth', up: true, peer: { ns: 'node/node-b', name: 'e1', up: true } },
  ]);
  // A small pool, so that prefixes are shared: 192.0.2.{1,5,6,9} with /24 or /25, 198.51.100.1/24.
  const addrArb = fc.constantFrom('192.0.2.1/24', '192.0.2.5/24', '192.0.2.6/24', '192.0.2.9/25', '192.0.2.100/25', '198.51.100.1/24', '198.51.100.7/24');
  const stepArb = fc.oneof(
    fc.record({ op: fc.constant('add' as const), addr: addrArb, scope: fc.constantFrom('global', 'global', 'link', 'host') as fc.Arbitrary<'global' | 'link' | 'host'> }),
    fc.record({ op: fc.constant('del' as const), addr: addrArb }),
    fc.record({ op: fc.constant('promote' as const), on: fc.boolean() }),
    fc.record({ op: fc.constant('bounce' as const) }),
  );
  const net = (ip: number, len: number): number => (len === 0 ? 0 : (ip & (0xffffffff << (32 - len))) >>> 0);

  it('every secondary follows a primary of its prefix, primaries come first, one prefix route per primary, never a secondary source; a delete takes only the address or (promote off) its secondaries', () => {
    fc.assert(fc.property(fc.array(stepArb, { maxLength: 14 }), (steps) => {
      let s = base;
      let promote = true;
      for (const st of steps) {
        const before = getNs(s, A).links['d1']!.addrs;
        let actions: Action[];
        if (st.op === 'add') actions = [{ op: 'addr.add', ns: A, dev: 'd1', addr: st.addr, scope: st.scope }];
        else if (st.op === 'del') actions = [{ op: 'addr.del', ns: A, dev: 'd1', addr: st.addr }];
        else if (st.op === 'promote') actions = [{ op: 'sysctl.set', ns: A, key: 'net.ipv4.conf.all.promote_secondaries', value: st.on ? 1 : 0 }];
        else actions = [{ op: 'link.set', ns: A, name: 'd1', up: false }, { op: 'link.set', ns: A, name: 'd1', up: true }];
        let next: ClusterState;
        try {
          next = applyActions(s, actions);
        } catch (e) {
          // Refused (already there, not there, another scope for a secondary): typed, nothing changed.
          expect(isPodnetError(e)).toBe(true);
          continue;
        }
        if (st.op === 'promote') promote = st.on;
        const after = getNs(next, A).links['d1']!.addrs;
        if (st.op === 'del') {
          const ip = parseIpv4(st.addr.split('/')[0]!);
          const del = before.find((x) => x.ip === ip)!;
          const kin = before.filter((x) => x !== del && x.secondary === true && del.secondary !== true && x.len === del.len && net(x.ip, x.len) === net(del.ip, del.len));
          const gone = promote ? [del.ip] : [del.ip, ...kin.map((x) => x.ip)];
          expect(after.map((x) => x.ip).sort()).toEqual(before.map((x) => x.ip).filter((x) => !gone.includes(x)).sort());
          // Promoted: the first of them, and only it.
          if (promote && kin.length > 0) expect(after.filter((x) => kin.some((k) => k.ip === x.ip) && x.secondary !== true).map((x) => x.ip)).toEqual([kin[0]!.ip]);
        }
        s = next;
        const firstSecondary = after.findIndex((x) => x.secondary === true);
        after.forEach((x, i) => {
          const prims = after.filter((y) => y.secondary !== true && y.len === x.len && net(y.ip, y.len) === net(x.ip, x.len));
          if (x.secondary === true) expect(prims.length).toBe(1);
          else {
            expect(prims).toEqual([x]);
            if (firstSecondary >= 0) expect(i).toBeLessThan(firstSecondary);
          }
        });
        const kernel = ipRoute(s, A).filter((l) => l.includes(' proto kernel ') && l.includes(' dev d1 '));
        expect(kernel).toHaveLength(after.filter((x) => x.secondary !== true && x.len < 32).length);
        for (const dst of ['192.0.2.7', '192.0.2.120', '198.51.100.9']) {
          const r = lookupRouteIn(s, getNs(s, A), parseIpv4(dst));
          const src = r === null ? null : selectSource(getNs(s, A), r, parseIpv4(dst));
          if (src !== null) expect(after.find((x) => x.ip === src)?.secondary).not.toBe(true);
        }
      }
    }), { numRuns: 300 });
  });
});
