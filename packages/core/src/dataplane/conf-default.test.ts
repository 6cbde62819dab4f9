/**
 * net.ipv4.conf.default and `all` for the per-device IPv4 settings, pinned to what Linux 6.18 did:
 * packages/cli/scripts/conf-default-formats.sh (kernel 6.18.44), whose output is
 * __fixtures__/conf-default-formats.txt. Cases (a)–(c) are reads of /proc/sys/net/ipv4/conf/SCOPE/NAME after
 * writes of default and devices made before and after them; they are replayed here in the underlay router's
 * namespace, with d1 (no address), d2 (192.0.2.1/24) and d3, d4 veths made as the script made them. Cases
 * (d)–(g) are ICMP echo request frames into a router R's eth0 from A, beyond which lies B, with R's `all` and
 * eth0 values written; here R is the underlay router, eth0 its dc1 (node-a behind it, node-b on dc2), and in
 * (g) a veth x1 made after conf.default was written.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIpv4, parseIpv4, type Ipv4 } from '../addr/ipv4.js';
import { bare } from '../cni/testing/bare.js';
import { addNodeState, createClusterState } from '../model/cluster.js';
import { getNs, UNDERLAY_NS } from '../model/lookup.js';
import { DEVCONF_NAMES, readSysctl, sysctlKeys } from '../model/sysctl.js';
import type { ClusterState } from '../model/types.js';
import { applyActions, type Action } from '../ops/actions.js';
import { icmpEcho } from './build.js';
import { receive } from './engine.js';
import type { Trace } from './types.js';

const FIXTURE = readFileSync(fileURLToPath(new URL('../__fixtures__/conf-default-formats.txt', import.meta.url)), 'utf8');
/** The fixture's sections by letter, each as its lines (the heading left out). */
const SECTIONS = new Map(FIXTURE.split('\n### ').slice(1).map((s) => [/^\((\w)\)/.exec(s)![1]!, s.split('\n').slice(1)]));
const section = (id: string): string[] => {
  const s = SECTIONS.get(id);
  if (s === undefined) throw new Error(`no case (${id}) in the recording`);
  return s;
};

const settings = { podCidr: '10.244.0.0/16', underlay: { segments: [{ name: 'dc1', cidr: '172.16.0.0/24', gateway: '172.16.0.1' }, { name: 'dc2', cidr: '172.16.1.0/24', gateway: '172.16.1.1' }] } };
const base = [['a', 'dc1'], ['b', 'dc2']].reduce((st, [n, seg]) => addNodeState(st, { name: `node-${n!}`, segment: seg! }, bare).state, createClusterState(settings, bare));
const A = 'node/node-a';
const B = 'node/node-b';
const ipOf = (ns: string): Ipv4 => Object.values(getNs(base, ns).links).find((l) => l.kind === 'physical')!.addrs[0]!.ip;
/** The script's addresses as the model has them. */
const MAP: Record<string, string> = { '10.37.0.2': formatIpv4(ipOf(A)), '10.37.0.1': '172.16.0.1', '10.37.1.1': '172.16.1.1', '10.37.1.2': formatIpv4(ipOf(B)) };
const mapAddr = (a: string): string => MAP[a] ?? a;

const set = (key: string, value: string): Action => ({ op: 'sysctl.set', ns: UNDERLAY_NS, key, value });
const veth = (name: string, peer: string): Action => ({ op: 'link.add', ns: UNDERLAY_NS, name, kind: 'veth', up: true, peer: { ns: UNDERLAY_NS, name: peer } });
/** The `k=v` writes of a `sysctl -w` line. */
const writes = (line: string): Action[] => [...line.matchAll(/(net\.\S+)=(\S+)/g)].map((m) => set(m[1]!, m[2]!));
/** The `SCOPE.NAME=V` or `SCOPE: NAME=V …` reads of a line, as [key, value]. */
function reads(line: string, dev: Record<string, string> = {}): [string, number][] {
  const scoped = /^ {2}(\S+): (.*)$/.exec(line);
  const pairs = scoped !== null
    ? [...scoped[2]!.matchAll(/(\w+)=(-?\d+)/g)].map((m) => [scoped[1]!, m[1]!, m[2]!] as const)
    : [...line.matchAll(/(\w+)\.(\w+)=(-?\d+)/g)].map((m) => [m[1]!, m[2]!, m[3]!] as const);
  return pairs.map(([scope, name, v]) => [`net.ipv4.conf.${dev[scope] ?? scope}.${name}`, Number(v)]);
}
const read = (st: ClusterState, key: string): number | null => readSysctl(getNs(st, UNDERLAY_NS), key);

