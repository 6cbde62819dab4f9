/**
 * The kernel's limit on the ICMP errors it sends (icmpv4_xrlim_allow's token bucket per destination, and
 * ip_error's before it), pinned to what Linux 6.18 did: packages/cli/scripts/icmp-ratelimit.sh, whose output
 * is __fixtures__/icmp-ratelimit.txt. node-a (segment dc1) sends through the underlay router to node-b
 * (segment dc2), as the script's S sends through R to F.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIpv4 } from '../addr/ipv4.js';
import { bare } from '../cni/testing/bare.js';
import { addNodeState, createClusterState } from '../model/cluster.js';
import { getNs } from '../model/lookup.js';
import type { ClusterState } from '../model/types.js';
import { applyActions } from '../ops/actions.js';
import { icmpEcho, udpPacket } from './build.js';
import { send } from './engine.js';
import type { Trace } from './types.js';

const FIXTURE = readFileSync(fileURLToPath(new URL('../__fixtures__/icmp-ratelimit.txt', import.meta.url)), 'utf8');

/** What the kernel's counters said for experiment `id` ("a", "b", …): per burst, the count of counter `name`. */
function measured(id: string, name: string): number[] {
  const section = FIXTURE.split('### ').find((s) => s.startsWith(`(${id}) `));
  if (section === undefined) throw new Error(`no experiment (${id}) in icmp-ratelimit.txt`);
  return section.split('\n').filter((l) => l.startsWith('after ')).map((l) => Number(new RegExp(`${name}\\+(\\d+)`).exec(l)?.[1] ?? 0));
}

const settings = { podCidr: '10.244.0.0/16', underlay: { segments: [{ name: 'dc1', cidr: '172.16.0.0/24', gateway: '172.16.0.1' }, { name: 'dc2', cidr: '172.16.1.0/24', gateway: '172.16.1.1' }] } };
const base = [['a', 'dc1'], ['b', 'dc2']].reduce((st, [n, seg]) => addNodeState(st, { name: `node-${n!}`, segment: seg! }, bare).state, createClusterState(settings, bare));
const A = 'node/node-a';
const B = 'node/node-b';
const bIp = Object.values(getNs(base, B).links).find((l) => l.kind === 'physical')!.addrs[0]!.ip;
const ROUTER = parseIpv4('172.16.0.1');
const UNROUTED = parseIpv4('10.9.9.9');

/** The ICMP errors (type `type`; 0: echo replies) delivered back to `to`. */
function errorsBack(t: Trace, to: string, type: number): number {
  const role = type === 0 ? 'echo-reply' : 'icmp-error';
  return t.fates.filter((f) => f.ns === to && f.role === role && f.disposition === 'delivered' && f.ip?.payload.kind === 'icmp' && f.ip.payload.type === type).length;
}

/** `n` packets made by `make(i)` sent from `from` at one instant, each committed: the errors of `type` back. */
function burst(s: ClusterState, n: number, make: (i: number) => Parameters<typeof send>[2], type: number, from = A): { state: ClusterState; errors: number; traces: Trace[] } {
  let errors = 0;
  const traces: Trace[] = [];
  for (let i = 0; i < n; i++) {
    const r = send(s, from, make(i));
    s = r.state;
    errors += errorsBack(r.trace, from, type);
    traces.push(r.trace);
  }
  return { state: s, errors, traces };
}
const later = (s: ClusterState, ms: number): ClusterState => ({ ...s, now: s.now + ms });
const ttl1 = (i: number) => udpPacket(bIp, 33434 + i, { ttl: 1, srcPort: 40000 + i });

/** Bursts of 20 at once, then after 1 s and 2 s more: the errors back per burst, as the script sends them. */
function threeBursts(make: (i: number) => Parameters<typeof send>[2], type: number, from = A, s0 = base): number[] {
  const out: number[] = [];
  let s = s0;
  for (const pause of [0, 1000, 2000]) {
    const r = burst(later(s, pause), 20, make, type, from);
    out.push(r.errors);
    s = r.state;
  }
  return out;
}

