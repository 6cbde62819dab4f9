/**
 * Twins (guarantees/twin.ts): a pod that arrives wired as a pod of its node that was there, and that nothing
 * in the cluster tells apart from it, takes that pod's verdicts; the check then probes only the twin to the new
 * pod. These tests pin what that saves, and the records that tell two pods apart — a route,
 * a prefix, a rule or a neighbour entry naming one of them, in another node, in another pod of the node, or in
 * the node itself — with which the check must still find what a full audit finds. Each hazard test fails when
 * the rule of `twins` that names it is taken out.
 */
import { audit, cidrContains, createSimulator, diffScope, formatIpv4, incrementalCheck, isPodnetError, parseCidr, TWIN_MIN_PODS, type Action, type CniDesign, type Simulator } from '@podnet/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { awsVpc, calico, flannel } from './index.js';

const keys = (vs: readonly { key: string }[]): string => vs.map((v) => v.key).sort().join('\n');

/** The address the new pod d gets: the ninth of node-1's block (a and b, there before it, have the first ones). */
function dIp(sim: Simulator): string {
  return formatIpv4(sim.node('node-1').podCidr!.addr + 9);
}

/**
 * node-1 with pods a and b, node-2 with c, checked with every change; `fault` applied; then pod d on node-1
 * at {@link dIp}. Returns the simulator and the probes the check after d took.
 */
function arrive(design: CniDesign, fault: (sim: Simulator, d: string) => Action[]): { sim: Simulator; probes: number } {
  const sim = createSimulator({ cni: design, checks: 'off' });
  sim.addNode({ name: 'node-1' });
  sim.addNode({ name: 'node-2' });
  for (const [name, node] of [['a', 'node-1'], ['b', 'node-1'], ['c', 'node-2']] as const) sim.addPod({ name, node });
  const actions = fault(sim, dIp(sim));
  if (actions.length > 0) sim.apply(actions);
  const before = sim.state;
  const memory = audit(before).memory;
  sim.addPod({ name: 'd', node: 'node-1', ip: dIp(sim) });
  const run = incrementalCheck(sim.state, memory, diffScope(before, sim.state), { twins: true });
  // Without twins, the same verdict.
  expect(keys(incrementalCheck(sim.state, memory, diffScope(before, sim.state), { twins: false }).violations)).toBe(keys(run.violations));
  expect(keys(run.violations)).toBe(keys(audit(sim.state).violations));
  return { sim, probes: run.probes };
}

const ip = (sim: Simulator, pod: string): string => formatIpv4(sim.pod(pod).ip!);
/** Whether a full audit finds a broken pair with d at one end. */
const dBroken = (sim: Simulator): boolean => sim.check().violations.some((v) => v.where.from === 'default/d' || v.where.to === 'default/d');

describe('a pod arriving as a twin of a pod of its node', () => {
  it.each([
    ['flannel VXLAN', () => flannel()],
    ['flannel host-gw', () => flannel({ backend: 'host-gw' })],
    ['calico', () => calico()],
  ])('%s: takes its verdicts; the check probes its twin to it alone', (_name, make) => {
    const { sim, probes } = arrive(make(), () => []);
    // a → d; d → a is its mirror image, node-1 → d node-1 → a's. Without a twin: d both ways with a, b and c,
    // and its node to it: 7.
    expect(probes).toBe(1);
    expect(sim.check().ok).toBe(true);
  });

  it('a twin that is down is no twin: the next pod of the node is one', () => {
    const { sim, probes } = arrive(flannel(), () => [{ op: 'link.set', ns: 'pod/default/a', name: 'eth0', up: false }]);
    // b is the twin: b → d; a's five failing pairs again (with node-1 → a); d ↔ a, which fail for b, probed for
    // d rather than taken. Without a twin: 7 + 5.
    expect(probes).toBe(8);
    const withD = sim.check().violations.filter((v) => v.where.from === 'default/d' || v.where.to === 'default/d');
    expect(withD.length).toBeGreaterThan(0);
    expect(withD.every((v) => v.where.from === 'default/a' || v.where.to === 'default/a')).toBe(true);
  });
});

