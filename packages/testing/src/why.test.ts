/**
 * What a counterexample says beyond its trace: why an ARP request went unanswered, and where a pod that
 * waited went once a node joined.
 */
import { bridge, flannel } from '@podnet/cni';
import { formatIpv4, hostNsId, podNsId, type Action, type CniDesign } from '@podnet/core';
import { describe, expect, it } from 'vitest';
import { checkDesign } from './check-design.js';
import type { ClusterShape } from './events.js';
import { ClusterRun } from './runner.js';

/**
 * A ptp-style design in a few lines: the pod's /32 on eth0, `default via <gw> dev eth0` with a link route
 * to the gateway, the host's /32 route to the pod; the gateway answered either by the address on the host
 * veth (ptp) or by proxy ARP (calico's way), or — the bug — by neither.
 */
function tinyPtp(gateway: 'address' | 'proxy-arp' | 'none'): CniDesign {
  return {
    name: `tiny-ptp-${gateway}`,
    nodeAdded: (_s, node) => ({ actions: [{ op: 'sysctl.set', ns: hostNsId(node.name), key: 'net.ipv4.ip_forward', value: 1 }], nodeState: 0 }),
    nodeRemoved: () => ({ actions: [] }),
    podAdded: (_s, { pod, node, ifname }) => {
      const n = (node.cni as number) + 1;
      const gw = formatIpv4(node.podCidr!.addr + 1);
      const ip = formatIpv4(node.podCidr!.addr + 1 + n);
      const host = hostNsId(node.name);
      const veth = `veth${n}`;
      const actions: Action[] = [
        { op: 'link.add', ns: host, name: veth, kind: 'veth', up: true, peer: { ns: podNsId(pod.key), name: ifname, up: true } },
        ...(gateway === 'address' ? [{ op: 'addr.add', ns: host, dev: veth, addr: `${gw}/32` } as const] : []),
        ...(gateway === 'proxy-arp' ? [{ op: 'sysctl.set', ns: host, key: `net.ipv4.conf.${veth}.proxy_arp`, value: 1 } as const] : []),
        { op: 'route.add', ns: host, dst: `${ip}/32`, dev: veth, scope: 'link' },
        { op: 'addr.add', ns: podNsId(pod.key), dev: ifname, addr: `${ip}/32` },
        { op: 'route.add', ns: podNsId(pod.key), dst: `${gw}/32`, dev: ifname, scope: 'link' },
        { op: 'route.add', ns: podNsId(pod.key), dst: 'default', via: gw, dev: ifname },
      ];
      return { actions, nodeState: n, result: { cniVersion: '1.0.0', interfaces: [], ips: [{ address: `${ip}/32`, gateway: gw }], routes: [], dns: {} } };
    },
    podDeleted: () => ({ actions: [] }),
  };
}

const ONE_RACK: ClusterShape = { podCidr: '10.0.0.0/16', nodeCidrMaskSize: 24, underlay: { segments: [{ name: 'rack-a', cidr: '192.168.1.0/24', gateway: '192.168.1.1', mtu: 1500 }] } };

describe('why: an ARP request nobody answered', () => {
  it('names who got it and why it kept quiet: no such address, proxy_arp off', () => {
    const r = checkDesign(tinyPtp('none'), { numRuns: 50, maxNodes: 1, segments: 1, checks: 'at-end' });
    if (r.ok) throw new Error('not caught');
    expect(r.counterexample.trace!.steps.at(-1)!.note).toBe('neighbourUnreachable: no ARP reply for 10.0.0.1 on eth0');
    expect(r.counterexample.why).toEqual([
      'nobody answered ARP for 10.0.0.1 sent by pod/default/pod-1 on eth0: node/node-1 received it on veth1, holds no address 10.0.0.1, and has proxy_arp off on veth1',
    ]);
    expect(r.toString()).toContain('\nwhy: nobody answered ARP for 10.0.0.1 sent by pod/default/pod-1 on eth0: node/node-1 received it on veth1');
  });

  it('either fix the line names keeps the model: the gateway address on the veth, or proxy_arp on it', () => {
    for (const fix of ['address', 'proxy-arp'] as const) {
      expect(checkDesign(tinyPtp(fix), { numRuns: 50, maxNodes: 1, segments: 1 }).ok).toBe(true);
    }
  });

  it('on a bridge port, the bridge is where the host answers: its proxy_arp is the one named', () => {
    // bridge() with the gateway address left off cni0 (a route to the pods through cni0 instead, so the node still reaches them).
    const b = bridge();
    const noGateway: CniDesign = {
      ...b, name: 'bridge-without-gateway-address',
      podAdded: (s, req) => {
        const r = b.podAdded(s, req);
        if ('error' in r) return r;
        const actions = r.actions.filter((a) => !(a.op === 'addr.add' && a.dev === 'cni0'));
        const route: Action = { op: 'route.add', ns: hostNsId(req.node.name), dst: '10.0.0.0/24', dev: 'cni0' };
        return { ...r, actions: actions.length < r.actions.length ? [...actions, route] : actions };
      },
    };
    const r = checkDesign(noGateway, { numRuns: 50, maxNodes: 1, segments: 1 });
    if (r.ok) throw new Error('not caught');
    expect(r.counterexample.why).toEqual([
      'nobody answered ARP for 10.0.0.1 sent by pod/default/pod-1 on eth0: node/node-1 received it on vethc9fcb6c4, a port of cni0, holds no address 10.0.0.1, and has proxy_arp off on cni0',
    ]);
  });

  it('says nothing when every ARP request was answered', () => {
    const f = flannel();
    const r = checkDesign({ ...f, name: 'flannel-without-peer-routes', nodeAdded: (s, n) => { const x = f.nodeAdded(s, n); return { ...x, actions: x.actions.filter((a) => a.op !== 'peerset.attach') }; } }, { numRuns: 100 });
    if (r.ok) throw new Error('not caught');
    expect(r.counterexample.why).toEqual([]);
    expect(r.toString()).not.toContain('\nwhy:');
  });
});

describe('a pod that waited for a node', () => {
  it('the event that placed it says where it went, with its address', () => {
    const run = new ClusterRun(flannel(), ONE_RACK);
    expect(run.play({ type: 'addPod', node: null })).toBe('addPod pod-1 → Pending');
    expect(run.play({ type: 'addNode', segment: 0 })).toBe('addNode node-1 (rack-a); pod-1 scheduled → node-1 10.0.0.2');
    expect(run.play({ type: 'addPod', node: 0 })).toBe('addPod pod-2 on node-1 → node-1 10.0.0.3');
  });
});
