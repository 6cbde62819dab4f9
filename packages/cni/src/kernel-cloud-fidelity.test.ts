/**
 * The node-side wiring of the cloud designs against Linux: packages/kernel-oracle/scripts/cloud-lab.sh
 * builds the AWS VPC CNI's and GKE's pod wiring in real namespaces and records ip route, ping and
 * traceroute (fixture: __fixtures__/kernel-cloud-lab.json); podnet must print and do the same.
 */
import { readFileSync } from 'node:fs';
import { createSimulator, ipRoute } from '@podnet/core';
import { describe, expect, it } from 'vitest';
import { awsVpc } from './designs/aws-vpc.js';
import { nativeVpc } from './designs/native-vpc.js';

interface Rec { readonly cmd: string; readonly rc: number; readonly stdout: string; readonly stderr: string }
const fixture = JSON.parse(readFileSync(new URL('./__fixtures__/kernel-cloud-lab.json', import.meta.url), 'utf8')) as { kernel: string; records: Record<string, Rec> };
const rec = (k: string) => fixture.records[k]!;
const lines = (s: string) => s.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
/** The reply line of a ping, without the time. */
const reply = (r: Rec) => lines(r.stdout).find((l) => / bytes from /.test(l))?.replace(/ time=.*$/, '') ?? null;
/** The hop addresses of a traceroute -n -q 1. */
const hops = (r: Rec) => lines(r.stdout).slice(1).map((l) => l.trim().split(/\s+/)[1] ?? null).map((a) => (a === '*' ? null : a));

const VPC = { segments: [{ name: 'subnet-a', cidr: '10.0.0.0/16', gateway: '10.0.0.1', mtu: 1500 }] };

function aws() {
  return createSimulator({
    underlay: VPC, cni: awsVpc({ instanceType: 'm5.large' }),
    nodes: [{ name: 'node-1', ip: '10.0.0.11', maxPods: 29 }, { name: 'node-2', ip: '10.0.0.12', maxPods: 29 }],
    pods: [{ name: 'aws-a', node: 'node-1', ip: '10.0.255.254' }, { name: 'aws-b', node: 'node-1', ip: '10.0.255.253' }],
  });
}

function gke() {
  return createSimulator({
    podCidr: '10.4.0.0/14', underlay: VPC, cni: nativeVpc({ provider: 'gke', mtu: 1500 }),
    nodes: [{ name: 'node-1', ip: '10.0.0.11', podCidr: '10.4.0.0/24' }, { name: 'node-2', ip: '10.0.0.12', podCidr: '10.4.1.0/24' }],
    pods: [{ name: 'gke-a', node: 'node-2', ip: '10.4.1.2' }, { name: 'gke-b', node: 'node-2', ip: '10.4.1.3' }],
  });
}

describe(`cloud designs agree with Linux ${fixture.kernel} on the node side`, () => {
  it('aws: the pod\'s and the host\'s routes print as the kernel prints them', () => {
    const sim = aws();
    expect(ipRoute(sim.state, 'pod/default/aws-a')).toEqual(lines(rec('aws_route_pod').stdout));
    const host = ipRoute(sim.state, 'node/node-1').filter((l) => l.startsWith('10.0.255.')).map((l) => l.replace(/eni[0-9a-f]{11}/, 'ENI'));
    expect(host).toEqual(lines(rec('aws_route_node').stdout).filter((l) => l.startsWith('10.0.255.')).map((l) => l.replace(/eni[0-9a-f]{11}/, 'ENI')));
  });

  it('aws: pod to pod on one node (ttl 63), traceroute through the node\'s own address, node to pod (ttl 64)', () => {
    const sim = aws();
    expect(sim.ping('aws-a', '10.0.255.253').lines[1]).toBe(reply(rec('aws_ping')));
    expect(sim.traceroute('aws-a', '10.0.255.253').hops.map((h) => h.address)).toEqual(hops(rec('aws_trace')));
    expect(sim.ping('node-1', '10.0.255.254').lines[1]).toBe(reply(rec('aws_node_ping')));
  });

  it('a route MTU (cilium\'s `mtu 1450`) holds a DF packet to it: local error above, delivered at it', () => {
    const sim = aws();
    sim.apply({ op: 'route.replace', ns: 'pod/default/aws-a', dst: 'default', via: '169.254.1.1', dev: 'eth0', mtu: 1450 });
    expect(ipRoute(sim.state, 'pod/default/aws-a').filter((l) => l.startsWith('default'))).toEqual(lines(rec('mtu_route').stdout));
    const big = sim.ping('aws-a', '10.0.255.253', { size: 1432 });
    expect(rec('mtu_big').rc).not.toBe(0);
    expect(big.ok).toBe(false);
    expect(rec('mtu_big').stderr.trim()).toBe('ping: local error: message too long, mtu=1450');
    expect(big.lines.join('\n')).toContain('local error: message too long, mtu=1450');
    expect(sim.ping('aws-a', '10.0.255.253', { size: 1422 }).lines[1]).toBe(reply(rec('mtu_small')));
  });

  it('gke: ptp\'s pod routes, and the first traceroute hop is the link-scope gateway on the host veth', () => {
    const sim = gke();
    expect(ipRoute(sim.state, 'pod/default/gke-a')).toEqual(lines(rec('gke_route_pod').stdout));
    expect(sim.ping('gke-a', '10.4.1.3').lines[1]).toBe(reply(rec('gke_ping')));
    expect(sim.traceroute('gke-a', '10.4.1.3').hops.map((h) => h.address)).toEqual(hops(rec('gke_trace')));
    expect(hops(rec('gke_trace'))[0]).toBe('10.4.1.1');
    expect(sim.ping('node-2', '10.4.1.2').lines[1]).toBe(reply(rec('gke_node_ping')));
  });
});
