/**
 * The bulk builder (one transition, applied in place) must give exactly the state that adding each node,
 * then each pod, one transition at a time gives — and fail the same way on a bad spec.
 */
import {
  addNodeState, addPodState, buildClusterState, createClusterState, getNode, getPod, isPodnetError, nonTerminatedPods, type Action, type ClusterSettings, type CniDesign, type NodeSpec, type PodSpec,
} from '@podnet/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { awsVpc } from './designs/aws-vpc.js';
import { bridge } from './designs/bridge.js';
import { calico } from './designs/calico.js';
import { cilium } from './designs/cilium.js';
import { flannel } from './designs/flannel.js';
import { fromConflist } from './contract/conflist-design.js';
import { nativeVpc } from './designs/native-vpc.js';

const settings = { podCidr: '10.244.0.0/16', nodeCidrMaskSize: 24 };
const CHAINED = JSON.stringify({
  cniVersion: '0.4.0', name: 'chain',
  plugins: [
    { type: 'bridge', isGateway: true, ipMasq: true, ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.0.0/16' }]] } },
    { type: 'tuning' }, { type: 'bandwidth' }, { type: 'portmap', capabilities: { portMappings: true } },
  ],
});

function sequential(nodes: readonly NodeSpec[], pods: readonly PodSpec[], d: CniDesign = flannel(), spec: ClusterSettings = settings) {
  let s = createClusterState(spec, d);
  for (const n of nodes) s = addNodeState(s, n, d).state;
  for (const p of pods) s = addPodState(s, p, d).state;
  return s;
}

const outcome = (f: () => unknown): { ok: unknown } | { code: string } => {
  try {
    return { ok: f() };
  } catch (e) {
    if (!isPodnetError(e)) throw e;
    return { code: e.code };
  }
};

describe('buildClusterState', () => {
  it('equals node-by-node and pod-by-pod building, state for state, and fails alike', () => {
    let built = 0;
    // Mostly valid specs (distinct nodes, pods on them), with the odd clash or stray reference.
    const nodesArb = fc.uniqueArray(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }).chain((ns) =>
      fc.tuple(...ns.map((n) => fc.boolean().map((pin): NodeSpec => (pin ? { name: `node-${n}`, podCidr: `10.244.${10 + n}.0/24` } : { name: `node-${n}` })))));
    const specArb = nodesArb.chain((nodes) =>
      fc.array(
        fc.record({ i: fc.integer({ min: 0, max: 9 }), at: fc.nat({ max: nodes.length - 1 }), ip: fc.option(fc.integer({ min: 2, max: 6 }), { nil: null, freq: 2 }) })
          .map(({ i, at, ip }): PodSpec => {
            const node = nodes[at]!;
            // A pinned IP only where the node's podCIDR is known (pinned); duplicates and the odd clash stay.
            return { name: `pod-${i}`, node: node.name, ...(ip !== null && node.podCidr ? { ip: `${node.podCidr.slice(0, -5)}.${ip}` } : {}) };
          }),
        { maxLength: 8 },
      ).map((pods) => [nodes, pods] as const));
    fc.assert(
      fc.property(specArb, ([nodes, pods]) => {
        const a = outcome(() => buildClusterState(settings, flannel(), nodes, pods));
        const b = outcome(() => sequential(nodes, pods));
        expect(a).toEqual(b);
        if ('ok' in a) built++;
      }),
      { numRuns: 100, seed: 7 },
    );
    // The property must mostly compare built states, not just equal errors.
    expect(built).toBeGreaterThan(30);
  });

  it('equals one transition per node and per pod for every design, with scheduled, hostNetwork and pinned pods', () => {
    // The bulk build applies every design's actions in place (no immer): each design's vocabulary
    // (ptp routes, IPIP and VXLAN devices, BPF maps, cloud fabric assignments) must come out as the
    // one-transition-at-a-time path makes it.
    const vpc: ClusterSettings = { podCidr: '100.64.0.0/16', nodeCidrMaskSize: 24, underlay: { segments: [{ name: 'subnet-0', cidr: '10.0.0.0/24', gateway: '10.0.0.1', mtu: 9001 }] } };
    const designs: [string, () => CniDesign, ClusterSettings][] = [
      ['flannel vxlan', () => flannel(), settings], ['flannel host-gw', () => flannel({ backend: 'host-gw' }), settings],
      ['calico ipip', () => calico(), settings], ['calico vxlan', () => calico({ encapsulation: 'vxlan' }), settings],
      ['cilium tunnel', () => cilium(), settings], ['cilium native', () => cilium({ routing: 'native' }), settings],
      ['bridge', () => bridge({ ipMasq: true }), settings], ['native-vpc gke', () => nativeVpc({ provider: 'gke' }), settings],
      ['aws-vpc', () => awsVpc({ instanceType: 't3.medium' }), vpc],
      // A list whose chained plugins only hand the result on (the runtime skips them without building their input).
      ['conflist bridge + tuning, bandwidth, portmap', () => fromConflist(CHAINED), settings],
    ];
    const specArb = fc.tuple(
      fc.constantFrom(...designs),
      fc.integer({ min: 1, max: 3 }),
      fc.array(fc.record({
        at: fc.option(fc.nat({ max: 2 }), { nil: null, freq: 4 }),
        host: fc.integer({ min: 0, max: 4 }).map((x) => x === 0),
        port: fc.option(fc.integer({ min: 80, max: 82 }), { nil: null }),
        ip: fc.option(fc.integer({ min: 2, max: 5 }), { nil: null, freq: 4 }),
      }), { maxLength: 10 }),
    );
    let built = 0;
    fc.assert(
      fc.property(specArb, ([[, make, spec], n, raw]) => {
        const nodes: NodeSpec[] = Array.from({ length: n }, (_, i) => ({ name: `node-${i}` }));
        const pods = raw.map((r, i): PodSpec => ({
          name: `pod-${i}`,
          ...(r.at === null ? {} : { node: `node-${r.at % n}` }),
          // A pinned address only on node-0 (the first block, or the first VPC addresses): mostly valid.
          ...(r.host ? { hostNetwork: true } : r.ip === null || r.at !== 0 ? {} : { ip: `${spec === vpc ? '10.0.0' : '10.244.0'}.${r.ip + 8}` }),
          ...(r.port === null ? {} : { containers: [{ name: 'app', ports: [r.port] }] }),
        }));
        const a = outcome(() => buildClusterState(spec, make(), nodes, pods));
        const b = outcome(() => sequential(nodes, pods, make(), spec));
        expect(a).toEqual(b);
        if ('ok' in a) built++;
      }),
      { numRuns: 120, seed: 11 },
    );
    // Most runs must compare built states (the seed gives 105 of 120), not just equal errors.
    expect(built).toBeGreaterThan(80);
  });

  it('gives each namespace its own copy of what new namespaces share, at its first change, in bulk as one at a time', () => {
    // New namespaces share lo, the default sysctls and empty tables (frozen); a design changing them in a
    // pod's or a node's namespace must change that namespace only. Every action below writes one of them.
    const extras = (pod: string, node: string): Action[] => {
      const ns = `pod/default/${pod}`;
      const host = `node/${node}`;
      return [
        { op: 'addr.add', ns, dev: 'lo', addr: '127.0.0.2/8' },
        { op: 'link.set', ns, name: 'lo', mtu: 1500 },
        { op: 'addr.del', ns, dev: 'lo', addr: '127.0.0.1/8' },
        { op: 'sysctl.set', ns, key: 'net.ipv4.conf.eth0.proxy_arp', value: 1 },
        { op: 'sysctl.set', ns, key: 'net.ipv4.conf.all.rp_filter', value: 2 },
        { op: 'rule.append', ns, rule: { table: 'filter', chain: 'INPUT', protocol: 'tcp', dport: 9000, target: 'DROP' } },
        { op: 'listen', ns, protocol: 'tcp', port: 8080 },
        { op: 'neigh.add', ns, dev: 'eth0', ip: '10.244.99.1', mac: '02:00:00:00:00:01' },
        { op: 'sysctl.set', ns: host, key: 'net.ipv4.conf.all.rp_filter', value: 1 },
        // A node's pods share one frozen route list (actions.ts withRoute): these change it in place.
        { op: 'route.replace', ns, dst: 'default', dev: 'eth0' },
        { op: 'route.del', ns, dst: '10.244.0.0/16' },
        { op: 'route.add', ns, dst: '10.99.0.0/16', dev: 'eth0' },
      ];
    };
    const withExtras = (picks: readonly (readonly number[])[]): CniDesign => {
      const base = flannel();
      let n = 0;
      return {
        ...base,
        podAdded(state, req) {
          const r = base.podAdded(state, req);
          if ('error' in r) return r;
          const all = extras(req.pod.name, req.node.name);
          const more = (picks[n++ % picks.length] ?? []).map((i) => all[i % all.length]!);
          return { ...r, actions: [...r.actions, ...new Set(more)] };
        },
      };
    };
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 8 }), fc.array(fc.uniqueArray(fc.nat({ max: 11 }), { maxLength: 4 }), { minLength: 1, maxLength: 8 }), (n, p, picks) => {
        const nodes: NodeSpec[] = Array.from({ length: n }, (_, i) => ({ name: `node-${i}` }));
        const pods: PodSpec[] = Array.from({ length: p }, (_, i) => ({ name: `pod-${i}`, node: `node-${i % n}` }));
        const a = outcome(() => buildClusterState(settings, withExtras(picks), nodes, pods));
        const b = outcome(() => sequential(nodes, pods, withExtras(picks)));
        expect(a).toEqual(b);
        expect('ok' in a).toBe(true);
      }),
      { numRuns: 60, seed: 5 },
    );
  });

  it('admits and schedules against each node\'s max pods as one transition per pod does (remembered pod counts)', () => {
    // A node's pod count is remembered per pods record and kept as a bulk build adds pods in place; the
    // sequential build (immer drafts) counts afresh. Small max-pods make the count decide: OutOfpods,
    // Pending, and where the scheduler puts a pod.
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 3 }), fc.array(fc.option(fc.nat({ max: 2 }), { nil: undefined }), { minLength: 1, maxLength: 12 }), (maxPods, on) => {
        const nodes: NodeSpec[] = maxPods.map((m, i) => ({ name: `node-${i}`, maxPods: m }));
        const pods: PodSpec[] = on.map((n, i) => (n === undefined || n >= nodes.length ? { name: `pod-${i}` } : { name: `pod-${i}`, node: `node-${n}` }));
        const bulk = buildClusterState(settings, flannel(), nodes, pods);
        expect(bulk).toEqual(sequential(nodes, pods));
        nodes.forEach((n) => {
          const node = getNode(bulk, n.name);
          expect(nonTerminatedPods(bulk, node)).toBe(Object.keys(node.pods).length);
          expect(Object.keys(node.pods).length).toBeLessThanOrEqual(n.maxPods!);
        });
        expect(Object.keys(bulk.waiting).length + bulk.podCount).toBe(pods.length);
      }),
      { numRuns: 100, seed: 13 },
    );
  });

  it('gives every pod the routes it added, whatever its node\'s other pods added (shared route lists)', () => {
    // Pods of a node share a frozen route list while they add the same routes; a remembered list must
    // never stand for different routes. The routes expected are spelled out here, not taken from the model.
    type Extra = { dst: string; via?: string; onlink?: boolean; metric: number; proto?: string; mtu?: number };
    const extraArb = fc.record({
      // Few values, so that pods of a node often add routes that differ in one field only.
      dst: fc.constantFrom('10.96.0.0/12', '10.244.0.0/16'),
      gw: fc.constantFrom(undefined, '10.9.9.9', '10.9.9.8'),
      metric: fc.constantFrom(1, 7),
      proto: fc.constantFrom(undefined, 'static'),
      mtu: fc.constantFrom(undefined, 1400, 1300),
    }).map(({ dst, gw, metric, proto, mtu }): Extra => ({
      dst, metric, ...(gw === undefined ? {} : { via: gw, onlink: true }), ...(proto === undefined ? {} : { proto }), ...(mtu === undefined ? {} : { mtu }),
    }));
    const perPod = fc.uniqueArray(extraArb, { maxLength: 3, selector: (e) => `${e.dst}|${e.metric}` });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 }), fc.array(perPod, { minLength: 1, maxLength: 10 }), (n, extras) => {
        const base = flannel();
        const design: CniDesign = {
          ...base,
          podAdded(state, req) {
            const r = base.podAdded(state, req);
            if ('error' in r) return r;
            const mine = extras[Number(req.pod.name.slice(4))]!;
            return { ...r, actions: [...r.actions, ...mine.map((e): Action => ({ op: 'route.add', ns: `pod/default/${req.pod.name}`, dev: 'eth0', ...e }))] };
          },
        };
        const nodes: NodeSpec[] = Array.from({ length: n }, (_, i) => ({ name: `node-${i}` }));
        const pods: PodSpec[] = extras.map((_, i) => ({ name: `pod-${i}`, node: `node-${i % n}` }));
        const bulk = buildClusterState(settings, design, nodes, pods);
        expect(bulk).toEqual(sequential(nodes, pods, design));
        const ip = (t: string) => t.split('.').reduce((a, b) => a * 256 + Number(b), 0);
        extras.forEach((mine, i) => {
          const routes = getPod(bulk, `pod-${i}`).netns!.routes;
          expect(routes.length).toBe(2 + mine.length);
          expect(routes.slice(2)).toEqual(mine.map((e) => ({
            dst: { addr: ip(e.dst.split('/')[0]!), len: Number(e.dst.split('/')[1]) }, via: e.via === undefined ? null : ip(e.via), dev: 'eth0',
            proto: e.proto ?? 'boot', scope: e.via === undefined ? 'link' : 'global', src: null, onlink: e.onlink ?? false, metric: e.metric,
            type: 'unicast', ...(e.mtu === undefined ? {} : { mtu: e.mtu }),
          })));
        });
      }),
      { numRuns: 150, seed: 11 },
    );
  });

  it('takes back what host-local reserved in place when a CNI ADD of the build fails, as a failed ADD one at a time leaves nothing', () => {
    // A build lets host-local extend the stores it made in that build in place (no copy per pod); a failed
    // ADD must leave them as they were. Two ways to fail after an address was reserved: host-local's second
    // range set is full (one address in a /30), or a plugin after bridge is not in CNI_PATH.
    const list = (plugins: unknown[]) => JSON.stringify({ cniVersion: '1.0.0', name: 'net', plugins });
    const hostLocal = { type: 'host-local', ranges: [[{ subnet: '10.1.0.0/24' }], [{ subnet: '10.2.0.0/30' }]] };
    const designs: Record<string, () => CniDesign> = {
      'second range set full': () => fromConflist(list([{ type: 'bridge', bridge: 'cni0', isGateway: true, ipam: hostLocal }])),
      'later plugin missing': () => fromConflist(list([{ type: 'bridge', bridge: 'cni0', isGateway: true, ipam: { type: 'host-local', subnet: '10.1.0.0/24' } }, { type: 'no-such-plugin' }])),
    };
    let failed = 0;
    let ran = 0;
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(designs)), fc.integer({ min: 1, max: 2 }), fc.array(fc.record({ at: fc.nat({ max: 1 }), pin: fc.integer({ min: 0, max: 24 }) }), { minLength: 1, maxLength: 7 }), (name, n, specs) => {
        const nodes: NodeSpec[] = Array.from({ length: n }, (_, i) => ({ name: `node-${i}` }));
        const pods: PodSpec[] = specs.map((p, i) => ({ name: `pod-${i}`, node: `node-${p.at % n}`, ...(p.pin >= 2 && p.pin <= 6 ? { ip: `10.1.0.${p.pin}` } : {}) }));
        const a = outcome(() => buildClusterState(settings, designs[name]!(), nodes, pods));
        const b = outcome(() => sequential(nodes, pods, designs[name]!()));
        expect(a).toEqual(b);
        if (!('ok' in a)) return;
        const state = a.ok as ReturnType<typeof buildClusterState>;
        failed += Object.values(state.waiting).filter((w) => w.status.phase === 'ContainerCreating').length;
        ran += state.podCount;
        // What the stores hold is exactly what the running pods got.
        for (const node of nodes) {
          const stores = (getNode(state, node.name).cni as { ipam: Record<string, { allocated: Record<string, unknown> }> } | null)?.ipam ?? {};
          const held = Object.values(stores).flatMap((st) => Object.keys(st.allocated)).sort();
          const running = Object.values(getNode(state, node.name).pods).flatMap((p) => (p.cniResult?.ips ?? []).map((ip) => ip.address.split('/')[0]!)).sort();
          expect(held).toEqual(running);
        }
        // The built state is shared from now on: an ADD after the build copies the stores it extends.
        const before = JSON.stringify(state);
        const design = designs[name]!();
        outcome(() => addPodState(state, { name: 'later', node: 'node-0' }, design));
        outcome(() => buildClusterState(settings, design, nodes, pods));
        expect(JSON.stringify(state)).toBe(before);
      }),
      { numRuns: 80, seed: 3 },
    );
    // Both kinds of failure, and successes, must have happened.
    expect(failed).toBeGreaterThan(20);
    expect(ran).toBeGreaterThan(20);
  });

  it('leaves the stores alone when a wrapping design refuses what its inner design added, handing the request on as it is', () => {
    // A design that turns an inner success into an error: what the inner one extended in place is taken back.
    // Or keeps the inner result but not its node state (the store as it was before this ADD).
    const refusing = (every: number, how: 'error' | 'no node state'): CniDesign => {
      const base = flannel();
      return {
        ...base,
        podAdded(state, req) {
          const r = base.podAdded(state, req);
          if (Number(req.pod.name.slice(4)) % every !== 0 || 'error' in r) return r;
          return how === 'error' ? { error: { cniVersion: '0.3.1', code: 999, msg: 'refused by the wrapper' } } : { actions: r.actions, result: r.result };
        },
      };
    };
    fc.assert(fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 2, max: 4 }), fc.constantFrom('error' as const, 'no node state' as const), (n, p, every, how) => {
      const nodes: NodeSpec[] = Array.from({ length: n }, (_, i) => ({ name: `node-${i}` }));
      const pods: PodSpec[] = Array.from({ length: p }, (_, i) => ({ name: `pod-${i}`, node: `node-${i % n}` }));
      expect(buildClusterState(settings, refusing(every, how), nodes, pods)).toEqual(sequential(nodes, pods, refusing(every, how)));
    }), { numRuns: 60, seed: 4 });
  });
});
