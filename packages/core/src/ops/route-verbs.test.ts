/**
 * The RTM_NEWROUTE verbs besides add and replace (route.append, route.prepend, route.change) and the flush
 * actions (route.flush, addr.flush, neigh.flush), with addr.replace and addr.change: their typed errors, that
 * a refused list changes nothing, and the orders the kernel keeps (measured in
 * packages/cli/scripts/route-verbs-formats.sh; the lab shell replays it in packages/cli/src/route-verbs.test.ts).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIpv4 } from '../addr/ipv4.js';
import { bare } from '../cni/testing/bare.js';
import { isPodnetError } from '../errors.js';
import { addNodeState, createClusterState } from '../model/cluster.js';
import { getNs } from '../model/lookup.js';
import type { ClusterState } from '../model/types.js';
import { ipRoute } from '../query/render.js';
import { applyActions, type Action } from './actions.js';
import { describeAction } from './describe.js';
import { addrsToFlush, neighsToFlush, selectRoutes } from './flush.js';
import { lookupRouteIn } from './routing.js';

const NS = 'node/node-a';
/** node-a: eth0 192.168.1.11/24, default via 192.168.1.1. */
const start: ClusterState = addNodeState(createClusterState({ podCidr: '10.244.0.0/16' }, bare), { name: 'node-a' }, bare).state;

function code(f: () => unknown): string | null {
  try { f(); return null; } catch (e) { if (!isPodnetError(e)) throw e; return e.code; }
}
function routes(s: ClusterState): string[] {
  return ipRoute(s, NS);
}
function via(s: ClusterState, dst: string): string | null {
  const r = lookupRouteIn(s, getNs(s, NS), parseIpv4(dst));
  return r === null ? null : `${r.via === null ? '-' : r.via} ${r.dev ?? '-'}`;
}

