/**
 * A send does not follow a flooded ARP request into the namespaces that will drop it: it counts their steps
 * (and, recording, writes them from the bridge's flood plan) and ends their copies `notForUs` (engine.ts,
 * FloodPlan). A send with a tally (device counters, which read every device a copy crosses) follows every
 * copy: it is the reference. Whatever the state — ports down, a pod answering by proxy ARP or owning
 * another's address, cold or warm neighbour tables, a step budget running out mid-flood — a send with plans,
 * recorded or not, must answer exactly what the reference answers: the same fates in the same order,
 * disposition, hop violations, visited namespaces and committed state, and, recorded, the same steps.
 */
import { createSimulator, formatIpv4, hostNsId, icmpEcho, isPodnetError, podNsId, send, Tally, type Action, type ClusterState, type CniDesign, type Ipv4, type NsId, type SendOptions, type Simulator } from '@podnet/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bridge } from './designs/bridge.js';
import { flannel } from './designs/flannel.js';

type Fault = 'pod-bridge' | 'pod-proxy-arp' | 'pod-eth0-down' | 'pod-eth0-up' | 'port-down' | 'port-hairpin-off' | 'dup-pod-ip' | 'dup-gateway' | 'ping';

const faultArb = fc.record({
  kind: fc.constantFrom<Fault>('pod-bridge', 'pod-proxy-arp', 'pod-eth0-down', 'pod-eth0-down', 'pod-eth0-up', 'port-down', 'port-hairpin-off', 'dup-pod-ip', 'dup-gateway', 'ping', 'ping'),
  a: fc.nat(), b: fc.nat(),
});

function fault(sim: Simulator, f: { kind: Fault; a: number; b: number }): void {
  const pods = sim.pods().filter((p) => p.ip !== null);
  if (pods.length === 0) return;
  const p = pods[f.a % pods.length]!;
  const q = pods[f.b % pods.length]!;
  const ns = podNsId(p.key);
  const gw = sim.nodes().find((n) => n.name === q.node)?.podCidr;
  const actions: Record<Fault, Action | Action[] | null> = {
    // eth0 enslaved to a bridge inside the pod: a request it receives goes up through br0, not eth0.
    'pod-bridge': [{ op: 'link.add', ns, name: 'br0', kind: 'bridge', up: true }, { op: 'link.set', ns, name: 'eth0', master: 'br0' }],
    // Proxy ARP answers only for a target routed out another device: give the pod one (a /32 to another
    // pod's address, or to an address nobody has, out a bridge of its own).
    'pod-proxy-arp': [
      { op: 'sysctl.set', ns, key: 'net.ipv4.conf.eth0.proxy_arp', value: 1 },
      { op: 'sysctl.set', ns, key: 'net.ipv4.ip_forward', value: 1 },
      { op: 'link.add', ns, name: 'br1', kind: 'bridge', up: true },
      { op: 'route.add', ns, dst: `${formatIpv4(f.b % 2 ? q.ip! : (gw?.addr ?? 0) + 200)}/32`, dev: 'br1' },
    ],
    'pod-eth0-down': { op: 'link.set', ns, name: 'eth0', up: false },
    'pod-eth0-up': { op: 'link.set', ns, name: 'eth0', up: true },
    // The host side of the pod's veth (named after the pod's sandbox; found by its peer).
    'port-down': (() => {
      const host = sim.nodes().find((n) => n.name === p.node)?.host;
      const port = host && Object.values(host.links).find((l) => l.kind === 'veth' && l.peer.ns === ns);
      return port ? { op: 'link.set', ns: hostNsId(p.node), name: port.name, up: false } : null;
    })(),
    // The designs turn hairpin mode on for every pod's port: a port without it takes no copy of its own floods.
    'port-hairpin-off': (() => {
      const host = sim.nodes().find((n) => n.name === p.node)?.host;
      const port = host && Object.values(host.links).find((l) => l.kind === 'veth' && l.peer.ns === ns);
      return port ? { op: 'link.set', ns: hostNsId(p.node), name: port.name, hairpin: false } : null;
    })(),
    'dup-pod-ip': p.key === q.key ? null : { op: 'addr.add', ns, dev: 'eth0', addr: `${formatIpv4(q.ip!)}/32` },
    'dup-gateway': gw ? { op: 'addr.add', ns, dev: 'eth0', addr: `${formatIpv4(gw.addr + 1)}/32` } : null,
    ping: null,
  };
  const a = actions[f.kind];
  if (a) for (const x of Array.isArray(a) ? a : [a]) sim.apply(x);
  else if (f.kind === 'ping') sim.send(ns, icmpEcho(q.ip!));
}

/** What a send answers besides its recorded steps, as plain data. */
function answer(r: ReturnType<typeof send>): string {
  const { steps: _steps, ...trace } = r.trace;
  return JSON.stringify({ trace, state: r.state, visited: [...(r.visited ?? [])] });
}

/** A recorded send's steps, each with its note in words, as plain data. */
function stepsOf(r: ReturnType<typeof send>): string {
  return JSON.stringify(r.trace.steps.map((s) => ({ ...s, note: s.note })));
}

/**
 * The same send three ways: following every copy (with a tally), with plans recorded, with plans unrecorded.
 * Expects the three to answer alike, the two recorded ones with the same steps.
 */
function sameThreeWays(state: ClusterState, from: NsId, dst: Ipv4, opts: SendOptions, what: string): void {
  const followed = send(state, from, icmpEcho(dst), { ...opts, record: true, tally: new Tally() });
  const recorded = send(state, from, icmpEcho(dst), { ...opts, record: true });
  const fast = send(state, from, icmpEcho(dst), { ...opts, record: false });
  expect(answer(recorded), what).toBe(answer(followed));
  expect(stepsOf(recorded), what).toBe(stepsOf(followed));
  expect(answer(fast), what).toBe(answer(followed));
}

