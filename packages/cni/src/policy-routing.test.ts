/**
 * Policy routing (`ip rule`, `ip route … table N`) as Linux does it. Measured in namespaces (kernel 6.18,
 * iproute2 6.1): the rule list and its priorities, and `ip route get` of forwarded packets
 * (`… from <src> iif <dev>`), pinned here.
 */
import { createSimulator, formatIpv4, ipRoute, ipRule, isPodnetError, lookupRouteIn, parseIpv4, type Action, type Simulator } from '@podnet/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flannel } from './designs/flannel.js';

const H = 'node/node-1';

function node(): Simulator {
  return createSimulator({ podCidr: '10.244.0.0/16', cni: flannel(), nodes: [{ name: 'node-1', ip: '192.168.1.11' }, { name: 'node-2', ip: '192.168.1.12' }], pods: [{ name: 'a', node: 'node-1' }] });
}

const route = (sim: Simulator, dst: string, src?: string) => {
  const r = lookupRouteIn(sim.state, sim.state.nodes && sim.node('node-1').host, parseIpv4(dst), src === undefined ? {} : { src: parseIpv4(src) });
  return r === null ? null : `${r.type === 'unicast' ? '' : `${r.type} `}${r.dst.len === 0 ? 'default' : `${formatIpv4(r.dst.addr)}/${r.dst.len}`}${r.via === null ? '' : ` via ${formatIpv4(r.via)}`}${r.dev === null ? '' : ` dev ${r.dev}`}`;
};

describe('ip rule', () => {
  it('lists the kernel\'s three rules, then added ones by priority; a rule without one gets one less than the first above 0', () => {
    const sim = node();
    expect(ipRule(sim.state, H)).toEqual(['0:\tfrom all lookup local', '32766:\tfrom all lookup main', '32767:\tfrom all lookup default']);
    sim.apply([
      { op: 'iprule.add', ns: H, from: '10.0.0.5', table: 2 },
      { op: 'iprule.add', ns: H, to: '10.0.0.5', table: 254, priority: 512 },
      { op: 'iprule.add', ns: H, from: '10.0.0.0/24', table: 3 },
    ]);
    // What `ip rule show` printed after the same three `ip rule add`.
    expect(ipRule(sim.state, H)).toEqual([
      '0:\tfrom all lookup local', '511:\tfrom 10.0.0.0/24 lookup 3', '512:\tfrom all to 10.0.0.5 lookup main',
      '32765:\tfrom 10.0.0.5 lookup 2', '32766:\tfrom all lookup main', '32767:\tfrom all lookup default',
    ]);
  });

  it('refuses the same rule twice (File exists) and deletes the first match in priority order (No such file or directory when none)', () => {
    const sim = node();
    sim.apply([{ op: 'iprule.add', ns: H, from: '10.0.0.5', table: 2 }, { op: 'iprule.add', ns: H, to: '10.0.0.5', table: 254, priority: 512 }, { op: 'iprule.add', ns: H, from: '10.0.0.5', table: 2 }]);
    expect(ipRule(sim.state, H).filter((l) => l.includes('from 10.0.0.5'))).toEqual(['511:\tfrom 10.0.0.5 lookup 2', '32765:\tfrom 10.0.0.5 lookup 2']);
    const before = sim.state;
    const fails = (a: Action, code: 'RULE_EXISTS' | 'RULE_NOT_FOUND' | 'INVALID_ARGUMENT' | 'INVALID_CIDR') => {
      let e: unknown;
      try { sim.apply(a); } catch (x) { e = x; }
      expect(isPodnetError(e, code), String(e)).toBe(true);
      expect(sim.state).toBe(before);
    };
    fails({ op: 'iprule.add', ns: H, from: '10.0.0.5', table: 2, priority: 32765 }, 'RULE_EXISTS');
    fails({ op: 'iprule.del', ns: H, from: '10.9.9.9' }, 'RULE_NOT_FOUND');
    fails({ op: 'iprule.add', ns: H, from: '10.0.0.5' }, 'INVALID_ARGUMENT');
    fails({ op: 'iprule.add', ns: H, from: '10.0.0.5', table: 255 }, 'INVALID_ARGUMENT');
    fails({ op: 'iprule.add', ns: H, from: '10.0.0.5/24', table: 2 }, 'INVALID_CIDR');
    sim.apply({ op: 'iprule.del', ns: H, from: '10.0.0.5' });
    expect(ipRule(sim.state, H).filter((l) => l.includes('from 10.0.0.5'))).toEqual(['32765:\tfrom 10.0.0.5 lookup 2']);
  });
});

