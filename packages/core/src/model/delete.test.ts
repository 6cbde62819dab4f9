/**
 * A pod's deletion applies its CNI DEL's actions with the pod's namespace marked as going away (ops/actions.ts
 * goneNs): a link deleted there is only noted, and removed when a later action of the list looks the
 * namespace up. The property: whatever the DEL's actions are, the deletion gives what applying them to the
 * cluster first (every link removed at once) and then deleting the pod with an empty DEL gives: the same
 * state, or the same error.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CniDesign } from '../cni/contract.js';
import type { Action } from '../ops/actions.js';
import { applyActions } from '../ops/actions.js';
import { PodnetError } from '../errors.js';
import { addNodeState, addPodState, createClusterState, deletePodState } from './cluster.js';
import { findNs } from './lookup.js';
import type { ClusterState } from './types.js';

const POD = 'pod/default/p';
const HOST = 'node/n1';

/** The DEL's actions, drawn from ones that touch the pod's namespace before and after its links go. */
const delAction: fc.Arbitrary<Action> = fc.constantFrom<Action>(
  { op: 'link.del', ns: POD, name: 'eth0' },
  { op: 'link.del', ns: POD, name: 'eth1' },
  { op: 'link.del', ns: POD, name: 'br0' },
  { op: 'link.del', ns: HOST, name: 'vp0' },
  { op: 'link.del', ns: HOST, name: 'vp1' },
  { op: 'addr.add', ns: POD, dev: 'eth1', addr: '10.9.0.7/24' },
  { op: 'addr.add', ns: POD, dev: 'br0', addr: '10.8.0.7/24' },
  { op: 'route.add', ns: POD, dst: '10.200.0.0/16', dev: 'eth1' },
  { op: 'route.add', ns: POD, dst: '10.201.0.0/16', dev: 'eth0' },
  { op: 'link.set', ns: POD, name: 'eth1', master: 'br0' },
  { op: 'link.set', ns: POD, name: 'eth0', up: false },
  { op: 'link.add', ns: POD, name: 'eth0', kind: 'veth', up: true, peer: { ns: HOST, name: 'vp9', up: true } },
);

/** A design whose ADD wires two veth pairs and a bridge into the pod (addresses and routes on them), and whose DEL is given. */
function designWith(del: readonly Action[]): CniDesign {
  return {
    name: 'two-veths',
    nodeAdded: () => ({ actions: [] }),
    nodeRemoved: () => ({ actions: [] }),
    podDeleted: () => ({ actions: del }),
    podAdded: () => ({
      actions: [
        { op: 'link.add', ns: HOST, name: 'vp0', kind: 'veth', up: true, peer: { ns: POD, name: 'eth0', up: true } },
        { op: 'link.add', ns: HOST, name: 'vp1', kind: 'veth', up: true, peer: { ns: POD, name: 'eth1', up: true } },
        { op: 'link.add', ns: POD, name: 'br0', kind: 'bridge', up: true },
        { op: 'addr.add', ns: POD, dev: 'eth0', addr: '10.1.0.5/24' },
        { op: 'addr.add', ns: POD, dev: 'eth1', addr: '10.2.0.5/24' },
        { op: 'addr.add', ns: HOST, dev: 'vp1', addr: '10.2.0.1/24' },
        { op: 'route.add', ns: POD, dst: '10.3.0.0/16', dev: 'eth0' },
        { op: 'route.add', ns: HOST, dst: '10.1.0.5/32', dev: 'vp0' },
        { op: 'neigh.add', ns: POD, dev: 'eth1', ip: '10.2.0.1', mac: '02:00:00:00:00:01' },
      ],
      // eth0's address: containerd fails a sandbox whose result gives its eth0 none.
      result: { cniVersion: '1.0.0', interfaces: [], ips: [{ address: '10.1.0.5/24' }], routes: [], dns: {} },
    }),
  };
}

function outcome(f: () => ClusterState): { state: ClusterState } | { error: string } {
  try {
    return { state: f() };
  } catch (e) {
    // The kernel's words: a DEL's refused action is named with its hook and place ("podDeleted (CNI DEL) for pod …: action 2 of 3 … was refused: …").
    if (e instanceof PodnetError) return { error: `${e.code}: ${e.message.replace(/^.*? was refused: /, '')}` };
    throw e;
  }
}

describe('deletePodState', () => {
  it('gives what the DEL applied to the cluster first, then the pod deleted with nothing to undo, gives', () => {
    fc.assert(fc.property(fc.array(delAction, { maxLength: 6 }), (del) => {
      const design = designWith(del);
      let s = addNodeState(createClusterState({}, design), { name: 'n1' }, design).state;
      s = addPodState(s, { name: 'p', node: 'n1' }, design).state;
      const got = outcome(() => deletePodState(s, 'default/p', design).state);
      const want = outcome(() => deletePodState(applyActions(s, del), 'default/p', designWith([])).state);
      expect(got).toEqual(want);
    }), { numRuns: 300 });
  });
});

describe('a pod deleted without its DEL deleting the veth', () => {
  it('takes the host end out of its bridge, whose MTU follows the ports left (br_del_if → br_mtu_auto_adjust)', () => {
    // Measured (kernel 6.18): a bridge at 1400 because one port was set to 1400 went back to 1500 when that
    // port's peer namespace was deleted (the veth pair goes with it).
    const design: CniDesign = {
      name: 'bridged',
      nodeAdded: (_s, n) => ({ actions: [{ op: 'link.add', ns: `node/${n.name}`, name: 'br0', kind: 'bridge', up: true }] }),
      nodeRemoved: () => ({ actions: [] }),
      podDeleted: () => ({ actions: [] }),
      podAdded: (_s, req) => ({
        actions: [
          { op: 'link.add', ns: HOST, name: `vp-${req.pod.name}`, kind: 'veth', up: true, master: 'br0', peer: { ns: `pod/${req.pod.key}`, name: 'eth0', up: true } },
          { op: 'addr.add', ns: `pod/${req.pod.key}`, dev: 'eth0', addr: `10.1.0.${req.pod.name === 'a' ? 5 : 6}/24` },
        ],
        result: { cniVersion: '1.0.0', interfaces: [], ips: [{ address: `10.1.0.${req.pod.name === 'a' ? 5 : 6}/24` }], routes: [], dns: {} },
      }),
    };
    let s = addNodeState(createClusterState({}, design), { name: 'n1' }, design).state;
    s = addPodState(s, { name: 'a', node: 'n1' }, design).state;
    s = addPodState(s, { name: 'b', node: 'n1' }, design).state;
    s = applyActions(s, [{ op: 'link.set', ns: HOST, name: 'vp-a', mtu: 1400 }]);
    const br0 = (st: ClusterState) => findNs(st, HOST)!.links['br0']!.mtu;
    expect(br0(s)).toBe(1400);
    s = deletePodState(s, 'default/a', design).state;
    expect(findNs(s, HOST)!.links['vp-a']).toBeUndefined();
    expect(br0(s)).toBe(1500);
  });
});
