/**
 * The seed lab against real Linux: packages/kernel-oracle/scripts/seed-lab.sh built the same topology
 * in network namespaces (kernel 6.18, iproute2 6.1) and recorded every pair's ping and traceroute,
 * the source address the kernel chose, and each node's and pod's routing table. podnet must agree.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatIpv4, ipRoute } from '@podnet/core';
import { describe, expect, it } from 'vitest';
import { seedLabSpec, simulatorFromSpec } from './spec.js';

interface Fixture {
  pairs: { from: string; to: string; dst: string; ping: boolean; hops: (string | null)[]; src: string }[];
  nodes: Record<string, { ipRoute: string }>;
  pods: Record<string, { ipRoute: string }>;
  experiments: Record<string, { steps: { cmd: string; ns: string; stdout: string; step?: string }[] }>;
}

const fixture = JSON.parse(readFileSync(fileURLToPath(new URL('../../core/src/__fixtures__/kernel-seed-lab.json', import.meta.url)), 'utf8')) as Fixture;
const lines = (text: string) => text.split('\n').map((l) => l.trimEnd()).filter((l) => l.length > 0);
const nsOf = (name: string) => (name.startsWith('node-') ? `node/${name}` : `pod/default/${name}`);

describe('podnet agrees with the Linux kernel on the seed lab', () => {
  it(`every pair (${fixture.pairs.length}): ping outcome, traceroute hops, and the source address`, () => {
    const sim = simulatorFromSpec(seedLabSpec());
    const mismatches: string[] = [];
    for (const p of fixture.pairs) {
      const ping = sim.ping(p.from, p.dst);
      const hops = sim.traceroute(p.from, p.dst).hops.map((h) => h.address);
      const src = ping.traces[0]!.src === null ? null : formatIpv4(ping.traces[0]!.src);
      if (ping.ok !== p.ping) mismatches.push(`${p.from} → ${p.dst}: ping ${ping.ok} (kernel ${p.ping})`);
      if (JSON.stringify(hops) !== JSON.stringify(p.hops)) mismatches.push(`${p.from} → ${p.dst}: hops ${JSON.stringify(hops)} (kernel ${JSON.stringify(p.hops)})`);
      if (src !== p.src) mismatches.push(`${p.from} → ${p.dst}: src ${src} (kernel ${p.src})`);
    }
    expect(mismatches).toEqual([]);
    expect(fixture.pairs.length).toBeGreaterThanOrEqual(72);
  });

  it('every node and pod routing table, line for line', () => {
    const sim = simulatorFromSpec(seedLabSpec());
    for (const [name, n] of Object.entries(fixture.nodes)) expect(ipRoute(sim.state, nsOf(name)), name).toEqual(lines(n.ipRoute));
    for (const [name, p] of Object.entries(fixture.pods)) expect(ipRoute(sim.state, nsOf(name)), name).toEqual(lines(p.ipRoute));
  });

  it('an address missing on another node: the kernel and podnet both answer from that node\'s flannel.1', () => {
    const step = fixture.experiments['d']!.steps.find((s) => s.cmd === 'ping -c 1 -W 5 10.244.2.99')!;
    const kernelLine = lines(step.stdout).find((l) => l.startsWith('From '))!;
    const sim = simulatorFromSpec(seedLabSpec());
    expect(sim.ping('pod-a', '10.244.2.99').lines).toContain(kernelLine);
  });
});
