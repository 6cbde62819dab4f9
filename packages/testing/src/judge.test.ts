/**
 * What the `at-end` level rests on in @podnet/core, as a user of it sees it: the simulator's
 * `checks: 'unique-ip'` (that guarantee alone, no probe) and `judgeDelivery` (a packet someone sent,
 * judged as the audit judges its probe — same key, same words).
 */
import { flannel } from '@podnet/cni';
import { createSimulator, formatIpv4, icmpEcho, judgeDelivery, tcpSyn, udpPacket, type Simulator } from '@podnet/core';
import { describe, expect, it } from 'vitest';

const SHAPE = { podCidr: '10.0.0.0/16', nodeCidrMaskSize: 24, underlay: { segments: [{ name: 'rack-a', cidr: '192.168.1.0/24', gateway: '192.168.1.1', mtu: 1500 }] } };

/** Two nodes; pods a and c on node-1, b on node-2. */
function cluster(checks: 'incremental' | 'unique-ip'): Simulator {
  const sim = createSimulator({ ...SHAPE, cni: flannel(), checks });
  sim.addNode({ name: 'node-1' });
  sim.addNode({ name: 'node-2' });
  sim.addPod({ name: 'a', node: 'node-1' });
  sim.addPod({ name: 'b', node: 'node-2' });
  sim.addPod({ name: 'c', node: 'node-1' });
  return sim;
}

const ip = (sim: Simulator, pod: string) => sim.pod(pod).ip!;

describe('judgeDelivery', () => {
  it('passes what arrived and was answered, whatever the protocol', () => {
    const sim = cluster('unique-ip');
    for (const packet of [icmpEcho(ip(sim, 'b')), udpPacket(ip(sim, 'b'), 33434), tcpSyn(ip(sim, 'b'), 8080)]) {
      const trace = sim.send('a', packet);
      expect(judgeDelivery(sim.state, 'default/a', 'default/b', trace)).toBeNull();
    }
    expect(judgeDelivery(sim.state, 'node-1', 'default/a', sim.send('node-1', icmpEcho(ip(sim, 'a'))))).toBeNull();
  });

  it('passes a SYN to a port that listens: its SYN/ACK came back, to a connected socket or to a sender without one', () => {
    const sim = cluster('unique-ip');
    sim.addPod({ name: 'web', node: 'node-2', containers: [{ name: 'app', ports: [8080] }] });
    for (const socket of [true, false]) {
      const trace = sim.send('a', tcpSyn(ip(sim, 'web'), 8080), { socket });
      expect(trace.fates.find((f) => f.role === 'tcp-reply')?.ns).toBe('pod/default/a');
      expect(judgeDelivery(sim.state, 'default/a', 'default/web', trace)).toBeNull();
    }
    // The SYN/ACK lost on its way back is a broken promise: node-2 loses its route to node-1's pods.
    sim.apply({ op: 'route.del', ns: 'node/node-2', dst: '10.0.0.0/24' });
    const lost = sim.send('a', tcpSyn(ip(sim, 'web'), 8080), { socket: true });
    expect(lost.fates.find((f) => f.packet === 1)).toMatchObject({ ns: 'pod/default/web', disposition: 'delivered' });
    expect(judgeDelivery(sim.state, 'default/a', 'default/web', lost)?.key).toBe('no-nat|default/a|default/web');
  });

  it('does not take a packet that another pod received for one that reached its destination', () => {
    const sim = cluster('unique-ip');
    const v = judgeDelivery(sim.state, 'default/a', 'default/c', sim.send('a', udpPacket(ip(sim, 'b'), 33434)));
    expect(v?.key).toBe('no-nat|default/a|default/c');
    expect(v?.explanation).toMatch(/the udp packet was taken by pod\/default\/b, not by pod\/default\/c$/);
  });

  it('reports a lost packet with the key and words of the audit, and only where the model promises something', () => {
    const sim = cluster('unique-ip');
    // node-1 loses its route to node-2's pods (flannel's shared route hidden there).
    sim.apply({ op: 'route.del', ns: 'node/node-1', dst: '10.0.1.0/24' });
    const trace = sim.send('a', udpPacket(ip(sim, 'b'), 33434));
    const v = judgeDelivery(sim.state, 'default/a', 'default/b', trace);
    const audited = sim.check().violations.find((x) => x.key === 'no-nat|default/a|default/b');
    expect(v?.key).toBe(audited?.key);
    expect(v?.guarantee).toBe('no-nat');
    expect(v?.explanation).toMatch(new RegExp(`^pod default/a cannot reach pod default/b \\(${formatIpv4(ip(sim, 'b')).replace(/\./g, '\\.')}\\): the udp packet ended as `));
    // A node reaching another node's pod, and a pod reaching a node, are not promised: no verdict.
    expect(judgeDelivery(sim.state, 'node-1', 'default/b', sim.send('node-1', icmpEcho(ip(sim, 'b'))))).toBeNull();
    expect(judgeDelivery(sim.state, 'default/a', 'node-2', sim.send('a', icmpEcho(sim.node('node-2').ip)))).toBeNull();
  });

  it('reports a node that cannot reach its own pod as the audit does', () => {
    const sim = cluster('unique-ip');
    sim.apply({ op: 'link.set', ns: 'node/node-1', name: 'cni0', up: false });
    const v = judgeDelivery(sim.state, 'node-1', 'default/a', sim.send('node-1', icmpEcho(ip(sim, 'a'))));
    expect(v?.guarantee).toBe('node-reaches-pods');
    expect(sim.check().violations.map((x) => x.key)).toContain(v?.key);
  });

  it('rejects what is not a sender, a pod and a trace', () => {
    const sim = cluster('unique-ip');
    const trace = sim.send('a', icmpEcho(ip(sim, 'b')));
    expect(() => judgeDelivery(sim.state, 1 as never, 'default/b', trace)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => judgeDelivery(sim.state, 'default/a', 'default/b', {} as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe("the simulator's checks: 'unique-ip'", () => {
  it('keeps the unique-IP verdict exactly and probes nothing else', () => {
    const sim = cluster('unique-ip');
    // A duplicate address: caught after the change, as a full audit would.
    sim.apply({ op: 'addr.add', ns: 'pod/default/c', dev: 'eth0', addr: `${formatIpv4(ip(sim, 'b'))}/24` });
    expect(sim.violations.map((v) => v.key)).toEqual(sim.check().violations.filter((v) => /^unique-ip\|[^|]+$/.test(v.key)).map((v) => v.key));
    expect(sim.violations.length).toBe(1);
    // A reachability break is left to the packets and to check(): the verdict after the change does not see it.
    const other = cluster('unique-ip');
    other.apply({ op: 'route.del', ns: 'node/node-1', dst: '10.0.1.0/24' });
    expect(other.violations).toEqual([]);
    expect(other.check().ok).toBe(false);
    // The same change under the default incremental checks is seen at once.
    const exact = cluster('incremental');
    exact.apply({ op: 'route.del', ns: 'node/node-1', dst: '10.0.1.0/24' });
    expect(exact.violations.length).toBeGreaterThan(0);
  });

  it('is one of the levels a simulator accepts', () => {
    expect(() => createSimulator({ ...SHAPE, cni: flannel(), checks: 'some' as never })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('incremental, sampled, unique-ip or off') }));
  });
});
