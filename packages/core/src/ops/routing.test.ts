/**
 * The route lookup's memo (answers kept per compiled table, see ROUTE_MEMO_SIZE) against the lookup
 * compiled afresh (`fresh: true`, which uses no memo), on random tables: local routes and addresses, a
 * shared peer set included with or without a group match, hidden owners and a recursive gateway, policy
 * rules with a second table, and versions of the namespace and the peer sets that share objects (a link
 * going down, a peer entry added), asked in random order for more destinations than the memo holds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Cidr } from '../addr/ipv4.js';
import type { ClusterState, IfAddr, IpRule, Link, NetNs, PeerEntry, PeerSet, PeerSetRef, Route } from '../model/types.js';
import { produce } from '../util/immer.js';
import { emptyShards, shardDelete, shardSet, shardValues, type Shards } from '../util/shards.js';
import { exceptionKey, LPM_ROWS_MAX, lookupRouteFrom, lookupRouteIn, mergedLens, peerL2, ROUTE_MEMO_SIZE, type RouteSlot } from './routing.js';

const DEVS = ['eth0', 'd1', 'd2'] as const;
/** A small address space (10.0.0.0/14) so that random destinations meet random prefixes. */
const ip = (n: number) => (0x0a000000 + n) >>> 0;
const ipArb = fc.integer({ min: 0, max: 0x3ffff }).map(ip);
const prefixArb: fc.Arbitrary<Cidr> = fc.tuple(ipArb, fc.constantFrom(0, 8, 14, 16, 20, 24, 28, 32)).map(([a, len]) => ({ addr: len === 0 ? 0 : (a & (0xffffffff << (32 - len))) >>> 0, len }));

const routeArb: fc.Arbitrary<Route> = fc.record({
  dst: prefixArb,
  via: fc.option(ipArb, { nil: null }),
  dev: fc.constantFrom<string | null>(...DEVS, 'gone', null),
  scope: fc.constantFrom<Route['scope']>('global', 'link'),
  onlink: fc.boolean(),
  metric: fc.constantFrom(0, 0, 100),
  type: fc.constantFrom<Route['type']>('unicast', 'unicast', 'unicast', 'blackhole', 'unreachable'),
}).map((r) => ({ ...r, dev: r.type === 'unicast' ? r.dev ?? 'eth0' : null, proto: 'static', src: null }));

const addrArb: fc.Arbitrary<IfAddr> = fc.record({ ip: ipArb, len: fc.constantFrom(14, 16, 24, 28, 32), scope: fc.constantFrom<IfAddr['scope']>('global', 'global', 'link') });

const link = (name: string, up: boolean, addrs: readonly IfAddr[]): Link =>
  ({ kind: name === 'lo' ? 'loopback' : 'veth', name, ifindex: 1, mtu: 1500, mac: '02:00:00:00:00:01', up, addrs, master: null, peer: { ns: 'x', name: 'y' } }) as Link;

const entryArb: fc.Arbitrary<PeerEntry> = fc.record({
  owner: fc.constantFrom('n1', 'n2', 'n3', 'n4'),
  group: fc.option(fc.constantFrom('a', 'b'), { nil: undefined }),
  routes: fc.array(routeArb, { maxLength: 4 }),
}).map((e) => ({ ...e, neigh: [], fdb: [] }));

const refArb: fc.Arbitrary<PeerSetRef> = fc.record({
  self: fc.constantFrom('n1', 'n2'),
  hidden: fc.option(fc.subarray(['n2', 'n3', 'n4']), { nil: undefined }),
  group: fc.constantFrom('a', 'b'),
  match: fc.option(fc.constantFrom<'same' | 'other'>('same', 'other'), { nil: undefined }),
  via: fc.option(ipArb, { nil: undefined }),
}).map((r) => ({ ...r, set: 'ps' }));

function peerSet(entries: readonly PeerEntry[]): PeerSet {
  const s = emptyShards<PeerEntry>();
  entries.forEach((e, i) => shardSet(s, `${e.owner}-${i}`, e));
  return { name: 'ps', dev: 'd2', entries: s };
}

const stateOf = (set: PeerSet | null) => ({ peerSets: set === null ? {} : { ps: set } }) as unknown as ClusterState;

