/**
 * Addresses that change hands: a node that joins with the address of one that left, a pod that gets
 * the address of one deleted. The newcomer announces itself (gratuitous ARP: the joining node's network
 * stack, the CNI bridge plugin for a pod), so neighbours that cached the old MAC follow. Found by
 * @podnet/testing's checkDesign: without it the first node kept sending VXLAN to a MAC no longer on the
 * segment.
 */
import { createSimulator, formatIpv4 } from '@podnet/core';
import { describe, expect, it } from 'vitest';
import { flannel } from './designs/flannel.js';

describe('addresses that change hands', () => {
  it('a node that takes a departed node\'s IP is reachable from a node that cached the old MAC', () => {
    const sim = createSimulator({ cni: flannel(), nodes: [{ name: 'node-1' }, { name: 'node-2' }], pods: [{ name: 'a', node: 'node-1' }] });
    const ip = formatIpv4(sim.node('node-2').ip);
    expect(sim.ping('node-1', ip).ok).toBe(true);
    const oldMac = sim.node('node-2').host.links['eth0']!.mac;
    expect(sim.node('node-1').host.neigh[`eth0|${sim.node('node-2').ip}`]?.mac).toBe(oldMac);
    sim.removeNode('node-2');
    const n3 = sim.addNode({ name: 'node-3' });
    expect(formatIpv4(n3.ip)).toBe(ip);
    expect(sim.node('node-1').host.neigh[`eth0|${n3.ip}`]?.mac).toBe(n3.host.links['eth0']!.mac);
    const c = sim.addPod({ name: 'c', node: 'node-3' });
    expect(sim.ping('a', formatIpv4(c.ip!)).ok).toBe(true);
    expect(sim.check().ok).toBe(true);
  });

  it('a pod that gets a deleted pod\'s IP is reachable from its node, which cached the old MAC', () => {
    const sim = createSimulator({ nodeCidrMaskSize: 30, cni: flannel(), nodes: [{ name: 'node-1' }], pods: [{ name: 'a', node: 'node-1' }] });
    const ip = formatIpv4(sim.pod('a').ip!);
    expect(sim.ping('node-1', ip).ok).toBe(true);
    sim.deletePod('a');
    const b = sim.addPod({ name: 'b', node: 'node-1' });
    expect(formatIpv4(b.ip!)).toBe(ip); // a /30 has one pod address: it is reused at once
    expect(sim.ping('node-1', ip).ok).toBe(true);
    expect(sim.check().ok).toBe(true);
  });
});