describe('conf.default reaches the devices as Linux 6.18 (conf-default-formats.txt, cases a–c)', () => {
  it('a new namespace, default written, devices made after it, one deleted and made again: every read as the kernel', () => {
    // R forwards and the script's S does not: ip_forward 0 first (which sets default's and every device's).
    let st = applyActions(base, [set('net.ipv4.ip_forward', '0'), veth('d1', 'e1'), veth('d2', 'e2'), { op: 'addr.add', ns: UNDERLAY_NS, dev: 'd2', addr: '192.0.2.1/24' }]);
    let checked = 0;
    for (const id of ['a', 'b', 'c']) {
      for (const line of section(id)) {
        const add = /^== ip link add (\S+) type veth peer name (\S+) netns P$/.exec(line);
        const del = /^== ip link del (\S+)$/.exec(line);
        if (line.startsWith('== sysctl -w ')) st = applyActions(st, writes(line));
        else if (add !== null) st = applyActions(st, [veth(add[1]!, add[2]!)]);
        else if (del !== null) st = applyActions(st, [{ op: 'link.del', ns: UNDERLAY_NS, name: del[1]! }]);
        else for (const [key, v] of reads(line)) { expect(read(st, key), `(${id}) ${key}`).toBe(v); checked++; }
      }
    }
    // (a) 5 scopes, (b) 5 + d3, (c) 3 + 3 + d4 + d3: 19 lines of the 6 names.
    expect(checked).toBe(19 * 6);
  });

  it('writing default reaches route_localnet of no device that exists, log_martians and accept_local of the address-less ones', () => {
    const st = applyActions(base, [veth('d1', 'e1'), set('net.ipv4.conf.default.route_localnet', '3'), set('net.ipv4.conf.default.log_martians', '3'), set('net.ipv4.conf.default.accept_local', '3')]);
    expect(['route_localnet', 'log_martians', 'accept_local'].map((n) => read(st, `net.ipv4.conf.d1.${n}`))).toEqual([0, 3, 3]);
    // dc1 has an address, lo 127.0.0.1: neither takes any of them.
    for (const dev of ['dc1', 'lo']) expect(['route_localnet', 'log_martians', 'accept_local'].map((n) => read(st, `net.ipv4.conf.${dev}.${n}`))).toEqual([0, 0, 0]);
  });

  it('a device made later reads what conf.default reads, for every name, whatever was written before it', () => {
    const scope = fc.constantFrom('all', 'default', 'dc1', 'd1');
    const write = fc.record({ scope, name: fc.constantFrom(...DEVCONF_NAMES), v: fc.constantFrom('0', '1', '2', '3', '-1') });
    fc.assert(fc.property(fc.array(write, { maxLength: 12 }), (ws) => {
      const st = applyActions(base, [veth('d1', 'e1'), ...ws.map((w) => set(`net.ipv4.conf.${w.scope}.${w.name}`, w.v)), veth('x1', 'x1p')]);
      for (const n of DEVCONF_NAMES) expect(read(st, `net.ipv4.conf.x1.${n}`), n).toBe(read(st, `net.ipv4.conf.default.${n}`));
    }), { numRuns: 150 });
  });

  it('sysctl -a lists conf.default of route_localnet, log_martians and accept_local as the kernel has them', () => {
    const keys = sysctlKeys(getNs(base, UNDERLAY_NS));
    for (const n of ['route_localnet', 'log_martians', 'accept_local']) {
      for (const sc of ['all', 'default', 'dc1', 'lo']) expect(keys).toContain(`net.ipv4.conf.${sc}.${n}`);
    }
  });
});

