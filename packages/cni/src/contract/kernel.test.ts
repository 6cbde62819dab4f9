/**
 * The CNI contract against real Linux: packages/kernel-oracle/scripts/cni-contract.sh wired two pods
 * with the ptp plugin's netlink calls in network namespaces and tried netlink.RouteAddEcmp's semantics
 * (`ip route prepend`), recording the kernel's answers. podnet's ptp must build the same tables and
 * forward the same way; its bridge refuses an identical route twice as the kernel does.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createSimulator, ipRoute, type CniResult } from '@podnet/core';
import { describe, expect, it } from 'vitest';
import { fromConflist } from './conflist-design.js';

interface Fixture { kernel: string; steps: Record<string, { stdout: string; rc: number }> }
const fixture = JSON.parse(readFileSync(fileURLToPath(new URL('../../../core/src/__fixtures__/kernel-cni-contract.json', import.meta.url)), 'utf8')) as Fixture;
const lines = (text: string) => text.split('\n').map((l) => l.trimEnd()).filter((l) => l.length > 0);

describe(`the ptp plugin against the kernel (${fixture.kernel})`, () => {
  const sim = createSimulator({
    podCidr: '10.244.0.0/16',
    cni: fromConflist('{"cniVersion": "1.0.0", "name": "mynet", "type": "ptp", "ipam": {"type": "host-local", "subnet": "10.1.1.0/24"}}'),
    nodes: [{ name: 'node-1' }], pods: [{ name: 'a', node: 'node-1' }, { name: 'b', node: 'node-1' }],
  });
  const vethOf = (pod: string) => (sim.pod(pod).cniResult as CniResult).interfaces[0]!.name;

  it('builds the pod\'s and the host\'s routing tables line for line', () => {
    expect(ipRoute(sim.state, 'pod/default/a')).toEqual(lines(fixture.steps['ptp-route-a']!.stdout));
    const host = ipRoute(sim.state, 'node/node-1').filter((l) => l.startsWith('10.1.1.'));
    const kernel = lines(fixture.steps['ptp-route-host']!.stdout).map((l) => l.replace('vethptpa', vethOf('a')).replace('vethptpb', vethOf('b')));
    expect(host).toEqual(kernel);
  });

  it('forwards as the kernel does: pod to pod through the host (TTL 63, first hop the gateway), host to pod', () => {
    expect(fixture.steps['ptp-ping-a-b']!.rc).toBe(0);
    const ping = sim.ping('a', '10.1.1.3');
    expect(ping.ok).toBe(true);
    expect(ping.replies[0]!.ttl).toBe(Number(/ttl=(\d+)/.exec(fixture.steps['ptp-ping-a-b']!.stdout)![1]));
    expect(sim.ping('node-1', '10.1.1.2').ok).toBe(fixture.steps['ptp-ping-host-a']!.rc === 0);
    const hops = lines(fixture.steps['ptp-trace-a-b']!.stdout).slice(1).map((l) => l.trim().split(/\s+/)[1]);
    expect(sim.traceroute('a', '10.1.1.3').hops.map((h) => h.address)).toEqual(hops);
  });
});

describe('netlink.RouteAddEcmp against the kernel', () => {
  it('an identical route added twice is "File exists"; podnet\'s ConfigureIface refuses it the same way', () => {
    expect(fixture.steps['ecmp-first']!.rc).toBe(0);
    expect(fixture.steps['ecmp-same']!.stdout).toBe('RTNETLINK answers: File exists');
    // Another nexthop is a second route in the kernel (podnet keeps one per destination and says so).
    expect(lines(fixture.steps['ecmp-route']!.stdout).filter((l) => l.startsWith('default'))).toHaveLength(2);
    const conf = JSON.stringify({ cniVersion: '1.0.0', name: 'mynet', type: 'bridge', isDefaultGateway: true, ipam: { type: 'host-local', subnet: '10.10.0.0/16', gateway: '10.10.0.254', routes: [{ dst: '0.0.0.0/0' }] } });
    const sim = createSimulator({ podCidr: '10.244.0.0/16', cni: fromConflist(conf), nodes: [{ name: 'node-1' }] });
    const pod = sim.addPod({ name: 'a', node: 'node-1' });
    expect(pod.status.phase).toBe('ContainerCreating');
    expect(pod.status.message).toMatch(/dev eth0': file exists$/);
  });
});
