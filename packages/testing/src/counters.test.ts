/**
 * Interface counters over random traffic in the seed lab (flannel VXLAN, three nodes, six pods), with MTU faults
 * that make veth ends drop frames, and undo/redo between: what `ip -s link` readers rely on.
 * - a veth pair conserves frames: one end's tx is the other's rx (packets and bytes, veth_get_stats64 reads the
 *   peer's tx as a device's rx), and what the receiving end dropped the sending end counted as tx dropped;
 * - counters never decrease (only `iptables -Z` zeroes, and only rule counters);
 * - undo and redo restore the counters with the state they go back to.
 */
import { seedLabSpec, simulatorFromSpec } from '@podnet/cni';
import { devCountersOf, formatIpv4, shardValues, type DevCounters, type Link, type Simulator } from '@podnet/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

type Cmd =
  | { t: 'ping'; from: number; to: number; size: number; ttl: number }
  | { t: 'trace'; from: number; to: number }
  | { t: 'mtu'; pod: number; mtu: number }
  | { t: 'undo' }
  | { t: 'redo' };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('ping' as const), from: fc.nat(8), to: fc.nat(8), size: fc.constantFrom(0, 56, 1372, 1400, 1422, 1472), ttl: fc.constantFrom(1, 2, 64) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('trace' as const), from: fc.nat(8), to: fc.nat(8) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('mtu' as const), pod: fc.nat(5), mtu: fc.constantFrom(1300, 1400, 1450) }) },
  { weight: 1, arbitrary: fc.constant({ t: 'undo' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'redo' as const }) },
);

/** Every device of every namespace with its counters, by "ns dev". */
function all(sim: Simulator): Map<string, { link: Link; ns: string; c: DevCounters }> {
  const out = new Map<string, { link: Link; ns: string; c: DevCounters }>();
  for (const n of shardValues(sim.state.nodes)) {
    for (const ns of [n.host, ...Object.values(n.pods).map((p) => p.netns).filter((x) => x !== null && x !== undefined)]) {
      const c = sim.counters(ns!.id);
      for (const l of Object.values(ns!.links)) out.set(`${ns!.id} ${l.name}`, { link: l, ns: ns!.id, c: devCountersOf(c, l) });
    }
  }
  return out;
}

describe('interface counters over random traffic in the seed lab', () => {
  it('veth pairs conserve frames, counters never go down, undo and redo restore them', () => {
    fc.assert(fc.property(fc.array(cmdArb, { minLength: 1, maxLength: 12 }), (cmds) => {
      const sim = simulatorFromSpec(seedLabSpec());
      const pods = sim.pods().map((p) => p.name);
      const ends = [...pods, ...sim.nodes().map((n) => n.name)];
      const addrs = [...sim.pods().map((p) => formatIpv4(p.ip!)), ...sim.nodes().map((n) => formatIpv4(n.ip))];
      let before = all(sim);
      for (const c of cmds) {
        let undone = false;
        if (c.t === 'ping') sim.ping(ends[c.from]!, addrs[c.to]!, { size: c.size, ttl: c.ttl });
        else if (c.t === 'trace') sim.traceroute(ends[c.from]!, addrs[c.to]!, { maxHops: 4 });
        else if (c.t === 'mtu') sim.apply({ op: 'link.set', ns: `pod/default/${pods[c.pod]!}`, name: 'eth0', mtu: c.mtu });
        else {
          try { if (c.t === 'undo') sim.undo(); else sim.redo(); undone = true; } catch { continue; }
        }
        const now = all(sim);
        for (const { link, ns, c: mine } of now.values()) {
          if (link.kind !== 'veth') continue;
          const peer = now.get(`${link.peer.ns} ${link.peer.name}`);
          if (peer === undefined) continue;
          expect({ packets: mine.txPackets, bytes: mine.txBytes }, `${ns} ${link.name} → ${link.peer.name}`).toEqual({ packets: peer.c.rxPackets, bytes: peer.c.rxBytes });
          expect(mine.txDropped, `${ns} ${link.name}`).toBeGreaterThanOrEqual(peer.c.rxDropped);
        }
        if (!undone) {
          for (const [k, { c: was }] of before) {
            const cur = now.get(k);
            if (cur === undefined || cur.c.ifindex !== was.ifindex) continue;
            for (const f of ['rxPackets', 'rxBytes', 'rxDropped', 'txPackets', 'txBytes', 'txDropped'] as const) expect(cur.c[f], `${k} ${f}`).toBeGreaterThanOrEqual(was[f]);
          }
        }
        before = now;
      }
      // Undo all the way back, then redo all the way forward: each history entry's counters come back as they were.
      const marks: string[] = [];
      const key = (m: ReturnType<typeof all>): string => [...m].map(([k, v]) => `${k}:${v.c.txPackets}/${v.c.rxPackets}/${v.c.txDropped}`).join(',');
      marks.push(key(all(sim)));
      let depth = 0;
      for (;;) { try { sim.undo(); depth++; marks.push(key(all(sim))); } catch { break; } }
      for (let i = depth - 1; i >= 0; i--) { sim.redo(); expect(key(all(sim))).toBe(marks[i]); }
    }), { numRuns: 25, seed: 35 });
  });
});
