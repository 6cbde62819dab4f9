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
      // seed-lab.sh sleeps 1 s after each pair's traceroute ("let ICMP error rate-limit tokens refill").
      sim.advance(1000);
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

describe('MTU behaviour, against the kernel (experiment b)', () => {
  const step = (name: string) => fixture.experiments['b']!.steps.find((s) => s.step === name)!;
  const fromLine = (name: string) => lines(step(name).stdout).filter((l) => l.startsWith('From ') || /bytes from/.test(l)).map((l) => l.replace(/ time=.*$/, ''));

  it('pod MTU raised to 1500 above flannel.1 (1450): Frag needed from cni0, then the path MTU is remembered', () => {
    const sim = simulatorFromSpec(seedLabSpec());
    const veth = Object.values(sim.node('node-1').host.links).find((l) => l.kind === 'veth' && l.peer.ns === 'pod/default/pod-a')!;
    sim.apply([
      { op: 'link.set', ns: 'node/node-1', name: veth.name, mtu: 1500 },
      { op: 'link.set', ns: 'pod/default/pod-a', name: 'eth0', mtu: 1500 },
    ]);
    // First DF packet of 1500 bytes: node-1 cannot forward it into flannel.1 and says so from cni0.
    const first = sim.ping('pod-a', '10.244.2.3', { size: 1472 });
    expect(first.lines.filter((l) => l.startsWith('From '))).toEqual(fromLine('mtu1500-df1472-first'));
    // The kernel now has a route exception (mtu 1450): the second attempt fails inside pod-a.
    const second = sim.ping('pod-a', '10.244.2.3', { size: 1472 });
    expect(second.ok).toBe(false);
    expect(second.lines).toContain('ping: local error: message too long, mtu=1450');
    expect(step('mtu1500-routeget-after').stdout).toContain('mtu 1450');
    // Without DF the kernel fragments and the reply comes back.
    const nodf = sim.ping('pod-a', '10.244.2.3', { size: 1472, df: false });
    expect(nodf.lines.filter((l) => /bytes from/.test(l))).toEqual(fromLine('mtu1500-nodf1472'));
    // To pod-b on the same node the frame is bridged, not routed: the 1450-byte port drops it silently.
    const sameNode = sim.ping('pod-a', '10.244.1.5', { size: 1472 });
    expect(step('mtu1500-df1472-to-pod-b').stdout).toContain('0 received');
    expect(sameNode.ok).toBe(false);
    expect(sameNode.errors).toEqual([]);
    expect(sim.ping('pod-a', '10.244.1.5', { size: 1422 }).lines.filter((l) => /bytes from/.test(l))).toEqual(fromLine('mtu1500-df1422-to-pod-b'));
    // 600 s later the exception has expired: the first attempt gets Frag needed again.
    sim.advance(600_001);
    expect(sim.ping('pod-a', '10.244.2.3', { size: 1472 }).errors[0]?.message).toBe('Frag needed and DF set (mtu = 1450)');
  });

  it('at the default MTU a 1423-byte payload with DF fails locally and without DF gets through', () => {
    const sim = simulatorFromSpec(seedLabSpec());
    expect(sim.ping('pod-a', '10.244.2.3', { size: 1422 }).lines.filter((l) => /bytes from/.test(l))).toEqual(fromLine('df1422'));
    expect(sim.ping('pod-a', '10.244.2.3', { size: 1423 }).ok).toBe(false);
    expect(sim.ping('pod-a', '10.244.2.3', { size: 1423, df: false }).lines.filter((l) => /bytes from/.test(l))).toEqual(fromLine('nodf1423'));
  });
});

describe('broken routes, against the kernel (experiments e, f, g)', () => {
  const out = (e: string, name: string) => {
    const s = fixture.experiments[e]!.steps.find((x) => x.step === name)! as { stdout: string; stderr?: string };
    return lines(`${s.stdout}\n${s.stderr ?? ''}`).map((l) => l.replace(/ time=.*$/, '').replace(/  [\d.]+ ms$/, ''));
  };
  const pingLines = (ls: readonly string[]) => ls.filter((l) => l.startsWith('From ') || /bytes from/.test(l) || l.startsWith('ping: '));

  it('a pod without a default route: "Network is unreachable" for the node, the /16 still reaches pods, then nothing', () => {
    const sim = simulatorFromSpec(seedLabSpec());
    sim.apply({ op: 'route.del', ns: 'pod/default/pod-a', dst: 'default' });
    expect(ipRoute(sim.state, 'pod/default/pod-a')).toEqual(out('e', 'del-default'));
    expect(sim.ping('pod-a', '192.168.1.12').lines).toEqual(pingLines(out('e', 'ping-node-2')));
    expect(pingLines(sim.ping('pod-a', '10.244.2.3').lines)).toEqual(pingLines(out('e', 'ping-pod-c-still-via-16')));
    sim.apply({ op: 'route.del', ns: 'pod/default/pod-a', dst: '10.244.0.0/16' });
    expect(sim.ping('pod-a', '10.244.2.3').lines).toEqual(pingLines(out('e', 'ping-pod-c-no-route')));
  });

  it('a flannel route deleted on node-1: pods get silence (traceroute 10.244.1.1 then *), the node gets Net Unreachable from the router', () => {
    const sim = simulatorFromSpec(seedLabSpec());
    sim.apply({ op: 'route.del', ns: 'node/node-1', dst: '10.244.2.0/24' });
    expect(ipRoute(sim.state, 'node/node-1')).toEqual(out('f', 'del-route'));
    expect(pingLines(sim.ping('pod-a', '10.244.2.3').lines)).toEqual(pingLines(out('f', 'ping')));
    const kernelHops = out('f', 'traceroute').filter((l) => /^\s*\d+ /.test(l)).map((l) => l.trim().split(/\s+/)[1]);
    expect(sim.traceroute('pod-a', '10.244.2.3', { maxHops: 10 }).hops.map((h) => h.address ?? '*')).toEqual(kernelHops);
    expect(pingLines(sim.ping('node-1', '10.244.2.3').lines)).toEqual(pingLines(out('f', 'node-1-ping-from-node')));
    sim.apply({ op: 'route.replace', ns: 'node/node-1', dst: '10.244.2.0/24', via: '10.244.2.0', dev: 'flannel.1', onlink: true });
    expect(ipRoute(sim.state, 'node/node-1')).toEqual(out('f', 'restore'));
    expect(sim.ping('pod-a', '10.244.2.3').ok).toBe(true);
  });

  it('an off-link gateway is refused with the kernel\'s words', () => {
    const sim = simulatorFromSpec(seedLabSpec());
    for (const [name, dst] of [['offlink-gw-existing-prefix', '10.244.2.0/24'], ['offlink-gw-new-prefix', '10.99.0.0/16']] as const) {
      expect(() => sim.apply({ op: 'route.add', ns: 'node/node-1', dst, via: '192.168.2.12', dev: 'eth0' })).toThrow(out('g', name)[0]!.replace(/\.$/, ''));
    }
  });
});
