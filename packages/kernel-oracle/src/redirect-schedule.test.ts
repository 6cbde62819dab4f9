import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UNDERLAY_NS } from '@podnet/core';
import { laneScript, run } from './kernel.js';
import { buildRecorded, predictProbes, redirectedSenders, REDIRECT_PAUSE_S, spacedGroups, touches } from './oracle.js';
import { DESIGNS } from './scenarios.js';

// scripts/redirect-race.sh: a pod B whose on-link route was deleted, after one ping to its neighbour A (the
// oracle's capture), pings and traces A through their node, side by side, one after the other, or 1.1 s apart.
const fixture = readFileSync(new URL('./__fixtures__/redirect-race.txt', import.meta.url), 'utf8');
const rows = (schedule: string) => fixture.split('\n').filter((l) => l.startsWith(schedule)).map((l) => l.replace(/\s+/g, ' '));

describe('the redirect race, measured (scripts/redirect-race.sh)', () => {
  it('side by side the trace goes either way; with no pause through the node; 1.1 s apart always direct', () => {
    const side = rows('side by side');
    expect(side).toHaveLength(5);
    expect(new Set(side.map((l) => / trace: ([\d. ]+?) ping:/.exec(l)![1]))).toEqual(new Set(['10.84.0.2', '10.84.0.1 10.84.0.2']));
    for (const l of rows('no pause')) expect(l).toContain('trace: 10.84.0.1 10.84.0.2 ping: ttl=64 node sent 1 redirects; pod B: none');
    const spaced = rows('spaced 1.1 s');
    expect(spaced).toHaveLength(5);
    for (const l of spaced) expect(l).toContain('trace: 10.84.0.2 ping: ttl=64 node sent 2 redirects; pod B: redirected');
  });
});

