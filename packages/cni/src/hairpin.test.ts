/**
 * Hairpin mode on bridge ports, as the kernel does it (br_forward.c should_deliver: `(p->flags &
 * BR_HAIRPIN_MODE) || skb->dev != p->dev`), measured in packages/cli/scripts/hairpin-formats.sh: the bridge
 * plugin turns it on for each pod's port when `hairpinMode` is true (flannel's delegate, the bridge design);
 * a flood then sends a copy back out of the port it came in by, and a unicast frame whose FDB entry is that
 * port goes back out of it. Off, neither.
 */
import {
  createSimulator, describeAction, formatIpv4, getNs, hostNsId, icmpEcho, isPodnetError, parseIpv4, podNsId, send, type Action, type Link, type Simulator, type Step,
} from '@podnet/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bridge } from './designs/bridge.js';
import { flannel } from './designs/flannel.js';

/** Two pods on node-1 (a, b), one on node-2 (c), with `cni`. */
function lab(cni = flannel()): Simulator {
  const sim = createSimulator({ podCidr: '10.244.0.0/16', cni, checks: 'off' });
  sim.addNode({ name: 'node-1' });
  sim.addNode({ name: 'node-2' });
  sim.addPod({ name: 'a', node: 'node-1' });
  sim.addPod({ name: 'b', node: 'node-1' });
  sim.addPod({ name: 'c', node: 'node-2' });
  return sim;
}

/** The host end of pod `name`'s veth (a port of cni0). */
function portOf(sim: Simulator, name: string): Link & { kind: 'veth' } {
  const pod = sim.pods().find((p) => p.name === name)!;
  const host = sim.nodes().find((n) => n.name === pod.node)!.host;
  return Object.values(host.links).find((l): l is Link & { kind: 'veth' } => l.kind === 'veth' && l.peer.ns === podNsId(pod.key))!;
}

const ipOf = (sim: Simulator, name: string) => sim.pods().find((p) => p.name === name)!.ip!;
const nsOf = (sim: Simulator, name: string) => podNsId(sim.pods().find((p) => p.name === name)!.key);

/** The ARP requests pod `name` received on eth0 that it sent itself (what `tcpdump -i eth0` shows a second time). */
function ownRequestsBack(steps: readonly Step[], sim: Simulator, name: string): Step[] {
  const ns = nsOf(sim, name);
  const mac = getNs(sim.state, ns).links['eth0']!.mac;
  return steps.filter((s) => s.ns === ns && s.dev === 'eth0' && s.kind === 'receive' && s.frame?.payload.kind === 'arp' && s.frame.payload.op === 1 && s.frame.eth.src === mac);
}

describe('the bridge plugin sets hairpin mode from hairpinMode', () => {
  it('flannel (delegate hairpinMode: true) and the bridge design turn it on for each pod\'s port; `ip link set` describes it', () => {
    for (const cni of [flannel(), bridge()]) {
      const sim = lab(cni);
      for (const p of ['a', 'b', 'c']) expect(portOf(sim, p).hairpin, p).toBe(true);
      // The bridge itself and the node's eth0 are no ports.
      const host = sim.nodes()[0]!.host;
      expect(host.links['cni0']!.hairpin).toBeUndefined();
    }
    const a: Action = { op: 'link.set', ns: 'node/node-1', name: 'veth1234', hairpin: true };
    expect(describeAction(a).map((c) => c.command)).toEqual(['ip link set veth1234 type bridge_slave hairpin on']);
  });
});