const designs: [string, () => CniDesign][] = [['flannel VXLAN', () => flannel()], ['flannel host-gw', () => flannel({ backend: 'host-gw' })], ['bridge', () => bridge()]];

describe('floods by plan', () => {
  for (const [name, design] of designs) {
    it(`${name}: a send with plans, recorded or not, answers what a send that follows every copy answers`, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 6 }), fc.array(faultArb, { maxLength: 5 }),
          fc.array(fc.tuple(fc.boolean(), fc.nat(), fc.nat(), fc.option(fc.integer({ min: 1, max: 120 }), { nil: undefined })), { minLength: 1, maxLength: 6 }),
          (nodes, podsPerNode, faults, probes) => {
            const sim = createSimulator({ podCidr: '10.244.0.0/16', cni: design(), checks: 'off' });
            for (let i = 1; i <= nodes; i++) sim.addNode({ name: `node-${i}` });
            for (let i = 0; i < nodes * podsPerNode; i++) sim.addPod({ name: `pod-${i}`, node: `node-${(i % nodes) + 1}` });
            for (const f of faults) {
              try {
                fault(sim, f);
              } catch (e) {
                if (!isPodnetError(e)) throw e;
              }
            }
            const pods = sim.pods().filter((p) => p.ip !== null);
            // From a pod (its request floods the other ports) or a node (cni0 floods every port).
            const fromPods = pods.map((p) => podNsId(p.key));
            const fromHosts = sim.nodes().map((n) => hostNsId(n.name));
            // Pods, nodes, each node's gateway, and an address nobody has (ARP goes unanswered).
            const to: Ipv4[] = [...pods.map((p) => p.ip!), ...sim.nodes().flatMap((n) => [n.ip, ...(n.podCidr ? [n.podCidr.addr + 1, n.podCidr.addr + 200] : [])])];
            for (const [host, a, b, maxSteps] of probes) {
              const from = host || fromPods.length === 0 ? fromHosts : fromPods;
              const f = from[a % from.length]!;
              const dst = to[b % to.length]!;
              const opts = { visited: true, ...(maxSteps === undefined ? {} : { maxSteps }) };
              sameThreeWays(sim.state, f, dst, opts, `${f} → ${formatIpv4(dst)} maxSteps ${String(maxSteps)}`);
            }
          },
        ),
        { numRuns: 60, seed: 20261126 },
      );
    });
  }

  it('a step budget that runs out at any step of a flood ends the same fates unrecorded as recorded', () => {
    // The sinks of one flood go in the queue as runs (engine.ts, FloodPlan): a budget running out inside a
    // run must end the rest of it, and what follows, exactly as the copies followed one by one end.
    const sim = createSimulator({ podCidr: '10.244.0.0/16', cni: flannel(), checks: 'off' });
    sim.addNode({ name: 'node-1' });
    sim.addNode({ name: 'node-2' });
    for (let i = 0; i < 12; i++) sim.addPod({ name: `pod-${i}`, node: `node-${(i % 2) + 1}` });
    const pods = sim.pods();
    // To pods on the same node and across nodes, and to an address of the node's pod subnet nobody has
    // (every copy is a sink: the run is the last item in the queue, and the ARP entry goes FAILED after it).
    const unowned = sim.nodes()[0]!.podCidr!.addr + 200;
    const cases: [string, Ipv4][] = [
      [hostNsId('node-1'), pods[4]!.ip!], [podNsId(pods[0]!.key), pods[5]!.ip!], [podNsId(pods[2]!.key), pods[6]!.ip!],
      [hostNsId('node-1'), unowned], [podNsId(pods[0]!.key), unowned],
    ];
    for (const [from, dst] of cases) {
      const full = send(sim.state, from, icmpEcho(dst), { record: true }).trace.steps.length;
      expect(full).toBeGreaterThan(10);
      for (let maxSteps = 1; maxSteps <= full + 1; maxSteps++) sameThreeWays(sim.state, from, dst, { visited: true, maxSteps }, `${from} → ${formatIpv4(dst)} maxSteps ${maxSteps}`);
    }
  });

  it('a pod that answers by proxy ARP is followed, not counted as a sink', () => {
    // Pin the case the shortcut must leave alone: with proxy_arp on its eth0 and forwarding on, a pod
    // answers a request for an address it routes out another device (arp_process).
    const sim = createSimulator({ podCidr: '10.244.0.0/16', cni: flannel(), checks: 'off' });
    sim.addNode({ name: 'node-1' });
    const a = sim.addPod({ name: 'a', node: 'node-1' });
    sim.addPod({ name: 'b', node: 'node-1' });
    const ns = podNsId(a.key);
    const unowned = sim.nodes()[0]!.podCidr!.addr + 200;
    sim.apply([
      { op: 'sysctl.set', ns, key: 'net.ipv4.conf.eth0.proxy_arp', value: 1 },
      { op: 'sysctl.set', ns, key: 'net.ipv4.ip_forward', value: 1 },
      { op: 'link.add', ns, name: 'br1', kind: 'bridge', up: true },
      { op: 'route.add', ns, dst: `${formatIpv4(unowned)}/32`, dev: 'br1' },
    ]);
    const fates = (record: boolean) => send(sim.state, hostNsId('node-1'), icmpEcho(unowned), { record }).trace.fates.map((f) => `${f.role} ${f.disposition} ${f.ns}`);
    expect(fates(false)).toEqual(fates(true));
    sameThreeWays(sim.state, hostNsId('node-1'), unowned, {}, 'to an address a pod answers by proxy ARP');
    expect(fates(false)).toContain(`arp delivered ${ns}`);
  });
});
