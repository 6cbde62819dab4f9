/**
 * Broadcast destinations, pinned to what Linux 6.18 did (packages/cli/scripts/bcast-formats.sh, the seed lab
 * in namespaces; packages/cli/src/__fixtures__/bcast-formats.txt replays the lab shell's commands): here the
 * model's lookups and the engine on a bare node with two bridges of its own, and a property tying the lookup
 * to what `ip route show table local` lists.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIpv4, parseIpv4 } from '../addr/ipv4.js';
import { BROADCAST_MAC } from '../addr/mac.js';
import { bare } from '../cni/testing/bare.js';
import { addNodeState, createClusterState } from '../model/cluster.js';
import { getNs } from '../model/lookup.js';
import { RT_TABLE_LOCAL, type ClusterState } from '../model/types.js';
import { applyActions, type Action } from '../ops/actions.js';
import { ipRoute } from '../query/render.js';
import { routeGet } from '../query/route-get.js';
import { ping, traceroute } from '../query/probes.js';
import { icmpEcho, tcpSyn, udpPacket } from './build.js';
import { bcForwardsOn, LIMITED_BROADCAST, isBroadcastFor, localBroadcast } from './broadcast.js';
import { send } from './engine.js';

const settings = { podCidr: '10.244.0.0/16', underlay: { segments: [{ name: 'dc1', cidr: '172.16.0.0/24', gateway: '172.16.0.1' }] } };
const N = 'node/node-a';
const empty = addNodeState(createClusterState(settings, bare), { name: 'node-a', segment: 'dc1' }, bare).state;

/** node-a with bridge `dev` up and `cidr` on it. */
function withBridge(state: ClusterState, dev: string, cidr: string, up = true): ClusterState {
  const actions: Action[] = [
    { op: 'link.add', ns: N, name: dev, kind: 'bridge', up },
    { op: 'addr.add', ns: N, dev, addr: cidr },
  ];
  return applyActions(state, actions);
}

describe('localBroadcast: the local table\'s broadcast routes', () => {
  const st = withBridge(empty, 'cni0', '10.244.1.1/24');
  const ns = getNs(st, N);

  it('a subnet broadcast of an up device is one, by that device from its address (bcast-formats.txt (a): `broadcast 10.244.1.255 dev cni0 src 10.244.1.1`)', () => {
    expect(localBroadcast(ns, parseIpv4('10.244.1.255'))).toEqual({ addr: parseIpv4('10.244.1.255'), dev: 'cni0', src: parseIpv4('10.244.1.1') });
    expect(isBroadcastFor(ns, parseIpv4('10.244.1.255'))).toBe(true);
  });

  it('the network address is not (kernel 6.18: `ip route get 10.244.1.0` in pod-a is a unicast), nor another subnet\'s broadcast', () => {
    expect(localBroadcast(ns, parseIpv4('10.244.1.0'))).toBeNull();
    expect(localBroadcast(ns, parseIpv4('10.244.2.255'))).toBeNull();
    expect(isBroadcastFor(ns, LIMITED_BROADCAST)).toBe(true);
  });

  it('a device that is down has none, a /31 or /32 none', () => {
    expect(localBroadcast(getNs(withBridge(empty, 'cni0', '10.244.1.1/24', false), N), parseIpv4('10.244.1.255'))).toBeNull();
    expect(localBroadcast(getNs(withBridge(empty, 'cni0', '10.244.1.1/31'), N), parseIpv4('10.244.1.1'))).toBeNull();
    expect(localBroadcast(getNs(withBridge(empty, 'cni0', '10.244.1.3/32'), N), parseIpv4('10.244.1.3'))).toBeNull();
  });

  it('property: an address is localBroadcast\'s exactly when `ip route show table local` lists `broadcast ADDR dev DEV`, DEV the first listed', () => {
    const arb = fc.array(fc.record({ a: fc.integer({ min: 1, max: 254 }), b: fc.integer({ min: 0, max: 255 }), len: fc.integer({ min: 8, max: 32 }), up: fc.boolean() }), { minLength: 1, maxLength: 4 });
    fc.assert(fc.property(arb, (addrs) => {
      let st2 = empty;
      addrs.forEach((x, i) => { st2 = withBridge(st2, `br${i}`, `10.${x.a}.${x.b}.${(i * 37 + 5) % 250}/${x.len}`, x.up); });
      const n = getNs(st2, N);
      const listed = new Map<string, string>();
      for (const l of ipRoute(st2, N, RT_TABLE_LOCAL)) {
        const m = /^broadcast (\S+) dev (\S+)/.exec(l);
        if (m && !listed.has(m[1]!)) listed.set(m[1]!, m[2]!);
      }
      for (const [addr, dev] of listed) expect(localBroadcast(n, parseIpv4(addr))?.dev, addr).toBe(dev);
      // And none besides: every address a device has, and each subnet's last, asked.
      for (const l of Object.values(n.links)) {
        for (const a of l.addrs) {
          const last = (a.ip | (0xffffffff >>> a.len)) >>> 0;
          for (const ip of [a.ip, last]) expect(localBroadcast(n, ip) !== null, formatIpv4(ip)).toBe(listed.has(formatIpv4(ip)));
        }
      }
    }), { numRuns: 200 });
  });
});

