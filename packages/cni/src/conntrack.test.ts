/**
 * Connection tracking as the forwarding engine keeps it (core's dataplane/conntrack.ts), on the seed lab: the
 * first packet of a flow decides its NAT, later packets of a live entry keep it whatever the rules say now,
 * entries time out, and guarantee probes neither use nor leave them. The kernel behaviours were measured in
 * namespaces (packages/cli/scripts/conntrack-formats.sh; pnct31-).
 */
import { CT_ICMP_TIMEOUT_MS, describeAction, icmpEcho, isPodnetError, send, type Action, type Simulator } from '@podnet/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seedLabSpec, simulatorFromSpec } from './index.js';

const MASQ = { table: 'nat', chain: 'POSTROUTING', src: '10.244.1.0/24', outIf: 'flannel.1', target: 'MASQUERADE' } as const;
const POD_A = 0x0af40104; // 10.244.1.4
const FLANNEL_1 = 0x0af40100; // node-1's flannel.1, 10.244.1.0

/** The source pod-c saw on pod-a's echo request with identifier `ident`. */
function sourceAtPodC(sim: Simulator, ident: number): number | undefined {
  const trace = sim.ping('pod-a', '10.244.2.3', { ident }).traces[0]!;
  return trace.steps.find((s) => s.ns === 'pod/default/pod-c' && s.ip?.payload.kind === 'icmp' && s.ip.payload.type === 8)?.ip?.header.src;
}