describe('when the check looks for a twin', () => {
  it(`by default from ${TWIN_MIN_PODS} running pods on, where it saves more probes than it costs; bad options are refused`, () => {
    const sim = createSimulator({ cni: flannel(), checks: 'off' });
    sim.addNode({ name: 'node-1' });
    sim.addNode({ name: 'node-2' });
    const probesOfAnother = (): number => {
      const before = sim.state;
      const memory = audit(before).memory;
      sim.addPod({ name: `x-${before.podCount}`, node: 'node-1' });
      return incrementalCheck(sim.state, memory, diffScope(before, sim.state)).probes;
    };
    sim.addPod({ name: 'a', node: 'node-1' });
    sim.addPod({ name: 'c', node: 'node-2' });
    // Three pods after it: the new pod both ways with two, and its node to it.
    expect(probesOfAnother()).toBe(5);
    for (let i = 0; sim.state.podCount < TWIN_MIN_PODS - 1; i++) sim.addPod({ name: `p${i}`, node: i % 2 === 0 ? 'node-1' : 'node-2' });
    expect(probesOfAnother()).toBe(1);
    const scope = diffScope(sim.state, sim.state);
    for (const bad of [null, 'yes', { twins: 'yes' }, { twins: 1 }]) {
      let code: string | undefined;
      try { incrementalCheck(sim.state, audit(sim.state).memory, scope, bad as never); } catch (e) { code = isPodnetError(e) ? e.code : 'untyped'; }
      expect(code).toBe('INVALID_ARGUMENT');
    }
  });
});

describe('the AWS VPC CNI: a policy rule per pod, a VPC address per pod', () => {
  /** node-1 with a, node-2 with c; `between` applied; then d on node-1 (on a's ENI): the check with twins against an audit. */
  const awsArrival = (between: Action[]): { sim: Simulator; probes: number } => {
    const sim = createSimulator({ cni: awsVpc({ instanceType: 'm5.2xlarge' }), checks: 'off' });
    sim.addNode({ name: 'node-1' });
    sim.addNode({ name: 'node-2' });
    sim.addPod({ name: 'a', node: 'node-1' });
    sim.addPod({ name: 'c', node: 'node-2' });
    if (between.length > 0) sim.apply(between);
    const before = sim.state;
    const memory = audit(before).memory;
    sim.addPod({ name: 'd', node: 'node-1' });
    const run = incrementalCheck(sim.state, memory, diffScope(before, sim.state), { twins: true });
    expect(keys(run.violations)).toBe(keys(audit(sim.state).violations));
    return { sim, probes: run.probes };
  };

  it('a pod on its twin\'s interface is its twin: its rule after the twin\'s, the fabric\'s entries alike', () => {
    const { sim, probes } = awsArrival([]);
    expect(probes).toBe(1);
    expect(sim.check().ok).toBe(true);
  });

  it('a rule between the two pods\' rules that matches both sends the new pod\'s packets elsewhere', () => {
    // `ip rule add to 192.168.0.0/16 lookup 100 priority 512` after a's rule, before d's: d's packets meet it first.
    const { sim, probes } = awsArrival([
      { op: 'route.add', ns: 'node/node-1', dst: '192.168.0.0/16', type: 'blackhole', table: 100 },
      { op: 'iprule.add', ns: 'node/node-1', to: '192.168.0.0/16', table: 100, priority: 512 },
    ]);
    expect(probes).toBeGreaterThan(1);
    expect(dBroken(sim)).toBe(true);
  });
});

