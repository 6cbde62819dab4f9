/**
 * `ip route add` and `ip route replace` against a route flannel shares between nodes (a peer set: one entry
 * per node, rendered in every other node's table). The kernel keys a route by prefix, TOS and metric: `add`
 * of a prefix and metric already there is refused, `replace` replaces that route. Measured (kernel 6.18,
 * iproute2 6.1, a namespace with `10.244.3.0/24 via 10.244.3.0 dev flannel.1 onlink` and eth0 192.168.1.11/24):
 *
 *   ip route add unreachable 10.244.3.0/24            → RTNETLINK answers: File exists (exit 2)
 *   ip route add unreachable 10.244.3.0/24 metric 5   → accepted, beside flannel's
 *   ip route replace 10.244.3.0/24 dev eth0           → `10.244.3.0/24 dev eth0 scope link` in place of flannel's
 *   ip route del 10.244.3.0/24                        → that route gone; `unreachable 10.244.3.0/24 metric 5` left
 *
 *
 * and `ip route del` takes the matching route of the lowest metric, whoever added it and in whatever order:
 * with `192.168.1.0/24 dev eth0 metric 100` added beside eth0's prefix route, `ip route del 192.168.1.0/24`
 * removes the prefix route (`… proto kernel scope link src 192.168.1.11`) and leaves the metric 100 one.
 *
 * podnet added the routes beside the shared one, so `del` then uncovered flannel's route again (found by the
 * lab28 helper in the lab shell).
 */
import { ipRoute, isPodnetError } from '@podnet/core';
import { describe, expect, it } from 'vitest';
import { seedLabSpec, simulatorFromSpec } from './spec.js';

const NS = 'node/node-1';
const routesTo3 = (lines: readonly string[]): string[] => lines.filter((l) => l.includes('10.244.3.0/24'));

describe('a route over a shared flannel route', () => {
  it('ip route add of the same prefix and metric is refused with File exists, and changes nothing', () => {
    const sim = simulatorFromSpec(seedLabSpec());
    const before = sim.state;
    let error: unknown;
    try {
      sim.apply({ op: 'route.add', ns: NS, dst: '10.244.3.0/24', type: 'unreachable' });
    } catch (e) {
      error = e;
    }
    expect(isPodnetError(error) && error.code).toBe('ROUTE_EXISTS');
    expect(sim.state).toBe(before);
  });

  it('another metric is added beside it; replace takes its place on this node alone; del then leaves the other metric', () => {
    const sim = simulatorFromSpec(seedLabSpec());
    sim.apply({ op: 'route.add', ns: NS, dst: '10.244.3.0/24', type: 'unreachable', metric: 5 });
    expect(routesTo3(ipRoute(sim.state, NS))).toEqual(['10.244.3.0/24 via 10.244.3.0 dev flannel.1 onlink', 'unreachable 10.244.3.0/24 metric 5']);
    sim.apply({ op: 'route.replace', ns: NS, dst: '10.244.3.0/24', dev: 'eth0' });
    expect(routesTo3(ipRoute(sim.state, NS))).toEqual(['10.244.3.0/24 dev eth0 scope link', 'unreachable 10.244.3.0/24 metric 5']);
    // node-2 still routes to node-3's pods through flannel.1.
    expect(routesTo3(ipRoute(sim.state, 'node/node-2'))).toEqual(['10.244.3.0/24 via 10.244.3.0 dev flannel.1 onlink']);
    sim.apply({ op: 'route.del', ns: NS, dst: '10.244.3.0/24' });
    expect(routesTo3(ipRoute(sim.state, NS))).toEqual(['unreachable 10.244.3.0/24 metric 5']);
    // What the table says is what forwarding does: node-1 has no way to pod-e any more.
    expect(sim.ping('pod-a', '10.244.3.2').ok).toBe(false);
    expect(sim.ping('pod-c', '10.244.3.2').ok).toBe(true);
  });

  it('ip route del takes the lowest metric first: an address\'s prefix route before a route of metric 100', () => {
    const sim = simulatorFromSpec(seedLabSpec());
    sim.apply({ op: 'route.add', ns: NS, dst: '192.168.1.0/24', dev: 'eth0', metric: 100 });
    sim.apply({ op: 'route.del', ns: NS, dst: '192.168.1.0/24' });
    expect(ipRoute(sim.state, NS).filter((l) => l.startsWith('192.168.1.0/24'))).toEqual(['192.168.1.0/24 dev eth0 scope link metric 100']);
  });
});
