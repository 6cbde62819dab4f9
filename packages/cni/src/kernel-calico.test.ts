/**
 * calico against real Linux: packages/kernel-oracle/scripts/calico.sh built four calico labs in network
 * namespaces (kernel 6.18, iproute2 6.1) — encapsulation none on one segment, none across two segments
 * without and with ToR peering, and VXLAN across two segments — and recorded every pair's ping and
 * traceroute, the source address the kernel chose, every routing table and the neighbour tables after
 * the pings. podnet, given the same spec, must agree pair by pair and table by table.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatIpv4, ipRoute, type Simulator } from '@podnet/core';
import { describe, expect, it } from 'vitest';
import type { CalicoOptions } from './designs/calico.js';
import { simulatorFromSpec } from './spec.js';

interface Pair { from: string; to: string; dst: string; ping: boolean; pingOutput: string; hops: (string | null)[]; src: string | null }
interface Lab { endpoints: Record<string, string>; pairs: Pair[]; routes: Record<string, string>; neigh: Record<string, string> }
interface Fixture {
  kernel: string;
  labs: Record<string, Lab>;
  experiments: Record<string, { step: string; rc: number; stdout: string }[]>;
}

const fixture = JSON.parse(readFileSync(fileURLToPath(new URL('../../core/src/__fixtures__/kernel-calico.json', import.meta.url)), 'utf8')) as Fixture;
const lines = (text: string) => text.split('\n').map((l) => l.trimEnd()).filter((l) => l.length > 0);
const nsOf = (name: string) => (name === 'underlay' ? 'underlay' : name.startsWith('node-') ? `node/${name}` : `pod/default/${name}`);
const PODS: [string, string][] = [['pod-a', 'node-1'], ['pod-b', 'node-1'], ['pod-c', 'node-2'], ['pod-d', 'node-2'], ['pod-e', 'node-3'], ['pod-f', 'node-3']];

/** The spec of each lab, as calico.sh builds it. */
function labSim(lab: string): Simulator {
  const twoSegments = lab !== 'none';
  const cni: { type: 'calico' } & CalicoOptions = lab === 'vxlan'
    ? { type: 'calico', encapsulation: 'vxlan' }
    : { type: 'calico', encapsulation: 'none', ...(lab === 'none-tor' ? { bgp: { peerWithUnderlay: true } } : {}) };
  return simulatorFromSpec({
    podCidr: '10.244.0.0/16',
    underlay: {
      segments: [
        { name: 'rack-a', cidr: '192.168.1.0/24', gateway: '192.168.1.1' },
        ...(twoSegments ? [{ name: 'rack-b', cidr: '192.168.2.0/24', gateway: '192.168.2.1' }] : []),
      ],
    },
    cni,
    nodes: [
      { name: 'node-1', ip: '192.168.1.11', segment: 'rack-a' },
      { name: 'node-2', ip: '192.168.1.12', segment: 'rack-a' },
      twoSegments ? { name: 'node-3', ip: '192.168.2.13', segment: 'rack-b' } : { name: 'node-3', ip: '192.168.1.13', segment: 'rack-a' },
    ],
    pods: PODS.map(([name, node]) => ({ name, node })),
  });
}

/** `From X icmp_seq=1 …` lines of a ping, and the reply lines without their time. */
const pingLines = (text: string) => lines(text).filter((l) => l.startsWith('From ') || / bytes from /.test(l)).map((l) => l.replace(/ time=.*$/, ''));

