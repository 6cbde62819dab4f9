/**
 * probeSend, the checks' probe, answers what an unrecorded, uncommitted send's trace says: its hop
 * violations, whether the echo reply came back to the sender, and the namespaces visited.
 */
import { describe, expect, it } from 'vitest';
import { formatIpv4, parseIpv4 } from '../addr/ipv4.js';
import { bare } from '../cni/testing/bare.js';
import { addNodeState, createClusterState } from '../model/cluster.js';
import { getNs } from '../model/lookup.js';
import type { ClusterState } from '../model/types.js';
import { icmpEcho } from './build.js';
import { probeSend, send } from './engine.js';

function expected(s: ClusterState, from: string, dst: number) {
  const { trace, visited } = send(s, from, icmpEcho(dst), { record: false, commit: false, visited: true });
  const replied = trace.fates.some((f) => f.role === 'echo-reply' && f.disposition === 'delivered' && f.ns === from && f.ip?.payload.kind === 'icmp' && f.ip.payload.type === 0);
  return { violations: trace.violations, replied, visited: [...visited!] };
}

describe('probeSend', () => {
  const settings = { podCidr: '10.244.0.0/16', underlay: { segments: [{ name: 'dc', cidr: '172.16.0.0/24', gateway: '172.16.0.1' }] } };
  const s = ['a', 'b'].reduce((st, n) => addNodeState(st, { name: `node-${n}` }, bare).state, createClusterState(settings, bare));
  const bIp = Object.values(getNs(s, 'node/node-b').links).find((l) => l.kind === 'physical')!.addrs[0]!.ip;

  it('is the unrecorded send read without its trace: an echo answered, and one that is not', () => {
    for (const dst of [bIp, parseIpv4('172.16.0.99'), parseIpv4('10.1.2.3')]) {
      const want = expected(s, 'node/node-a', dst);
      const got = probeSend(s, 'node/node-a', icmpEcho(dst), true);
      expect({ violations: got.violations, replied: got.replied, visited: [...got.visited!] }, formatIpv4(dst)).toEqual(want);
      expect(probeSend(s, 'node/node-a', icmpEcho(dst), false).visited).toBeNull();
    }
    expect(expected(s, 'node/node-a', bIp).replied).toBe(true);
    expect(expected(s, 'node/node-a', parseIpv4('172.16.0.99')).replied).toBe(false);
  });

  it('names a missing sender as send does', () => {
    expect(() => probeSend(s, 'pod/nobody', icmpEcho(bIp), false)).toThrow(/no network namespace/);
  });
});
