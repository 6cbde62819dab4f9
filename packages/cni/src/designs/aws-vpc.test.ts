import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  applyActions, createSimulator, describeAction, fabricLookup, formatIpv4, icmpEcho, ipRoute, ipRule, isPodnetError, parseIpv4, shardGet, shardSize,
  type Action, type Simulator,
} from '@podnet/core';
import { describe, expect, it } from 'vitest';
import {
  AWS_NO_IP_MESSAGE, awsMaxPods, awsNodesPerSubnet, awsVethName, awsVpc, INSTANCE_TYPES, IPAMD_NO_IP_MESSAGE, type AwsNodeState,
} from './aws-vpc.js';

const VPC = { segments: [{ name: 'subnet-a', cidr: '10.0.0.0/16', gateway: '10.0.0.1', mtu: 9001 }, { name: 'subnet-b', cidr: '10.1.0.0/16', gateway: '10.1.0.1', mtu: 9001 }], router: 'vpc' as const };

function cluster(options: Parameters<typeof awsVpc>[0], maxPods?: number): Simulator {
  const sim = createSimulator({ underlay: VPC, cni: awsVpc(options) });
  const mp = maxPods ?? awsMaxPods(options.instanceType, { prefixDelegation: options.prefixDelegation ?? false });
  sim.addNode({ name: 'node-1', maxPods: mp });
  sim.addNode({ name: 'node-2', maxPods: mp });
  sim.addNode({ name: 'node-3', segment: 'subnet-b', maxPods: mp });
  return sim;
}

const nodeState = (sim: Simulator, n: string) => sim.node(n).cni as AwsNodeState;
const ip = (sim: Simulator, pod: string) => formatIpv4(sim.pod(pod).ip!);

