/**
 * What odd values of the per-device IPv4 sysctls mean for forwarding, pinned to what Linux 6.18 did with
 * ping through a router: packages/cli/scripts/sysctl-formats.sh, cases (f)–(h) of its output
 * (packages/cli/src/__fixtures__/sysctl-formats.txt, read from there: one recording, two packages' tests).
 * The script's A ─ r1 :R: r2 ─ B is node-a (dc1) ─ dc1 :underlay router: dc2 ─ node-b (dc2) here.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatIpv4, parseIpv4 } from '../addr/ipv4.js';
import { bare } from '../cni/testing/bare.js';
import { addNodeState, createClusterState } from '../model/cluster.js';
import { getNs } from '../model/lookup.js';
import { readSysctl } from '../model/sysctl.js';
import type { ClusterState } from '../model/types.js';
import { applyActions, type Action } from '../ops/actions.js';
import { icmpEcho } from './build.js';
import { send } from './engine.js';

const FIXTURE = readFileSync(fileURLToPath(new URL('../../../cli/src/__fixtures__/sysctl-formats.txt', import.meta.url)), 'utf8');

/** One measured ping of a case: the router's `sysctl -w` words, whether the request reached B, ping's status. */
interface Measured { readonly writes: string[]; readonly reached: number; readonly rc: number; readonly src: boolean; readonly noRouteBack: boolean }

/** Case `id`'s pings, in order ("(R has no route back …)" marks the ones after the route was deleted). */
function measured(id: string): Measured[] {
  const section = FIXTURE.split('### ').find((s) => s.startsWith(`(${id}) `));
  if (section === undefined) throw new Error(`no case (${id}) in sysctl-formats.txt`);
  const out: Measured[] = [];
  let noRouteBack = false;
  let cur: { writes: string[]; src: boolean; reached?: number } | null = null;
  for (const line of section.split('\n')) {
    if (line.startsWith('(R has no route back')) noRouteBack = true;
    const w = /^== R: sysctl -w ([^;]+?)(; A: ping -I \S+)?$/.exec(line);
    if (w) cur = { writes: w[1]!.split(' '), src: w[2] !== undefined };
    const r = /^request reached B: (\d+)$/.exec(line);
    if (r && cur) cur.reached = Number(r[1]);
    const rc = /^rc=(\d+)$/.exec(line);
    if (rc && cur && cur.reached !== undefined) { out.push({ writes: cur.writes, reached: cur.reached, rc: Number(rc[1]), src: cur.src, noRouteBack }); cur = null; }
  }
  return out;
}

const settings = { podCidr: '10.244.0.0/16', underlay: { segments: [{ name: 'dc1', cidr: '172.16.0.0/24', gateway: '172.16.0.1' }, { name: 'dc2', cidr: '172.16.1.0/24', gateway: '172.16.1.1' }] } };
const base = [['a', 'dc1'], ['b', 'dc2']].reduce((st, [n, seg]) => addNodeState(st, { name: `node-${n!}`, segment: seg! }, bare).state, createClusterState(settings, bare));
const A = 'node/node-a';
const B = 'node/node-b';
const R = 'underlay';
const bIp = Object.values(getNs(base, B).links).find((l) => l.kind === 'physical')!.addrs[0]!.ip;
/** The script's 10.9.0.1, an address A sends from that R routes back out of r2 (dc2). */
const SPOOF = parseIpv4('10.9.0.1');

/** The script's `sysctl -w KEY=VALUE` on R, with r1 and r2 as dc1 and dc2. */
const writes = (words: readonly string[]): Action[] => words.map((w) => {
  const [key, value] = w.replace('.r1.', '.dc1.').replace('.r2.', '.dc2.').split('=') as [string, string];
  return { op: 'sysctl.set', ns: R, key, value };
});

