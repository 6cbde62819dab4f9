/**
 * The forwarding engine's memos (route answers per compiled table, one view per namespace with its
 * neighbour and FDB indexes, local addresses and peer sets, the ipIndex by number, namespaces by id) are
 * keyed on immutable parts of the state that successive states share. A structured clone of a state has
 * the same content and no object in common with anything memoized: a send on it is the uncached answer.
 * Random sequences of cluster changes and committed pings (each warming the memos on the states it
 * passes through) must leave every send answering exactly what the clone answers.
 */
import { createSimulator, formatIpv4, isPodnetError, hostNsId, icmpEcho, podNsId, send, type Action, type CniDesign, type Ipv4, type NsId, type Simulator } from '@podnet/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { calico } from './designs/calico.js';
import { flannel } from './designs/flannel.js';

type Op =
  | { t: 'addNode'; n: number }
  | { t: 'removeNode'; n: number }
  | { t: 'addPod'; name: number; node: number }
  | { t: 'deletePod'; name: number }
  | { t: 'ping'; a: number; b: number }
  | { t: 'raw'; kind: 'route-del' | 'link-down' | 'link-up' | 'masq' | 'dup-addr'; node: number; other: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constant('addNode' as const), n: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ t: fc.constant('removeNode' as const), n: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ t: fc.constant('addPod' as const), name: fc.integer({ min: 0, max: 7 }), node: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ t: fc.constant('deletePod' as const), name: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ t: fc.constant('ping' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ t: fc.constant('ping' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({
    t: fc.constant('raw' as const),
    kind: fc.constantFrom('route-del', 'link-down', 'link-up', 'masq', 'dup-addr') as fc.Arbitrary<'route-del' | 'link-down' | 'link-up' | 'masq' | 'dup-addr'>,
    node: fc.integer({ min: 1, max: 4 }), other: fc.nat(),
  }),
);

/** Every namespace a probe can start from, and every address it can go to. */
function endpoints(sim: Simulator): { from: NsId[]; to: Ipv4[] } {
  const pods = sim.pods().filter((p) => p.ip !== null);
  const nodes = sim.nodes();
  return { from: [...pods.map((p) => podNsId(p.key)), ...nodes.map((n) => hostNsId(n.name))], to: [...pods.map((p) => p.ip!), ...nodes.map((n) => n.ip)] };
}

function run(sim: Simulator, op: Op): void {
  switch (op.t) {
    case 'addNode':
      return void sim.addNode({ name: `node-${op.n}` });
    case 'removeNode':
      return sim.removeNode(`node-${op.n}`);
    case 'addPod':
      return void sim.addPod({ name: `pod-${op.name}`, node: `node-${op.node}` });
    case 'deletePod':
      return sim.deletePod(`pod-${op.name}`);
    case 'ping': {
      // What sim.ping does: a send that commits what it taught the namespaces (ARP, FDB, conntrack).
      const { from, to } = endpoints(sim);
      if (from.length === 0 || to.length === 0) return;
      return void sim.send(from[op.a % from.length]!, icmpEcho(to[op.b % to.length]!));
    }
    case 'raw': {
      const ns = hostNsId(`node-${op.node}`);
      const pods = sim.pods().filter((p) => p.ip !== null);
      const nodes = sim.nodes();
      const dev = nodes[0]?.host.links['flannel.1'] ? 'flannel.1' : 'vxlan.calico';
      const victim = nodes[op.other % Math.max(1, nodes.length)];
      const actions: Record<typeof op.kind, Action | null> = {
        'route-del': victim?.podCidr ? { op: 'route.del', ns, dst: `${formatIpv4(victim.podCidr.addr)}/${victim.podCidr.len}` } : null,
        'link-down': { op: 'link.set', ns, name: op.other % 2 ? dev : 'eth0', up: false },
        'link-up': { op: 'link.set', ns, name: op.other % 2 ? dev : 'eth0', up: true },
        masq: { op: 'rule.insert', ns, rule: { table: 'nat', chain: 'POSTROUTING', target: 'MASQUERADE' } },
        'dup-addr': pods.length < 2 ? null : { op: 'addr.add', ns: podNsId(pods[0]!.key), dev: 'eth0', addr: `${formatIpv4(pods[op.other % pods.length]!.ip!)}/32` },
      };
      const a = actions[op.kind];
      if (a) sim.apply(a);
    }
  }
}

/** A trace as plain data (every step's words written out). */
const plain = (x: unknown) => JSON.stringify(x);

function compareProbes(sim: Simulator, picks: readonly [number, number][]): void {
  const state = sim.state;
  const clone = structuredClone(state);
  const { from, to } = endpoints(sim);
  if (from.length === 0 || to.length === 0) return;
  for (const [a, b] of picks) {
    const f = from[a % from.length]!;
    const dst = to[b % to.length]!;
    for (const opts of [{}, { record: false }, { checks: false, record: false }]) {
      const live = send(state, f, icmpEcho(dst), opts);
      const fresh = send(clone, f, icmpEcho(dst), opts);
      expect(plain(live.trace), `${f} → ${formatIpv4(dst)} ${plain(opts)}`).toBe(plain(fresh.trace));
      expect(plain(live.state)).toBe(plain(fresh.state));
    }
  }
}

const designs: [string, () => CniDesign][] = [['flannel VXLAN', () => flannel()], ['calico VXLAN', () => calico({ encapsulation: 'vxlan' })], ['calico IPIP', () => calico()]];

describe('forwarding memos', () => {
  it('a probe after an address is duplicated sees both owners (the owners memo follows the ipIndex)', () => {
    const sim = createSimulator({ podCidr: '10.244.0.0/16', cni: flannel(), checks: 'off' });
    sim.addNode({ name: 'node-1' });
    sim.addNode({ name: 'node-2' });
    sim.addPod({ name: 'a', node: 'node-1' });
    const b = sim.addPod({ name: 'b', node: 'node-2' });
    const probe = () => send(sim.state, hostNsId('node-1'), icmpEcho(b.ip!)).trace;
    expect(probe().violations).toEqual([]);
    sim.apply({ op: 'addr.add', ns: podNsId('default/a'), dev: 'eth0', addr: `${formatIpv4(b.ip!)}/32` });
    const after = probe();
    expect(after.violations.map((v) => v.guarantee)).toContain('unique-ip');
    expect(plain(after)).toBe(plain(send(structuredClone(sim.state), hostNsId('node-1'), icmpEcho(b.ip!)).trace));
  });

  for (const [name, design] of designs) {
    it(`${name}: after random changes and committed pings, every send answers what it answers on a clone of the state`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 2, max: 4 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 1, max: 4 })), { minLength: 2, maxLength: 6 }), fc.array(opArb, { minLength: 1, maxLength: 10 }), fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 2, maxLength: 3 }), (nodes, pods, ops, picks) => {
          const sim = createSimulator({ podCidr: '10.244.0.0/16', cni: design(), checks: 'off' });
          for (let i = 1; i <= nodes; i++) sim.addNode({ name: `node-${i}` });
          const start: Op[] = pods.map(([p, n]) => ({ t: 'addPod', name: p, node: ((n - 1) % nodes) + 1 }));
          for (const op of [...start, ...ops]) {
            try {
              run(sim, op);
            } catch (e) {
              if (!isPodnetError(e)) throw e;
            }
            compareProbes(sim, picks);
          }
        }),
        { numRuns: 15, seed: 20261126 },
      );
    });
  }
});