describe('routing with rules', () => {
  function withTable2(): Simulator {
    const sim = node();
    sim.apply([
      { op: 'route.add', ns: H, dst: '10.0.0.5/32', dev: 'cni0', scope: 'link' },
      { op: 'route.add', ns: H, dst: '10.0.0.6/32', dev: 'cni0', scope: 'link' },
      { op: 'route.add', ns: H, dst: '192.168.1.1/32', dev: 'cni0', scope: 'link', table: 2 },
      { op: 'route.add', ns: H, dst: 'default', via: '192.168.1.1', dev: 'cni0', table: 2 },
      { op: 'iprule.add', ns: H, from: '10.0.0.5', table: 2, priority: 1536 },
      { op: 'iprule.add', ns: H, from: '10.0.0.0/24', table: 3, priority: 1600 },
    ]);
    return sim;
  }

  it('a forwarded packet takes its source\'s table; a table without a route lets the lookup go on to main', () => {
    const sim = withTable2();
    // ip route get 8.8.8.8 from 10.0.0.5 iif …: via 192.168.1.1 dev eth1 table 2 (cni0 here)
    expect(route(sim, '8.8.8.8', '10.0.0.5')).toBe('default via 192.168.1.1 dev cni0');
    // from 10.0.0.6: rule 1600 looks up table 3, which does not exist; main's default
    expect(route(sim, '8.8.8.8', '10.0.0.6')).toBe('default via 192.168.1.1 dev eth0');
    // an unbound local packet (source 0) matches "from all" only
    expect(route(sim, '8.8.8.8')).toBe('default via 192.168.1.1 dev eth0');
    // from the pod to a neighbour pod, without a "to" rule the pod's table sends it to the gateway…
    expect(route(sim, '10.0.0.6', '10.0.0.5')).toBe('default via 192.168.1.1 dev cni0');
    // …which is why the AWS VPC CNI adds "to <pod> lookup main" at priority 512
    sim.apply({ op: 'iprule.add', ns: H, to: '10.0.0.6', table: 254, priority: 512 });
    expect(route(sim, '10.0.0.6', '10.0.0.5')).toBe('10.0.0.6/32 dev cni0');
  });

  it('an unreachable route in the rule\'s table ends the lookup (RTNETLINK answers: No route to host), it does not fall through', () => {
    const sim = withTable2();
    sim.apply({ op: 'route.add', ns: H, dst: '7.7.7.0/24', type: 'unreachable', table: 2 });
    expect(route(sim, '7.7.7.7', '10.0.0.5')).toBe('unreachable 7.7.7.0/24');
    expect(route(sim, '7.7.7.7', '10.0.0.9')).toBe('default via 192.168.1.1 dev eth0');
  });

  it('ip route show table N lists that table in the kernel\'s order; main is unchanged; a table never made does not exist', () => {
    const sim = withTable2();
    expect(ipRoute(sim.state, H, 2)).toEqual(['default via 192.168.1.1 dev cni0', '192.168.1.1 dev cni0 scope link']);
    expect(ipRoute(sim.state, H).some((l) => l.includes('192.168.1.1 dev cni0'))).toBe(false);
    expect(() => ipRoute(sim.state, H, 9)).toThrow(expect.objectContaining({ code: 'TABLE_NOT_FOUND' }));
    // A device going down takes its routes in every table along.
    sim.apply({ op: 'link.set', ns: H, name: 'cni0', up: false });
    expect(ipRoute(sim.state, H, 2)).toEqual([]);
    expect(route(sim, '8.8.8.8', '10.0.0.5')).toBe('default via 192.168.1.1 dev eth0');
  });

  it('the packet really follows its table: a pod whose source rule points at a blackhole table loses its traffic, its neighbour keeps it', () => {
    const sim = node();
    const a = formatIpv4(sim.pod('a').ip!);
    sim.apply([{ op: 'route.add', ns: H, dst: '10.244.0.0/16', type: 'blackhole', table: 7 }, { op: 'iprule.add', ns: H, from: a, table: 7, priority: 100 }]);
    sim.addPod({ name: 'c', node: 'node-2' });
    const c = formatIpv4(sim.pod('c').ip!);
    expect(sim.ping('a', c).ok).toBe(false);
    expect(sim.ping('node-1', c).ok).toBe(true);
    expect(sim.check().ok).toBe(false);
  });

  it('rules that only look main up, or tables with no route, change no lookup (property)', () => {
    const sim = node();
    const prefix = fc.tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 1, max: 32 })).map(([addr, len]) => `${formatIpv4((addr & (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0)) >>> 0)}/${len}`);
    const ruleArb = fc.record({ from: fc.option(prefix, { nil: undefined }), to: fc.option(prefix, { nil: undefined }), table: fc.constantFrom(254, 5, 6), priority: fc.integer({ min: 1, max: 40000 }) });
    const ip = fc.integer({ min: 1, max: 2 ** 32 - 1 }).map(formatIpv4);
    fc.assert(fc.property(fc.uniqueArray(ruleArb, { maxLength: 6, selector: (r) => JSON.stringify(r) }), ip, fc.option(ip, { nil: undefined }), (rules, dst, src) => {
      const ruled = createSimulator({ podCidr: '10.244.0.0/16', cni: flannel(), nodes: [{ name: 'node-1', ip: '192.168.1.11' }] });
      ruled.apply(rules.map((r) => ({ op: 'iprule.add', ns: H, ...r }) as Action));
      const r = lookupRouteIn(ruled.state, ruled.node('node-1').host, parseIpv4(dst), src === undefined ? {} : { src: parseIpv4(src) });
      const base = lookupRouteIn(ruled.state, { ...ruled.node('node-1').host, ipRules: [] }, parseIpv4(dst));
      expect(r).toBe(base);
    }), { numRuns: 150 });
  });
});