/** One ping A → B (from `src`): whether the request reached B, and ping's status (0: a reply came back). */
function ping(s: ClusterState, src?: number): { reached: number; rc: number } {
  const t = send(s, A, icmpEcho(bIp, src === undefined ? {} : { src }), { commit: false }).trace;
  const reached = t.fates.filter((f) => f.ns === B && f.role === 'original' && f.disposition === 'delivered').length;
  const replied = t.fates.some((f) => f.ns === A && f.role === 'echo-reply' && f.disposition === 'delivered');
  return { reached, rc: replied ? 0 : 1 };
}

describe('what odd sysctl values mean for forwarding, as Linux 6.18 forwards (sysctl-formats.txt)', () => {
  it('(f) forwarding: any non-zero value forwards (2, -1, 0x10); the device a packet comes in by decides', () => {
    const m = measured('f');
    expect(m.length).toBe(11);
    let s = base;
    for (const { writes: w, reached, rc } of m) {
      s = applyActions(s, writes(w));
      expect(ping(s), w.join(' ')).toEqual({ reached, rc });
    }
  });

  it('(f) writing the value ip_forward has changes no device; a new value sets them all', () => {
    let s = applyActions(base, writes(['net.ipv4.ip_forward=1', 'net.ipv4.conf.r1.forwarding=0', 'net.ipv4.ip_forward=1']));
    expect(readSysctl(getNs(s, R), 'net.ipv4.conf.dc1.forwarding')).toBe(0);
    s = applyActions(s, writes(['net.ipv4.ip_forward=7']));
    expect(readSysctl(getNs(s, R), 'net.ipv4.conf.dc1.forwarding')).toBe(7);
    expect(readSysctl(getNs(s, R), 'net.ipv4.conf.default.forwarding')).toBe(7);
  });

  it('(g) rp_filter: max(all, dev) decides; 1 is strict, 5, 3, 2 and -1 loose, 0 (or a negative max) off', () => {
    const m = measured('g');
    expect(m.length).toBe(17);
    let s = applyActions(base, [{ op: 'route.add', ns: R, dst: '10.9.0.0/24', via: formatIpv4(bIp), dev: 'dc2' }]);
    let routeGone = false;
    for (const { writes: w, reached, rc, src, noRouteBack } of m) {
      expect(src).toBe(true);
      if (noRouteBack && !routeGone) { s = applyActions(s, [{ op: 'route.del', ns: R, dst: '10.9.0.0/24' }]); routeGone = true; }
      s = applyActions(s, writes(w));
      expect(ping(s, SPOOF), `${w.join(' ')}${noRouteBack ? ' (no route back)' : ''}`).toEqual({ reached, rc });
    }
  });

  it('(h) proxy_arp: all OR the device, any non-zero value answers, with forwarding on', () => {
    const m = measured('h');
    expect(m.length).toBe(7);
    // The underlay's segments answer no ARP by proxy, so here the script's three are node-b (A, a1
    // 10.1.0.1/24), node-a (R: r1 10.1.0.2/24, then its NIC on dc1) and the underlay router (B, 172.16.0.1).
    // A reaches dc1's prefix on-link out of a1: it ARPs for B, and only R's proxy ARP on r1 answers.
    const rA = 'node/node-a';
    const nA = 'node/node-b';
    const rNic = Object.values(getNs(base, rA).links).find((l) => l.kind === 'physical')!;
    const wired = applyActions(base, [
      { op: 'link.add', ns: rA, name: 'r1', kind: 'veth', up: true, peer: { ns: nA, name: 'a1', up: true } },
      { op: 'addr.add', ns: rA, dev: 'r1', addr: '10.1.0.2/24' },
      { op: 'addr.add', ns: nA, dev: 'a1', addr: '10.1.0.1/24' },
      { op: 'route.add', ns: nA, dst: '172.16.0.0/24', dev: 'a1', scope: 'link' },
      { op: 'route.add', ns: R, dst: '10.1.0.0/24', via: formatIpv4(rNic.addrs[0]!.ip), dev: 'dc1' },
    ]);
    const routerIp = parseIpv4('172.16.0.1');
    for (const { writes: w, reached, rc } of m) {
      // Each case from a fresh A (the script flushes A's neighbours), R's settings as the case leaves them.
      const s = applyActions(wired, w.map((word) => {
        const [key, value] = word.split('=') as [string, string];
        return { op: 'sysctl.set', ns: rA, key, value } as const;
      }));
      const t = send(s, nA, icmpEcho(routerIp), { commit: false }).trace;
      const got = {
        reached: t.fates.filter((f) => f.ns === R && f.role === 'original' && f.disposition === 'delivered').length,
        rc: t.fates.some((f) => f.ns === nA && f.role === 'echo-reply' && f.disposition === 'delivered') ? 0 : 1,
      };
      expect(got, w.join(' ')).toEqual({ reached, rc });
    }
  });

  it('sysctl.set refuses what the kernel refuses, with a typed error and the state unchanged', () => {
    for (const value of ['abc', '1x', '+4', '', '2147483648', '-2147483649', 1.5]) {
      expect(() => applyActions(base, [{ op: 'sysctl.set', ns: R, key: 'net.ipv4.ip_forward', value }]), String(value)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
    expect(() => applyActions(base, [{ op: 'sysctl.set', ns: R, key: 'net.ipv4.conf.eth9.rp_filter', value: 1 }])).toThrow(expect.objectContaining({ code: 'LINK_NOT_FOUND' }));
    expect(() => applyActions(base, [{ op: 'sysctl.set', ns: R, key: 'net.ipv4.conf.all.nosuch', value: 1 }])).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
    // Two writes in one transition, the second bad: neither is kept.
    expect(() => applyActions(base, writes(['net.ipv4.conf.all.rp_filter=5', 'net.ipv4.ip_forward=x']))).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(readSysctl(getNs(base, R), 'net.ipv4.conf.all.rp_filter')).toBe(0);
    // What it takes, as proc_dointvec reads it: 0x10 is 16, 010 is 8, "-0x10" -16, "1 2" 1.
    for (const [value, reads] of [['0x10', 16], ['010', 8], ['-0x10', -16], ['1 2', 1], [' 3', 3], [-2147483648, -2147483648]] as const) {
      expect(readSysctl(getNs(applyActions(base, [{ op: 'sysctl.set', ns: R, key: 'net.ipv4.conf.dc1.rp_filter', value }]), R), 'net.ipv4.conf.dc1.rp_filter'), String(value)).toBe(reads);
    }
  });

  it('a device deleted takes its values with it; one made later takes conf.default’s', () => {
    let s = applyActions(base, [
      { op: 'sysctl.set', ns: A, key: 'net.ipv4.conf.default.rp_filter', value: 5 },
      { op: 'link.add', ns: A, name: 'd1', kind: 'veth', peer: { ns: A, name: 'e1' } },
      { op: 'sysctl.set', ns: A, key: 'net.ipv4.conf.d1.proxy_arp', value: 9 },
    ]);
    expect(readSysctl(getNs(s, A), 'net.ipv4.conf.d1.rp_filter')).toBe(5);
    expect(readSysctl(getNs(s, A), 'net.ipv4.conf.d1.proxy_arp')).toBe(9);
    s = applyActions(s, [{ op: 'link.del', ns: A, name: 'd1' }, { op: 'sysctl.set', ns: A, key: 'net.ipv4.conf.default.rp_filter', value: 0 }]);
    expect(readSysctl(getNs(s, A), 'net.ipv4.conf.d1.rp_filter')).toBeNull();
    expect(Object.keys(getNs(s, A).sysctl.conf ?? {})).toEqual(['default']);
    s = applyActions(s, [{ op: 'link.add', ns: A, name: 'd1', kind: 'veth', peer: { ns: A, name: 'e1' } }]);
    expect(readSysctl(getNs(s, A), 'net.ipv4.conf.d1.proxy_arp')).toBe(0);
  });
});