describe('the AWS VPC CNI: the fabric', () => {
  it('an address the VPC assigned to another node\'s interface, which the node\'s ipamd still hands out, is no twin\'s', () => {
    const build = (): Simulator => {
      const sim = createSimulator({ cni: awsVpc({ instanceType: 'm5.2xlarge' }), checks: 'off' });
      sim.addNode({ name: 'node-1' });
      sim.addNode({ name: 'node-2' });
      sim.addPod({ name: 'a', node: 'node-1' });
      sim.addPod({ name: 'c', node: 'node-2' });
      return sim;
    };
    // The address node-1's ipamd gives the next pod, seen on a copy of the cluster.
    const scratch = build();
    const next = formatIpv4(scratch.addPod({ name: 'd', node: 'node-1' }).ip!);
    const sim = build();
    const seg = Object.keys(sim.state.underlay.segments)[0]!;
    const ns = 'node/node-2';
    const eni = (() => {
      const ports = sim.state.underlay.segments[seg]!.fabric!;
      for (const top of ports) for (const leaf of top ?? []) for (let i = 0; leaf && i < leaf.length; i += 3) {
        const e = leaf[i + 2] as { eni: string; node: string; deviceIndex: number; dev: string };
        if (e.node === 'node-2' && e.dev === 'eth0') return e;
      }
      throw new Error('no ENI of node-2 in the fabric');
    })();
    const owner = (() => {
      for (const top of sim.state.underlay.segments[seg]!.fabric!) for (const leaf of top ?? []) for (let i = 0; leaf && i < leaf.length; i += 3) {
        if (leaf[i + 1] === String(parseCidr(`${next}/32`).addr)) return leaf[i + 2] as { eni: string };
      }
      throw new Error('the next address is not in the fabric');
    })();
    sim.apply([
      { op: 'vpc.unassign', segment: seg, eni: owner.eni, ips: [next] },
      { op: 'vpc.assign', segment: seg, eni: eni.eni, deviceIndex: eni.deviceIndex, node: 'node-2', ns, dev: eni.dev, ips: [next] },
    ]);
    const before = sim.state;
    const memory = audit(before).memory;
    expect(formatIpv4(sim.addPod({ name: 'd', node: 'node-1' }).ip!)).toBe(next);
    const run = incrementalCheck(sim.state, memory, diffScope(before, sim.state), { twins: true });
    expect(keys(run.violations)).toBe(keys(audit(sim.state).violations));
    expect(dBroken(sim)).toBe(true);
  });
});

describe('records that tell the new pod from its twin', () => {
  it('a blackhole route on another node for the new pod\'s address (left from a pod that had it)', () => {
    const { sim, probes } = arrive(flannel(), (_s, d) => [{ op: 'route.add', ns: 'node/node-2', dst: `${d}/32`, type: 'blackhole' }]);
    expect(dBroken(sim)).toBe(true);
    expect(probes).toBeGreaterThan(1);
  });

  it('a prefix on another node that holds the new pod\'s address and not its twin\'s', () => {
    const { sim } = arrive(flannel(), (_s, d) => [{ op: 'route.add', ns: 'node/node-2', dst: `${formatIpv4(parseCidr(`${d}/30`, { strict: false }).addr)}/30`, type: 'blackhole' }]);
    expect(dBroken(sim)).toBe(true);
  });

  it('a route on another node that reaches the twin alone, where its node\'s route is gone', () => {
    const { sim } = arrive(flannel(), (s) => {
      const block = s.node('node-1').podCidr!;
      const vtep = formatIpv4(block.addr);
      return [
        { op: 'route.del', ns: 'node/node-2', dst: `${vtep}/${block.len}` },
        { op: 'route.add', ns: 'node/node-2', dst: `${ip(s, 'default/a')}/32`, via: vtep, dev: 'flannel.1', onlink: true },
      ];
    });
    expect(dBroken(sim)).toBe(true);
  });

  it('a neighbour entry for the new pod\'s address, with a MAC nobody has, in another pod of its node', () => {
    const { sim } = arrive(flannel(), (_s, d) => [{ op: 'neigh.replace', ns: 'pod/default/b', dev: 'eth0', ip: d, mac: '02:00:00:00:00:99' }]);
    expect(dBroken(sim)).toBe(true);
  });

  it('a rule of its node that drops what goes to the new pod', () => {
    const { sim } = arrive(flannel(), (_s, d) => [{ op: 'rule.insert', ns: 'node/node-1', rule: { table: 'filter', chain: 'FORWARD', dst: `${d}/32`, target: 'DROP' } }]);
    expect(dBroken(sim)).toBe(true);
  });

  it('a neighbour entry of its node for the new pod\'s address, left from a pod that had it (a MAC nobody has now)', () => {
    const { sim } = arrive(flannel(), (_s, d) => [{ op: 'neigh.replace', ns: 'node/node-1', dev: 'cni0', ip: d, mac: '02:00:00:00:00:99' }]);
    expect(dBroken(sim)).toBe(true);
  });

  it('rules of its node for both pods\' addresses, the new pod\'s ahead of flanneld\'s accepting jump and the twin\'s after it', () => {
    const { sim } = arrive(flannel(), (s, d) => [
      { op: 'rule.insert', ns: 'node/node-1', rule: { table: 'filter', chain: 'FORWARD', dst: `${d}/32`, target: 'DROP' } },
      { op: 'rule.append', ns: 'node/node-1', rule: { table: 'filter', chain: 'FORWARD', dst: `${ip(s, 'default/a')}/32`, target: 'DROP' } },
      { op: 'rule.append', ns: 'node/node-1', rule: { table: 'filter', chain: 'FORWARD', dst: `${ip(s, 'default/b')}/32`, target: 'DROP' } },
    ]);
    expect(dBroken(sim)).toBe(true);
  });

  it('a blackhole route of its node for the new pod\'s address', () => {
    const { sim } = arrive(flannel(), (_s, d) => [{ op: 'route.add', ns: 'node/node-1', dst: `${d}/32`, type: 'blackhole' }]);
    expect(dBroken(sim)).toBe(true);
  });

  it('the new pod wired otherwise than its twin: its ADD leaves the pod\'s eth0 down', () => {
    const f = flannel();
    const design: CniDesign = {
      ...f,
      name: 'flannel-d-down',
      podAdded: (s, req) => {
        const r = f.podAdded(s, req);
        if (req.pod.name !== 'd' || !('actions' in r)) return r;
        return { ...r, actions: [...r.actions, { op: 'link.set', ns: `pod/${req.pod.key}`, name: 'eth0', up: false }] };
      },
    };
    const { sim, probes } = arrive(design, () => []);
    expect(probes).toBeGreaterThan(1);
    expect(dBroken(sim)).toBe(true);
  });
});