describe('probes that meet ICMP redirects run REDIRECT_PAUSE_S apart, on both sides (seed 2902, bridge faulted #48)', () => {
  // `pnpm oracle --seed 2902 --fault-path 48 --design bridge`: pod-1-2's on-link route deleted; the capture pings
  // pod-1-1 from pod-1-2, the first of the 8 pairs is the same ping and its traceroute. Before, podnet answered the
  // trace through the node (`10.84.0.1 10.84.0.2`), the kernel direct in 2 runs of 3.
  const bridge = DESIGNS.find((d) => d.name === 'bridge')!;
  // The topology as seed 2902 drew it before session 36's fault kinds changed what a seed draws (kept as JSON).
  const topo = { ...(JSON.parse(readFileSync(new URL('./__fixtures__/faulted-seed2902-48.json', import.meta.url), 'utf8')) as Parameters<typeof buildRecorded>[1]), label: 'faulted #48' };
  const ep = (sim: ReturnType<typeof buildRecorded>['sim'], key: string) => {
    const ip = sim.pod(key).ip!;
    return { name: key, ns: `pod/${key}`, ip: [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.') };
  };
  const ids = (sim: ReturnType<typeof buildRecorded>['sim']) => [...sim.nodes().map((n) => `node/${n.name}`), ...sim.pods().map((p) => `pod/${p.key}`), UNDERLAY_NS];
  const fresh = () => {
    const { sim, faults } = buildRecorded(bridge, topo);
    const b = ep(sim, 'default/pod-1-2');
    const a = ep(sim, 'default/pod-1-1');
    return { sim, faults, pair: [b, a] as const, other: [b, ep(sim, 'default/pod-2-1')] as const, capture: () => sim.ping(b.name, a.ip, { icmpLimits: false }) };
  };

  it('the capture ping makes pod-1-2 a redirected sender; its probes are the ones spaced', () => {
    const { sim, faults, pair, other, capture } = fresh();
    expect(faults[0]).toBe('ip route del 10.84.0.0/23 dev eth0 [pod/default/pod-1-2]');
    expect(redirectedSenders(sim.state, ids(sim))).toEqual(new Set());
    capture();
    const senders = redirectedSenders(sim.state, ids(sim));
    expect(senders).toEqual(new Set(['pod/default/pod-1-2']));
    const [mine, toOtherNode, fromOtherNode] = predictProbes(sim, [pair, other, [ep(sim, 'default/pod-2-1'), pair[1]]], () => false);
    for (const p of [mine!, toOtherNode!]) expect(touches(p.pingTraces, senders) && touches(p.traceTraces, senders)).toBe(true);
    // pod-2-1 → pod-1-1 never passes pod-1-2: it meets no redirect limit, and runs side by side with the rest.
    expect(touches(fromOtherNode!.pingTraces, senders) || touches(fromOtherNode!.traceTraces, senders)).toBe(false);
  });

  it('at one instant podnet traces through the node; spaced as the kernel now runs them, direct, as measured', () => {
    const once = fresh();
    once.capture();
    expect(predictProbes(once.sim, [once.pair], () => false)[0]!.trace).toBe('10.84.0.1 10.84.0.2');
    const spaced = fresh();
    spaced.capture();
    const t0 = spaced.sim.now();
    const [p] = predictProbes(spaced.sim, [spaced.pair], () => true);
    expect(p!.ping).toBe('reply from 10.84.0.2 ttl=64 bytes=64');
    expect(p!.trace).toBe('10.84.0.2');
    expect(spaced.sim.now() - t0).toBe(2 * REDIRECT_PAUSE_S * 1000);
  });

  it('the kernel side: job k starts (k + 1) × REDIRECT_PAUSE_S after the origin, each in its own lane', () => {
    const jobs = ['a', 'b', 'c'].map((x) => ({ k: 'pno1-t-p0', args: ['echo', x] }));
    const { groups, concurrency } = spacedGroups(jobs, REDIRECT_PAUSE_S);
    expect(groups.map((g) => g.map((j) => j.delay))).toEqual([[1.1], [2.2], [3.3]]);
    expect(concurrency).toBeGreaterThanOrEqual(3);
  });
});

describe('laneScript', () => {
  it('delayed programs alone in their lanes wait in the background: they start in the order of their delays', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pno-lane-'));
    try {
      const { groups, concurrency } = spacedGroups([0, 1, 2].map(() => ({ k: 'pno1-t-p0', args: ['date', '+%s.%N'] })), 0.3);
      const r = await run('sh', ['-c', laneScript(groups, [0, 1, 2], concurrency, dir)], { timeoutMs: 10_000 });
      expect(r.code).toBe(0);
      const at = await Promise.all([0, 1, 2].map(async (i) => Number(await readFile(join(dir, `${i}.0.o`), 'utf8'))));
      // Before: `sleep 0.9; date … &` first (the longest lane first), in the shell's foreground, so the
      // programs started at 0.9, 1.5 and 1.8 s: in reverse.
      expect(at[1]! - at[0]!).toBeGreaterThan(0.2);
      expect(at[2]! - at[1]!).toBeGreaterThan(0.2);
      expect(at[2]! - at[0]!).toBeLessThan(1.2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the recording design runs no agent loops, as nothing runs them in the namespaces', () => {
  it('calico-none: a BIRD route deleted stays deleted when the oracle moves podnet\'s clock', async () => {
    const { SCENARIOS } = await import('./scenarios.js');
    const { createSimulator, ipRoute } = await import('@podnet/core');
    const calico = DESIGNS.find((d) => d.name === 'calico-none')!;
    const topo = SCENARIOS.find((s) => s.topology.label === 'calico across two segments')!.topology;
    const del = (sim: ReturnType<typeof createSimulator>) => {
      const line = ipRoute(sim.state, 'node/node-1').find((l) => / via .* proto bird/.test(l))!;
      const [dst, , via] = line.split(' ');
      sim.apply({ op: 'route.del', ns: 'node/node-1', dst: dst!, via: via!, dev: 'eth0' });
      sim.advance(3 * REDIRECT_PAUSE_S * 1000);
      return ipRoute(sim.state, 'node/node-1').filter((l) => l.startsWith(`${dst} `));
    };
    // The design itself: BIRD's scan (every 2 s) installs the route again.
    expect(del(createSimulator({ ...topo.settings, cni: calico.make(), nodes: [...topo.nodes], pods: [...topo.pods], checks: 'off' }))).toHaveLength(1);
    expect(del(buildRecorded(calico, topo).sim)).toEqual([]);
  });
});