describe('bcForwardsOn: IN_DEV_ANDCONF', () => {
  it('forwards only with all and the device both non-zero (bcast-formats.txt (f)–(h))', () => {
    // Sysctls.conf holds what was written, by scope (all, default, a device) and name.
    const at = (all: number, dev: Record<string, number>) => bcForwardsOn({
      ...getNs(empty, N).sysctl,
      conf: { all: { bc_forwarding: all }, ...Object.fromEntries(Object.entries(dev).map(([d, v]) => [d, { bc_forwarding: v }])) },
    }, 'flannel.1');
    expect(bcForwardsOn(getNs(empty, N).sysctl, 'flannel.1')).toBe(false);
    expect(at(1, { 'flannel.1': 1 })).toBe(true);
    expect(at(-3, { 'flannel.1': 7 })).toBe(true);
    expect(at(1, {})).toBe(false);
    expect(at(0, { 'flannel.1': 1 })).toBe(false);
    expect(at(1, { cni0: 1 })).toBe(false);
  });
});

describe('the engine and a broadcast (bcast-formats.txt)', () => {
  // node-a: cni0 10.244.1.1/24 and its default route out of its NIC (the bare node's).
  const st = withBridge(empty, 'cni0', '10.244.1.1/24');

  it('ip route get: `broadcast` for the subnet broadcast and for 255.255.255.255 (by the default route\'s device, no gateway)', () => {
    expect(routeGet(st, N, '10.244.1.255')).toEqual({ kind: 'broadcast', dst: parseIpv4('10.244.1.255'), dev: 'cni0', src: parseIpv4('10.244.1.1'), iif: null });
    const lb = routeGet(st, N, '255.255.255.255');
    expect(lb.kind).toBe('broadcast');
    expect(lb.kind === 'broadcast' && lb.dev).toBe(Object.values(getNs(st, N).links).find((l) => l.kind === 'physical')!.name);
    expect(routeGet(st, N, '10.244.1.255', { from: '10.244.1.4', iif: 'cni0' })).toEqual({ kind: 'broadcast', dst: parseIpv4('10.244.1.255'), dev: 'lo', src: null, iif: 'cni0' });
  });

  it('a broadcast leaves as an Ethernet broadcast, with no ARP, and a copy is taken in by the sender itself (echo ignored)', () => {
    const r = send(st, N, icmpEcho(parseIpv4('10.244.1.255'), { seq: 1, id: 1, ident: 7 }));
    const tx = r.trace.steps.filter((s) => s.kind === 'transmit' && s.ns === N && s.dev === 'cni0');
    expect(tx.map((s) => s.frame?.eth.dst)).toEqual([BROADCAST_MAC]);
    expect(r.trace.steps.some((s) => s.kind === 'arp-request')).toBe(false);
    expect(r.trace.fates[0]).toMatchObject({ ns: N, disposition: 'delivered' });
    // icmp_echo_ignore_broadcasts 1 (the default): no reply anywhere.
    expect(r.trace.fates.some((f) => f.role === 'echo-reply')).toBe(false);
  });

  it('no ICMP error and no RST about a packet to a broadcast (bcast-formats.txt (l): UDP to 10.244.1.255, no port unreachable from anyone)', () => {
    const udp = send(st, N, udpPacket(parseIpv4('10.244.1.255'), 33434, { size: 32 }));
    expect(udp.trace.fates.filter((f) => f.role === 'icmp-error')).toEqual([]);
    expect(udp.trace.fates[0]).toMatchObject({ ns: N, disposition: 'portUnreachable' });
    // The same to a unicast address of the node is answered port unreachable: the test can tell.
    expect(send(st, N, udpPacket(parseIpv4('10.244.1.1'), 33434, { size: 32 })).trace.fates.some((f) => f.role === 'icmp-error')).toBe(true);
    const tcp = send(st, N, tcpSyn(parseIpv4('10.244.1.255'), 80));
    expect(tcp.trace.fates.some((f) => f.role === 'tcp-reset')).toBe(false);
  });

  it('traceroute to a broadcast: connect refused, nothing sent', () => {
    const r = traceroute(st, 'node-a', '10.244.1.255').result;
    expect(r).toMatchObject({ broadcast: true, hops: [], lines: ['traceroute to 10.244.1.255 (10.244.1.255), 30 hops max, 60 byte packets', 'connect: Permission denied'] });
    expect(traceroute(st, 'node-a', '10.244.1.1').result.broadcast).toBeUndefined();
  });

  it('ping: refused without -b (nothing sent), sent with it; with icmp_echo_ignore_broadcasts 0 the sender answers itself from its own address', () => {
    const refused = ping(st, 'node-a', '10.244.1.255', { count: 1 }).result;
    expect(refused).toMatchObject({ transmitted: 0, broadcast: true, lines: ['ping: Do you want to ping broadcast? Then -b. If not, check your local firewall rules'] });
    expect(ping(st, 'node-a', '10.244.1.255', { count: 1, broadcast: true }).result).toMatchObject({ transmitted: 1, received: 0, broadcast: true });
    const on = applyActions(st, [{ op: 'sysctl.set', ns: N, key: 'net.ipv4.icmp_echo_ignore_broadcasts', value: 0 }]);
    const r = ping(on, 'node-a', '10.244.1.255', { count: 1, broadcast: true }).result;
    expect(r.lines[1]).toBe('64 bytes from 10.244.1.1: icmp_seq=1 ttl=64');
    expect(() => ping(st, 'node-a', '10.244.1.255', { broadcast: 'yes' as unknown as boolean })).toThrow(/broadcast must be true or false/);
  });
});
