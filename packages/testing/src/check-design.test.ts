/**
 * checkDesign as its users rely on it: working designs pass, broken ones are caught and shrunk to the
 * essence with the packet that shows it, the same seed gives the same campaign, and a printed
 * counterexample replays from its seed and path.
 */
import { flannel } from '@podnet/cni';
import { hostNsId, type Action, type CniDesign } from '@podnet/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkDesign } from './check-design.js';
import { clusterCommands } from './commands.js';
import { clusterShapeArb } from './events.js';
import { ClusterRun, DesignFailure, DesignThrew } from './runner.js';

/** flannel whose nodes never start using the other nodes' routes (flanneld that never synced its leases). */
function withoutPeerRoutes(): CniDesign {
  const f = flannel();
  return { ...f, name: 'flannel-without-peer-routes', nodeAdded: (s, n) => { const r = f.nodeAdded(s, n); return { ...r, actions: r.actions.filter((a) => a.op !== 'peerset.attach') }; } };
}

/** flannel whose pods get MTU 1500 although VXLAN takes 50 bytes of it (the overhead forgotten). */
function withPodMtu1500(): CniDesign {
  const f = flannel();
  const bump = (a: Action): Action => (a.op === 'link.add' && (a.kind === 'veth' || a.kind === 'bridge') ? { ...a, mtu: 1500, ...(a.peer ? { peer: { ...a.peer, mtu: 1500 } } : {}) } : a);
  return {
    ...f, name: 'flannel-pod-mtu-1500',
    podAdded: (s, req) => { const r = f.podAdded(s, req); return 'error' in r ? r : { ...r, actions: r.actions.map(bump) }; },
  };
}