describe('ICMP errors are rate-limited per destination as Linux 6.18 limits them (icmp-ratelimit.txt)', () => {
  it('20 TTL-1 probes at once through a router get 6 time exceeded, 1 more after 1 s, 2 after 2 s more', () => {
    expect(measured('a', 'OutTimeExcds')).toEqual([6, 1, 2]);
    expect(threeBursts(ttl1, 11)).toEqual(measured('a', 'OutTimeExcds'));
    expect(threeBursts((i) => icmpEcho(bIp, { ttl: 1, seq: i + 1 }), 11)).toEqual(measured('a2', 'OutTimeExcds'));
  });

  it('a refused error is a step note of the packet that called for it; the packet is dropped all the same', () => {
    const r = burst(base, 7, ttl1, 11);
    const last = r.traces[6]!;
    expect(last.disposition).toBe('ttlExceeded');
    expect(last.steps.map((st) => st.note).filter((n) => n.startsWith('ICMP error rate-limited'))).toEqual([
      'ICMP error rate-limited: time exceeded in-transit to 172.16.0.10 not sent (net.ipv4.icmp_ratelimit: 0 ms of tokens left)',
    ].map((n) => n.replace('172.16.0.10', formatSrc(base))));
    expect(r.traces[5]!.steps.some((st) => st.note.startsWith('ICMP error rate-limited'))).toBe(false);
  });

  it('the bucket refills with the clock, to 6 at most: 6 again after 6 s, and after an hour', () => {
    const drained = burst(base, 20, ttl1, 11).state;
    expect(burst(later(drained, 6000), 20, ttl1, 11).errors).toBe(measured('g', 'OutTimeExcds')[0]);
    expect(burst(later(drained, 3_600_000), 20, ttl1, 11).errors).toBe(6);
    expect(burst(later(drained, 2999), 20, ttl1, 11).errors).toBe(2);
  });

  it("a router's net unreachable (ip_error) takes from the same bucket first: 2 of 20, then none, then 1", () => {
    expect(measured('b', 'OutDestUnreachs')).toEqual([2, 0, 1]);
    expect(threeBursts((i) => icmpEcho(UNROUTED, { seq: i + 1 }), 3)).toEqual(measured('b', 'OutDestUnreachs'));
  });

  it("a host's port unreachable is limited the same way: 6, 1, 2", () => {
    expect(threeBursts((i) => udpPacket(bIp, 33434 + i, { srcPort: 40000 + i }), 3)).toEqual(measured('c', 'OutDestUnreachs'));
  });

  it('fragmentation needed is never limited, even with the bucket empty', () => {
    expect(measured('d', 'OutDestUnreachs')).toEqual([20, 20, 20]);
    const small = applyActions(base, [{ op: 'link.set', ns: 'underlay', name: 'dc2', mtu: 1300 }]);
    const drained = burst(small, 20, ttl1, 11).state;
    expect(burst(drained, 1, ttl1, 11).errors).toBe(0);
    // Each from the drained state (uncommitted, so the sender learns no path MTU between them, as the
    // script's IP_PMTUDISC_PROBE socket ignores it).
    let got = 0;
    for (let i = 0; i < 20; i++) got += errorsBack(send(drained, A, udpPacket(bIp, 33434, { size: 1400, df: true, srcPort: 40000 + i }), { commit: false }).trace, A, 3);
    expect(got).toBe(20);
  });

  it('echo replies are not limited: 20 pings of the router at once, 20 replies', () => {
    expect(measured('e', 'OutEchoReps')).toEqual([20, 20, 20]);
    expect(threeBursts((i) => icmpEcho(ROUTER, { seq: i + 1 }), 0)).toEqual([20, 20, 20]);
  });

  it('an error to a local address (by lo) is not limited: 20 of 20', () => {
    expect(measured('f', 'OutDestUnreachs')).toEqual([20]);
    expect(burst(base, 20, (i) => udpPacket(bIp, 33434 + i, { srcPort: 40000 + i }), 3, B).errors).toBe(20);
  });

  it('one bucket per destination: two senders get 6 each', () => {
    expect(measured('h', 'OutTimeExcds')).toEqual([12]);
    const fromA = burst(base, 20, ttl1, 11);
    const aIp = Object.values(getNs(base, A).links).find((l) => l.kind === 'physical')!.addrs[0]!.ip;
    const fromB = burst(fromA.state, 20, (i) => udpPacket(aIp, 33434 + i, { ttl: 1, srcPort: 40000 + i }), 11, B);
    expect(fromA.errors + fromB.errors).toBe(12);
  });

  it("host-gw.sh's pacing: 4 unrouted pings and traceroutes 1.5 s apart lose the 8th error, a little slower keep it", () => {
    // (j): exactly 1.5 s apart, traceroute 4's probe is refused; -N 1 -w 1 then waits 1 s for each of its
    // 10 probes (10 refused by icmpv4_xrlim_allow), and ping 5 and traceroute 5 are answered. (i): the same
    // with ~0.1 s of counter reads a step answers all 8.
    const run = (gap: number): (0 | 1)[] => {
      let s = base;
      const got: (0 | 1)[] = [];
      for (let i = 1; i <= 5; i++) {
        const dst = parseIpv4(`10.9.9.${i}`);
        const p = burst(s, 1, () => icmpEcho(dst), 3);
        got.push(p.errors as 0 | 1);
        s = later(p.state, gap);
        const t = burst(s, 1, () => udpPacket(dst, 33434, { ttl: 1 }), 3);
        got.push(t.errors as 0 | 1);
        s = t.state;
        if (t.errors === 0) for (let ttl = 2; ttl <= 10; ttl++) s = burst(later(s, 1000), 1, () => udpPacket(dst, 33434 + ttl - 1, { ttl }), 3).state;
        s = later(s, t.errors === 0 ? 1000 + gap : gap);
      }
      return got;
    };
    expect(FIXTURE).toMatch(/\(j\)[^]*traceroute 4: {2}1 {2}\*\nping 5: From[^]*traceroute 5: {2}1 {2}10\.0\.0\.1 .*!N\nR: OutMsgs\+9 OutRateLimitHost\+10 OutDestUnreachs\+9/);
    expect(run(1500)).toEqual([1, 1, 1, 1, 1, 1, 1, 0, 1, 1]);
    expect(FIXTURE).toMatch(/\(i\)[^]*traceroute 4: {2}1 {2}10\.0\.0\.1 /);
    expect(run(1600).slice(0, 8)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
  });

  it('net.ipv4.icmp_ratelimit=0 turns the limit off, icmp_ratemask picks the types; bad values are refused', () => {
    const off = applyActions(base, [{ op: 'sysctl.set', ns: 'underlay', key: 'net.ipv4.icmp_ratelimit', value: 0 }]);
    expect(burst(off, 20, ttl1, 11).errors).toBe(20);
    const noTimeExceeded = applyActions(base, [{ op: 'sysctl.set', ns: 'underlay', key: 'net.ipv4.icmp_ratemask', value: 6168 & ~(1 << 11) }]);
    expect(burst(noTimeExceeded, 20, ttl1, 11).errors).toBe(20);
    expect(() => applyActions(base, [{ op: 'sysctl.set', ns: 'underlay', key: 'net.ipv4.icmp_ratelimit', value: 'soon' }])).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    // A negative ratelimit is refused (proc_dointvec_ms_jiffies); a negative mask is an int like any (measured:
    // -5 is taken, cli sysctl-formats.txt case b).
    expect(() => applyActions(base, [{ op: 'sysctl.set', ns: 'underlay', key: 'net.ipv4.icmp_ratelimit', value: -1 }])).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(getNs(applyActions(base, [{ op: 'sysctl.set', ns: 'underlay', key: 'net.ipv4.icmp_ratemask', value: -1 }]), 'underlay').sysctl.icmpRatemask).toBe(-1);
  });

  it('an uncommitted send (a probe) leaves the bucket as it was', () => {
    const r = send(base, A, ttl1(0), { commit: false });
    expect(errorsBack(r.trace, A, 11)).toBe(1);
    expect(r.state.underlay.router.icmpPeers).toEqual({});
    expect(send(base, A, ttl1(0)).state.underlay.router.icmpPeers).not.toEqual({});
  });

  it('property: over any sends and clock moves, a destination gets at most 6 + ⌊W / 1 s⌋ time exceeded in any W ms', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 2500 }), fc.integer({ min: 0, max: 8 })), { minLength: 1, maxLength: 25 }), (plan) => {
      let s = base;
      const sent: number[] = [];
      for (const [gap, n] of plan) {
        s = later(s, gap);
        const r = burst(s, n, ttl1, 11);
        for (let i = 0; i < r.errors; i++) sent.push(s.now);
        s = r.state;
      }
      for (let i = 0; i < sent.length; i++) {
        for (let j = i; j < sent.length; j++) {
          if (j - i + 1 > 6 + Math.floor((sent[j]! - sent[i]!) / 1000)) return false;
        }
      }
      // and it is not silent: a send after a 6 s pause always gets its error
      return burst(later(s, 6000), 1, ttl1, 11).errors === 1;
    }), { numRuns: 60 });
  });
});

