/**
 * An unrecorded flood finds each bridge port's far end as the next pod of the node first, as ports and pods
 * are usually made in the same order (engine.ts, floodPlan), and by the pod's key otherwise. Whatever the
 * order of a node's pods and its ports — hostNetwork pods (no port) among them, pods deleted and added
 * again (their port and their place among the pods both move), a port of a pod's veth taken off the
 * bridge — an unrecorded send must answer exactly what the recorded send answers (see flood-sink.test.ts).
 */
import { createSimulator, formatIpv4, hostNsId, icmpEcho, isPodnetError, podNsId, send, type Ipv4 } from '@podnet/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flannel } from './designs/flannel.js';

type Op = { kind: 'add' | 'add-host' | 'delete' | 'readd' | 'nomaster'; a: number };

const opArb: fc.Arbitrary<Op> = fc.record({ kind: fc.constantFrom<Op['kind']>('add', 'add', 'add-host', 'delete', 'readd', 'nomaster'), a: fc.nat() });

/** What a send answers besides its recorded steps, as plain data. */
function answer(r: ReturnType<typeof send>): string {
  const { steps: _steps, ...trace } = r.trace;
  return JSON.stringify({ trace, state: r.state, visited: [...(r.visited ?? [])] });
}

describe('unrecorded floods, whatever the order of pods and ports', () => {
  it('answer what the recorded send answers', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 }), fc.array(opArb, { minLength: 1, maxLength: 14 }), fc.array(fc.tuple(fc.boolean(), fc.nat(), fc.nat()), { minLength: 1, maxLength: 6 }), (nodes, ops, probes) => {
        const sim = createSimulator({ podCidr: '10.244.0.0/16', cni: flannel(), checks: 'off' });
        for (let i = 1; i <= nodes; i++) sim.addNode({ name: `node-${i}` });
        const deleted: { name: string; node: string }[] = [];
        let n = 0;
        for (const op of ops) {
          const node = `node-${(op.a % nodes) + 1}`;
          const pods = sim.pods();
          try {
            if (op.kind === 'add') sim.addPod({ name: `pod-${n++}`, node });
            else if (op.kind === 'add-host') sim.addPod({ name: `host-${n++}`, node, hostNetwork: true });
            else if (op.kind === 'delete' && pods.length > 0) {
              const p = pods[op.a % pods.length]!;
              sim.deletePod(p.key);
              deleted.push({ name: p.name, node: p.node! });
            } else if (op.kind === 'readd' && deleted.length > 0) {
              const d = deleted.splice(op.a % deleted.length, 1)[0]!;
              sim.addPod({ name: d.name, node: d.node });
            } else if (op.kind === 'nomaster') {
              // A port taken off cni0: the bridge no longer floods to it (its pod is still there).
              const withNs = pods.filter((p) => !p.hostNetwork && p.ip !== null);
              const p = withNs[op.a % Math.max(1, withNs.length)];
              const host = p && sim.nodes().find((x) => x.name === p.node)?.host;
              const port = host && Object.values(host.links).find((l) => l.kind === 'veth' && l.peer.ns === podNsId(p.key));
              if (port) sim.apply({ op: 'link.set', ns: hostNsId(p!.node!), name: port.name, master: null });
            }
          } catch (e) {
            if (!isPodnetError(e)) throw e;
          }
        }
        const pods = sim.pods().filter((p) => p.ip !== null && !p.hostNetwork);
        const fromPods = pods.map((p) => podNsId(p.key));
        const fromHosts = sim.nodes().map((x) => hostNsId(x.name));
        const to: Ipv4[] = [...pods.map((p) => p.ip!), ...sim.nodes().flatMap((x) => (x.podCidr ? [x.podCidr.addr + 1, x.podCidr.addr + 200] : []))];
        if (to.length === 0) return;
        for (const [host, a, b] of probes) {
          const from = host || fromPods.length === 0 ? fromHosts : fromPods;
          const f = from[a % from.length]!;
          const dst = to[b % to.length]!;
          const recorded = send(sim.state, f, icmpEcho(dst), { visited: true, record: true });
          const fast = send(sim.state, f, icmpEcho(dst), { visited: true, record: false });
          expect(answer(fast), `${f} → ${formatIpv4(dst)}`).toBe(answer(recorded));
        }
      }),
      { numRuns: 80, seed: 20261126 },
    );
  });
});
