/**
 * `underlay.router: 'vpc'`: the segments are subnets of one cloud VPC, joined by its implicit router, which
 * forwards with the TTL as it came (a traceroute between instances of two subnets shows no gateway). With
 * the default Linux router the same paths have one more hop: the gateway of the subnet the packet left.
 */
import { createSimulator, formatIpv4, icmpEcho, parseIpv4, type Simulator } from '@podnet/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flannel } from './designs/flannel.js';

const SUBNETS = [{ name: 'subnet-a', cidr: '10.0.0.0/24', gateway: '10.0.0.1' }, { name: 'subnet-b', cidr: '10.0.1.0/24', gateway: '10.0.1.1' }];
const GATEWAYS = new Set(SUBNETS.map((s) => s.gateway));

function cluster(router: 'linux' | 'vpc' | undefined, backend: 'vxlan' | 'host-gw' = 'vxlan'): Simulator {
  return createSimulator({
    underlay: { segments: SUBNETS, ...(router ? { router } : {}) },
    cni: flannel({ backend }),
    nodes: [{ name: 'node-1' }, { name: 'node-2' }, { name: 'node-3', segment: 'subnet-b' }, { name: 'node-4', segment: 'subnet-b' }],
    pods: ['node-1', 'node-2', 'node-3', 'node-4'].flatMap((node, i) => [{ name: `p${2 * i}`, node }, { name: `p${2 * i + 1}`, node }]),
  });
}

describe("underlay.router: 'vpc'", () => {
  it('the VPC router keeps the TTL: node to node across subnets it is no traceroute hop, and VXLAN\'s outer header arrives with TTL 64', () => {
    const vpc = cluster('vpc');
    const linux = cluster(undefined);
    const node3 = formatIpv4(vpc.node('node-3').ip);
    expect(vpc.traceroute('node-1', node3).hops.map((h) => h.address)).toEqual([node3]);
    expect(linux.traceroute('node-1', node3).hops.map((h) => h.address)).toEqual(['10.0.0.1', node3]);
    // Pod to pod the inner TTL never meets a router (VXLAN carries it across): the same hops either way.
    const ip = formatIpv4(vpc.pod('p4').ip!);
    expect(vpc.traceroute('p0', ip).hops.map((h) => h.address)).toEqual(['10.244.0.1', '10.244.2.0', ip]);
    expect(linux.traceroute('p0', ip).hops.map((h) => h.address)).toEqual(['10.244.0.1', '10.244.2.0', ip]);
    const outerTtl = (sim: Simulator) => {
      const t = sim.send('p0', icmpEcho(parseIpv4(ip)));
      const arrival = t.steps.find((s) => s.ns === 'node/node-3' && s.dev === 'eth0' && s.kind === 'receive')!;
      return arrival.frame?.payload.kind === 'ipv4' ? arrival.frame.payload.header.ttl : null;
    };
    expect(outerTtl(vpc)).toBe(64);
    expect(outerTtl(linux)).toBe(63);
    const routed = vpc.send('p0', icmpEcho(parseIpv4(ip))).steps.filter((s) => s.ns === 'underlay' && s.kind === 'forward');
    expect(routed.map((s) => s.note)).toEqual([expect.stringMatching(/^the VPC router forwards to 10\.0\.1\.\d+ by .*; TTL 64 unchanged$/), expect.stringMatching(/TTL 64 unchanged$/)]);
    expect(vpc.check().ok).toBe(true);
  });

  it('hops with the VPC router are the Linux router\'s hops without the gateways, for every source and destination (property)', () => {
    const linux = cluster('linux');
    const vpc = cluster('vpc');
    const sources = [...linux.pods().map((p) => p.name), ...linux.nodes().map((n) => n.name)];
    const targets = [...linux.pods().map((p) => formatIpv4(p.ip!)), ...linux.nodes().map((n) => formatIpv4(n.ip))];
    let crossed = 0;
    fc.assert(fc.property(fc.constantFrom(...sources), fc.constantFrom(...targets), (from, to) => {
      const viaLinux = linux.traceroute(from, to).hops.map((h) => h.address);
      if (viaLinux.some((x) => x !== null && GATEWAYS.has(x))) crossed += 1;
      const viaVpc = vpc.traceroute(from, to).hops.map((h) => h.address);
      expect(viaVpc).toEqual(viaLinux.filter((x) => x === null || !GATEWAYS.has(x)));
      expect(vpc.ping(from, to).ok).toBe(linux.ping(from, to).ok);
    }), { numRuns: 60, seed: 7 });
    expect(crossed).toBeGreaterThan(5); // the runs did cross the router
  });

  it('agrees with Linux, where a router with `iptables -t mangle -A PREROUTING -j TTL --ttl-inc 1` keeps the TTL the same way', () => {
    // Measured (kernel 6.18, iproute2 6.1, traceroute 2.1): namespaces n1 (192.168.1.11/24) and n3
    // (192.168.2.13/24) joined by a router r (192.168.1.1, 192.168.2.1, ip_forward=1). Without the rule:
    // `traceroute -n 192.168.2.13` from n1 is "1 192.168.1.1, 2 192.168.2.13", the echo reply has ttl=63.
    // With it: "1 192.168.2.13", ttl=64, `ping -t 1` gets its reply, and traceroute to 192.168.1.1 is one hop.
    const build = (router: 'linux' | 'vpc') => createSimulator({
      underlay: { segments: [{ name: 'rack-a', cidr: '192.168.1.0/24', gateway: '192.168.1.1' }, { name: 'rack-b', cidr: '192.168.2.0/24', gateway: '192.168.2.1' }], router },
      cni: flannel(),
      nodes: [{ name: 'n1', ip: '192.168.1.11' }, { name: 'n3', ip: '192.168.2.13', segment: 'rack-b' }],
    });
    const linux = build('linux');
    expect(linux.traceroute('n1', '192.168.2.13').hops.map((h) => h.address)).toEqual(['192.168.1.1', '192.168.2.13']);
    expect(linux.ping('n1', '192.168.2.13').replies.map((r) => r.ttl)).toEqual([63]);
    const vpc = build('vpc');
    expect(vpc.traceroute('n1', '192.168.2.13').hops.map((h) => h.address)).toEqual(['192.168.2.13']);
    expect(vpc.ping('n1', '192.168.2.13').replies.map((r) => r.ttl)).toEqual([64]);
    expect(vpc.ping('n1', '192.168.2.13', { ttl: 1 }).ok).toBe(true);
    expect(vpc.traceroute('n1', '192.168.1.1').hops.map((h) => h.address)).toEqual(['192.168.1.1']);
  });

  it('is still a router: without a route it answers net unreachable, and host-gw across subnets stays broken', () => {
    const vpc = cluster('vpc', 'host-gw');
    // host-gw needs every node on one L2 segment: node-3's pods are unreachable from node-1's, router or not.
    expect(vpc.ping('p0', formatIpv4(vpc.pod('p4').ip!)).ok).toBe(false);
    expect(vpc.check().ok).toBe(false);
  });
});