const ZERO = readFileSync(fileURLToPath(new URL('../__fixtures__/icmp-ratelimit-zero.txt', import.meta.url)), 'utf8');

/** Experiment `id` of icmp-ratelimit-zero.txt with R's icmp_ratelimit at `rl`: its result lines. */
function zeroCase(rl: 0 | 1000, id: string): string[] {
  const part = ZERO.split('## in R: ').find((x) => x.startsWith(`net.ipv4.icmp_ratelimit = ${rl} `));
  const section = part?.split('### ').find((x) => x.startsWith(`(${id}) `));
  if (section === undefined) throw new Error(`no experiment (${id}) at icmp_ratelimit ${rl} in icmp-ratelimit-zero.txt`);
  return section.split('\n').slice(1).filter((l) => l.trim() !== '');
}

/**
 * The script's `sched` lines (`  +MS ms to DST ttl T: RESULT`) replayed from a fresh source: each echo
 * request sent at its time, one by one; what came back, in the script's words.
 */
function replaySched(s0: ClusterState, lines: readonly string[]): string[] {
  let s = s0;
  const start = s0.now;
  return lines.map((l, i) => {
    const m = /^ {2}\+(\d+) ms to ([\d.]+) ttl (\d+): /.exec(l);
    if (!m) throw new Error(`not a sched line: ${l}`);
    s = { ...s, now: start + Number(m[1]) };
    const dst = m[2] === '10.0.1.2' ? bIp : parseIpv4(m[2]!);
    const r = send(s, A, icmpEcho(dst, { ttl: Number(m[3]), seq: i + 1 }));
    s = r.state;
    const what = errorsBack(r.trace, A, 3) > 0 ? 'net unreachable from 10.0.0.1' : errorsBack(r.trace, A, 11) > 0 ? 'time exceeded from 10.0.0.1' : 'nothing';
    return `${m[0]}${what}`;
  });
}

