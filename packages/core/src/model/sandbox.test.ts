/**
 * What the runtime does with a CNI ADD result, as containerd does it: the pod's IP is the first address the
 * result gives the sandbox's default interface (`eth0`: an `ips` entry indexing an interface of that name, or
 * naming none — go-cni's createResult), and a result that gives eth0 no address fails the sandbox
 * (containerd's setupPodNetwork: `failed to find network info for sandbox "<id>"`, wrapped by RunPodSandbox in
 * `failed to setup network for sandbox "<id>"`), after which the runtime tears the network down again (CNI
 * DEL): the pod waits in ContainerCreating and nothing the ADD did stays. Before, such a pod ran with no IP,
 * and no guarantee looked at it (a design that forgot its result's addresses passed every check).
 */
import { describe, expect, it } from 'vitest';
import type { CniDesign, CniResult } from '../cni/contract.js';
import { createSimulator } from '../sim/simulator.js';
import { formatIpv4 } from '../addr/ipv4.js';
import { findNs, hostNsId } from './lookup.js';

const HOST = hostNsId('node-1');
const POD_NS = 'pod/default/p';

/** A design whose ADD wires a veth with 10.9.0.5 on the pod's eth0 and answers with `result`. */
function design(result: CniResult, log: string[] = []): CniDesign {
  return {
    name: 'hand',
    nodeAdded: () => ({ actions: [] }),
    nodeRemoved: () => ({ actions: [] }),
    podDeleted: () => ({ actions: [] }),
    podAdded: (_s, req) => {
      req.inBuild?.undoOnFailure(() => log.push(`undo ${req.pod.name}`));
      log.push(`add ${req.pod.name}`);
      return {
        actions: [
          { op: 'link.add', ns: HOST, name: 'vp0', kind: 'veth', up: true, peer: { ns: `pod/${req.pod.key}`, name: 'eth0', up: true } },
          { op: 'addr.add', ns: `pod/${req.pod.key}`, dev: 'eth0', addr: '10.9.0.5/24' },
        ],
        nodeState: { pods: 1 },
        result,
      };
    },
  };
}

const EMPTY: CniResult = { cniVersion: '1.0.0', interfaces: [], ips: [], routes: [], dns: {} };
const SANDBOX_FAILED = /^Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "([0-9a-f]{64})": failed to find network info for sandbox "\1"$/;

describe('a CNI ADD result without an address for eth0', () => {
  it('fails the sandbox as containerd does: ContainerCreating, one FailedCreatePodSandBox event, nothing wired, no IP', () => {
    const sim = createSimulator({ podCidr: '10.9.0.0/16', cni: design(EMPTY), nodes: [{ name: 'node-1' }] });
    const hostBefore = findNs(sim.state, HOST);
    const p = sim.addPod({ name: 'p', node: 'node-1' });
    expect(p.status.phase).toBe('ContainerCreating');
    expect(p.status.reason).toBe('FailedCreatePodSandBox');
    expect(p.status.message).toMatch(SANDBOX_FAILED);
    expect(p.ip).toBeNull();
    expect(sim.events('p').map((e) => e.reason)).toEqual(['FailedCreatePodSandBox']);
    // The ADD's veth is not on the node, and the pod has no namespace.
    expect(findNs(sim.state, HOST)).toBe(hostBefore);
    expect(findNs(sim.state, HOST)!.links['vp0']).toBeUndefined();
    expect(findNs(sim.state, POD_NS)).toBeUndefined();
    expect(sim.check()).toEqual({ ok: true, violations: [] });
  });

  it('counts an address given to another interface as none', () => {
    const result: CniResult = { ...EMPTY, interfaces: [{ name: 'cni0', mac: '02:00:00:00:00:01' }], ips: [{ interface: 0, address: '10.9.0.1/24' }] };
    const sim = createSimulator({ podCidr: '10.9.0.0/16', cni: design(result), nodes: [{ name: 'node-1' }] });
    expect(sim.addPod({ name: 'p', node: 'node-1' }).status.message).toMatch(SANDBOX_FAILED);
  });

  it('takes the first address of eth0, passing over another interface\'s, and one that names no interface counts for eth0', () => {
    const ifaces = [{ name: 'cni0', mac: '02:00:00:00:00:01' }, { name: 'eth0', mac: '02:00:00:00:00:02', sandbox: '/var/run/netns/x' }];
    const named: CniResult = { ...EMPTY, interfaces: ifaces, ips: [{ interface: 0, address: '10.9.0.1/24' }, { interface: 1, address: '10.9.0.5/24' }] };
    const sim = createSimulator({ podCidr: '10.9.0.0/16', cni: design(named), nodes: [{ name: 'node-1' }] });
    const p = sim.addPod({ name: 'p', node: 'node-1' });
    expect(p.status.phase).toBe('Running');
    expect(formatIpv4(sim.pod('p').ip!)).toBe('10.9.0.5');
    const unnamed: CniResult = { ...EMPTY, ips: [{ address: '10.9.0.5/24' }] };
    const sim2 = createSimulator({ podCidr: '10.9.0.0/16', cni: design(unnamed), nodes: [{ name: 'node-1' }] });
    sim2.addPod({ name: 'p', node: 'node-1' });
    expect(formatIpv4(sim2.pod('p').ip!)).toBe('10.9.0.5');
  });

  it('takes back what the design changed in place when the cluster is built in one transition', () => {
    const log: string[] = [];
    const sim = createSimulator({ podCidr: '10.9.0.0/16', cni: design(EMPTY, log), nodes: [{ name: 'node-1' }], pods: [{ name: 'p', node: 'node-1' }] });
    // The build's ADD, then the kubelet's retry of the failed sandbox: each one taken back.
    expect(log.length).toBeGreaterThan(0);
    expect(log).toEqual(log.map((_, i) => (i % 2 === 0 ? 'add p' : 'undo p')));
    expect(log.at(-1)).toBe('undo p');
    expect(sim.pod('p').status.message).toMatch(SANDBOX_FAILED);
    expect(findNs(sim.state, HOST)!.links['vp0']).toBeUndefined();
  });
});