describe('conntrack on a node', () => {
  it('a ping keeps the masquerade its first packet got after the rule is deleted; a new identifier is a new flow', () => {
    const sim = simulatorFromSpec(seedLabSpec());
    sim.apply({ op: 'rule.insert', ns: 'node/node-1', rule: MASQ, position: 1 });
    expect(sourceAtPodC(sim, 4662)).toBe(FLANNEL_1);
    expect(sim.node('node-1').host.conntrack).toHaveLength(1);
    sim.apply({ op: 'rule.del', ns: 'node/node-1', rule: MASQ });
    expect(sourceAtPodC(sim, 4662)).toBe(FLANNEL_1);
    // One entry, refreshed: no second entry for the flow.
    expect(sim.node('node-1').host.conntrack).toHaveLength(1);
    expect(sim.node('node-1').host.conntrack[0]!.expires).toBe(sim.now() + CT_ICMP_TIMEOUT_MS);
    expect(sourceAtPodC(sim, 4663)).toBe(POD_A);
    sim.advance(CT_ICMP_TIMEOUT_MS);
    expect(sourceAtPodC(sim, 4662)).toBe(POD_A);
    // The expired entry drops out at the namespace's next change to its table (the next translation here).
    sim.apply({ op: 'rule.insert', ns: 'node/node-1', rule: MASQ, position: 1 });
    expect(sourceAtPodC(sim, 4664)).toBe(FLANNEL_1);
    expect(sim.node('node-1').host.conntrack.map((c) => c.replyL4)).toEqual(['echo 4664']);
  });

  it('a namespace whose nat table keeps no rule that needs conntrack tracks nothing: its entries are not used (measured: the only MASQUERADE deleted, the same identifier left untranslated)', () => {
    const sim = simulatorFromSpec(seedLabSpec());
    // node-1 without flanneld's masquerade: the stray MASQUERADE is its only NAT rule.
    for (const r of sim.node('node-1').host.rules.filter((x) => x.table === 'nat' && x.target === 'MASQUERADE')) {
      sim.apply({ op: 'rule.del', ns: 'node/node-1', rule: { table: 'nat', chain: r.chain, ...(r.src ? { src: `${[24, 16, 8, 0].map((b) => (r.src!.addr >>> b) & 255).join('.')}/${r.src.len}` } : {}),
        ...(r.notSrc ? { notSrc: `${[24, 16, 8, 0].map((b) => (r.notSrc!.addr >>> b) & 255).join('.')}/${r.notSrc.len}` } : {}),
        ...(r.dst ? { dst: `${[24, 16, 8, 0].map((b) => (r.dst!.addr >>> b) & 255).join('.')}/${r.dst.len}` } : {}),
        ...(r.notDst ? { notDst: `${[24, 16, 8, 0].map((b) => (r.notDst!.addr >>> b) & 255).join('.')}/${r.notDst.len}` } : {}),
        ...(r.comment ? { comment: r.comment } : {}), target: 'MASQUERADE' } });
    }
    expect(sim.node('node-1').host.rules.some((x) => x.target === 'MASQUERADE')).toBe(false);
    sim.apply({ op: 'rule.insert', ns: 'node/node-1', rule: MASQ, position: 1 });
    expect(sourceAtPodC(sim, 4660)).toBe(FLANNEL_1);
    sim.apply({ op: 'rule.del', ns: 'node/node-1', rule: MASQ });
    expect(sourceAtPodC(sim, 4660)).toBe(POD_A);
    // The entry is still listed (it counts down), untouched.
    expect(sim.node('node-1').host.conntrack).toHaveLength(1);
  });

  it('guarantee probes neither are fooled by entries nor leave any', () => {
    const sim = simulatorFromSpec(seedLabSpec());
    sim.apply({ op: 'rule.insert', ns: 'node/node-1', rule: MASQ, position: 1 });
    expect(sim.check().violations.some((v) => v.guarantee === 'no-nat')).toBe(true);
    const before = sim.state;
    sim.check();
    expect(sim.state).toBe(before);
    sourceAtPodC(sim, 4660);
    sim.apply({ op: 'rule.del', ns: 'node/node-1', rule: MASQ });
    // The live entry masquerades the ping's later packets, but the checks judge the rules: no NAT, even for
    // a probe with the live flow's identifier.
    expect(sim.check().violations.some((v) => v.guarantee === 'no-nat')).toBe(false);
    expect(sim.violations.some((v) => v.guarantee === 'no-nat')).toBe(false);
    const probe = sim.state;
    const same = send(probe, 'pod/default/pod-a', icmpEcho(0x0af40203, { ident: 4660 }), { commit: false, conntrack: false });
    expect(same.trace.violations).toEqual([]);
    expect(same.state).toBe(probe);
    expect(send(probe, 'pod/default/pod-a', icmpEcho(0x0af40203, { ident: 4660 }), { commit: false }).trace.violations.some((v) => v.guarantee === 'no-nat')).toBe(true);
  });

  it('each ping is a process of its own: consecutive identifiers from a seeded start, the same for the same seed (measured: 488, then 489)', () => {
    const idents = (seed: number): number[] => {
      const sim = simulatorFromSpec({ ...seedLabSpec(), seed });
      return [0, 1, 2].map(() => {
        const p = sim.ping('pod-a', '10.244.2.3').traces[0]!.steps[0]!.ip!.payload;
        return p.kind === 'icmp' ? p.rest >>> 16 : -1;
      });
    };
    const a = idents(7);
    expect(a[1]).toBe(a[0]! + 1);
    expect(a[2]).toBe(a[0]! + 2);
    expect(idents(7)).toEqual(a);
    expect(idents(8)).not.toEqual(a);
    // ping -e gives the identifier and leaves the sequence alone.
    const sim = simulatorFromSpec({ ...seedLabSpec(), seed: 7 });
    const echo = sim.ping('pod-a', '10.244.2.3', { ident: 4660 }).traces[0]!.steps[0]!.ip!.payload;
    expect(echo.kind === 'icmp' && echo.rest >>> 16).toBe(4660);
    const next = sim.ping('pod-a', '10.244.2.3').traces[0]!.steps[0]!.ip!.payload;
    expect(next.kind === 'icmp' && next.rest >>> 16).toBe(a[0]);
    expect(() => sim.ping('pod-a', '10.244.2.3', { ident: 65536 })).toThrow(/invalid identifier/);
  });

  it('conntrack.delete: deletes what its filter selects, is described as the command, and refuses bad input with a typed error, the state unchanged', () => {
    const sim = simulatorFromSpec(seedLabSpec());
    sim.apply({ op: 'rule.insert', ns: 'node/node-1', rule: MASQ, position: 1 });
    sourceAtPodC(sim, 4660);
    sourceAtPodC(sim, 4661);
    const del: Action = { op: 'conntrack.delete', ns: 'node/node-1', protocol: 'icmp', src: '10.244.1.0/24', srcNat: '10.244.1.0' };
    expect(describeAction(del).map((c) => c.command)).toEqual(['conntrack -D -p icmp -s 10.244.1.0/24 -n 10.244.1.0']);
    expect(describeAction({ op: 'conntrack.delete', ns: 'node/node-1' }).map((c) => c.command)).toEqual(['conntrack -F']);
    const before = sim.state;
    for (const bad of [{ protocol: 'sctp' }, { src: '10.244.1.300' }, { dst: 'pod-c' }, { srcNat: '10.244.1.0/24' }] as const) {
      let code = '';
      try {
        sim.apply({ op: 'conntrack.delete', ns: 'node/node-1', ...bad } as unknown as Action);
      } catch (e) {
        if (!isPodnetError(e)) throw e;
        code = e.code;
        expect(e.hint).not.toBe('');
      }
      expect(code, JSON.stringify(bad)).toMatch(/^(INVALID_ARGUMENT|INVALID_IP|INVALID_CIDR)$/);
      expect(sim.state).toBe(before);
    }
    // Selecting nothing changes nothing (the table is the one it was); the filter above selects both flows.
    const table = sim.node('node-1').host.conntrack;
    expect(table).toHaveLength(2);
    sim.apply({ op: 'conntrack.delete', ns: 'node/node-1', protocol: 'udp' });
    expect(sim.node('node-1').host.conntrack).toBe(table);
    sim.apply(del);
    expect(sim.node('node-1').host.conntrack).toEqual([]);
  });

  it('property: a live entry\'s translation holds across rule changes, an expired one never translates', () => {
    type Cmd = { t: 'add' } | { t: 'del' } | { t: 'ping'; id: number } | { t: 'wait'; ms: number };
    const cmd: fc.Arbitrary<Cmd> = fc.oneof(
      fc.constant<Cmd>({ t: 'add' }), fc.constant<Cmd>({ t: 'del' }),
      fc.integer({ min: 1, max: 3 }).map((id): Cmd => ({ t: 'ping', id })),
      fc.integer({ min: 1, max: 40_000 }).map((ms): Cmd => ({ t: 'wait', ms })),
    );
    fc.assert(fc.property(fc.array(cmd, { minLength: 1, maxLength: 25 }), (cmds) => {
      const sim = simulatorFromSpec({ ...seedLabSpec(), checks: 'off' });
      let rule = false;
      // The model: each identifier's masqueraded flow and when it expires.
      const live = new Map<number, number>();
      for (const c of cmds) {
        if (c.t === 'add' && !rule) { sim.apply({ op: 'rule.insert', ns: 'node/node-1', rule: MASQ, position: 1 }); rule = true; }
        else if (c.t === 'del' && rule) { sim.apply({ op: 'rule.del', ns: 'node/node-1', rule: MASQ }); rule = false; }
        else if (c.t === 'wait') sim.advance(c.ms);
        else if (c.t === 'ping') {
          const alive = (live.get(c.id) ?? -1) > sim.now();
          const src = sourceAtPodC(sim, c.id);
          expect(src).toBe(alive || rule ? FLANNEL_1 : POD_A);
          if (alive || rule) live.set(c.id, sim.now() + CT_ICMP_TIMEOUT_MS);
        }
      }
    }), { numRuns: 40, seed: 31 });
  });
});