describe('route.append, route.prepend, route.change', () => {
  const two = applyActions(start, [
    { op: 'route.add', ns: NS, dst: '172.20.0.0/16', via: '192.168.1.12' },
    { op: 'route.append', ns: NS, dst: '172.20.0.0/16', via: '192.168.1.13' },
  ]);
  it('append lists the second after the first; lookups take the first', () => {
    expect(routes(two).filter((l) => l.startsWith('172.20.'))).toEqual(['172.20.0.0/16 via 192.168.1.12 dev eth0', '172.20.0.0/16 via 192.168.1.13 dev eth0']);
    expect(via(two, '172.20.0.1')).toBe(`${parseIpv4('192.168.1.12')} eth0`);
  });
  it('prepend lists it before the first, and lookups take it', () => {
    const s = applyActions(two, [{ op: 'route.prepend', ns: NS, dst: '172.20.0.0/16', via: '192.168.1.14' }]);
    expect(routes(s).filter((l) => l.startsWith('172.20.'))[0]).toBe('172.20.0.0/16 via 192.168.1.14 dev eth0');
    expect(via(s, '172.20.0.1')).toBe(`${parseIpv4('192.168.1.14')} eth0`);
  });
  it('a route the same in every field is refused (ROUTE_EXISTS) by append and prepend, and by change unless it is the first', () => {
    expect(code(() => applyActions(two, [{ op: 'route.append', ns: NS, dst: '172.20.0.0/16', via: '192.168.1.12' }]))).toBe('ROUTE_EXISTS');
    expect(code(() => applyActions(two, [{ op: 'route.prepend', ns: NS, dst: '172.20.0.0/16', via: '192.168.1.13' }]))).toBe('ROUTE_EXISTS');
    expect(code(() => applyActions(two, [{ op: 'route.change', ns: NS, dst: '172.20.0.0/16', via: '192.168.1.13' }]))).toBe('ROUTE_EXISTS');
    expect(code(() => applyActions(two, [{ op: 'route.replace', ns: NS, dst: '172.20.0.0/16', via: '192.168.1.13' }]))).toBe('ROUTE_EXISTS');
    expect(applyActions(two, [{ op: 'route.change', ns: NS, dst: '172.20.0.0/16', via: '192.168.1.12' }])).toEqual(two);
  });
  it('change replaces the first; without a route of the prefix and metric it is ROUTE_NOT_FOUND with the kernel\'s words', () => {
    const s = applyActions(two, [{ op: 'route.change', ns: NS, dst: '172.20.0.0/16', via: '192.168.1.14' }]);
    expect(routes(s).filter((l) => l.startsWith('172.20.'))).toEqual(['172.20.0.0/16 via 192.168.1.14 dev eth0', '172.20.0.0/16 via 192.168.1.13 dev eth0']);
    try {
      applyActions(two, [{ op: 'route.change', ns: NS, dst: '172.20.0.0/16', via: '192.168.1.14', metric: 7 }]);
      expect.unreachable();
    } catch (e) {
      expect(isPodnetError(e, 'ROUTE_NOT_FOUND')).toBe(true);
      expect((e as Error).message).toMatch(/^RTNETLINK answers: No such file or directory \(/);
      expect((e as { hint: string }).hint).toContain('ip route');
    }
  });
  it('a refused list leaves the state as it was (the first action of it too)', () => {
    expect(code(() => applyActions(two, [
      { op: 'route.append', ns: NS, dst: '172.21.0.0/16', via: '192.168.1.12' },
      { op: 'route.change', ns: NS, dst: '172.22.0.0/16', via: '192.168.1.12' },
    ]))).toBe('ROUTE_NOT_FOUND');
    expect(routes(two)).toEqual(routes(applyActions(start, [
      { op: 'route.add', ns: NS, dst: '172.20.0.0/16', via: '192.168.1.12' },
      { op: 'route.append', ns: NS, dst: '172.20.0.0/16', via: '192.168.1.13' },
    ])));
  });
  it('append after a prefix route: listed and used after it; del takes the prefix route, then the appended one is first', () => {
    const s = applyActions(start, [{ op: 'route.append', ns: NS, dst: '192.168.1.0/24', via: '192.168.1.1', dev: 'eth0', onlink: true }]);
    expect(routes(s).filter((l) => l.startsWith('192.168.1.0/24'))).toEqual(['192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.11', '192.168.1.0/24 via 192.168.1.1 dev eth0 onlink']);
    expect(via(s, '192.168.1.50')).toBe('- eth0');
    const d = applyActions(s, [{ op: 'route.del', ns: NS, dst: '192.168.1.0/24' }]);
    expect(routes(d).filter((l) => l.startsWith('192.168.1.0/24'))).toEqual(['192.168.1.0/24 via 192.168.1.1 dev eth0 onlink']);
    expect(getNs(d, NS).routes.find((r) => r.dst.len === 24)!.afterPrefixRoute).toBeUndefined();
  });
  it('a route appended after a prefix route comes before it once its device went down and up (docs/kernel-oracle.md)', () => {
    // Measured (kernel 6.18): `via .9` added before the address, `append … via .10` after it: `via .9`, the
    // prefix route, `via .10`; after d1 down/up: `via .9`, `via .10`, the prefix route (fib_magic appends).
    const s0 = applyActions(start, [
      { op: 'link.add', ns: NS, name: 'd1', kind: 'bridge', up: true },
      { op: 'route.add', ns: NS, dst: '192.0.2.0/24', via: '192.168.1.9' },
      { op: 'addr.add', ns: NS, dev: 'd1', addr: '192.0.2.1/24' },
      { op: 'route.append', ns: NS, dst: '192.0.2.0/24', via: '192.168.1.10' },
    ]);
    const of = (s: ClusterState): string[] => routes(s).filter((l) => l.startsWith('192.0.2.0/24'));
    expect(of(s0)).toEqual(['192.0.2.0/24 via 192.168.1.9 dev eth0', '192.0.2.0/24 dev d1 proto kernel scope link src 192.0.2.1', '192.0.2.0/24 via 192.168.1.10 dev eth0']);
    const s1 = applyActions(s0, [{ op: 'link.set', ns: NS, name: 'd1', up: false }, { op: 'link.set', ns: NS, name: 'd1', up: true }]);
    expect(of(s1)).toEqual(['192.0.2.0/24 via 192.168.1.9 dev eth0', '192.0.2.0/24 via 192.168.1.10 dev eth0', '192.0.2.0/24 dev d1 proto kernel scope link src 192.0.2.1']);
  });
  it('is described as the ip route command that does it', () => {
    expect(describeAction({ op: 'route.append', ns: NS, dst: '172.20.0.0/16', via: '192.168.1.13' })[0]!.command).toBe('ip route append 172.20.0.0/16 via 192.168.1.13');
    expect(describeAction({ op: 'route.flush', ns: NS, dev: 'eth0', table: 100 })[0]!.command).toBe('ip route flush dev eth0 table 100');
    expect(describeAction({ op: 'neigh.flush', ns: NS, dev: 'eth0', nud: ['permanent'] })[0]!.command).toBe('ip neigh flush dev eth0 nud permanent');
    expect(describeAction({ op: 'addr.flush', ns: NS, dev: 'eth0', secondary: true })[0]!.command).toBe('ip addr flush dev eth0 secondary');
  });
  it('property: a sequence of appends and prepends, then deleting each added route by its gateway, gives back the table', () => {
    const gws = ['192.168.1.12', '192.168.1.13', '192.168.1.14', '192.168.1.15'];
    fc.assert(fc.property(fc.uniqueArray(fc.constantFrom(...gws), { minLength: 1, maxLength: 4 }), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), (order, prepend) => {
      const added = order.map((g, k): Action => ({ op: prepend[k] ? 'route.prepend' : 'route.append', ns: NS, dst: '172.20.0.0/16', via: g }));
      const s = applyActions(start, added);
      // The first listed is the one lookups use.
      const first = routes(s).find((l) => l.startsWith('172.20.'))!;
      expect(via(s, '172.20.0.1')).toBe(`${parseIpv4(/via (\S+)/.exec(first)![1]!)} eth0`);
      const back = applyActions(s, order.map((g): Action => ({ op: 'route.del', ns: NS, dst: '172.20.0.0/16', via: g })));
      expect(routes(back)).toEqual(routes(start));
    }), { numRuns: 60 });
  });
});

