/**
 * A pod's arrival (guarantees/scope.ts `arrivedPods`): when a change only brought pods onto a node, the
 * incremental check probes the new pods' pairs and not every pair of the node's pods again. These tests pin
 * what that saves, and, one by one, the additions that reach the pairs of pods already there — each one a
 * design whose CNI ADD does a little more than flannel's — where the check must still find what a full audit
 * finds. Each hazard test fails when the rule in `arrivedPods` that names it is taken out.
 */
import { audit, createSimulator, diffScope, formatIpv4, incrementalCheck, type Action, type CniDesign, type PodAddRequest, type Simulator } from '@podnet/core';
import { describe, expect, it } from 'vitest';
import { awsVpc, calico, cilium, flannel } from './index.js';

const keys = (vs: readonly { key: string }[]): string => vs.map((v) => v.key).sort().join('\n');

/** The veth flannel's ADD makes in the host for this pod: its name and its pod end's MAC. */
function vethOf(actions: readonly Action[], req: PodAddRequest): { name: string; podMac: string } {
  for (const a of actions) {
    if (a.op === 'link.add' && a.kind === 'veth' && a.ns === `node/${req.node.name}`) return { name: a.name, podMac: (a.peer as { mac: string }).mac };
  }
  throw new Error('no veth in the ADD');
}

/**
 * flannel VXLAN whose ADD of the pod named `d` also runs `extra` (given the host's new veth and the state), and
 * whose node joins run `onJoin`.
 */
function flannelPlus(name: string, extra: (req: PodAddRequest, veth: { name: string; podMac: string }, sim: Simulator) => Action[], onJoin: (node: string) => Action[] = () => []): (sim: () => Simulator) => CniDesign {
  return (simOf) => {
    const f = flannel();
    return {
      ...f,
      name,
      nodeAdded: (s, n) => {
        const r = f.nodeAdded(s, n);
        return { ...r, actions: [...r.actions, ...onJoin(n.name)] };
      },
      podAdded: (s, req) => {
        const r = f.podAdded(s, req);
        if (req.pod.name !== 'd' || !('actions' in r)) return r;
        return { ...r, actions: [...r.actions, ...extra(req, vethOf(r.actions, req), simOf())] };
      },
    };
  };
}

/** node-1 with pods a and b, node-2 with c; then pod d on node-1, whose ADD the design may extend. */
function cluster(design: (sim: () => Simulator) => CniDesign): Simulator {
  let sim: Simulator | undefined;
  sim = createSimulator({ cni: design(() => sim!) });
  sim.addNode({ name: 'node-1' });
  sim.addNode({ name: 'node-2' });
  sim.addPod({ name: 'a', node: 'node-1' });
  sim.addPod({ name: 'b', node: 'node-1' });
  sim.addPod({ name: 'c', node: 'node-2' });
  expect(sim.violations).toEqual([]);
  sim.addPod({ name: 'd', node: 'node-1' });
  return sim;
}

const podIp = (sim: Simulator, key: string): string => formatIpv4(sim.pod(key).ip!);
const ethMac = (sim: Simulator, key: string): string => sim.pod(key).netns!.links['eth0']!.mac;

/** The check after d's ADD found what a full audit finds, and that includes a pair of pods that were there. */
function expectOldPairsCaught(sim: Simulator): void {
  const full = sim.check();
  expect(keys(sim.violations)).toBe(keys(full.violations));
  expect(full.violations.some((v) => v.where.from !== undefined && v.where.from !== 'default/d' && v.where.to !== 'default/d')).toBe(true);
}

