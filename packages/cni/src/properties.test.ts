/**
 * Properties of the whole simulator, driven by random sequences of valid and invalid calls:
 * - no untyped exception: every failure is a PodnetError with a known code;
 * - a failed call leaves the state (and the history) exactly as it was;
 * - the incremental verdict after every change equals a full audit of the same state.
 */
import { types } from 'node:util';
import { ERROR_HINTS, formatIpv4, isPodnetError, setFreezing, type Action, type ClusterState, type Simulator } from '@podnet/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flannel } from './designs/flannel.js';
import { createSimulator } from '@podnet/core';

type Op =
  | { t: 'addNode'; n: number; pin: boolean; bad: 'none' | 'dup-cidr' | 'host-bits' | 'name' }
  | { t: 'removeNode'; n: number }
  | { t: 'addPod'; name: number; node: number; ip: number | null }
  | { t: 'deletePod'; name: number }
  | { t: 'raw'; kind: 'route-del' | 'link-down' | 'dup-addr' | 'masq' | 'bad-gw' | 'link-up'; node: number; other: number; pod: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constant('addNode' as const), n: fc.integer({ min: 1, max: 4 }), pin: fc.boolean(), bad: fc.constantFrom('none', 'none', 'none', 'dup-cidr', 'host-bits', 'name') as fc.Arbitrary<'none' | 'dup-cidr' | 'host-bits' | 'name'> }),
  fc.record({ t: fc.constant('removeNode' as const), n: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ t: fc.constant('addPod' as const), name: fc.integer({ min: 0, max: 7 }), node: fc.integer({ min: 1, max: 4 }), ip: fc.option(fc.integer({ min: 0, max: 12 }), { nil: null }) }),
  fc.record({ t: fc.constant('deletePod' as const), name: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ t: fc.constant('raw' as const), kind: fc.constantFrom('route-del', 'link-down', 'dup-addr', 'masq', 'bad-gw', 'link-up') as fc.Arbitrary<'route-del' | 'link-down' | 'dup-addr' | 'masq' | 'bad-gw' | 'link-up'>, node: fc.integer({ min: 1, max: 4 }), other: fc.integer({ min: 1, max: 4 }), pod: fc.integer({ min: 0, max: 7 }) }),
);

function run(sim: Simulator, op: Op): void {
  switch (op.t) {
    case 'addNode':
      if (op.bad === 'name') return void sim.addNode({ name: `Node_${op.n}` });
      if (op.bad === 'host-bits') return void sim.addNode({ name: `node-${op.n}`, podCidr: `10.244.${op.n}.1/24` });
      if (op.bad === 'dup-cidr') return void sim.addNode({ name: `node-${op.n}x`, podCidr: '10.244.1.0/24' });
      return void sim.addNode(op.pin ? { name: `node-${op.n}`, podCidr: `10.244.${op.n}.0/24`, ip: `192.168.1.${10 + op.n}` } : { name: `node-${op.n}` });
    case 'removeNode':
      return sim.removeNode(`node-${op.n}`);
    case 'addPod': {
      const node = sim.state.nodes && (() => { try { return sim.node(`node-${op.node}`); } catch { return null; } })();
      const base = node?.podCidr ? node.podCidr.addr : 0x0af40000;
      const ip = op.ip === null ? undefined : `${(base >>> 24) & 255}.${(base >>> 16) & 255}.${(base >>> 8) & 255}.${op.ip}`;
      return void sim.addPod({ name: `pod-${op.name}`, node: `node-${op.node}`, ...(ip ? { ip } : {}) });
    }
    case 'deletePod':
      return sim.deletePod(`pod-${op.name}`);
    case 'raw': {
      const ns = `node/node-${op.node}`;
      const actions: Record<typeof op.kind, Action> = {
        'route-del': { op: 'route.del', ns, dst: `10.244.${op.other}.0/24` },
        'link-down': { op: 'link.set', ns, name: op.other % 2 ? 'flannel.1' : 'cni0', up: false },
        'link-up': { op: 'link.set', ns, name: op.other % 2 ? 'flannel.1' : 'cni0', up: true },
        'dup-addr': { op: 'addr.add', ns: `pod/default/pod-${op.pod}`, dev: 'eth0', addr: `${sim.pods()[op.other % Math.max(1, sim.pods().length)]?.ip === undefined ? '10.244.9.9' : formatIpv4(sim.pods()[op.other % sim.pods().length]!.ip!)}/24` },
        masq: { op: 'rule.insert', ns, rule: { table: 'nat', chain: 'POSTROUTING', outIf: 'flannel.1', target: 'MASQUERADE' } },
        'bad-gw': { op: 'route.add', ns, dst: '10.99.0.0/24', via: '192.168.2.1', dev: 'eth0' },
      };
      return sim.apply(actions[op.kind]);
    }
  }
}

/** A valid start (nodes, then pods on them) so that most random calls act on something. */
function startOps(nodes: number, pods: readonly (readonly [number, number])[]): Op[] {
  return [
    ...Array.from({ length: nodes }, (_, i): Op => ({ t: 'addNode', n: i + 1, pin: false, bad: 'none' })),
    ...pods.map(([name, node]): Op => ({ t: 'addPod', name, node: ((node - 1) % nodes) + 1, ip: null })),
  ];
}

