/**
 * A namespace with no address to send from (inet_select_addr finds none) still sends: from 0.0.0.0, which the
 * receiver drops as a martian source. Measured (kernel 6.18): packages/cli/scripts/no-source.sh, whose output
 * is packages/cli/src/__fixtures__/no-source.txt. Found by the kernel oracle (seed 3002, calico-none faulted
 * #13: `ip addr flush dev eth0` on a node, then the node's ping to its pod), where podnet answered
 * `connect: Network is unreachable`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatIpv4 } from '../addr/ipv4.js';
import { bare } from '../cni/testing/bare.js';
import { addNodeState, createClusterState } from '../model/cluster.js';
import { getNs } from '../model/lookup.js';
import { applyActions } from '../ops/actions.js';
import { icmpEcho } from './build.js';
import { send } from './engine.js';

const FIXTURE = readFileSync(fileURLToPath(new URL('../../../cli/src/__fixtures__/no-source.txt', import.meta.url)), 'utf8');

describe('a namespace with no address sends from 0.0.0.0', () => {
  const settings = { podCidr: '10.244.0.0/16', underlay: { segments: [{ name: 'dc', cidr: '172.16.0.0/24', gateway: '172.16.0.1' }] } };
  const built = ['a', 'b'].reduce((st, n) => addNodeState(st, { name: `node-${n}` }, bare).state, createClusterState(settings, bare));
  const bIp = Object.values(getNs(built, 'node/node-b').links).find((l) => l.kind === 'physical')!.addrs[0]!.ip;
  // The script's A: its only device without an address, a route to B through it (case a).
  const s = applyActions(built, [
    { op: 'addr.flush', ns: 'node/node-a', dev: 'eth0' },
    { op: 'route.add', ns: 'node/node-a', dst: `${formatIpv4(bIp)}/32`, dev: 'eth0', scope: 'link' },
  ]);

  it('the echo request leaves, from 0.0.0.0, and B drops it: no reply, no error (the recording, case a)', () => {
    expect(FIXTURE).toMatch(/IP 0\.0\.0\.0 > 10\.0\.0\.2: ICMP echo request/);
    expect(FIXTURE).toMatch(/ARP, Request who-has 10\.0\.0\.2 tell 0\.0\.0\.0/);
    expect(FIXTURE).toMatch(/1 packets transmitted, 0 received/);
    const { trace } = send(s, 'node/node-a', icmpEcho(bIp), { record: true, commit: false });
    const arrived = trace.steps.filter((st) => st.ns === 'node/node-b' && st.packet === 1 && st.ip !== null);
    expect(arrived.length).toBeGreaterThan(0);
    expect(arrived.every((st) => st.ip!.header.src === 0)).toBe(true);
    // The echo request, dropped by B as a martian source; the ARP exchange before it; nothing comes back.
    expect(trace.fates.map((f) => [f.role, f.disposition, f.ns])).toEqual([['original', 'martianSource', 'node/node-b'], ['arp', 'delivered', 'node/node-b'], ['arp', 'delivered', 'node/node-a']]);
  });
});
