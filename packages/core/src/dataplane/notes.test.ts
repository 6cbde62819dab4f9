/**
 * A recorded step's note is written when it is read, from the values the step saw: a later change of the
 * packet (a DNAT rewrites the destination right after its step) does not show in the note.
 */
import { describe, expect, it } from 'vitest';
import { formatIpv4 } from '../addr/ipv4.js';
import { bare } from '../cni/testing/bare.js';
import { addNodeState, createClusterState } from '../model/cluster.js';
import { getNs } from '../model/lookup.js';
import { applyActions } from '../ops/actions.js';
import { icmpEcho } from './build.js';
import { send } from './engine.js';

describe('step notes', () => {
  it('a DNAT step names the destination before and after the rewrite', () => {
    const settings = { podCidr: '10.244.0.0/16', underlay: { segments: [{ name: 'dc', cidr: '172.16.0.0/24', gateway: '172.16.0.1' }] } };
    let s = ['a', 'b'].reduce((st, n) => addNodeState(st, { name: `node-${n}` }, bare).state, createClusterState(settings, bare));
    const b = getNs(s, 'node/node-b');
    const bIp = Object.values(b.links).find((l) => l.kind === 'physical')!.addrs[0]!.ip;
    s = applyActions(s, [
      { op: 'addr.add', ns: 'node/node-b', dev: 'lo', addr: '10.9.9.9/32' },
      { op: 'rule.append', ns: 'node/node-b', rule: { table: 'nat', chain: 'PREROUTING', dst: `${formatIpv4(bIp)}/32`, protocol: 'icmp', target: 'DNAT', to: '10.9.9.9' } },
    ]);
    const { trace } = send(s, 'node/node-a', icmpEcho(bIp));
    const nat = trace.steps.find((st) => st.kind === 'nat' && st.ns === 'node/node-b');
    expect(nat?.note).toBe(`PREROUTING DNAT ${formatIpv4(bIp)} → 10.9.9.9`);
  });
});