/** A record that may tell pods apart: where it goes, what it is, whose address it names. */
interface Hazard {
  readonly where: 'node-1' | 'node-2' | 'pod-b' | 'pod-c';
  readonly kind: 'blackhole' | 'drop' | 'neigh';
  readonly target: 'a' | 'd' | 'near-d' | 'b';
  readonly len: number;
}

function hazardActions(sim: Simulator, d: string, h: Hazard, bridge: string | null): Action[] {
  const addr = h.target === 'd' ? d : h.target === 'near-d' ? formatIpv4(parseCidr(d).addr + 1) : ip(sim, `default/${h.target}`);
  const net = parseCidr(`${addr}/${h.len}`, { strict: false });
  const dst = `${formatIpv4(net.addr)}/${h.len}`;
  const ns = h.where === 'pod-b' ? 'pod/default/b' : h.where === 'pod-c' ? 'pod/default/c' : `node/${h.where}`;
  // The node's own block would break everything: kept to prefixes inside it, and never the whole of it.
  if (!cidrContains(sim.node('node-1').podCidr!, net.addr) || h.len <= sim.node('node-1').podCidr!.len) return [];
  if (h.kind === 'neigh') return [{ op: 'neigh.replace', ns, dev: ns.startsWith('pod/') ? 'eth0' : h.where === 'node-1' ? (bridge ?? 'eth0') : 'eth0', ip: addr, mac: '02:00:00:00:00:99' }];
  if (h.kind === 'drop') return [{ op: 'rule.insert', ns, rule: { table: 'filter', chain: ns.startsWith('pod/') ? 'OUTPUT' : 'FORWARD', dst, target: 'DROP' } }];
  // replace: calico's node already has a blackhole for its own block.
  return [{ op: 'route.replace', ns, dst, type: 'blackhole' }];
}