describe('awsVpc: max pods', () => {
  it('equals misc/eni-max-pods.txt for every instance type of the table', () => {
    const lines = readFileSync(new URL('../__fixtures__/eni-max-pods.txt', import.meta.url), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    const expected = Object.fromEntries(lines.map((l) => l.split(' ')).map(([t, n]) => [t!, Number(n)]));
    expect(Object.keys(expected).sort()).toEqual(Object.keys(INSTANCE_TYPES).sort());
    for (const t of Object.keys(INSTANCE_TYPES)) expect([t, awsMaxPods(t)]).toEqual([t, expected[t]]);
  });

  it('with prefix delegation: ENIs × ((IPs − 1) × 16) + 2, capped at 110 up to 30 vCPUs and 250 above (max-pods-calculator.sh)', () => {
    expect(awsMaxPods('m5.large', { prefixDelegation: true })).toBe(110); // 3 × 144 + 2 = 434 → 110
    expect(awsMaxPods('t3.micro', { prefixDelegation: true })).toBe(34); // 2 × 16 + 2, under the cap
    expect(awsMaxPods('m5.8xlarge', { prefixDelegation: true })).toBe(250); // 32 vCPUs
    expect(awsMaxPods('c5.4xlarge', { prefixDelegation: true })).toBe(110); // 16 vCPUs
  });

  it('the design reports its max pods through the contract hook', () => {
    const d = awsVpc({ instanceType: 'm5.large' });
    const sim = cluster({ instanceType: 'm5.large' });
    expect(d.maxPods?.(sim.node('node-1'))).toBe(29);
    expect(awsVpc({ instanceType: 'm5.large', prefixDelegation: true }).maxPods?.(sim.node('node-1'))).toBe(110);
  });

  it('sizes subnets: how many fully grown nodes a /16 holds', () => {
    expect(awsNodesPerSubnet('m5.large', 16)).toBe(Math.floor(65531 / 30));
    expect(awsNodesPerSubnet('m5.2xlarge', 16)).toBe(Math.floor(65531 / 60));
    expect(() => awsNodesPerSubnet('m5.large', 12)).toThrow(RangeError);
  });

  it('rejects unknown instance types and bad warm targets', () => {
    expect(() => awsVpc({ instanceType: 'm9.huge' })).toThrow(/unknown instance type "m9.huge"/);
    expect(() => awsVpc({ instanceType: 'm5.large', warmIpTarget: -1 })).toThrow(RangeError);
  });
});

describe('awsVpc: the lesson — m5.large runs 29 pods, the 30th does not fit, prefix delegation fixes it', () => {
  const hostPods = (sim: Simulator, node: string) => {
    // aws-node and kube-proxy run with hostNetwork: they count against max pods but take no ENI address.
    sim.addPod({ name: `aws-node-${node}`, namespace: 'kube-system', node, hostNetwork: true });
    sim.addPod({ name: `kube-proxy-${node}`, namespace: 'kube-system', node, hostNetwork: true });
  };

  it('29 pods fit (2 host-network + 27 on secondary IPs of 3 ENIs); the 30th exceeds max pods', () => {
    const sim = cluster({ instanceType: 'm5.large' });
    hostPods(sim, 'node-1');
    for (let i = 0; i < 27; i++) sim.addPod({ name: `web-${i}`, node: 'node-1' });
    expect(Object.keys(sim.node('node-1').pods)).toHaveLength(29);
    expect(nodeState(sim, 'node-1').enis.map((e) => e.slots.length)).toEqual([9, 9, 9]);
    const before = sim.state;
    // Bound to the full node, the kubelet rejects it; left to the scheduler, it goes to another node.
    expect(sim.addPod({ name: 'web-27', node: 'node-1' }).status).toEqual({
      phase: 'Failed', reason: 'OutOfpods', message: "Pod was rejected: Node didn't have enough resource: pods, requested: 1, used: 29, capacity: 29",
    });
    expect(sim.state.nodes).toBe(before.nodes);
    expect(sim.capacity('node-1')).toEqual({ allocatablePods: 29, nonTerminatedPods: 29 });
    expect(sim.addPod({ name: 'web-28' }).node).not.toBe('node-1');
    expect(sim.check().ok).toBe(true);
  });

  it('with max pods raised, the 28th ENI pod fails CNI ADD with aws-cni\'s message, and nothing changes', () => {
    const sim = cluster({ instanceType: 'm5.large' }, 40);
    for (let i = 0; i < 27; i++) sim.addPod({ name: `web-${i}`, node: 'node-1' });
    const before = sim.state;
    const p = sim.addPod({ name: 'web-27', node: 'node-1' });
    expect(p.status.phase).toBe('ContainerCreating');
    expect(p.status.message).toMatch(new RegExp(` failed \\(add\\): ${AWS_NO_IP_MESSAGE}: ${IPAMD_NO_IP_MESSAGE.replace(/[/]/g, '\\/')}$`));
    expect((p.cniResult as { code: number }).code).toBe(999);
    expect(sim.state.nodes).toBe(before.nodes);
  });

  it('prefix delegation: the same node takes 110 pods from /28 prefixes', () => {
    // Built in one transition and audited once (adding 108 pods one by one re-audits at every new prefix).
    const pods = [
      { name: 'aws-node', namespace: 'kube-system', node: 'node-1', hostNetwork: true },
      { name: 'kube-proxy', namespace: 'kube-system', node: 'node-1', hostNetwork: true },
      ...Array.from({ length: 108 }, (_, i) => ({ name: `web-${i}`, node: 'node-1' })),
    ];
    const sim = createSimulator({ underlay: VPC, cni: awsVpc({ instanceType: 'm5.large', prefixDelegation: true }), nodes: [{ name: 'node-1', maxPods: 110 }], pods });
    expect(sim.check().ok).toBe(true);
    const st = nodeState(sim, 'node-1');
    expect(st.enis.flatMap((e) => e.slots).every((p) => p.endsWith('/28'))).toBe(true);
    expect(Object.keys(st.assigned)).toHaveLength(108);
    expect(sim.addPod({ name: 'web-108', node: 'node-1' }).status.reason).toBe('OutOfpods');
    expect(sim.ping('web-0', ip(sim, 'web-107')).ok).toBe(true);
  });
});

describe('awsVpc: the warm pool', () => {
  it('WARM_ENI_TARGET=1: a node starts with one ENI of free addresses and attaches the next when it is drawn on', () => {
    const sim = cluster({ instanceType: 'm5.large' });
    expect(nodeState(sim, 'node-1').enis.map((e) => [e.deviceIndex, e.slots.length])).toEqual([[0, 9]]);
    sim.addPod({ name: 'a', node: 'node-1' });
    const st = nodeState(sim, 'node-1');
    expect(st.enis.map((e) => [e.deviceIndex, e.slots.length])).toEqual([[0, 9], [1, 9]]);
    // The new ENI's own primary address is taken from the subnet too.
    expect(st.enis[1]!.primary).toBeDefined();
    const seg = sim.state.underlay.segments['subnet-a']!;
    expect(fabricLookup(seg, parseIpv4(st.enis[1]!.primary!))?.kind).toBe('primary');
  });

  it('WARM_IP_TARGET=2 keeps exactly two free addresses', () => {
    const sim = cluster({ instanceType: 'm5.large', warmIpTarget: 2 });
    expect(nodeState(sim, 'node-1').enis.map((e) => e.slots.length)).toEqual([2]);
    sim.addPod({ name: 'a', node: 'node-1' });
    sim.addPod({ name: 'b', node: 'node-1' });
    expect(nodeState(sim, 'node-1').enis.map((e) => e.slots.length)).toEqual([4]);
  });

  it('a deleted pod\'s address goes back to the pool on its ENI, and is handed out again', () => {
    const sim = cluster({ instanceType: 'm5.large' });
    sim.addPod({ name: 'a', node: 'node-1' });
    const a = ip(sim, 'a');
    sim.deletePod('a');
    expect(nodeState(sim, 'node-1').enis.flatMap((e) => e.slots)).toContain(a);
    sim.addPod({ name: 'b', node: 'node-1' });
    expect(ip(sim, 'b')).toBe(a);
  });

  it('removing a node gives every address back to the subnet', () => {
    const sim = cluster({ instanceType: 'm5.large' });
    sim.addPod({ name: 'a', node: 'node-1' });
    for (const n of ['node-1', 'node-2', 'node-3']) sim.removeNode(n);
    for (const s of Object.values(sim.state.underlay.segments)) expect(s.fabric ? shardSize(s.fabric) : 0).toBe(0);
  });
});

describe('awsVpc: what a pod gets (routed-eni-cni-plugin driver)', () => {
  it('eni + 11 hex digits of sha1("<namespace>.<pod>")', () => {
    expect(awsVethName('default', 'nginx')).toBe(`eni${createHash('sha1').update('default.nginx').digest('hex').slice(0, 11)}`);
    const sim = cluster({ instanceType: 'm5.large' });
    sim.addPod({ name: 'nginx', node: 'node-1' });
    expect(Object.keys(sim.node('node-1').host.links)).toContain(awsVethName('default', 'nginx'));
  });

  it('/32 on eth0, a link route and default route to 169.254.1.1, a permanent ARP entry for it, a /32 route on the host', () => {
    const sim = cluster({ instanceType: 'm5.large' });
    const design = awsVpc({ instanceType: 'm5.large' });
    sim.addPod({ name: 'a', node: 'node-1' });
    const pod = sim.pod('a');
    const veth = awsVethName('default', 'a');
    const lines = design.podAdded(sim.state, { pod: { ...pod, name: 'x', key: 'default/x' }, node: sim.node('node-1'), ifname: 'eth0', netns: '/var/run/netns/x', containerId: 'c', requestedIp: null });
    expect('error' in lines).toBe(false);
    expect(pod.netns!.links['eth0']!.addrs.map((a) => `${formatIpv4(a.ip)}/${a.len}`)).toEqual([`${ip(sim, 'a')}/32`]);
    expect(pod.netns!.neigh[`eth0|${parseIpv4('169.254.1.1')}`]).toMatchObject({ permanent: true, mac: sim.node('node-1').host.links[veth]!.mac });
    const cmds = 'actions' in lines ? lines.actions.flatMap((a) => describeAction(a)).map((c) => c.command) : [];
    expect(cmds).toContain('ip route add 169.254.1.1/32 dev eth0 scope link');
    expect(cmds).toContain('ip route add default via 169.254.1.1 dev eth0');
    expect(cmds.some((c) => /^ip neigh add 169\.254\.1\.1 lladdr \S+ dev eth0 nud permanent$/.test(c))).toBe(true);
    expect(cmds.some((c) => /^ip route add 10\.0\.255\.\d+\/32 dev eni[0-9a-f]{11} scope link$/.test(c))).toBe(true);
  });
});

describe('awsVpc: secondary ENIs are NICs with their own route table (ipamd setupENINetwork, driver.go rules)', () => {
  /** node-1 with its first ENI full (9 pods), so that the 10th pod gets an address of the second ENI. */
  function secondEni(): { sim: Simulator; p: string } {
    const sim = cluster({ instanceType: 'm5.large' });
    for (let i = 0; i < 10; i++) sim.addPod({ name: `p${i}`, node: 'node-1' });
    const eni1 = nodeState(sim, 'node-1').enis.find((e) => e.deviceIndex === 1)!;
    const p = sim.pods().find((x) => x.node === 'node-1' && eni1.slots.includes(formatIpv4(x.ip!)))!.name;
    return { sim, p };
  }

  it('eth1 carries the ENI\'s MAC and primary address; table 2 routes by it; main keeps eth0\'s subnet route', () => {
    const { sim } = secondEni();
    const eni1 = nodeState(sim, 'node-1').enis.find((e) => e.deviceIndex === 1)!;
    const eth1 = sim.node('node-1').host.links['eth1']!;
    expect(eth1).toMatchObject({ kind: 'physical', segment: 'subnet-a', up: true, mtu: 9001, addrs: [{ ip: parseIpv4(eni1.primary!), len: 16 }] });
    expect(fabricLookup(sim.state.underlay.segments['subnet-a']!, parseIpv4(eni1.slots[0]!))?.mac).toBe(eth1.mac);
    expect(ipRoute(sim.state, 'node/node-1', 2)).toEqual(['default via 10.0.0.1 dev eth1', '10.0.0.1 dev eth1 scope link']);
    expect(ipRoute(sim.state, 'node/node-1').filter((l) => l.startsWith('10.0.0.0/16'))).toEqual(['10.0.0.0/16 dev eth0 proto kernel scope link src 10.0.0.11']);
  });

  it('a pod on eth1 sends by eth1 and is reached on eth1; its rules come and go with it', () => {
    const { sim, p } = secondEni();
    const pip = ip(sim, p);
    expect(ipRule(sim.state, 'node/node-1')).toEqual(expect.arrayContaining([`512:\tfrom all to ${pip} lookup main`, `1536:\tfrom ${pip} lookup 2`]));
    sim.addPod({ name: 'far', node: 'node-2' });
    const t = sim.send(p, icmpEcho(parseIpv4(ip(sim, 'far'))));
    // Out by table 2 (default via the subnet gateway on eth1), back to eth1's MAC, which the fabric gives for it.
    const node1 = t.steps.filter((s) => s.ns === 'node/node-1' && (s.kind === 'segment' || s.kind === 'receive') && (s.dev === 'eth0' || s.dev === 'eth1'));
    expect(new Set(node1.map((s) => s.dev))).toEqual(new Set(['eth1']));
    expect(t.steps.find((s) => s.ns === 'node/node-1' && s.kind === 'forward')?.note).toMatch(/by default via 10\.0\.0\.1 dev eth1;/);
    expect(t.fates.find((f) => f.role === 'echo-reply')?.disposition).toBe('delivered');
    expect(sim.check().ok).toBe(true);
    sim.deletePod(p);
    expect(ipRule(sim.state, 'node/node-1').some((l) => l.includes(pip))).toBe(false);
  });

  it('removing the node detaches the ENI: eth1 leaves the subnet with it', () => {
    const { sim } = secondEni();
    const mac = sim.node('node-1').host.links['eth1']!.mac;
    sim.removeNode('node-1');
    expect(shardGet(sim.state.underlay.segments['subnet-a']!.ports, mac)).toBeUndefined();
    expect(sim.check().ok).toBe(true);
  });
});

describe('awsVpc: the VPC routes pod addresses natively', () => {
  it('the fabric answers ARP for a pod address: the trace shows the VPC, not the node, replying', () => {
    const sim = cluster({ instanceType: 'm5.large' });
    sim.addPod({ name: 'a', node: 'node-1' });
    sim.addPod({ name: 'c', node: 'node-2' });
    const trace = sim.send('a', icmpEcho(parseIpv4(ip(sim, 'c'))));
    expect(trace.disposition).toBe('delivered');
    const fabric = trace.steps.filter((s) => s.kind === 'arp-reply' && s.ns === 'underlay');
    expect(fabric.map((s) => s.note)).toContainEqual(expect.stringContaining(`VPC fabric: ${ip(sim, 'c')} is-at ${sim.node('node-2').host.links['eth0']!.mac}`));
    expect(trace.steps.some((s) => s.kind === 'nat')).toBe(false);
  });

  it('traceroute across subnets: node-1, node-3, the pod — the VPC router keeps the TTL and is no hop; the nodes, not gateways, are the hops', () => {
    const sim = cluster({ instanceType: 'm5.large' });
    sim.addPod({ name: 'a', node: 'node-1' });
    sim.addPod({ name: 'd', node: 'node-3' });
    const tr = sim.traceroute('a', ip(sim, 'd'));
    expect(tr.hops.map((h) => h.address)).toEqual(['10.0.0.11', '10.1.0.11', ip(sim, 'd')]);
    expect(sim.check().ok).toBe(true);
    // The reply reaches a with the TTL d sent it with, less the two nodes that routed it.
    const reply = sim.send('a', icmpEcho(parseIpv4(ip(sim, 'd')))).fates.find((f) => f.role === 'echo-reply')!;
    expect(reply.ip?.header.ttl).toBe(62);
    // With a Linux router between the subnets (underlay.router: 'linux', the default) it is one more hop.
    const linux = createSimulator({ underlay: { ...VPC, router: 'linux' }, cni: awsVpc({ instanceType: 'm5.large' }) });
    for (const [name, segment] of [['node-1', 'subnet-a'], ['node-3', 'subnet-b']] as const) linux.addNode({ name, segment });
    linux.addPod({ name: 'a', node: 'node-1' });
    linux.addPod({ name: 'd', node: 'node-3' });
    expect(linux.traceroute('a', ip(linux, 'd')).hops.map((h) => h.address)).toEqual(['10.0.0.11', '10.0.0.1', '10.1.0.11', ip(linux, 'd')]);
  });

  it('traffic leaving the VPC is SNATed to the node\'s primary address; pod to pod never is', () => {
    const sim = cluster({ instanceType: 'm5.large' });
    sim.addPod({ name: 'a', node: 'node-1' });
    const out = sim.send('a', icmpEcho(parseIpv4('8.8.8.8')));
    expect(out.steps.filter((s) => s.kind === 'nat' && s.note.startsWith('POSTROUTING')).map((s) => s.note)).toEqual([`POSTROUTING SNAT: source ${ip(sim, 'a')} → 10.0.0.11`]);
    const ext = createSimulator({ underlay: VPC, cni: awsVpc({ instanceType: 'm5.large', externalSnat: true }) });
    ext.addNode({ name: 'node-1' });
    ext.addPod({ name: 'a', node: 'node-1' });
    expect(ext.send('a', icmpEcho(parseIpv4('8.8.8.8'))).steps.some((s) => s.kind === 'nat')).toBe(false);
  });

  it('without the fabric entry (address unassigned), nobody answers ARP for the pod', () => {
    const sim = cluster({ instanceType: 'm5.large' });
    sim.addPod({ name: 'a', node: 'node-1' });
    sim.addPod({ name: 'c', node: 'node-2' });
    const st = nodeState(sim, 'node-2');
    const eni = st.enis.find((e) => e.slots.includes(ip(sim, 'c')))!;
    sim.apply({ op: 'vpc.unassign', segment: 'subnet-a', eni: eni.id, ips: [ip(sim, 'c')] });
    expect(sim.violations.length).toBeGreaterThan(0); // caught by the incremental check, right after the change
    expect(sim.send('a', icmpEcho(parseIpv4(ip(sim, 'c')))).disposition).toBe('neighbourUnreachable');
    expect(sim.check().ok).toBe(false);
  });
});

describe('vpc.assign / vpc.unassign', () => {
  const sim = cluster({ instanceType: 'm5.large' });
  const base = { op: 'vpc.assign', segment: 'subnet-a', eni: 'eni-0123456789abcdef0', deviceIndex: 1, node: 'node-1', ns: 'node/node-1', dev: 'eth0' } as const;
  const bad: [string, Action, string][] = [
    ['unknown segment', { ...base, segment: 'nope', ips: ['10.0.9.9'] }, 'SEGMENT_NOT_FOUND'],
    ['reserved address', { ...base, ips: ['10.0.0.2'] }, 'IP_OUTSIDE_RANGE'],
    ['outside the subnet', { ...base, ips: ['10.1.9.9'] }, 'IP_OUTSIDE_RANGE'],
    ['taken by another ENI', { ...base, ips: [ip0(sim)] }, 'IP_IN_USE'],
    ['a node address', { ...base, ips: ['10.0.0.12'] }, 'IP_IN_USE'],
    ['a prefix that is not /28', { ...base, prefixes: ['10.0.9.0/24'] }, 'INVALID_CIDR'],
    ['an ENI id that is not one', { ...base, eni: 'eth1', ips: ['10.0.9.9'] }, 'INVALID_ARGUMENT'],
    ['a link not on the segment', { ...base, dev: 'lo', ips: ['10.0.9.9'] }, 'INVALID_ARGUMENT'],
    ['primaryIp without attach', { ...base, primaryIp: '10.0.9.8', ips: ['10.0.9.9'] }, 'INVALID_ARGUMENT'],
    ['unassign what another ENI holds', { op: 'vpc.unassign', segment: 'subnet-a', eni: 'eni-0123456789abcdef0', ips: [ip0(sim)] }, 'ADDRESS_NOT_FOUND'],
  ];
  for (const [what, action, code] of bad) {
    it(`refuses ${what} (${code}) and changes nothing, even after a valid action in the same list`, () => {
      const before = sim.state;
      const ok: Action = { ...base, ips: ['10.0.9.9'] };
      let err: unknown;
      try {
        applyActions(before, [ok, action]);
      } catch (e) {
        err = e;
      }
      expect(isPodnetError(err, code as never)).toBe(true);
      expect(sim.state).toBe(before);
      expect(fabricLookup(before.underlay.segments['subnet-a']!, parseIpv4('10.0.9.9'))).toBeUndefined();
    });
  }

  it('assigns addresses and prefixes the fabric then answers for, and unassigns them', () => {
    const s1 = applyActions(sim.state, [{ ...base, attach: true, primaryIp: '10.0.9.8', ips: ['10.0.9.9'], prefixes: ['10.0.8.16/28'] }]);
    const seg = s1.underlay.segments['subnet-a']!;
    expect(fabricLookup(seg, parseIpv4('10.0.9.8'))?.kind).toBe('primary');
    expect(fabricLookup(seg, parseIpv4('10.0.9.9'))).toMatchObject({ kind: 'secondary', eni: base.eni, node: 'node-1', mac: sim.node('node-1').host.links['eth0']!.mac });
    expect(fabricLookup(seg, parseIpv4('10.0.8.30'))?.kind).toBe('prefix');
    expect(() => applyActions(s1, [{ ...base, ips: ['10.0.8.20'] }])).toThrow(/already assigned/);
    const s2 = applyActions(s1, [{ op: 'vpc.unassign', segment: 'subnet-a', eni: base.eni, ips: ['10.0.9.8', '10.0.9.9'], prefixes: ['10.0.8.16/28'], detach: true }]);
    expect(fabricLookup(s2.underlay.segments['subnet-a']!, parseIpv4('10.0.8.30'))).toBeUndefined();
  });

  it('prints as the EC2 API calls they stand for', () => {
    const lines = (a: Action) => describeAction(a).map((c) => `[${c.where}] ${c.command}`);
    expect(lines({ ...base, attach: true, primaryIp: '10.0.9.8', ips: ['10.0.9.9'] })).toEqual([
      '[aws (node-1)] aws ec2 create-network-interface --subnet-id subnet-subnet-a --private-ip-address 10.0.9.8  # → eni-0123456789abcdef0',
      '[aws (node-1)] aws ec2 attach-network-interface --network-interface-id eni-0123456789abcdef0 --instance-id i-node-1 --device-index 1',
      '[aws (node-1)] aws ec2 assign-private-ip-addresses --network-interface-id eni-0123456789abcdef0 --private-ip-addresses 10.0.9.9',
    ]);
    expect(lines({ ...base, prefixes: ['10.0.8.16/28'] })).toEqual(['[aws (node-1)] aws ec2 assign-private-ip-addresses --network-interface-id eni-0123456789abcdef0 --ipv4-prefixes 10.0.8.16/28']);
    expect(lines({ op: 'vpc.unassign', segment: 'subnet-a', eni: base.eni, ips: ['10.0.9.9'], detach: true })).toEqual([
      '[aws] aws ec2 unassign-private-ip-addresses --network-interface-id eni-0123456789abcdef0 --private-ip-addresses 10.0.9.9',
      '[aws] aws ec2 detach-network-interface --attachment-id eni-attach-0123456789abcdef0',
      '[aws] aws ec2 delete-network-interface --network-interface-id eni-0123456789abcdef0',
    ]);
  });
});

/** An address node-1's primary ENI holds. */
function ip0(sim: Simulator): string {
  return (sim.node('node-1').cni as AwsNodeState).enis[0]!.slots[0]!;
}