/** A host namespace with lo, the links drawn (name, up, addresses), these routes and the peer set attached (or none). */
function nsOf(linkSpecs: readonly (readonly [string, boolean, readonly IfAddr[]])[], routes: Route[], ref: PeerSetRef | null): NetNs {
  const links: Record<string, Link> = { lo: link('lo', true, [{ ip: 0x7f000001, len: 8, scope: 'host' }]) };
  for (const [name, up, addrs] of linkSpecs) links[name] = link(name, up, addrs);
  return {
    id: 'node/n1', links, routes, neigh: {}, fdb: {}, rules: [], nfChains: [], nfDropPolicy: [], conntrack: [], listening: [], pmtu: {}, redirectPeers: {}, icmpPeers: {}, nextIfindex: 10,
    sysctl: { ipForward: true, rpFilter: 0, proxyArp: {}, bridgeNfCallIptables: true },
    peerSets: ref === null ? [] : [ref],
  };
}

/** A destination: `random`, or an address `offset` into the prefix `pick` selects (any address when there is none). */
function destination(prefixes: readonly { addr: number }[], random: number | null, pick: number, offset: number): number {
  const near = prefixes[pick % Math.max(1, prefixes.length)];
  return random ?? (near === undefined ? ip(offset) : (near.addr + offset) >>> 0);
}

describe('route lookup memo', () => {
  it('answers what a lookup compiled afresh answers, over namespace and peer-set versions that share objects', () => {
    fc.assert(
      fc.property(
        fc.array(routeArb, { maxLength: 12 }),
        fc.array(fc.tuple(fc.constantFrom(...DEVS), fc.boolean(), fc.array(addrArb, { maxLength: 2 })), { maxLength: 4 }),
        fc.option(refArb, { nil: null }),
        fc.array(entryArb, { maxLength: 6 }),
        entryArb,
        fc.option(fc.tuple(prefixArb, fc.array(routeArb, { maxLength: 3 })), { nil: null }),
        // A destination is random, or in one of the prefixes (local, peer, the added entry's, the rule's).
        fc.array(fc.tuple(fc.nat(3), fc.option(ipArb, { nil: null }), fc.nat(), fc.nat(255), fc.option(ipArb, { nil: undefined })), { minLength: 1, maxLength: ROUTE_MEMO_SIZE + 50 }),
        (routes, linkSpecs, ref, entries, extra, policy, queries) => {
          const ipRules: IpRule[] | undefined = policy === null ? undefined : [{ priority: 100, from: policy[0], to: null, table: 100 }];
          const ns: NetNs = { ...nsOf(linkSpecs, routes, ref), ...(policy === null ? {} : { ipRules, tables: { 100: policy[1] } }) };
          const links = ns.links;
          // A second version of the namespace: the same routes and refs, eth0 toggled (new links object).
          const eth0 = links['eth0'] ?? link('eth0', false, []);
          const ns2: NetNs = { ...ns, links: { ...links, eth0: { ...eth0, up: !eth0.up } } };
          // Two versions of the peer sets: one more entry in the second.
          const s1 = stateOf(ref === null ? null : peerSet(entries));
          const s2 = stateOf(ref === null ? null : peerSet([...entries, extra]));
          const versions: [ClusterState, NetNs][] = [[s1, ns], [s2, ns], [s1, ns2], [s2, ns2]];
          // A caller's slot per namespace object (the engine keeps one in its view), shared by both peer-set versions.
          const slots = new Map<NetNs, RouteSlot>([[ns, { table: null }], [ns2, { table: null }]]);
          const prefixes = [...routes, ...entries.flatMap((e) => e.routes), ...extra.routes, ...(policy?.[1] ?? [])].map((r) => r.dst);
          if (policy !== null) prefixes.push(policy[0]);
          for (const [v, random, pick, offset, src] of queries) {
            const dst = destination(prefixes, random, pick, offset);
            // The same destination in every version, starting with a random one, so that each finds
            // the memo warmed by others that share its objects.
            for (let k = 0; k < versions.length; k++) {
              const [state, n] = versions[(v + k) % versions.length]!;
              const opts = src === undefined ? {} : { src };
              const got = lookupRouteIn(state, n, dst, opts);
              const want = lookupRouteIn(state, n, dst, { ...opts, fresh: true });
              expect(got).toEqual(want);
              // By source, through the namespace's slot: what lookupRouteIn answers with { src }.
              expect(lookupRouteFrom(state, n, dst, src ?? 0, slots.get(n))).toEqual(want);
            }
          }
        },
      ),
      { numRuns: 60, seed: 20261126 },
    );
  });

  it('a small table (its list of routes, no memo) answers what the same routes compiled into maps answer', () => {
    // Padding of prefixes outside the queried space (192.168/16, while every destination, gateway and
    // address is in 10.0.0.0/14) turns the same table into maps: it can change no answer, so any
    // difference is the small form's.
    const padding: Route[] = Array.from({ length: LPM_ROWS_MAX + 1 }, (_, i) => ({
      dst: { addr: (0xc0a80000 + (i << 8)) >>> 0, len: 24 }, via: null, dev: 'eth0', proto: 'static', scope: 'link', src: null, onlink: false, metric: 0, type: 'unicast',
    }));
    fc.assert(
      fc.property(
        fc.array(routeArb, { maxLength: 4 }),
        fc.array(fc.tuple(fc.constantFrom(...DEVS), fc.boolean(), fc.array(addrArb, { maxLength: 2 })), { maxLength: 2 }),
        fc.option(refArb, { nil: null }),
        fc.array(entryArb, { maxLength: 4 }),
        fc.array(fc.tuple(fc.option(ipArb, { nil: null }), fc.nat(), fc.nat(255), fc.option(ipArb, { nil: undefined })), { minLength: 1, maxLength: 40 }),
        (routes, linkSpecs, ref, entries, queries) => {
          const small = nsOf(linkSpecs, routes, ref);
          const large: NetNs = { ...small, links: { ...small.links }, routes: [...routes, ...padding] };
          const state = stateOf(ref === null ? null : peerSet(entries));
          const prefixes = [...routes, ...entries.flatMap((e) => e.routes)].map((r) => r.dst);
          for (const [random, pick, offset, src] of queries) {
            const dst = destination(prefixes, random, pick, offset);
            const opts = src === undefined ? {} : { src };
            expect(lookupRouteIn(state, small, dst, opts)).toEqual(lookupRouteIn(state, large, dst, opts));
            expect(lookupRouteIn(state, small, dst, { ...opts, linkScopeOnly: true })).toEqual(lookupRouteIn(state, large, dst, { ...opts, linkScopeOnly: true }));
          }
        },
      ),
      { numRuns: 200, seed: 20261126 },
    );
  });
});

