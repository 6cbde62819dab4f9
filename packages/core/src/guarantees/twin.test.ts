/**
 * The twin check's index (twin.ts): what it counts, kept from one state to the next by what changed, must be
 * what counting the state from scratch gives — after any change, and after a jump back to an older state (undo).
 * A count that drifted low could let a record naming a new pod's address go unseen. The twin rule itself, with
 * the records that tell pods apart, is tested against full audits in packages/cni/src/twin.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIpv4 } from '../addr/ipv4.js';
import type { Action } from '../ops/actions.js';
import { createSimulator } from '../sim/simulator.js';
import { mentionCounts } from './twin.js';

type Step =
  | { readonly kind: 'node' }
  | { readonly kind: 'pod'; readonly node: number }
  | { readonly kind: 'delete-pod'; readonly pod: number }
  | { readonly kind: 'remove-node'; readonly node: number }
  | { readonly kind: 'record'; readonly node: number; readonly what: 'route' | 'neigh' | 'rule' | 'down'; readonly host: number; readonly len: number }
  | { readonly kind: 'undo' }
  | { readonly kind: 'ping'; readonly from: number; readonly to: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.constant<Step>({ kind: 'node' }),
  fc.record({ kind: fc.constant('pod' as const), node: fc.nat(3) }),
  fc.record({ kind: fc.constant('delete-pod' as const), pod: fc.nat(9) }),
  fc.record({ kind: fc.constant('remove-node' as const), node: fc.nat(3) }),
  fc.record({ kind: fc.constant('record' as const), node: fc.nat(3), what: fc.constantFrom('route' as const, 'neigh' as const, 'rule' as const, 'down' as const), host: fc.integer({ min: 1, max: 254 }), len: fc.integer({ min: 24, max: 32 }) }),
  fc.constant<Step>({ kind: 'undo' }),
  fc.record({ kind: fc.constant('ping' as const), from: fc.nat(9), to: fc.nat(9) }),
);

describe('the twin check\'s index', () => {
  it('kept from state to state equals the state counted from scratch (property)', async () => {
    const { flannel } = await import('@podnet/cni');
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 24 }), (steps) => {
        const sim = createSimulator({ cni: flannel(), checks: 'off' });
        sim.addNode({ name: 'n0' });
        let nodes = 1;
        let pods = 0;
        for (const st of steps) {
          const names = [...Array(nodes).keys()].map((i) => `n${i}`).filter((n) => { try { sim.node(n); return true; } catch { return false; } });
          const podKeys = names.flatMap((n) => Object.keys(sim.node(n).pods));
          try {
            if (st.kind === 'node') sim.addNode({ name: `n${nodes++}` });
            else if (st.kind === 'pod' && names.length > 0) sim.addPod({ name: `p${pods++}`, node: names[st.node % names.length]! });
            else if (st.kind === 'delete-pod' && podKeys.length > 0) sim.deletePod(podKeys[st.pod % podKeys.length]!);
            else if (st.kind === 'remove-node' && names.length > 1) sim.removeNode(names[st.node % names.length]!);
            else if (st.kind === 'undo') sim.undo();
            else if (st.kind === 'ping' && podKeys.length > 1) sim.ping(podKeys[st.from % podKeys.length]!, formatIpv4(sim.pod(podKeys[st.to % podKeys.length]!).ip ?? 0));
            else if (st.kind === 'record' && names.length > 0) {
              const node = sim.node(names[st.node % names.length]!);
              const ip = (node.podCidr!.addr + st.host) >>> 0;
              const net = st.len === 32 ? ip : ((ip >>> (32 - st.len)) << (32 - st.len)) >>> 0;
              const ns = `node/${node.name}`;
              const a: Action =
                st.what === 'route' ? { op: 'route.replace', ns, dst: `${formatIpv4(net)}/${st.len}`, type: 'blackhole' }
                : st.what === 'neigh' ? { op: 'neigh.replace', ns, dev: 'eth0', ip: formatIpv4(ip), mac: '02:00:00:00:00:42' }
                : st.what === 'rule' ? { op: 'rule.append', ns, rule: { table: 'filter', chain: 'FORWARD', dst: `${formatIpv4(net)}/${st.len}`, target: 'DROP' } }
                : { op: 'link.set', ns, name: 'cni0', up: false };
              sim.apply(a);
            }
          } catch (e) {
            // Refused input (a typed error) leaves the state as it was: nothing to count differently.
            if (!(e instanceof Error) || !('code' in e)) throw e;
          }
          expect(mentionCounts(sim.state, false)).toEqual(mentionCounts(sim.state, true));
        }
      }),
      { numRuns: 60, seed: 32 },
    );
  });
});

describe('the twin check\'s swap of strings', () => {
  it('swaps an address written in a string, decimal or dotted, and leaves a string without one alone', async () => {
    const { swapForTest } = await import('./twin.js');
    const ipP = (10 << 24) | (244 << 16) | 9;
    const ipQ = (10 << 24) | (244 << 16) | 2;
    const swap = swapForTest([[ipP, ipQ], ['veth-p', 'veth-q']]);
    expect(swap(`${ipP}|unicast`)).toBe(`${ipQ}|unicast`);
    expect(swap('to 10.244.0.9 via veth-p')).toBe('to 10.244.0.2 via veth-q');
    expect(swap('10.244.0.2/32')).toBe('10.244.0.9/32');
    expect(swap('10.244.0.0/24 dev cni0')).toBe('10.244.0.0/24 dev cni0');
    expect(swap('eth0')).toBe('eth0');
  });
});