describe('flooding', () => {
  it('a pod\'s ARP request comes back to it with hairpin on (tcpdump shows it twice), not with it off', () => {
    const sim = lab();
    const on = send(sim.state, nsOf(sim, 'a'), icmpEcho(ipOf(sim, 'b'))).trace;
    const back = ownRequestsBack(on.steps, sim, 'a');
    expect(back).toHaveLength(1);
    // Not for it (the target is pod-b's): pod-a drops it (no reply to itself) and the ping goes on.
    expect(back[0]!.index).toBe(Math.max(...on.steps.filter((x) => x.packet === back[0]!.packet && x.ns === nsOf(sim, 'a')).map((x) => x.index)));
    expect(on.steps.filter((s) => s.kind === 'arp-reply' && s.ns === nsOf(sim, 'a'))).toEqual([]);
    expect(on.disposition).toBe('delivered');
    const flood = on.steps.find((s) => s.kind === 'bridge-flood')!;
    expect(flood.note).toContain('the one it came in by too (hairpin on)');

    sim.apply({ op: 'link.set', ns: hostNsId('node-1'), name: portOf(sim, 'a').name, hairpin: false });
    const off = send(sim.state, nsOf(sim, 'a'), icmpEcho(ipOf(sim, 'b'))).trace;
    expect(ownRequestsBack(off.steps, sim, 'a')).toEqual([]);
    expect(off.steps.find((s) => s.kind === 'bridge-flood')!.note).toContain('but the one it came in by');
    // One copy less: the veth crossing and the receive in pod-a.
    expect(on.steps.length - off.steps.length).toBe(2);
  });

  it('pod-a\'s neighbour table learns nothing from its own request (measured: only the target\'s entry)', () => {
    const sim = lab();
    const { state } = send(sim.state, nsOf(sim, 'a'), icmpEcho(ipOf(sim, 'b')));
    expect(Object.values(getNs(state, nsOf(sim, 'a')).neigh).map((n) => n.ip)).toEqual([ipOf(sim, 'b')]);
  });

  it('property: the copies a flood sends are the bridge\'s up ports, less the ingress one unless it is in hairpin mode', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 5 }), fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }), fc.nat(), fc.nat(), fc.boolean(), (pods, hairpins, from, to, record) => {
        const sim = createSimulator({ podCidr: '10.244.0.0/16', cni: flannel(), checks: 'off' });
        sim.addNode({ name: 'node-1' });
        for (let i = 0; i < pods; i++) sim.addPod({ name: `p${i}`, node: 'node-1' });
        for (let i = 0; i < pods; i++) sim.apply({ op: 'link.set', ns: hostNsId('node-1'), name: portOf(sim, `p${i}`).name, hairpin: hairpins[i]! });
        const src = `p${from % pods}`;
        const dst = `p${to % pods}`;
        if (src === dst) return;
        const trace = send(sim.state, nsOf(sim, src), icmpEcho(ipOf(sim, dst)), { record }).trace;
        const back = hairpins[from % pods]!;
        if (record) {
          // Every copy of the request out of cni0's ports: a `veth` step of the ARP packet in the host.
          const arp = trace.steps.find((s) => s.kind === 'arp-request')!.packet;
          const copies = trace.steps.filter((s) => s.packet === arp && s.ns === hostNsId('node-1') && s.kind === 'veth');
          expect(copies).toHaveLength(pods - (back ? 0 : 1));
          // With hairpin off on the ingress port nothing leaves by it; with it on, one copy does.
          const ingress = portOf(sim, src).name;
          expect(copies.filter((s) => s.dev === ingress)).toHaveLength(back ? 1 : 0);
        }
        expect(trace.disposition).toBe('delivered');
        // The recorded and the unrecorded send agree (the unrecorded one counts sinks: engine.ts FloodPlan).
        const other = send(sim.state, nsOf(sim, src), icmpEcho(ipOf(sim, dst)), { record: !record }).trace;
        expect(other.fates).toEqual(trace.fates);
      }),
      { numRuns: 40, seed: 35 },
    );
  });
});

describe('unicast back to the ingress port', () => {
  /** pod-b's MAC pinned to pod-a's port (`bridge fdb replace MAC dev PORT master static`), pod-a's ARP warm. */
  function pinned(hairpin: boolean): Simulator {
    const sim = lab();
    sim.send('a', icmpEcho(ipOf(sim, 'b')));
    const bMac = getNs(sim.state, nsOf(sim, 'b')).links['eth0']!.mac;
    const port = portOf(sim, 'a').name;
    sim.apply([{ op: 'fdb.append', ns: hostNsId('node-1'), dev: port, mac: bMac }, { op: 'link.set', ns: hostNsId('node-1'), name: port, hairpin }]);
    return sim;
  }

  it('hairpin on: the echo request goes back to pod-a, which drops it (not its MAC); off: the bridge drops it', () => {
    const simOn = pinned(true);
    const a = nsOf(simOn, 'a');
    const on = send(simOn.state, a, icmpEcho(ipOf(simOn, 'b'))).trace;
    expect(on.disposition).toBe('notForUs');
    expect(on.fates[0]!.ns).toBe(a);
    expect(on.steps.some((s) => s.kind === 'bridge-forward' && s.note.includes('sent back out (hairpin on)'))).toBe(true);
    expect(on.steps.filter((s) => s.packet === 1 && s.ns === a && s.kind === 'receive')).toHaveLength(1);
    // pod-b sees nothing (measured: its capture empty, ping 100% loss).
    expect(on.steps.some((s) => s.ns === nsOf(simOn, 'b'))).toBe(false);

    const simOff = pinned(false);
    const off = send(simOff.state, a, icmpEcho(ipOf(simOff, 'b'))).trace;
    expect(off.disposition).toBe('notForUs');
    expect(off.fates[0]!.ns).toBe(hostNsId('node-1'));
    expect(off.steps.some((s) => s.kind === 'drop' && s.note.includes('behind the port it came in by (hairpin off)'))).toBe(true);
    expect(off.steps.filter((s) => s.packet === 1 && s.ns === a && s.kind === 'receive')).toEqual([]);
  });
});