describe('route lookup through a caller\'s slot', () => {
  it('follows the peer sets: a slot filled under one version of them does not answer for another', () => {
    const up: readonly IfAddr[] = [{ ip: ip(1), len: 24, scope: 'global' }];
    const ref: PeerSetRef = { set: 'ps', self: 'n1' };
    const route: Route = { dst: { addr: ip(0x10000), len: 16 }, via: null, dev: 'eth0', proto: 'static', scope: 'link', src: null, onlink: false, metric: 0, type: 'unicast' };
    const ns = nsOf([['eth0', true, up]], [], ref);
    const without = stateOf(peerSet([]));
    const withRoute = stateOf(peerSet([{ owner: 'n2', routes: [route], neigh: [], fdb: [] }]));
    const slot: RouteSlot = { table: null };
    const dst = ip(0x10005);
    expect(lookupRouteFrom(without, ns, dst, 0, slot)).toBeNull();
    expect(lookupRouteFrom(withRoute, ns, dst, 0, slot)).toEqual(route);
    expect(lookupRouteFrom(without, ns, dst, 0, slot)).toBeNull();
  });
});

describe('prefix lengths of a table', () => {
  it('merges tables\' lengths as a Set of them sorted longest first does, into one shared list per set', () => {
    const lens = fc.array(fc.uniqueArray(fc.integer({ min: 0, max: 32 }), { maxLength: 33 }), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(lens, (lists) => {
        const merged = mergedLens(lists);
        expect(merged).toEqual([...new Set(lists.flat())].sort((a, b) => b - a));
        // Another tables' lists with the same lengths (reversed) share the list.
        expect(mergedLens([lists.flat().reverse()])).toBe(merged);
        expect(Object.isFrozen(merged)).toBe(true);
      }),
      { numRuns: 300, seed: 20261126 },
    );
  });
});

