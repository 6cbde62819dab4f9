import { createSimulator, icmpEcho, isPodnetError, send, type ErrorCode, type Simulator } from '@podnet/core';
import { describe, expect, it } from 'vitest';
import { flannel } from './designs/flannel.js';
import { seedLabSpec, simulatorFromSpec } from './spec.js';

const seed = (): Simulator => simulatorFromSpec(seedLabSpec());

const cases: [string, ErrorCode, (sim: Simulator) => unknown][] = [
  ['an unknown node', 'NODE_NOT_FOUND', (s) => s.addPod({ name: 'x', node: 'node-9' })],
  ['a duplicate node name', 'DUPLICATE_NAME', (s) => s.addNode({ name: 'node-1' })],
  ['a duplicate pod name', 'DUPLICATE_NAME', (s) => s.addPod({ name: 'pod-a', node: 'node-2' })],
  ['a CIDR with host bits', 'INVALID_CIDR', (s) => s.addNode({ name: 'node-4', podCidr: '10.244.4.1/24' })],
  ['an overlapping node CIDR', 'CIDR_OVERLAP', (s) => s.addNode({ name: 'node-4', podCidr: '10.244.1.0/24' })],
  ['a node CIDR outside the pod CIDR', 'CIDR_OUTSIDE', (s) => s.addNode({ name: 'node-4', podCidr: '10.245.0.0/24' })],
  ['a pod IP outside its node range', 'IP_OUTSIDE_RANGE', (s) => s.addPod({ name: 'x', node: 'node-1', ip: '10.244.2.50' })],
  ['a pod IP already taken', 'IP_IN_USE', (s) => s.addPod({ name: 'x', node: 'node-1', ip: '10.244.1.4' })],
  ['a pod IP equal to the gateway', 'IP_IN_USE', (s) => s.addPod({ name: 'x', node: 'node-1', ip: '10.244.1.1' })],
  ['a node IP already taken', 'IP_IN_USE', (s) => s.addNode({ name: 'node-4', ip: '192.168.1.12' })],
  ['an invalid IP', 'INVALID_IP', (s) => s.addPod({ name: 'x', node: 'node-1', ip: '10.244.1.256' })],
  ['an invalid pod name', 'INVALID_NAME', (s) => s.addPod({ name: 'Pod_A', node: 'node-1' })],
  ['two containers on one port', 'PORT_CONFLICT', (s) => s.addPod({ name: 'x', node: 'node-1', containers: [{ name: 'a', ports: [8080] }, { name: 'b', ports: [8080] }] })],
  ['a packet from nowhere', 'UNKNOWN_ENDPOINT', (s) => s.ping('nowhere', '10.244.1.4')],
  ['a ping to a non-address', 'INVALID_IP', (s) => s.ping('pod-a', 'pod-c')],
  ['deleting an unknown pod', 'POD_NOT_FOUND', (s) => s.deletePod('nope')],
  ['an action on a missing namespace', 'NAMESPACE_NOT_FOUND', (s) => s.apply({ op: 'addr.add', ns: 'pod/default/nope', dev: 'eth0', addr: '10.0.0.1/24' })],
  ['an action on a missing device', 'LINK_NOT_FOUND', (s) => s.apply({ op: 'link.set', ns: 'node/node-1', name: 'eth9', up: false })],
  ['an unknown action', 'INVALID_ARGUMENT', (s) => s.apply({ op: 'nope' } as never)],
  ['a packet that is not IPv4', 'INVALID_PACKET', (s) => s.send('pod-a', { kind: 'arp' } as never)],
  ['a packet with a TTL of 300', 'INVALID_PACKET', (s) => s.send('pod-a', { ...icmpEcho(0x0af40203), header: { ...icmpEcho(0x0af40203).header, ttl: 300 } })],
  ['a packet whose length lies', 'INVALID_PACKET', (s) => s.send('pod-a', { ...icmpEcho(0x0af40203), header: { ...icmpEcho(0x0af40203).header, totalLength: 9 } })],
  ['a clock going backwards', 'CLOCK_BACKWARDS', (s) => s.advance(-1)],
  ['a batch whose second action fails', 'ROUTE_NOT_FOUND', (s) => s.apply([{ op: 'link.set', ns: 'node/node-1', name: 'cni0', up: false }, { op: 'route.del', ns: 'node/node-1', dst: '10.9.9.0/24' }])],
];

describe('bad input', () => {
  it.each(cases)('%s → %s, and nothing changes', (_what, code, call) => {
    const sim = seed();
    const before = sim.state;
    const history = sim.history();
    let err: unknown;
    try {
      call(sim);
    } catch (e) {
      err = e;
    }
    expect(isPodnetError(err, code), `got ${String(err)}`).toBe(true);
    const e = err as { message: string; hint: string };
    expect(e.message.length).toBeGreaterThan(10);
    expect(e.hint.length).toBeGreaterThan(10);
    expect(sim.state).toBe(before);
    expect(sim.history()).toEqual(history);
  });

  it('send() on a namespace that does not exist is an error, not a silent drop', () => {
    const sim = seed();
    expect(() => send(sim.state, 'pod/default/nope', icmpEcho(0x0af40203))).toThrow(expect.objectContaining({ code: 'NAMESPACE_NOT_FOUND' }));
  });

  it('an underlay router that is neither "linux" nor "vpc" is refused with a typed error', () => {
    let err: unknown;
    try {
      createSimulator({ underlay: { segments: [{ name: 'a', cidr: '10.0.0.0/24' }], router: 'cisco' as never }, cni: flannel() });
    } catch (e) {
      err = e;
    }
    expect(isPodnetError(err, 'INVALID_ARGUMENT')).toBe(true);
    expect((err as Error).message).toBe('underlay router must be "linux" or "vpc", not "cisco"');
  });

  it('the pod CIDR running out of node blocks is a clear error', () => {
    const sim = createSimulator({ podCidr: '10.244.0.0/23', nodeCidrMaskSize: 24, cni: flannel() });
    sim.addNode({ name: 'a' });
    sim.addNode({ name: 'b' });
    expect(() => sim.addNode({ name: 'c' })).toThrow(expect.objectContaining({ code: 'CIDR_EXHAUSTED' }));
  });

  it('onViolation "throw" rejects the change and leaves the state as it was', () => {
    const sim = simulatorFromSpec(seedLabSpec(), { onViolation: 'throw' });
    const before = sim.state;
    expect(() => sim.apply({ op: 'addr.add', ns: 'pod/default/pod-a', dev: 'eth0', addr: '10.244.2.3/24' }))
      .toThrow(expect.objectContaining({ code: 'GUARANTEE_VIOLATED' }));
    expect(sim.state).toBe(before);
  });
});