describe('simulator properties', () => {
  it('random valid and invalid calls: typed errors, no partial change, incremental verdict = full audit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 4 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 1, max: 4 })), { minLength: 2, maxLength: 6 }), fc.array(opArb, { minLength: 1, maxLength: 10 }), (nodes, pods, ops) => {
        const sim = createSimulator({ cni: flannel() });
        const start = startOps(nodes, pods);
        for (const op of [...start, ...ops]) {
          const before = sim.state;
          const history = sim.history().length;
          try {
            run(sim, op);
          } catch (e) {
            if (!isPodnetError(e)) throw e;
            expect(Object.keys(ERROR_HINTS)).toContain(e.code);
            expect(e.hint.length).toBeGreaterThan(0);
            expect(sim.state).toBe(before);
            expect(sim.history().length).toBe(history);
            continue;
          }
          const full = sim.check();
          expect(sim.violations.map((v) => v.key)).toEqual(full.violations.map((v) => v.key));
        }
      }),
      { numRuns: 40, seed: 20261125 },
    );
  });

  it('with freezing off (what users run): no state holds an immer draft, and no transition changes an earlier state', () => {
    // The transitions read drafts as plain data (snapshot, shardPeek) to spare immer's copies: a mistake there
    // would leave a proxy in a state or write into a state that earlier history entries share.
    const proxies = (v: unknown, seen: Set<object>): number => {
      if (v === null || typeof v !== 'object' || seen.has(v)) return 0;
      if (types.isProxy(v)) return 1;
      seen.add(v);
      let n = 0;
      for (const k of Object.keys(v)) n += proxies((v as Record<string, unknown>)[k], seen);
      return n;
    };
    setFreezing(false);
    try {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 4 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 1, max: 4 })), { minLength: 1, maxLength: 6 }), fc.array(opArb, { minLength: 1, maxLength: 10 }), (nodes, pods, ops) => {
          const sim = createSimulator({ cni: flannel() });
          const start = startOps(nodes, pods);
          // An address taken twice re-owns an existing IP-index entry: the case where a transition could write
          // into the array an earlier state holds.
          const dup: Op[] = pods.map(([name], i): Op => ({ t: 'raw', kind: 'dup-addr', node: 1, other: i + 1, pod: name }));
          const seen: { state: ClusterState; text: string }[] = [];
          for (const op of [...start, ...dup, ...ops]) {
            try {
              run(sim, op);
            } catch (e) {
              if (!isPodnetError(e)) throw e;
            }
            const first = sim.nodes()[0];
            if (first) sim.ping(first.name, '10.244.1.2', { count: 1 });
            expect(proxies(sim.state, new Set())).toBe(0);
            seen.push({ state: sim.state, text: JSON.stringify(sim.state) });
          }
          for (const { state, text } of seen) expect(JSON.stringify(state)).toBe(text);
        }),
        { numRuns: 30, seed: 20261126 },
      );
    } finally {
      setFreezing(true);
    }
  });

  it('sampled checks never report what a full audit does not (no false alarms), and are seed-deterministic', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 4 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 1, max: 4 })), { minLength: 2, maxLength: 6 }), fc.array(opArb, { minLength: 1, maxLength: 8 }), (nodes, pods, ops) => {
        const make = () => createSimulator({ cni: flannel(), checks: 'sampled', sample: 2, seed: 99 });
        const sims = [make(), make()];
        const start = startOps(nodes, pods);
        for (const op of [...start, ...ops]) {
          for (const sim of sims) {
            try {
              run(sim, op);
            } catch (e) {
              if (!isPodnetError(e)) throw e;
            }
          }
          const [a, b] = sims as [Simulator, Simulator];
          expect(a.violations.map((v) => v.key)).toEqual(b.violations.map((v) => v.key));
          const full = new Set(a.check().violations.map((v) => v.key));
          for (const v of a.violations) expect(full.has(v.key), v.key).toBe(true);
          // Unique IPs are checked exactly even when sampling.
          expect(a.violations.filter((v) => v.guarantee === 'unique-ip' && v.key.startsWith('unique-ip|')).map((v) => v.key))
            .toEqual([...full].filter((k) => k.startsWith('unique-ip|')).sort());
        }
      }),
      { numRuns: 25, seed: 4242 },
    );
  });

  it('sampled checks catch a node that cannot reach a new pod on it', () => {
    const sim = createSimulator({ cni: flannel(), checks: 'sampled', sample: 2 });
    sim.addNode({ name: 'node-1' });
    sim.addNode({ name: 'node-2' });
    sim.addPod({ name: 'a', node: 'node-1' });
    sim.apply({ op: 'link.set', ns: 'node/node-1', name: 'cni0', up: false });
    expect(sim.violations.some((v) => v.guarantee === 'node-reaches-pods' && v.where.to === 'default/a')).toBe(true);
  });

  it('undo and redo walk the history and restore the exact states', () => {
    const sim = createSimulator({ cni: flannel() });
    sim.addNode({ name: 'node-1' });
    const s1 = sim.state;
    sim.addPod({ name: 'pod-a', node: 'node-1' });
    const s2 = sim.state;
    sim.undo();
    expect(sim.state).toBe(s1);
    sim.redo();
    expect(sim.state).toBe(s2);
    expect(sim.history()).toEqual(['create', 'addNode node-1', 'addPod default/pod-a']);
    sim.undo();
    sim.undo();
    expect(sim.nodes()).toEqual([]);
    expect(() => sim.undo()).toThrow(expect.objectContaining({ code: 'NOTHING_TO_UNDO' }));
  });
});
