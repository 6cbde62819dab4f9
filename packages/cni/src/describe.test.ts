import { describeAction, netnsPath, type Action } from '@podnet/core';
import { describe, expect, it } from 'vitest';
import { flannel, vtepMac } from './designs/flannel.js';
import { seedLabSpec, simulatorFromSpec } from './spec.js';

describe('actions printed as the commands a person would type', () => {
  it('flannel joining node-1 reads as flanneld sets a node up', () => {
    const design = flannel();
    const sim = simulatorFromSpec(seedLabSpec());
    const r = design.nodeAdded(sim.state, sim.node('node-1'));
    const lines = r.actions.flatMap((a) => describeAction(a, sim.state)).map((c) => `[${c.where}] ${c.command}`);
    expect(lines).toEqual([
      '[node-1] sysctl -w net.ipv4.ip_forward=1',
      `[node-1] ip link add flannel.1 address ${vtepMac('node-1')} mtu 1450 type vxlan id 1 local 192.168.1.11 dev eth0 dstport 8472 nolearning`,
      '[node-1] ip addr add 10.244.1.0/32 dev flannel.1',
      '[node-1] ip link set flannel.1 up',
      '[every node but node-1] ip route replace 10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink',
      `[every node but node-1] ip neigh replace 10.244.1.0 lladdr ${vtepMac('node-1')} dev flannel.1 nud permanent`,
      `[every node but node-1] bridge fdb append ${vtepMac('node-1')} dev flannel.1 dst 192.168.1.11 self permanent`,
      "[node-1] # install every other node's flannel entries (routes, neighbours, FDB) here",
      // flanneld's trafficmngr/iptables: masqRules (--ip-masq) and forwardRules (--iptables-forward-rules).
      '[node-1] iptables -t nat -N FLANNEL-POSTRTG',
      '[node-1] iptables -t nat -A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG',
      '[node-1] iptables -t nat -A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN',
      '[node-1] iptables -t nat -A FLANNEL-POSTRTG -s 10.244.1.0/24 -d 10.244.0.0/16 -m comment --comment "flanneld masq" -j RETURN',
      '[node-1] iptables -t nat -A FLANNEL-POSTRTG -s 10.244.0.0/16 -d 10.244.1.0/24 -m comment --comment "flanneld masq" -j RETURN',
      '[node-1] iptables -t nat -A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.1.0/24 -m comment --comment "flanneld masq" -j RETURN',
      '[node-1] iptables -t nat -A FLANNEL-POSTRTG -s 10.244.0.0/16 ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE',
      '[node-1] iptables -t nat -A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.0.0/16 -m comment --comment "flanneld masq" -j MASQUERADE',
      '[node-1] iptables -t filter -N FLANNEL-FWD',
      '[node-1] iptables -t filter -A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD',
      '[node-1] iptables -t filter -A FLANNEL-FWD -s 10.244.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT',
      '[node-1] iptables -t filter -A FLANNEL-FWD -d 10.244.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT',
    ]);
  });

  it('a node leaving lists the shared entries every other node drops', () => {
    const sim = simulatorFromSpec(seedLabSpec());
    const del: Action = { op: 'peerset.del', set: 'flannel', owner: 'node-2' };
    expect(describeAction(del, sim.state).map((c) => c.command)).toEqual([
      'ip route del 10.244.2.0/24 via 10.244.2.0 dev flannel.1',
      'ip neigh del 10.244.2.0 dev flannel.1',
      `bridge fdb del ${vtepMac('node-2')} dev flannel.1 dst 192.168.1.12`,
    ]);
    expect(describeAction(del)[0]!.command).toBe("# forget node-2's entries of flannel");
  });

  it('a pod ADD reads as the bridge plugin wiring a veth', () => {
    const sim = simulatorFromSpec(seedLabSpec());
    const design = flannel();
    const state = sim.state;
    // A fresh sandbox, as the runtime makes it before CNI ADD: only lo.
    const a = sim.pod('pod-a');
    const pod = { ...a, key: 'default/pod-x', name: 'pod-x', netns: { ...a.netns!, id: 'pod/default/pod-x', links: { lo: a.netns!.links['lo']! } } };
    const r = design.podAdded(state, { pod, node: sim.node('node-1'), ifname: 'eth0', netns: '/var/run/netns/x', containerId: 'c0ffee', requestedIp: 0x0af40163 });
    if ('error' in r) throw new Error(r.error.msg);
    const cmds = r.actions.flatMap((a) => describeAction(a)).map((c) => `[${c.where}] ${c.command}`);
    // The peer's address and MTU follow `peer name` (ip-link(8)); set anywhere else the pod's eth0 would keep MTU 1500.
    expect(cmds[0]).toMatch(/^\[node-1\] ip link add veth[0-9a-f]{8} address \S+ mtu 1450 type veth peer name eth0 address \S+ mtu 1450 netns default\/pod-x$/);
    expect(cmds).toContain('[default/pod-x] ip link set eth0 up');
    expect(cmds.some((c) => /^\[node-1\] ip link set veth[0-9a-f]{8} master cni0$/.test(c))).toBe(true);
    expect(cmds.slice(-3)).toEqual([
      '[default/pod-x] ip addr add 10.244.1.99/24 dev eth0',
      // ipam.ConfigureIface adds the result's routes in order: flannel's route to its network, then the
      // default route the bridge plugin appended for isDefaultGateway.
      '[default/pod-x] ip route add 10.244.0.0/16 via 10.244.1.1 dev eth0',
      '[default/pod-x] ip route add default via 10.244.1.1 dev eth0',
    ]);
  });

  it('a pod the state knows is moved by its CNI_NETNS path, which ip opens as a file', () => {
    const sim = simulatorFromSpec(seedLabSpec());
    const pod = sim.pod('pod-a');
    const add: Action = { op: 'link.add', ns: 'node/node-1', name: 'vethx', kind: 'veth', peer: { ns: 'pod/default/pod-a', name: 'eth1' } };
    expect(describeAction(add, sim.state)[0]!.command).toBe(`ip link add vethx type veth peer name eth1 netns ${netnsPath(pod)}`);
    expect(describeAction(add, sim.state, { netnsName: () => 'lab-ns' })[0]!.command).toBe('ip link add vethx type veth peer name eth1 netns lab-ns');
  });
});
