import { ClusterRun, checkDesign, clusterCommands, clusterShapeArb, type CheckDesignResult } from '@podnet/testing';
import { testDesign, testDesignBreaks } from '@podnet/testing/vitest';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hostRouteMismatches, hostRoutesMatchPodsArb } from './host-routes-command.js';
import { ptp } from './ptp.js';

type Failed = Extract<CheckDesignResult, { ok: false }>;
const failed = (r: CheckDesignResult): Failed => {
  if (r.ok) throw new Error(`no counterexample in ${r.runs} runs`);
  return r;
};
/** The kind of each event, in order (`addNode`, `addPod`, `send`…). */
const kinds = (r: Failed) => r.counterexample.events.map((e) => e.split(' ')[0]);

describe('ptp with host routes: the working design', () => {
  // Static routes via the other nodes' underlay IPs: every node on one L2 segment.
  for (const checks of ['every-change', 'at-end'] as const) {
    it(`keeps the network model over 300 runs (${checks})`, () => {
      expect(checkDesign(ptp(), { numRuns: 300, segments: 1, checks })).toEqual({ ok: true, runs: 300, seed: 1 });
    });
  }

  it('cannot span two segments: the kernel refuses a route via another segment’s node (the error names the event)', () => {
    const r = failed(checkDesign(ptp(), { numRuns: 100 }));
    expect(r.counterexample.kind).toBe('error');
    expect(r.counterexample.events).toEqual(['addNode node-1 (rack-a)', 'addNode node-2 (rack-b) → threw']);
    expect(r.counterexample.explanation).toContain('INVALID_GATEWAY');
  });

  it('fast-check commands: the cluster events plus our own host-routes-and-IPAM command, at both levels', () => {
    for (const checks of ['every-change', 'at-end'] as const) {
      fc.assert(fc.property(clusterShapeArb({ segments: 1 }), fc.commands([...clusterCommands(), hostRoutesMatchPodsArb], { maxCommands: 20, size: 'medium' }), (shape, cmds) => {
        const run = new ClusterRun(ptp(), shape, { checks });
        fc.modelRun(() => ({ model: {}, real: run }), cmds);
        run.finish();
      }), { seed: 1, numRuns: 100 });
    }
  });

  it('our command catches what checkDesign cannot: an address never released at CNI DEL', () => {
    const leaky = ptp({ leakIpOnDelete: true });
    // The three guarantees never see it: a leaked address breaks no path, it only empties the pool.
    expect(checkDesign(leaky, { numRuns: 300, segments: 1 }).ok).toBe(true);
    const r = fc.check(fc.property(clusterShapeArb({ segments: 1 }), fc.commands([...clusterCommands(), hostRoutesMatchPodsArb], { maxCommands: 20, size: 'medium' }), (shape, cmds) => {
      const run = new ClusterRun(leaky, shape);
      fc.modelRun(() => ({ model: {}, real: run }), cmds);
    }), { seed: 1, numRuns: 100 });
    expect(r.failed).toBe(true);
    expect(String(r.errorInstance)).toContain('IPAM still holds 10.0.0.2 for default/pod-1, which no running pod has');
    // Shrunk to: a node, a pod on it, the pod deleted, then our check.
    const run = new ClusterRun(leaky, r.counterexample![0]);
    fc.modelRun(() => ({ model: {}, real: run }), [...r.counterexample![1]].filter((c) => String(c) !== 'hostRoutesMatchPods'));
    expect(run.log).toEqual(['addNode node-1 (rack-a)', 'addPod pod-1 → node-1 10.0.0.2', 'deletePod pod-1']);
    expect(hostRouteMismatches(run)).toEqual(['node-1: IPAM still holds 10.0.0.2 for default/pod-1, which no running pod has']);
  });
});