/** What a case came to, by R's and B's counters: delivered at R, forwarded to B, or dropped at R; and the log. */
interface Outcome { readonly at: 'R' | 'B' | 'dropped'; readonly log: readonly string[] }
const count = (text: string, name: string): number => Number(new RegExp(`${name}\\+(\\d+)`).exec(text)?.[1] ?? 0);

function modelOutcome(t: Trace): Outcome {
  const fates = t.fates.filter((f) => f.role !== 'arp');
  const first = fates[0]!;
  return {
    at: fates.some((f) => f.ns === B) ? 'B' : first.ns === UNDERLAY_NS && first.disposition === 'delivered' ? 'R' : 'dropped',
    log: t.steps.flatMap((s) => /dmesg: "(.*)"$/.exec(s.note)?.[1] ?? []),
  };
}

/**
 * Replays a section of frames: `== R: SCOPE.NAME=V …` lines are what R read (after writing them, in d–f),
 * `case` lines a frame into `dev` with what R and B counted and the lines dmesg gained.
 */
function replayFrames(id: string, st0: ClusterState, dev: string, writeReads: boolean): number {
  const lines = section(id);
  const names: Record<string, string> = { eth0: dev };
  let st = st0;
  let cases = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const c = /^case src=(\S+) dst=(\S+): R (.*); B (.*)$/.exec(line);
    if (line.startsWith('== R: sysctl -w ')) {
      const m = /default\.\{([^}]+)\}=(\S+)/.exec(line)!;
      st = applyActions(st, m[1]!.split(',').map((n) => set(`net.ipv4.conf.default.${n}`, m[2]!)));
    } else if (line.startsWith('== R: ')) {
      const rs = reads(line, names);
      if (writeReads) st = applyActions(st, rs.map(([k, v]) => set(k, String(v))));
      for (const [k, v] of rs) expect(read(st, k), `(${id}) ${k}`).toBe(v);
    } else if (c !== null) {
      const [, src, dst, r, b] = c;
      const log: string[] = [];
      for (let j = i + 1; j < lines.length && lines[j]!.startsWith('  log: '); j++) log.push(lines[j]!.slice('  log: '.length).replace(/\d+\.\d+\.\d+\.\d+/g, mapAddr).replace('eth0', dev));
      const kernel: Outcome = { at: count(b!, 'IpInReceives') > 0 ? 'B' : count(r!, 'IcmpInEchos') > 0 ? 'R' : 'dropped', log };
      const t = receive(st, UNDERLAY_NS, dev, icmpEcho(parseIpv4(mapAddr(dst!)), { src: parseIpv4(mapAddr(src!)), seq: 1 }), { commit: false }).trace;
      expect(modelOutcome(t), `(${id}) ${line}; R ${JSON.stringify(Object.fromEntries(['route_localnet', 'accept_local', 'log_martians'].map((n) => [n, read(st, `net.ipv4.conf.all.${n}`)])))}`).toEqual(kernel);
      cases++;
    }
  }
  return cases;
}

describe('`all` OR the device decides route_localnet, accept_local and log_martians, as Linux 6.18 (cases d–g)', () => {
  it('(d) route_localnet: all 1 or -1 alone, dc1 1 or 5 alone let 127/8 in, to R and forwarded', () => {
    expect(replayFrames('d', base, 'dc1', true)).toBe(10);
  });
  it('(e) accept_local: all 1 alone or dc1 1 or 5 alone let R take its own address as a source', () => {
    expect(replayFrames('e', base, 'dc1', true)).toBe(9);
  });
  it('(f) log_martians: all 1 alone or dc1 1 or 5 alone log the martian; both 0 do not', () => {
    expect(replayFrames('f', base, 'dc1', true)).toBe(6);
  });
  it('(g) a device made after default=1 has the three on as its own; writing default 0 later leaves it on', () => {
    const g = section('g');
    const before = writes(g.find((l) => l.startsWith('== R, before its devices exist: '))!);
    expect(before).toHaveLength(3);
    // eth0 had an address there (so a later default write would pass it by for any name): x1 has one here.
    const st = applyActions(base, [...before, veth('x1', 'x1p'), { op: 'addr.add', ns: UNDERLAY_NS, dev: 'x1', addr: '192.0.2.1/24' }]);
    expect(replayFrames('g', st, 'x1', false)).toBe(4);
  });
});