describe('bridged DNAT back to the sender (kube-proxy\'s hairpin case)', () => {
  /**
   * node-1 DNATs 10.96.0.10 to pod-a with br_netfilter on; pod-a's neighbour entry for its gateway warm, and
   * node-1's for pod-a warm or (`cold`) deleted, so the bridged packet waits for ARP first
   * (br_nf_pre_routing_finish_bridge_slow).
   */
  function dnatToSelf(hairpin: boolean, cold: boolean): { sim: Simulator; trace: ReturnType<typeof send>['trace'] } {
    const sim = lab();
    const gw = sim.nodes().find((n) => n.name === 'node-1')!.podCidr!.addr + 1;
    sim.send('a', icmpEcho(gw));
    const h = hostNsId('node-1');
    const a = ipOf(sim, 'a');
    sim.apply([
      { op: 'sysctl.set', ns: h, key: 'net.bridge.bridge-nf-call-iptables', value: 1 },
      { op: 'rule.append', ns: h, rule: { table: 'nat', chain: 'PREROUTING', dst: '10.96.0.10/32', protocol: 'icmp', target: 'DNAT', to: formatIpv4(a) } },
      { op: 'link.set', ns: h, name: portOf(sim, 'a').name, hairpin },
      ...(cold ? [{ op: 'neigh.del', ns: h, dev: 'cni0', ip: formatIpv4(a) } as Action] : []),
    ]);
    return { sim, trace: send(sim.state, nsOf(sim, 'a'), icmpEcho(parseIpv4('10.96.0.10'))).trace };
  }

  for (const cold of [false, true]) {
    it(`node-1's neighbour entry for pod-a ${cold ? 'cold (the packet waits for ARP)' : 'warm'}: lost with hairpin off, back in pod-a with it on`, () => {
      const off = dnatToSelf(false, cold);
      // Cold, node-1 asks for pod-a's MAC before bridging the packet; warm, it does not.
      expect(off.trace.steps.some((s) => s.kind === 'arp-request' && s.ns === hostNsId('node-1'))).toBe(cold);
      expect(off.trace.disposition).toBe('notForUs');
      expect(off.trace.fates[0]!.ns).toBe(hostNsId('node-1'));
      expect(off.trace.steps.some((s) => s.kind === 'drop' && s.note.includes('behind the port it came in by (hairpin off)'))).toBe(true);
      const on = dnatToSelf(true, cold);
      const a = nsOf(on.sim, 'a');
      // The request reaches pod-a (from its own MAC: the bridged DNAT keeps the sender's).
      const back = on.trace.steps.find((s) => s.packet === 1 && s.ns === a && s.kind === 'receive')!;
      expect(back.frame!.eth.src).toBe(back.frame!.eth.dst);
    });
  }
});

describe('link.set hairpin: validation and ports leaving', () => {
  const bad: [string, Action, string][] = [
    ['the bridge itself', { op: 'link.set', ns: 'node/node-1', name: 'cni0', hairpin: true }, 'INVALID_ARGUMENT'],
    ['the node\'s eth0 (no port)', { op: 'link.set', ns: 'node/node-1', name: 'eth0', hairpin: true }, 'INVALID_ARGUMENT'],
    ['an unknown device', { op: 'link.set', ns: 'node/node-1', name: 'nosuch', hairpin: true }, 'LINK_NOT_FOUND'],
    ['a value that is no boolean', { op: 'link.set', ns: 'node/node-1', name: 'PORT', hairpin: 'on' as unknown as boolean }, 'INVALID_ARGUMENT'],
  ];
  it.each(bad)('%s: a typed error, the state unchanged', (_, action, code) => {
    const sim = lab();
    const a = (action.op === 'link.set' && action.name === 'PORT' ? { ...action, name: portOf(sim, 'a').name } : action) as Action;
    const before = sim.state;
    let caught: unknown;
    try { sim.apply(a); } catch (e) { caught = e; }
    expect(isPodnetError(caught) && caught.code).toBe(code);
    expect(isPodnetError(caught) && caught.hint.length > 0).toBe(true);
    expect(sim.state).toBe(before);
  });

  it('a port that leaves its bridge and joins again has hairpin off (measured: nomaster, master cni0)', () => {
    const sim = lab();
    const port = portOf(sim, 'a').name;
    sim.apply({ op: 'link.set', ns: hostNsId('node-1'), name: port, master: null });
    expect(portOf(sim, 'a').hairpin).toBeUndefined();
    sim.apply({ op: 'link.set', ns: hostNsId('node-1'), name: port, master: 'cni0' });
    expect(portOf(sim, 'a').hairpin).toBeUndefined();
    // Set and cleared, the link is as it was (off is the absent flag).
    const before = JSON.stringify(portOf(sim, 'a'));
    sim.apply({ op: 'link.set', ns: hostNsId('node-1'), name: port, hairpin: true });
    sim.apply({ op: 'link.set', ns: hostNsId('node-1'), name: port, hairpin: false });
    expect(JSON.stringify(portOf(sim, 'a'))).toBe(before);
  });
});