describe('bug 1: the host end of the veth has no gateway address (ptp puts it there; forgotten here)', () => {
  const design = ptp({ noGatewayAddress: true });

  it('is caught in the first run at both levels, shrunk to a node and a pod on it', () => {
    for (const checks of ['every-change', 'at-end'] as const) {
      const r = failed(checkDesign(design, { numRuns: 300, segments: 1, checks }));
      expect(r.runs).toBe(1);
      expect(r.counterexample.kind).toBe('node-reaches-pods');
      expect(kinds(r).sort()).toEqual(['addNode', 'addPod']);
      // The node's echo request reaches the pod; the reply goes to the default gateway 10.0.0.1, whose ARP
      // request nobody answers: no device of the node holds that address. The kernel agrees
      // (scripts/kernel.sh, GW=0): `ping -c1 10.0.0.2` from the node gets no reply, and the pod's
      // `ip neigh` shows `10.0.0.1 dev eth0 INCOMPLETE`.
      const last = r.counterexample.trace!.steps.at(-1)!;
      expect(last.kind).toBe('drop');
      expect(last.note).toBe('neighbourUnreachable: no ARP reply for 10.0.0.1 on eth0');
      // …and the counterexample says why, which the trace alone does not: the node got the request and kept quiet.
      expect(r.counterexample.why).toEqual([
        'nobody answered ARP for 10.0.0.1 sent by pod/default/pod-1 on eth0: node/node-1 received it on vethc9fcb6c4, holds no address 10.0.0.1, and has proxy_arp off on vethc9fcb6c4',
      ]);
    }
  });

  it('every-change shrinks it to a pod that waited for the node, and says where it went', () => {
    const r = failed(checkDesign(design, { numRuns: 300, segments: 1 }));
    expect(r.counterexample.events).toEqual(['addPod pod-1 → Pending', 'addNode node-1 (rack-a); pod-1 scheduled → node-1 10.0.0.2']);
  });

  it('replays exactly from its seed and path', () => {
    const r = failed(checkDesign(design, { numRuns: 300, segments: 1, checks: 'at-end' }));
    const again = failed(checkDesign(design, { segments: 1, checks: 'at-end', seed: r.seed, path: r.path, replayPath: r.replayPath }));
    expect(again.counterexample).toEqual(r.counterexample);
    expect(String(again).split('\n').slice(1)).toEqual(String(r).split('\n').slice(1));
    expect(r.counterexample.events).toEqual(['addNode node-1 (rack-a)', 'addPod pod-1 → node-1 10.0.0.2']);
  });
});

describe('bug 2: pods given MTU 9000 on a 1500-byte underlay', () => {
  const design = ptp({ podMtu: 9000 });

  it('is caught only by a full-size packet between pods of two nodes: shrunk to 5 events', () => {
    const r = failed(checkDesign(design, { numRuns: 300, segments: 1 }));
    expect(r.counterexample.kind).toBe('mtu');
    expect(r.counterexample.events).toEqual([
      'addNode node-1 (rack-a)',
      'addPod pod-1 → node-1 10.0.0.2',
      'addNode node-2 (rack-a)',
      'addPod pod-2 → node-2 10.0.1.2',
      'send icmp 9000 bytes DF pod-1 → pod-2 (10.0.1.2): fragmentationNeeded',
    ]);
    expect(r.counterexample.explanation).toBe("pod-1 was given MTU 9000, but a 9000-byte packet with DF set to pod-2 (10.0.1.2) did not get through: node/node-1 dropped it: fragmentationNeeded: 9000 bytes with DF exceed eth0's MTU 1500: ICMP fragmentation needed");
    // The kernel says the same (scripts/kernel.sh, MTU=9000): `ping -M do -s 8972 10.0.1.2` in p1 prints
    // `From 10.0.0.1 icmp_seq=1 Frag needed and DF set (mtu = 1500)`; the trace's ICMP error comes from 10.0.0.1 too.
    expect(r.counterexample.trace!.steps.find((s) => s.kind === 'icmp-error')!.note).toBe('sends ICMP fragmentation needed (mtu 1500) to 10.0.0.2');
  });

  it('how long it takes depends on the seed: the guarantee probes never send a full-size packet', () => {
    // Runs until found, seeds 1–5 (the same at both levels: only the sequence's packets see it).
    const runs = [1, 2, 3, 4, 5].map((seed) => failed(checkDesign(design, { numRuns: 1000, segments: 1, seed, checks: 'at-end' })).runs);
    expect(runs).toEqual([1, 45, 128, 113, 218]);
  });

  it('replays exactly from its seed and path', () => {
    const r = failed(checkDesign(design, { numRuns: 1000, segments: 1, seed: 3 }));
    const again = failed(checkDesign(design, { segments: 1, seed: 3, path: r.path, replayPath: r.replayPath }));
    expect(r.runs).toBe(128);
    expect(String(again).split('\n')[0]).toBe('ptp-host-routes (buggy) breaks the network model (replayed from its seed and path: 5 events)');
    expect(String(again).split('\n').slice(1)).toEqual(String(r).split('\n').slice(1));
  });
});

describe('in vitest', () => {
  testDesign(ptp(), { numRuns: 100, segments: 1, title: 'ptp-host-routes keeps the network model (testDesign)' });
  testDesign(ptp(), { numRuns: 100, segments: 1, checks: 'at-end', title: 'ptp-host-routes keeps the network model (testDesign, at-end)' });
  testDesignBreaks(ptp({ podMtu: 9000 }), { numRuns: 300, segments: 1, title: 'MTU 9000 breaks it (testDesignBreaks)' }, (r) => {
    expect(r.counterexample.kind).toBe('mtu');
    expect(r.counterexample.events).toHaveLength(5);
  });
});