describe('a pod arriving on a node', () => {
  it.each([
    ['flannel VXLAN', () => flannel(), 1],
    ['calico', () => calico(), 1],
    ['cilium', () => cilium(), 1],
    ['the AWS VPC CNI', () => awsVpc({ instanceType: 'm5.2xlarge' }), 1],
  ])('%s: the check after it probes the new pod\'s pairs alone (with a twin, fewer), and agrees with a full audit', (_name, make, expected) => {
    const sim = createSimulator({ cni: make(), checks: 'off' });
    for (const n of ['n1', 'n2', 'n3']) sim.addNode({ name: n });
    for (let i = 0; i < 4; i++) for (const n of ['n1', 'n2', 'n3']) sim.addPod({ name: `p-${n}-${i}`, node: n });
    const before = sim.state;
    const memory = audit(before).memory;
    sim.addPod({ name: 'new', node: 'n2' });
    const run = incrementalCheck(sim.state, memory, diffScope(before, sim.state), { twins: true });
    // 12 pods were there: the new one both ways with each, and its node to it. Every pair of n2's five pods
    // with every pod, as before, was 105 probes. A new pod wired as one of its node's pods, which nothing tells
    // apart from it, takes that pod's verdicts (twin.test.ts), its node's pair with it included; the two of them
    // are one probe (the other way is its mirror image).
    expect(run.probes).toBe(expected);
    expect(keys(run.violations)).toBe(keys(audit(sim.state).violations));
    expect(run.ok).toBe(true);
  });

  it('a permanent FDB entry on the new port for the MAC of a pod that was there takes that pod\'s frames', () => {
    // Permanent, not static: the pod's own next frame moves a static entry back to its port (br_fdb_update,
    // measured by scripts/bridge-fdb-formats.sh), a permanent one stays and takes its frames up to cni0.
    const sim = cluster(flannelPlus('fdb-steal', (req, veth, s) => [{ op: 'fdb.append', ns: `node/${req.node.name}`, dev: veth.name, mac: ethMac(s, 'default/a'), state: 'permanent' }]));
    expectOldPairsCaught(sim);
  });

  it('a route by the new veth to the address of a pod that was there takes that pod\'s packets', () => {
    const sim = cluster(flannelPlus('route-steal', (req, veth, s) => [{ op: 'route.add', ns: `node/${req.node.name}`, dst: `${podIp(s, 'default/a')}/32`, dev: veth.name }]));
    expectOldPairsCaught(sim);
  });

  it('a neighbour entry for the address of a pod that was there sends its packets elsewhere', () => {
    // b's MAC, not the new pod's: a neighbour entry that names a new MAC is refused on that ground as well.
    const sim = cluster(flannelPlus('neigh-steal', (req, _veth, s) => [{ op: 'neigh.replace', ns: `node/${req.node.name}`, dev: 'cni0', ip: podIp(s, 'default/a'), mac: ethMac(s, 'default/b') }]));
    expectOldPairsCaught(sim);
  });

  it('a policy rule sending the address of a pod that was there to a table of blackholes', () => {
    const sim = cluster(flannelPlus(
      'rule-steal',
      (req, _veth, s) => [{ op: 'iprule.add', ns: `node/${req.node.name}`, to: `${podIp(s, 'default/a')}/32`, table: 100, priority: 100 }],
      (node) => [{ op: 'route.add', ns: `node/${node}`, dst: '10.244.0.0/16', type: 'blackhole', table: 100 }],
    ));
    expectOldPairsCaught(sim);
  });

  it('a new port with a small MTU lowers the bridge\'s MTU for every pod behind it', () => {
    const sim = cluster(flannelPlus('small-port', (req, veth) => [{ op: 'link.set', ns: `node/${req.node.name}`, name: veth.name, mtu: 68 }]));
    expect(sim.node('node-1').host.links['cni0']!.mtu).toBe(68);
    expectOldPairsCaught(sim);
  });
});

describe('a pod whose address another pod answers for', () => {
  /**
   * node-1 runs q and w, node-2 runs p. q drops its own address and w takes it (`ip addr add <q's IP>/32 dev
   * eth0` in w): p's probes to q's address are answered by w. The check finds the pods a change touched
   * without walking every pod; q, which no longer holds its address, is found through what its pairs crossed.
   */
  const answeredByW = () => {
    const sim = createSimulator({ cni: flannel() });
    sim.addNode({ name: 'node-1' });
    sim.addNode({ name: 'node-2' });
    const q = sim.addPod({ name: 'q', node: 'node-1' });
    sim.addPod({ name: 'w', node: 'node-1' });
    sim.addPod({ name: 'p', node: 'node-2' });
    const ip = formatIpv4(q.ip!);
    sim.apply([
      { op: 'addr.del', ns: 'pod/default/q', dev: 'eth0', addr: `${ip}/24` },
      { op: 'addr.add', ns: 'pod/default/w', dev: 'eth0', addr: `${ip}/32` },
    ]);
    expect(keys(sim.violations)).toBe(keys(sim.check().violations));
    return { sim, ip };
  };

  it('w deleted: the pairs to q\'s address fail, and the check says so', () => {
    const { sim } = answeredByW();
    sim.deletePod('w');
    expect(keys(sim.violations)).toBe(keys(sim.check().violations));
    expect(sim.violations.some((v) => v.where.from === 'default/p' && v.where.to === 'default/q')).toBe(true);
  });

  it('w gives the address back: the same', () => {
    const { sim, ip } = answeredByW();
    sim.apply({ op: 'addr.del', ns: 'pod/default/w', dev: 'eth0', addr: `${ip}/32` });
    expect(keys(sim.violations)).toBe(keys(sim.check().violations));
    expect(sim.violations.some((v) => v.where.from === 'default/p' && v.where.to === 'default/q')).toBe(true);
  });
});