describe('checkDesign', () => {
  it('passes flannel VXLAN over 200 runs of up to 20 events on up to 6 nodes', () => {
    const r = checkDesign(flannel(), { numRuns: 200 });
    expect(r).toEqual({ ok: true, runs: 200, seed: 1 });
  });

  it('catches missing routes and shrinks to two nodes with one pod each', () => {
    const r = checkDesign(withoutPeerRoutes(), { numRuns: 100 });
    if (r.ok) throw new Error('not caught');
    const cx = r.counterexample;
    expect(cx.events).toHaveLength(4);
    expect(cx.events.filter((e) => e.startsWith('addNode'))).toHaveLength(2);
    expect(cx.events.filter((e) => e.startsWith('addPod'))).toHaveLength(2);
    expect(new Set(cx.events.filter((e) => e.startsWith('addPod')).map((e) => / → (node-\d+)/.exec(e)?.[1])).size).toBe(2);
    expect(cx.kind).toBe('no-nat');
    expect(cx.explanation).toMatch(/cannot reach pod/);
    expect(cx.trace?.disposition).toBe('noRoute');
    const text = r.toString();
    expect(text).toContain('flannel-without-peer-routes breaks the network model');
    expect(text).toContain(`replay: checkDesign(design, { seed: 1, path: '${r.path}', replayPath: '${r.replayPath}' })`);
    expect(text).toMatch(/trace:\n {4}0 \[pod\/default\/pod-\d+\] send:/);
  });

  it('catches a pod MTU the path cannot carry, with the packet that died', () => {
    const r = checkDesign(withPodMtu1500(), { numRuns: 200 });
    if (r.ok) throw new Error('not caught');
    expect(r.counterexample.kind).toBe('mtu');
    expect(r.counterexample.explanation).toMatch(/was given MTU 1500, but a 1500-byte packet with DF set to pod-\d+ .* did not get through/);
    // It names where it died and the MTU there (it ended with the sender's "ICMP type 3 code 4 … delivered").
    expect(r.counterexample.explanation).toMatch(/did not get through: node\/node-\d+ dropped it: fragmentationNeeded: 1500 bytes with DF exceed flannel\.1's MTU 1450: ICMP fragmentation needed$/);
    expect(r.counterexample.trace?.disposition).toBe('fragmentationNeeded');
    expect(r.counterexample.events.at(-1)).toMatch(/^send (icmp|udp) 1500 bytes DF pod-\d+ → pod-\d+/);
    expect(r.counterexample.events.length).toBeLessThanOrEqual(5);
  });

  it('is deterministic: the same seed gives the same runs and counterexample; the path replays it', () => {
    const a = checkDesign(withoutPeerRoutes(), { seed: 7, numRuns: 100 });
    const b = checkDesign(withoutPeerRoutes(), { seed: 7, numRuns: 100 });
    if (a.ok || b.ok) throw new Error('not caught');
    expect(b.path).toBe(a.path);
    expect(b.toString()).toBe(a.toString());
    const replay = checkDesign(withoutPeerRoutes(), { seed: 7, path: a.path, replayPath: a.replayPath });
    if (replay.ok) throw new Error('replay passed');
    expect(replay.counterexample.events).toEqual(a.counterexample.events);
  });

  it('rejects what is not a design or a campaign', () => {
    expect(() => checkDesign({} as CniDesign)).toThrow(TypeError);
    expect(() => checkDesign(flannel(), { numRuns: 0 })).toThrow(RangeError);
    expect(() => checkDesign(flannel(), { maxNodes: 0 })).toThrow(RangeError);
    expect(() => checkDesign(flannel(), { router: 'cisco' as never })).toThrow(RangeError);
    // Each of these ran before: options of null crashed inside, faults: 'yes' was taken as true, a path of 5
    // reached fast-check, a design without a name printed "undefined breaks the network model".
    expect(() => checkDesign(flannel(), null as never)).toThrow('checkDesign options must be an object, not null');
    expect(() => checkDesign(flannel(), { faults: 'yes' as never })).toThrow('faults must be true or false, not "yes"');
    expect(() => checkDesign(flannel(), { path: 5 as never })).toThrow('path must be the string a counterexample printed, not 5');
    expect(() => checkDesign(flannel(), { seed: 1.5 })).toThrow(RangeError);
    expect(() => checkDesign(flannel(), { onProgress: 'log' as never })).toThrow(TypeError);
    expect(() => checkDesign({ ...flannel(), name: undefined } as unknown as CniDesign)).toThrow(TypeError);
  });

  it("router: 'both' draws clusters behind a Linux router and behind a VPC's, which the runs really get", () => {
    const shapes = fc.sample(clusterShapeArb({ segments: 2, router: 'both' }), { numRuns: 40, seed: 3 });
    const routers = new Set(shapes.map((s) => s.underlay.router ?? 'linux'));
    expect([...routers].sort()).toEqual(['linux', 'vpc']);
    const vpc = shapes.find((s) => s.underlay.router === 'vpc')!;
    expect(new ClusterRun(flannel(), vpc).sim.state.underlay.vpcRouter).toBe(true);
    // The default draws no router at all: the shapes (and seeds) of existing campaigns stay as they were.
    expect(fc.sample(clusterShapeArb({ segments: 2 }), { numRuns: 20, seed: 3 }).every((s) => !('router' in s.underlay))).toBe(true);
  });
});

/** flannel whose nodes drop forwarded UDP (a FORWARD rule left behind): ICMP echoes pass, UDP between nodes does not. */
function droppingUdp(): CniDesign {
  const f = flannel();
  return {
    ...f, name: 'flannel-dropping-udp',
    nodeAdded: (s, n) => {
      const r = f.nodeAdded(s, n);
      // Inserted: appended, it would come after flanneld's FLANNEL-FWD, which ACCEPTs the pods' traffic.
      return { ...r, actions: [...r.actions, { op: 'rule.insert', ns: `node/${n.name}`, rule: { table: 'filter', chain: 'FORWARD', protocol: 'udp', target: 'DROP' } }] };
    },
  };
}

describe('check levels', () => {
  const shape = { podCidr: '10.0.0.0/16', nodeCidrMaskSize: 24, underlay: { segments: [{ name: 'rack-a', cidr: '192.168.1.0/24', gateway: '192.168.1.1', mtu: 1500 }] } };
  const breakThenHeal = [
    { type: 'addNode', segment: 0 }, { type: 'addNode', segment: 0 },
    { type: 'addPod', node: 0 }, { type: 'addPod', node: 1 },
    { type: 'removeNode', node: 1 },
  ] as const;

  it('at-end: caught by the final audit, shrunk to the same four events, replayable at its level', () => {
    const r = checkDesign(withoutPeerRoutes(), { numRuns: 100, checks: 'at-end' });
    if (r.ok) throw new Error('not caught');
    expect(r.counterexample.events.map((e) => e.split(' ')[0]).sort()).toEqual(['addNode', 'addNode', 'addPod', 'addPod']);
    expect(r.counterexample.found).toBe('end-of-sequence');
    expect(r.counterexample.kind).toBe('no-nat');
    expect(r.counterexample.trace?.disposition).toBe('noRoute');
    expect(r.toString()).toContain('found by: the full audit at the end of the sequence (checks: at-end), then located by playing it again with exact checks');
    expect(r.toString()).toContain(`replayPath: '${r.replayPath}', checks: 'at-end' })`);
    const again = checkDesign(withoutPeerRoutes(), { numRuns: 100, checks: 'at-end' });
    expect(again.ok ? '' : again.toString()).toBe(r.toString());
    const replay = checkDesign(withoutPeerRoutes(), { seed: 1, path: r.path, replayPath: r.replayPath, checks: 'at-end' });
    if (replay.ok) throw new Error('replay passed');
    expect(replay.counterexample.events).toEqual(r.counterexample.events);
  });

  it('every-change: the same campaign finds it right after the event that broke it', () => {
    const r = checkDesign(withoutPeerRoutes(), { numRuns: 100 });
    if (r.ok) throw new Error('not caught');
    expect(r.counterexample.found).toBe('after-event');
    expect(r.toString()).not.toContain('found by:');
  });

  it('what at-end misses: a break that a later event of the same sequence removes (every-change does not)', () => {
    const exact = new ClusterRun(withoutPeerRoutes(), shape);
    expect(() => breakThenHeal.forEach((e) => exact.play(e))).toThrow(/cannot reach pod/);
    expect(exact.log).toHaveLength(4);
    const atEnd = new ClusterRun(withoutPeerRoutes(), shape, { checks: 'at-end' });
    for (const e of breakThenHeal) atEnd.play(e);
    expect(() => atEnd.finish()).not.toThrow();
    // The same sequence stopped while it is broken is caught by the final audit.
    const prefix = new ClusterRun(withoutPeerRoutes(), shape, { checks: 'at-end' });
    for (const e of breakThenHeal.slice(0, 4)) prefix.play(e);
    expect(() => prefix.finish()).toThrow(expect.objectContaining({ atEnd: true, kind: 'no-nat' }));
  });

  it('the packets of a sequence are probes at both levels: UDP dropped between pods is caught, ICMP probes alone miss it', () => {
    for (const checks of ['every-change', 'at-end'] as const) {
      const r = checkDesign(droppingUdp(), { numRuns: 200, checks });
      if (r.ok) throw new Error(`not caught at ${checks}`);
      expect(r.counterexample.kind).toBe('no-nat');
      expect(r.counterexample.found).toBe('after-event');
      expect(r.counterexample.events.at(-1)).toMatch(/^send udp (\d+ bytes DF )?pod-\d+ → pod-\d+ .*: filtered$/);
      expect(r.counterexample.explanation).toMatch(/cannot reach pod .*: the udp packet ended as filtered/);
      // Six, not five: shrinking stops where removing an event renumbers the pods the rest refer to.
      expect(r.counterexample.events.length).toBeLessThanOrEqual(6);
    }
    const run = new ClusterRun(droppingUdp(), shape);
    for (const e of breakThenHeal.slice(0, 4)) run.play(e);
    expect(run.sim.check().ok).toBe(true);
  });

  it('rejects an unknown level', () => {
    expect(() => checkDesign(flannel(), { checks: 'sometimes' as never })).toThrow(RangeError);
    expect(() => new ClusterRun(flannel(), shape, { checks: 'never' as never })).toThrow(RangeError);
  });
});

describe('the commands in fast-check\'s own shape', () => {
  it('combine with fc.commands and fc.modelRun, and with a command of the user\'s own', () => {
    // A user's command: every pod must be able to ping its own node's host namespace.
    class PingOwnNode implements fc.Command<Record<string, never>, ClusterRun> {
      check = () => true;
      run(_m: Record<string, never>, real: ClusterRun): void {
        for (const p of real.sim.pods()) {
          if (p.status.phase !== 'Running' || p.node === null) continue;
          const ip = real.sim.node(p.node).ip;
          const r = real.sim.ping(p.name, [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.'));
          if (!r.ok) throw new DesignFailure('node-reaches-pods', `${p.name} cannot ping its node`, real.log, r.traces[0] ?? null, null);
        }
      }
      toString = () => 'pingOwnNode';
    }
    let runs = 0;
    fc.assert(fc.property(clusterShapeArb({ segments: 1 }), fc.commands([...clusterCommands(), fc.constant(new PingOwnNode())], { maxCommands: 12 }), (shape, cmds) => {
      runs += 1;
      fc.modelRun(() => ({ model: {}, real: new ClusterRun(flannel(), shape) }), cmds);
    }), { numRuns: 30, seed: 3 });
    expect(runs).toBe(30);
  });

  it('a failure inside fc.assert names the events that led to it', () => {
    expect(() => fc.assert(fc.property(clusterShapeArb(), fc.commands(clusterCommands(), { maxCommands: 20 }), (shape, cmds) => {
      fc.modelRun(() => ({ model: {}, real: new ClusterRun(withoutPeerRoutes(), shape) }), cmds);
    }), { numRuns: 100, seed: 1 })).toThrow(/addNode node-1 \(rack-a\)|addNode node-1 \(rack-b\)/);
  });
});

describe('a design that throws', () => {
  /** flannel whose node agent also adds a route through a gateway on no subnet of the node (the kernel refuses it). */
  const offLinkRoute = (): CniDesign => {
    const f = flannel();
    return { ...f, name: 'flannel-off-link-route', nodeAdded: (s, n) => { const r = f.nodeAdded(s, n); return { ...r, actions: [...r.actions, { op: 'route.add', ns: hostNsId(n.name), dst: '10.99.0.0/16', via: '172.16.0.1' }] }; } };
  };

  it('names the event that threw, last, and the error with its code and hint (the events were lost: "shrunk to 0 events")', () => {
    const r = checkDesign(offLinkRoute(), { numRuns: 100 });
    if (r.ok) throw new Error('not caught');
    expect(r.counterexample.kind).toBe('error');
    expect(r.counterexample.events).toEqual(['addNode node-1 (rack-a) → threw']);
    expect(r.counterexample.explanation).toBe('INVALID_GATEWAY: nodeAdded for node-1: action 19 of 19 (route.add in node/node-1) was refused: Error: Nexthop has invalid gateway (172.16.0.1 is not on a subnet of any device in node/node-1)\nhint: A gateway must be reachable on the link: on a directly connected subnet, or add "onlink".');
    expect(r.toString().split('\n').slice(0, 5)).toEqual([
      'flannel-off-link-route breaks the network model (found after 2 runs, shrunk to 1 event)',
      'cluster: pod CIDR 10.0.0.0/16, /24 per node, underlay rack-a 192.168.1.0/24',
      'events:',
      '  1. addNode node-1 (rack-a) → threw',
      'broken: error: INVALID_GATEWAY: nodeAdded for node-1: action 19 of 19 (route.add in node/node-1) was refused: Error: Nexthop has invalid gateway (172.16.0.1 is not on a subnet of any device in node/node-1)',
    ]);
  });

  it('a bug in the design\'s own code: the events before it, and where it threw', () => {
    const f = flannel();
    const buggy: CniDesign = { ...f, name: 'flannel-typo', podDeleted: () => { throw new TypeError('pod.netns.links is not iterable'); } };
    const r = checkDesign(buggy, { numRuns: 100 });
    if (r.ok) throw new Error('not caught');
    expect(r.counterexample.events).toEqual(['addNode node-1 (rack-a)', 'addPod pod-1 → node-1 10.0.0.2', 'reschedulePod pod-1 as pod-2 → threw']);
    expect(r.counterexample.explanation).toMatch(/^TypeError: pod\.netns\.links is not iterable \(at .*podDeleted .*check-design\.test\.ts:\d+:\d+\)\)$/);
    // In a property of one's own, the error fast-check reports says it too, and carries what was thrown.
    let thrown: unknown;
    try {
      fc.assert(fc.property(clusterShapeArb(), fc.commands(clusterCommands(), { maxCommands: 20 }), (shape, cmds) => {
        fc.modelRun(() => ({ model: {}, real: new ClusterRun(buggy, shape) }), cmds);
      }), { numRuns: 100, seed: 1 });
    } catch (e) { thrown = e; }
    const cause = (thrown as Error).cause;
    expect(cause).toBeInstanceOf(DesignThrew);
    expect((cause as DesignThrew).message).toMatch(/^(deletePod pod-1|reschedulePod pod-1 as pod-2) → threw: TypeError: pod\.netns\.links is not iterable/);
    expect((cause as DesignThrew).cause).toBeInstanceOf(TypeError);
  });
});

describe('the printed verdict', () => {
  it('a passing one prints as a sentence too (it printed "[object Object]"), and still equals its three fields', () => {
    const r = checkDesign(flannel(), { numRuns: 20, checks: 'at-end' });
    expect(r).toEqual({ ok: true, runs: 20, seed: 1 });
    expect(`${r}`).toBe('flannel-vxlan keeps the network model over 20 runs (seed 1, checks: at-end)');
    expect(Object.keys(r)).toEqual(['ok', 'runs', 'seed']);
  });

  it('a replay says it is one (it said "found after 1 run", whatever the campaign had needed)', () => {
    const r = checkDesign(withoutPeerRoutes(), { numRuns: 100, seed: 7 });
    if (r.ok) throw new Error('not caught');
    expect(r.toString().split('\n')[0]).toMatch(/found after \d+ runs, shrunk to 4 events\)$/);
    const replay = checkDesign(withoutPeerRoutes(), { seed: 7, path: r.path, replayPath: r.replayPath });
    if (replay.ok) throw new Error('replay passed');
    expect(replay.toString().split('\n')[0]).toBe('flannel-without-peer-routes breaks the network model (replayed from its seed and path: 4 events)');
    expect(replay.toString().split('\n').slice(1)).toEqual(r.toString().split('\n').slice(1));
    const fixed = checkDesign(flannel(), { seed: 7, path: r.path, replayPath: r.replayPath });
    expect(String(fixed)).toBe(`flannel-vxlan: the counterexample at seed 7, path '${r.path}' no longer fails`);
  });
});
