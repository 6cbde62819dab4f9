import { createSimulator, describeAction, formatIpv4, icmpEcho, ipRoute, parseIpv4, shardGet, type Simulator } from '@podnet/core';
import { describe, expect, it } from 'vitest';
import { vethName } from '../contract/plugins.js';
import { gkeVethName, nativeVpc } from './native-vpc.js';

const SUBNETS = { segments: [{ name: 'subnet-a', cidr: '10.0.0.0/20', gateway: '10.0.0.1' }, { name: 'subnet-b', cidr: '10.0.16.0/20', gateway: '10.0.16.1' }] };

function cluster(provider: 'gke' | 'azure'): Simulator {
  const sim = createSimulator({ podCidr: '10.4.0.0/14', underlay: SUBNETS, cni: nativeVpc({ provider }) });
  sim.addNode({ name: 'node-1', podCidr: '10.4.1.0/24' });
  sim.addNode({ name: 'node-2', podCidr: '10.4.2.0/24' });
  sim.addNode({ name: 'node-3', podCidr: '10.4.3.0/24', segment: 'subnet-b' });
  sim.addPod({ name: 'a', node: 'node-1' });
  sim.addPod({ name: 'b', node: 'node-1' });
  sim.addPod({ name: 'c', node: 'node-3' });
  return sim;
}

describe('nativeVpc: the cloud route table', () => {
  for (const provider of ['gke', 'azure'] as const) {
    it(`${provider}: each node's podCIDR is routed to it by the VPC, added as it joins, removed as it leaves`, () => {
      const sim = cluster(provider);
      const vpc = () => ipRoute(sim.state, 'underlay').filter((r) => r.startsWith('10.4.'));
      expect(vpc()).toEqual(['10.4.1.0/24 via 10.0.0.11 dev subnet-a', '10.4.2.0/24 via 10.0.0.12 dev subnet-a', '10.4.3.0/24 via 10.0.16.11 dev subnet-b']);
      sim.removeNode('node-2');
      expect(vpc()).toEqual(['10.4.1.0/24 via 10.0.0.11 dev subnet-a', '10.4.3.0/24 via 10.0.16.11 dev subnet-b']);
      expect(sim.check()).toEqual({ ok: true, violations: [] });
    });

    it(`${provider}: pods across subnets talk without NAT and without encapsulation; traffic to the internet is masqueraded`, () => {
      const sim = cluster(provider);
      const t = sim.send('a', icmpEcho(parseIpv4(formatIpv4(sim.pod('c').ip!))));
      expect(t.disposition).toBe('delivered');
      expect(t.steps.some((s) => s.kind === 'vxlan-encap' || s.kind === 'ipip-encap' || s.kind === 'nat')).toBe(false);
      expect(sim.send('a', icmpEcho(parseIpv4('8.8.8.8'))).steps.filter((s) => s.kind === 'nat' && s.note.startsWith('POSTROUTING')).map((s) => s.note)).toEqual([`POSTROUTING MASQUERADE: source ${formatIpv4(sim.pod('a').ip!)} → 10.0.0.11`]);
    });

    it(`${provider}: a route missing from the cloud route table cuts that node's pods off, and the guarantees say so`, () => {
      const sim = cluster(provider);
      sim.apply({ op: 'route.del', ns: 'underlay', dst: '10.4.3.0/24' });
      expect(sim.violations.length).toBeGreaterThan(0);
      expect(sim.ping('a', formatIpv4(sim.pod('c').ip!)).ok).toBe(false);
      expect(sim.check().ok).toBe(false);
      sim.removeNode('node-3'); // its route is already gone: removal must not fail
      expect(sim.check().ok).toBe(true);
    });
  }

  it('the route-table entries print as ip route commands on the underlay router', () => {
    const sim = cluster('azure');
    const added = nativeVpc({ provider: 'azure' }).nodeAdded(sim.state, sim.node('node-2'));
    expect(added.actions.flatMap((a) => describeAction(a)).filter((c) => c.where === 'underlay').map((c) => c.command)).toEqual(['ip route add 10.4.2.0/24 via 10.0.0.12']);
  });
});

describe('nativeVpc: on the node', () => {
  it('gke: ptp veths gke…, the pod gateway (.1, scope link) on every host veth, a /32 route per pod, ptp\'s pod routes', () => {
    const sim = cluster('gke');
    const veth = gkeVethName('default', 'a');
    expect(veth).toMatch(/^gke[0-9a-f]{11}$/);
    const host = sim.node('node-1').host;
    expect(host.links[veth]!.addrs).toEqual([{ ip: parseIpv4('10.4.1.1'), len: 32, scope: 'link' }]);
    expect(host.links[gkeVethName('default', 'b')]!.addrs).toEqual([{ ip: parseIpv4('10.4.1.1'), len: 32, scope: 'link' }]);
    // The same link-scope gateway on two veths is legal and not a unique-IP violation.
    expect(shardGet(sim.state.ipIndex, String(parseIpv4('10.4.1.1')))).toBeUndefined();
    expect(ipRoute(sim.state, 'node/node-1')).toContain('10.4.1.2 dev ' + veth + ' scope link');
    expect(ipRoute(sim.state, 'pod/default/a')).toEqual(['default via 10.4.1.1 dev eth0', '10.4.1.0/24 via 10.4.1.1 dev eth0 src 10.4.1.2', '10.4.1.1 dev eth0 scope link src 10.4.1.2']);
    expect(sim.pod('a').netns!.links['eth0']!.mtu).toBe(1460);
  });

  it('gke: the first traceroute hop is the pod gateway (the link-scope address the reply route picks), then the VPC router, the far node, the pod', () => {
    const sim = cluster('gke');
    expect(sim.traceroute('a', formatIpv4(sim.pod('c').ip!)).hops.map((h) => h.address)).toEqual(['10.4.1.1', '10.0.0.1', '10.0.16.11', formatIpv4(sim.pod('c').ip!)]);
  });

  it('azure kubenet: bridge cbr0 with the podCIDR\'s .1, pods on it with the bridge plugin\'s veths', () => {
    const sim = cluster('azure');
    const host = sim.node('node-1').host;
    expect(host.links['cbr0']).toMatchObject({ kind: 'bridge', addrs: [{ ip: parseIpv4('10.4.1.1'), len: 24, scope: 'global' }] });
    expect(host.links[vethName('default/a')]!.master).toBe('cbr0');
    expect(ipRoute(sim.state, 'pod/default/a')).toEqual(['default via 10.4.1.1 dev eth0', '10.4.1.0/24 dev eth0 proto kernel scope link src 10.4.1.2']);
    expect(Object.keys(nativeVpc({ provider: 'azure' }).cniConfig!(sim.state, sim.node('node-1')))).toEqual(['10-kubenet.conf']);
  });

  it('rejects an unknown provider', () => {
    expect(() => nativeVpc({ provider: 'aws' as never })).toThrow(TypeError);
  });
});