describe('route.flush, addr.flush, neigh.flush: selections and errors', () => {
  it('route.flush refuses the local table, an unknown table, device, type and a bad prefix, with typed errors', () => {
    expect(code(() => applyActions(start, [{ op: 'route.flush', ns: NS, table: 255 }]))).toBe('INVALID_ARGUMENT');
    expect(code(() => applyActions(start, [{ op: 'route.flush', ns: NS, table: 101 }]))).toBe('TABLE_NOT_FOUND');
    expect(code(() => applyActions(start, [{ op: 'route.flush', ns: NS, dev: 'nope' }]))).toBe('LINK_NOT_FOUND');
    expect(code(() => applyActions(start, [{ op: 'route.flush', ns: NS, type: 'local' } as unknown as Action]))).toBe('INVALID_ARGUMENT');
    expect(code(() => applyActions(start, [{ op: 'route.flush', ns: NS, root: '10.0.0.1/8' }]))).toBe('INVALID_CIDR');
    expect(code(() => applyActions(start, [{ op: 'route.flush', ns: 'node/nope', dev: 'eth0' }]))).toBe('NAMESPACE_NOT_FOUND');
  });
  it('route.flush root, match and exact select as iproute2\'s filter does', () => {
    const s = applyActions(start, [
      { op: 'route.add', ns: NS, dst: '172.20.0.0/16', via: '192.168.1.12' },
      { op: 'route.add', ns: NS, dst: '172.20.1.0/24', via: '192.168.1.12' },
    ]);
    const dsts = (sel: Parameters<typeof selectRoutes>[2]): string[] => selectRoutes(s, getNs(s, NS), sel).map((r) => `${r.dst.len}`);
    expect(dsts({ root: '172.20.0.0/16' })).toEqual(['16', '24']);
    expect(dsts({ match: '172.20.1.0/24' })).toEqual(['0', '16', '24']);
    expect(dsts({ exact: '172.20.0.0/16' })).toEqual(['16']);
    expect(dsts({ dev: 'eth0', proto: 'kernel' })).toEqual(['24']);
    const after = applyActions(s, [{ op: 'route.flush', ns: NS, root: '172.20.0.0/16' }]);
    expect(routes(after)).toEqual(routes(start));
  });
  it('route.flush of a prefix route keeps the address; nothing to flush changes nothing', () => {
    const s = applyActions(start, [{ op: 'route.flush', ns: NS, proto: 'kernel' }]);
    expect(routes(s)).toEqual(['default via 192.168.1.1 dev eth0']);
    expect(getNs(s, NS).links['eth0']!.addrs.map((a) => a.ip)).toEqual([parseIpv4('192.168.1.11')]);
    expect(applyActions(s, [{ op: 'route.flush', ns: NS, proto: 'kernel' }])).toEqual(s);
  });
  it('addr.flush and neigh.flush refuse what is not there, with typed errors', () => {
    expect(code(() => applyActions(start, [{ op: 'addr.flush', ns: NS, dev: 'nope' }]))).toBe('LINK_NOT_FOUND');
    expect(code(() => applyActions(start, [{ op: 'addr.flush', ns: NS, dev: 'eth0', scope: 'site' } as unknown as Action]))).toBe('INVALID_ARGUMENT');
    expect(code(() => applyActions(start, [{ op: 'addr.flush', ns: NS, dev: 'eth0', to: 'x' }]))).toBe('INVALID_CIDR');
    expect(code(() => applyActions(start, [{ op: 'neigh.flush', ns: NS, dev: 'nope' }]))).toBe('LINK_NOT_FOUND');
    expect(code(() => applyActions(start, [{ op: 'neigh.flush', ns: NS, nud: ['noarp'] } as unknown as Action]))).toBe('INVALID_ARGUMENT');
  });
  it('addr.flush takes the routes through the device with its last address; neigh.flush keeps permanent entries unless asked', () => {
    const s = applyActions(start, [
      { op: 'route.add', ns: NS, dst: '172.20.0.0/16', dev: 'eth0', scope: 'host' },
      { op: 'neigh.add', ns: NS, dev: 'eth0', ip: '192.168.1.40', mac: '02:00:00:00:00:40' },
    ]);
    expect(neighsToFlush(s, getNs(s, NS), { dev: 'eth0' })).toEqual([]);
    expect(neighsToFlush(s, getNs(s, NS), { dev: 'eth0', nud: ['permanent'] }).map((n) => n.ip)).toEqual([parseIpv4('192.168.1.40')]);
    expect(addrsToFlush(getNs(s, NS), { dev: 'eth0' }).length).toBe(1);
    const f = applyActions(s, [{ op: 'addr.flush', ns: NS, dev: 'eth0' }]);
    expect(routes(f)).toEqual([]);
    expect(getNs(f, NS).neigh).toEqual({});
  });
  it('fdb.flush refuses a device with no FDB to flush, a master flush off a port and a bad state, with typed errors', () => {
    expect(code(() => applyActions(start, [{ op: 'fdb.flush', ns: NS, dev: 'eth0' }]))).toBe('INVALID_ARGUMENT');
    expect(code(() => applyActions(start, [{ op: 'fdb.flush', ns: NS, dev: 'eth0', master: true }]))).toBe('INVALID_ARGUMENT');
    expect(code(() => applyActions(start, [{ op: 'fdb.flush', ns: NS, dev: 'nope' }]))).toBe('LINK_NOT_FOUND');
    const br = applyActions(start, [{ op: 'link.add', ns: NS, name: 'br0', kind: 'bridge', up: true }]);
    expect(code(() => applyActions(br, [{ op: 'fdb.flush', ns: NS, dev: 'br0', states: ['noarp'] } as unknown as Action]))).toBe('INVALID_ARGUMENT');
    // The bridge's own MAC is an entry of its FDB (local): a flush takes it, `nopermanent` keeps it.
    expect(applyActions(br, [{ op: 'fdb.flush', ns: NS, dev: 'br0', states: ['nopermanent'] }])).toEqual(br);
    expect(Object.values(getNs(applyActions(br, [{ op: 'fdb.flush', ns: NS, dev: 'br0' }]), NS).fdb).filter((e) => e.dev === 'br0')).toEqual([]);
  });
  it('addr.replace of an address that is there changes nothing; of one that is not, adds it', () => {
    expect(applyActions(start, [{ op: 'addr.replace', ns: NS, dev: 'eth0', addr: '192.168.1.11/24', scope: 'link', noprefixroute: true }])).toEqual(start);
    const s = applyActions(start, [{ op: 'addr.change', ns: NS, dev: 'eth0', addr: '192.168.1.50/24' }]);
    expect(getNs(s, NS).links['eth0']!.addrs.map((a) => [a.ip, a.secondary === true])).toEqual([[parseIpv4('192.168.1.11'), false], [parseIpv4('192.168.1.50'), true]]);
    expect(code(() => applyActions(start, [{ op: 'addr.replace', ns: NS, dev: 'eth0', addr: '192.168.1.11/24', scope: 'site' } as unknown as Action]))).toBe('INVALID_ARGUMENT');
    expect(code(() => applyActions(start, [{ op: 'addr.replace', ns: NS, dev: 'nope', addr: '192.168.1.11/24' }]))).toBe('LINK_NOT_FOUND');
  });
});