describe('the check with twins', () => {
  it('gives a full audit\'s verdict whatever record names the new pod, its twin or their neighbours (property)', () => {
    const hazard = fc.record<Hazard>({
      where: fc.constantFrom('node-1', 'node-2', 'pod-b', 'pod-c'),
      kind: fc.constantFrom('blackhole', 'drop', 'neigh'),
      target: fc.constantFrom('a', 'd', 'near-d', 'b'),
      len: fc.integer({ min: 25, max: 32 }),
    });
    fc.assert(
      fc.property(fc.constantFrom('vxlan', 'host-gw', 'calico'), fc.array(hazard, { maxLength: 2 }), (design, hazards) => {
        // arrive() holds the check to a full audit of the same state.
        const made = design === 'calico' ? calico() : flannel({ backend: design });
        arrive(made, (sim, d) => hazards.flatMap((h) => hazardActions(sim, d, h, design === 'calico' ? null : 'cni0')));
      }),
      { numRuns: 100, seed: 32 },
    );
  });
});

/** One event of a run: what a cluster goes through, packets (which teach ARP and FDB tables) and records included. */
type Event =
  | { readonly kind: 'pod'; readonly node: number; readonly atD: boolean }
  | { readonly kind: 'delete'; readonly pod: number }
  | { readonly kind: 'node' }
  | { readonly kind: 'ping'; readonly from: number; readonly to: number }
  | { readonly kind: 'hazard'; readonly hazard: Hazard };

const eventArb: fc.Arbitrary<Event> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('pod' as const), node: fc.nat(2), atD: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), pod: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.constant<Event>({ kind: 'node' }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('ping' as const), from: fc.nat(20), to: fc.nat(20) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('hazard' as const),
      hazard: fc.record<Hazard>({
        where: fc.constantFrom('node-1', 'node-2', 'pod-b', 'pod-c'),
        kind: fc.constantFrom('blackhole', 'drop', 'neigh'),
        target: fc.constantFrom('a', 'd', 'near-d', 'b'),
        len: fc.integer({ min: 25, max: 32 }),
      }),
    }),
  },
);

describe('the check with twins forced on, after every event of random runs', () => {
  it('gives a full audit\'s verdict: pods coming and going, packets teaching tables, records naming pods (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom('vxlan', 'host-gw', 'calico'), fc.array(eventArb, { maxLength: 18 }), (design, events) => {
        const sim = createSimulator({ cni: design === 'calico' ? calico() : flannel({ backend: design }), checks: 'off' });
        for (const n of ['node-1', 'node-2']) sim.addNode({ name: n });
        for (const [name, node] of [['a', 'node-1'], ['b', 'node-1'], ['c', 'node-2']] as const) sim.addPod({ name, node });
        let memory = audit(sim.state).memory;
        let nodes = 2;
        let made = 0;
        for (const e of events) {
          const before = sim.state;
          const pods = sim.state.podCount === 0 ? [] : [...Array(nodes).keys()].flatMap((i) => Object.keys(sim.node(`node-${i + 1}`).pods));
          try {
            // At d's address (on node-1, where the hazards aim) when it is free: a pod that can be told apart.
            if (e.kind === 'pod' && e.atD) sim.addPod({ name: `p${made++}`, node: 'node-1', ip: dIp(sim) });
            else if (e.kind === 'pod') sim.addPod({ name: `p${made++}`, node: `node-${(e.node % nodes) + 1}` });
            else if (e.kind === 'delete' && pods.length > 0) sim.deletePod(pods[e.pod % pods.length]!);
            else if (e.kind === 'node') sim.addNode({ name: `node-${++nodes}` });
            else if (e.kind === 'ping' && pods.length > 1) sim.ping(pods[e.from % pods.length]!, formatIpv4(sim.pod(pods[e.to % pods.length]!).ip!), { count: 1 });
            else if (e.kind === 'hazard' && pods.includes('default/a') && pods.includes('default/b') && pods.includes('default/c')) {
              const actions = hazardActions(sim, dIp(sim), e.hazard, design === 'calico' ? null : 'cni0');
              if (actions.length > 0) sim.apply(actions);
            }
          } catch (err) {
            if (!isPodnetError(err)) throw err;
          }
          if (sim.state === before) continue;
          const run = incrementalCheck(sim.state, memory, diffScope(before, sim.state), { twins: true });
          expect(keys(run.violations)).toBe(keys(audit(sim.state).violations));
          memory = run.memory;
        }
      }),
      { numRuns: 80, seed: 32 },
    );
  });
});
