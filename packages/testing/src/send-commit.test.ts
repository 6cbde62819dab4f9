/**
 * What a packet teaches (ARP and FDB entries, conntrack, path MTU exceptions) is committed into a new state
 * that gives each table it learned into as a new value, the table as it was plus the learned
 * entries (conntrack's: its live entries, refreshed in place, then the new flows' entries; dataplane/engine.ts
 * `commit`), rather than writing them one by one into a draft of the table.
 * Held here to that reference on generated sequences with packets and faults (MTU changes make path MTU
 * exceptions, the masquerading design conntrack entries): the reference takes the state before a send,
 * drafts the namespaces the send changed and writes, entry by entry, what differs after it — the same
 * state must come out, with the same key order in every table and namespace, and every namespace the send left alone
 * must be the very object it was (structural sharing).
 */
import { broken, calico, cilium, flannel } from '@podnet/cni';
import { shardValues, type ClusterState, type CniDesign, type NetNs, type Node } from '@podnet/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clusterEventArb, clusterShapeArb, eventArbs } from './events.js';
import { ClusterRun, DesignFailure } from './runner.js';

/** Every namespace of a state by id: the underlay router, each node's host, each running pod's. */
function namespaces(s: ClusterState): Map<string, NetNs> {
  const out = new Map<string, NetNs>([[s.underlay.router.id, s.underlay.router]]);
  for (const n of shardValues(s.nodes)) {
    out.set(n.host.id, n.host);
    for (const k in n.pods) {
      const ns = n.pods[k]!.netns;
      if (ns) out.set(ns.id, ns);
    }
  }
  return out;
}

/** Where a namespace sits in a state: the keys from the root down to it (shard levels included). */
function pathOf(s: ClusterState, id: string): (string | number)[] | null {
  if (s.underlay.router.id === id) return ['underlay', 'router'];
  // A shard leaf is `[tag, name, node, …]` (core's util/shards.ts): a node sits at its name's position + 1.
  const tops = s.nodes as unknown as readonly (readonly (readonly (number | string | Node)[] | null)[] | null)[];
  for (let t = 0; t < tops.length; t++) {
    const top = tops[t];
    if (!top) continue;
    for (let j = 0; j < top.length; j++) {
      const leaf = top[j];
      if (!leaf) continue;
      for (let i = 2; i < leaf.length; i += 3) {
        const n = leaf[i] as Node;
        if (n.host.id === id) return ['nodes', t, j, i, 'host'];
        for (const k of Object.keys(n.pods)) if (n.pods[k]!.netns?.id === id) return ['nodes', t, j, i, 'pods', k, 'netns'];
      }
    }
  }
  return null;
}

/** A shallow copy that keeps what the value is (an array, a dictionary without prototype, an object). */
function copy<T>(x: T): T {
  if (Array.isArray(x)) return x.slice() as T;
  return Object.assign(Object.create(Object.getPrototypeOf(x) as object | null) as object, x) as T;
}

/** `s` with the value at `path` replaced by `f` of it: each level on the way copied, everything else shared. */
function updateIn<T>(s: T, path: readonly (string | number)[], f: (x: never) => unknown): T {
  if (path.length === 0) return f(s as never) as T;
  const out = copy(s) as Record<string | number, unknown>;
  out[path[0]!] = updateIn((s as Record<string | number, unknown>)[path[0]!], path.slice(1), f);
  return out as T;
}

const TABLES = ['neigh', 'fdb', 'pmtu', 'redirectPeers', 'icmpPeers'] as const;

/** The flows of conntrack table `b` that `a` held come first, in `a`'s order; the new ones after them. */
function conntrackOrder(a: NetNs['conntrack'], b: NetNs['conntrack']): void {
  const flow = (c: NetNs['conntrack'][number]): string => `${c.protocol} ${c.origSrc} ${c.origDst} ${c.replyL4}`;
  const old = a.map(flow);
  const kept = b.map(flow).filter((f) => old.includes(f));
  expect(kept).toEqual(old.filter((f) => kept.includes(f)));
  expect(b.map(flow).slice(0, kept.length)).toEqual(kept);
}