describe("a gateway checked on the route's own device (flowi4_oif)", () => {
  it('replays gateway-oif.txt: the prefix\'s first route through another device does not hide the given one', () => {
    // packages/cli/scripts/gateway-oif.sh (kernel 6.18): found by the oracle (seed 3002, faulted #53 of bridge,
    // flannel-host-gw, broken-missing-routes), where podnet refused the second of two prepends to node-1's
    // 192.168.1.0/24 with `Nexthop has invalid gateway`.
    const text = readFileSync(fileURLToPath(new URL('../../../cli/src/__fixtures__/gateway-oif.txt', import.meta.url)), 'utf8');
    const steps = text.split('\n== ').slice(1).map((b) => { const [cmd, ...out] = b.split('\n'); return { cmd: cmd!, out: out.filter((l) => l !== '' && !l.startsWith('rc=')), rc: Number(/rc=(\d+)/.exec(b)![1]) }; });
    let s = applyActions(start, [
      { op: 'link.add', ns: NS, name: 'd1', kind: 'veth', up: true, peer: { ns: NS, name: 'e1' } },
      { op: 'link.add', ns: NS, name: 'd2', kind: 'veth', up: true, peer: { ns: NS, name: 'e2' } },
      { op: 'link.set', ns: NS, name: 'e1', up: true },
      { op: 'link.set', ns: NS, name: 'e2', up: true },
      { op: 'addr.add', ns: NS, dev: 'd1', addr: '10.0.0.1/24' },
    ]);
    const own = (rs: string[]) => rs.filter((l) => / dev d[12]\b/.test(l)).map((l) => l.trim());
    for (const { cmd, out, rc } of steps) {
      if (cmd === 'route show') { expect(own(routes(s)), cmd).toEqual(out.map((l) => l.trim())); continue; }
      const w = cmd.split(' ');
      const spec = { dst: w[2]!, ...(w.includes('via') ? { via: w[w.indexOf('via') + 1]! } : {}), ...(w.includes('dev') ? { dev: w[w.indexOf('dev') + 1]! } : {}) };
      const a = { op: w[1] === 'prepend' ? 'route.prepend' : 'route.add', ns: NS, ...spec } as Action;
      expect(describeAction(a)[0]!.command, cmd).toBe(`ip ${cmd}`);
      expect(code(() => { s = applyActions(s, [a]); }), cmd).toBe(rc === 0 ? null : 'ROUTE_EXISTS');
    }
  });
});