describe('net.ipv4.icmp_ratelimit=0, as the kernel oracle sets it, empties the bucket ip_error draws on (icmp-ratelimit-zero.txt)', () => {
  const withLimit = (rl: 0 | 1000) => applyActions(base, [{ op: 'sysctl.set', ns: 'underlay', key: 'net.ipv4.icmp_ratelimit', value: rl }]);
  const count = (lines: readonly string[], name: string) => Number(new RegExp(`${name}\\+(\\d+)`).exec(lines.join(' '))?.[1] ?? 0);

  it('a time exceeded leaves the next net unreachable to that source unsent for a second; with 1000 it is sent', () => {
    for (const rl of [0, 1000] as const) {
      for (const id of ['l', 'm', 'n']) expect(replaySched(withLimit(rl), zeroCase(rl, id))).toEqual(zeroCase(rl, id));
    }
    // The measurement itself, so that the replay above cannot agree on an empty fixture.
    expect(zeroCase(0, 'm').map((l) => l.replace(/^.*: /, ''))).toEqual(['time exceeded from 10.0.0.1', 'nothing', 'nothing', 'net unreachable from 10.0.0.1']);
  });

  it("ip_error's own errors keep their burst: 20 unrouted echo requests at once get 5 (2 with 1000)", () => {
    for (const rl of [0, 1000] as const) {
      expect(burst(withLimit(rl), 20, (i) => icmpEcho(UNROUTED, { seq: i + 1 }), 3).errors).toBe(count(zeroCase(rl, 'k'), 'OutDestUnreachs'));
    }
    expect(count(zeroCase(0, 'k'), 'OutDestUnreachs')).toBe(5);
  });

  it("one traceroute to an unrouted address spends the whole burst: a second one at once gets nothing, one 1.1 s later one", () => {
    // traceroute -q 1 -m 8 sends its 8 probes at once; R has no route, so each meets ip_error (TTL 1 too).
    const probes = (i: number) => udpPacket(UNROUTED, 33434 + i, { ttl: i + 1, srcPort: 40000 + i });
    for (const rl of [0, 1000] as const) {
      const [first, second] = zeroCase(rl, 'o').filter((l) => l.startsWith('  R: ')).map((l) => count([l], 'OutDestUnreachs'));
      const a = burst(withLimit(rl), 8, probes, 3);
      expect([a.errors, burst(a.state, 8, probes, 3).errors]).toEqual([first, second]);
      // A second later ip_error has a token again; with icmp_ratelimit 1000 icmp_send then wants one more.
      expect(burst(later(a.state, rl === 0 ? 1100 : 2100), 8, probes, 3).errors).toBe(1);
    }
    expect(zeroCase(0, 'p').find((l) => l.startsWith('1.1 s later: '))).toMatch(/ 1 10\.0\.0\.1 [\d.]+ ms !N $/);
    expect(zeroCase(0, 'o').filter((l) => l.startsWith('traceroute: '))).toEqual([expect.stringMatching(/ 1 10\.0\.0\.1 [\d.]+ ms !N $/), 'traceroute:  1 *  2 *  3 *  4 *  5 *  6 *  7 *  8 * ']);
  });
});

function formatSrc(s: ClusterState): string {
  const ip = Object.values(getNs(s, A).links).find((l) => l.kind === 'physical')!.addrs[0]!.ip;
  return [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.');
}

describe('icmpLimits: false (what the kernel oracle predicts with)', () => {
  it('sends every error a burst calls for and touches no bucket; a value that is not a boolean is refused', () => {
    let s = base;
    let errors = 0;
    for (let i = 0; i < 20; i++) {
      const r = send(s, A, ttl1(i), { icmpLimits: false });
      s = r.state;
      errors += errorsBack(r.trace, A, 11);
    }
    expect(errors).toBe(20);
    expect(Object.keys(getNs(s, 'underlay').icmpPeers)).toEqual([]);
    // The same burst with the limits: what the kernel sent (experiment (a)'s first burst).
    expect(burst(base, 20, ttl1, 11).errors).toBe(measured('a', 'OutTimeExcds')[0]);
    let code: string | undefined;
    try { send(base, A, ttl1(0), { icmpLimits: 'no' as never }); } catch (e) { code = (e as { code?: string }).code; }
    expect(code).toBe('INVALID_ARGUMENT');
  });
});