describe('a large peer set\'s index handed on from an earlier version', () => {
  /** A flannel-like entry of owner `n<i>`: a /24 route, a neighbour and an FDB entry, drawn from small spaces so that some entries share keys. */
  const bigEntryArb = (owners: number): fc.Arbitrary<PeerEntry> => fc.record({
    i: fc.nat(owners - 1),
    net: fc.nat(owners * 600),
    len: fc.constantFrom(24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 16),
    mac: fc.nat(owners * 600),
    dst: fc.nat(owners * 2),
    group: fc.option(fc.constantFrom('a', 'b'), { nil: undefined }),
  }).map(({ i, net, len, mac, dst, group }) => {
    const addr = len === 24 ? ip(net << 8) : ip(i << 16);
    const m = `02:00:00:${(mac >> 16).toString(16).padStart(2, '0')}:${((mac >> 8) & 255).toString(16).padStart(2, '0')}:${(mac & 255).toString(16).padStart(2, '0')}`;
    const route: Route = { dst: { addr, len }, via: addr, dev: 'd2', proto: 'boot', scope: 'global', src: null, onlink: true, metric: 0, type: 'unicast' };
    return { owner: `n${i}`, group, routes: [route], neigh: [{ ip: addr, mac: m }], fdb: [{ mac: m, dst: ip(0x30000 + dst) }] };
  });

  it('answers route, neighbour and FDB lookups as the index made afresh of the same entries', () => {
    const owners = 100;
    fc.assert(
      fc.property(
        fc.uniqueArray(bigEntryArb(owners), { selector: (e) => e.owner, minLength: 70, maxLength: 100 }),
        // Changes: an owner's entry replaced (or added), or deleted.
        fc.array(fc.tuple(fc.boolean(), bigEntryArb(owners)), { maxLength: 30 }),
        fc.array(fc.tuple(fc.nat(owners * 600), fc.nat(255)), { minLength: 1, maxLength: 40 }),
        (first, changes, queries) => {
          const base = produce(emptyShards<PeerEntry>(), (d) => { for (const e of first) shardSet(d as Shards<PeerEntry>, e.owner, e); });
          const next = produce(base, (d) => {
            for (const [del, e] of changes) if (del) shardDelete(d as Shards<PeerEntry>, e.owner); else shardSet(d as Shards<PeerEntry>, e.owner, e);
          });
          const name = `handed-${handedRuns++}`;
          const before = peerL2({ name, dev: 'd2', entries: base });
          const got = peerL2({ name, dev: 'd2', entries: next });
          // The same entries in objects of their own, under a name no index was made of: made afresh.
          const copy = produce(emptyShards<PeerEntry>(), (d) => { for (const e of shardValues(next)) shardSet(d as Shards<PeerEntry>, e.owner, e); });
          const want = peerL2({ name: `${name}-afresh`, dev: 'd2', entries: copy });
          expect(before.entries).toBe(base);
          expect(got.size).toBe(want.size);
          expect(got.routes).toBe(want.routes);
          expect(got.plain).toBe(want.plain);
          expect(got.lpm).toEqual(want.lpm);
          expect(got.neigh).toEqual(want.neigh);
          expect(got.fdb).toEqual(want.fdb);
          // The route answers too (a host including the set): what a lookup compiled afresh answers.
          const ns = nsOf([['d2', true, [{ ip: ip(0x30001), len: 14, scope: 'global' }]]], [], { set: 'ps', self: 'n0' });
          const state = stateOf({ name: 'ps', dev: 'd2', entries: next });
          for (const [net, host] of queries) {
            const dst = (ip(net << 8) + (host & 255)) >>> 0;
            expect(lookupRouteIn(state, ns, dst)).toEqual(lookupRouteIn(state, ns, dst, { fresh: true }));
            expect(got.neigh.get(dst)).toEqual(want.neigh.get(dst));
          }
        },
      ),
      { numRuns: 150, seed: 20261128 },
    );
  });
});
let handedRuns = 0;

describe('exceptionKey', () => {
  it('joins the destination and the next hop, as its @example says; one destination, two next hops, two keys', () => {
    const nh = 'unicast 167772417 d1 0 boot global - - -';
    expect(exceptionKey(167837701, nh)).toBe('167837701|unicast 167772417 d1 0 boot global - - -');
    expect(exceptionKey(167837701, nh)).not.toBe(exceptionKey(167837701, 'unicast 167772673 d2 0 boot global - - -'));
  });
});