describe.each(Object.keys(fixture.labs))('podnet agrees with the Linux kernel on the calico lab "%s"', (lab) => {
  const k = fixture.labs[lab]!;

  it('calico-ipam gives every pod the address the lab used', () => {
    for (const [name] of PODS) expect(formatIpv4(sim.pod(name).ip!), name).toBe(k.endpoints[name]);
  });

  // One simulator per lab: the pairs test pings every pair, the neighbour test reads what that taught.
  const sim = labSim(lab);
  // calico.sh's mkns turns the ICMP error limit off in every namespace it makes (icmp_ratelimit=0; ip_error's
  // own limit stays, hence its sleeps in none-cross); so does the simulator.
  const labNs = [...Object.keys(k.routes)].map((e) => (e === 'underlay' ? e : e.startsWith('node-') ? `node/${e}` : `pod/default/${e}`));
  sim.apply(labNs.map((ns) => ({ op: 'sysctl.set' as const, ns, key: 'net.ipv4.icmp_ratelimit', value: 0 })));

  it('every pair: ping outcome and lines, traceroute hops, and the source address', () => {
    const mismatches: string[] = [];
    for (const p of k.pairs) {
      const ping = sim.ping(p.from, p.dst);
      // calico.sh sleeps 1 s around each traceroute in none-cross (NetNs.icmpPeers refills meanwhile).
      if (lab === 'none-cross') sim.advance(1000);
      const hops = sim.traceroute(p.from, p.dst, { maxHops: 10 }).hops.map((h) => h.address);
      if (lab === 'none-cross') sim.advance(1000);
      const src = ping.traces[0]!.src === null ? null : formatIpv4(ping.traces[0]!.src);
      if (ping.ok !== p.ping) mismatches.push(`${p.from} → ${p.dst}: ping ${ping.ok} (kernel ${p.ping})`);
      const ours = pingLines(ping.lines.join('\n'));
      if (JSON.stringify(ours) !== JSON.stringify(pingLines(p.pingOutput))) mismatches.push(`${p.from} → ${p.dst}: ping says ${JSON.stringify(ours)} (kernel ${JSON.stringify(pingLines(p.pingOutput))})`);
      if (JSON.stringify(hops) !== JSON.stringify(p.hops)) mismatches.push(`${p.from} → ${p.dst}: hops ${JSON.stringify(hops)} (kernel ${JSON.stringify(p.hops)})`);
      if (src !== p.src) mismatches.push(`${p.from} → ${p.dst}: src ${src} (kernel ${p.src})`);
    }
    expect(mismatches).toEqual([]);
    expect(k.pairs.length).toBe(72);
  });

  it('every node, pod and underlay router routing table, line for line', () => {
    for (const [name, text] of Object.entries(k.routes)) expect(ipRoute(sim.state, nsOf(name)), name).toEqual(lines(text));
  });

  it('after the pings, each pod resolved 169.254.1.1 to ee:ee:ee:ee:ee:ee by proxy ARP, as in the kernel', () => {
    for (const [name] of PODS) {
      const kernel = lines(k.neigh[name]!).find((l) => l.startsWith('169.254.1.1 '))!;
      expect(kernel, name).toMatch(/^169\.254\.1\.1 dev eth0 lladdr ee:ee:ee:ee:ee:ee /);
      const ours = Object.values(sim.pod(name).netns!.neigh).find((e) => formatIpv4(e.ip) === '169.254.1.1');
      expect(ours?.mac, name).toBe('ee:ee:ee:ee:ee:ee');
      expect(ours?.dev).toBe('eth0');
    }
  });
});

describe('proxy ARP for 169.254.1.1, against the kernel (experiment proxyarp)', () => {
  const step = (name: string) => fixture.experiments['proxyarp']!.find((s) => s.step === name)!;

  it('without a route to 169.254.1.1 (no default route on the node) nobody answers: INCOMPLETE in both', () => {
    expect(step('ping-without-default').stdout).toContain('169.254.1.1 dev eth0 INCOMPLETE');
    const sim = labSim('none');
    sim.apply({ op: 'route.del', ns: 'node/node-1', dst: 'default' });
    expect(sim.ping('pod-a', '10.244.0.64').ok).toBe(false);
    const e = Object.values(sim.pod('pod-a').netns!.neigh).find((n) => formatIpv4(n.ip) === '169.254.1.1');
    expect(e === undefined || e.mac === null).toBe(true);
  });

  it('with ip_forward = 0 the node does not answer either, not even for its own address', () => {
    expect(step('ping-node-without-forwarding').stdout).toContain('0 received');
    expect(step('ping-node-with-forwarding').stdout).toContain('1 received');
    const sim = labSim('none');
    sim.apply({ op: 'sysctl.set', ns: 'node/node-1', key: 'net.ipv4.ip_forward', value: 0 });
    expect(sim.ping('pod-a', '192.168.1.11').ok).toBe(false);
    sim.apply({ op: 'sysctl.set', ns: 'node/node-1', key: 'net.ipv4.ip_forward', value: 1 });
    expect(sim.ping('pod-a', '192.168.1.11').ok).toBe(true);
  });
});