/**
 * The reference: `before` with what differs in `after`'s neighbour, FDB, route exception and redirect limit tables written entry
 * by entry into copies of the tables (a key already there keeps its place, a new one comes last), and the
 * conntrack table the send left (held to its order by {@link conntrackOrder}) — copying only the namespaces where something differs, and
 * the levels above them.
 */
function reference(before: ClusterState, after: ClusterState): ClusterState {
  const was = namespaces(before);
  let out = before;
  for (const [id, b] of namespaces(after)) {
    const a = was.get(id);
    if (a === undefined || a === b) continue;
    const writes: [(typeof TABLES)[number], string, unknown][] = [];
    for (const t of TABLES) {
      const next = b[t] as Readonly<Record<string, unknown>>;
      for (const k of Object.keys(next)) if ((a[t] as Readonly<Record<string, unknown>>)[k] !== next[k]) writes.push([t, k, next[k]]);
    }
    const ct = b.conntrack === a.conntrack ? null : b.conntrack;
    if (ct !== null) conntrackOrder(a.conntrack, ct);
    if (writes.length === 0 && ct === null) continue;
    out = updateIn(out, pathOf(out, id)!, (ns: NetNs) => {
      const n = copy(ns) as unknown as Record<string, unknown>;
      for (const [t, k, v] of writes) {
        if (n[t] === (ns as unknown as Record<string, unknown>)[t]) n[t] = copy(n[t]);
        (n[t] as Record<string, unknown>)[k] = v;
      }
      if (ct !== null) n['conntrack'] = ct;
      return n;
    });
  }
  return out;
}

/** Every kind of event, faults included, and more packets than {@link clusterEventArb} draws. */
const events = fc.oneof({ weight: 2, arbitrary: clusterEventArb({ faults: true }) }, { weight: 1, arbitrary: eventArbs.send });

const designs: [string, () => CniDesign][] = [
  ['flannel vxlan', () => flannel({ backend: 'vxlan' })],
  ['calico ipip', () => calico({ encapsulation: 'ipip' })],
  ['cilium tunnel', () => cilium({ routing: 'tunnel' })],
  ['broken masquerade', () => broken.masquerade()],
  ['broken MTU', () => broken.mtuMismatch()],
];

describe('a send commits what it learned as writing each entry into its table would', () => {
  for (const [name, design] of designs) {
    it(name, () => {
      let sends = 0;
      let learned = 0;
      fc.assert(fc.property(clusterShapeArb({ router: 'both' }), fc.array(events, { minLength: 10, maxLength: 20 }), (shape, events) => {
        const run = new ClusterRun(design(), shape, { maxNodes: 4, checks: 'at-end' });
        for (const e of events) {
          if (!run.canPlay(e)) continue;
          const before = run.sim.state;
          try {
            run.play(e);
          } catch (err) {
            if (!(err instanceof DesignFailure)) throw err;
          }
          if (e.type !== 'send') continue;
          sends++;
          const after = run.sim.state;
          if (after === before) continue;
          learned++;
          const ref = reference(before, after);
          expect(after).toEqual(ref);
          // Every namespace and node the send left alone is the object it was, and only those.
          const [was, got, want] = [namespaces(before), namespaces(after), namespaces(ref)];
          for (const [id, r] of want) {
            const g = got.get(id)!;
            expect(g === was.get(id)).toBe(r === was.get(id));
            for (const t of TABLES) expect(Object.keys(g[t])).toEqual(Object.keys(r[t]));
            expect(Object.keys(g)).toEqual(Object.keys(r));
          }
          for (const n of shardValues(ref.nodes)) {
            const old = [...shardValues(before.nodes)].find((x) => x.name === n.name);
            const mine = [...shardValues(after.nodes)].find((x) => x.name === n.name);
            expect(mine === old).toBe(n === old);
          }
        }
      }), { numRuns: 25, seed: 20261126 });
      // The sequences did send, and taught the tables something.
      expect(sends).toBeGreaterThan(20);
      expect(learned).toBeGreaterThan(10);
    });
  }
});
