import { formatIpv4, parseIpv4 } from '@podnet/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalRange, defaultRange, EMPTY_HOST_LOCAL, hostLocalAdd, hostLocalCheck, hostLocalDel, loadHostLocalConfig, loadPlainHostLocalConfig,
  loadSubnetHostLocalConfig, type HostLocalConfig, type HostLocalStore,
} from './host-local.js';

const load = (ipam: Record<string, unknown>, args = '', plugin: Record<string, unknown> = {}, v = '1.0.0'): HostLocalConfig => {
  const c = loadHostLocalConfig(ipam, v, args, plugin);
  if ('error' in c) throw new Error(c.error);
  return c;
};
const add = (conf: HostLocalConfig, s: HostLocalStore, id: string) => hostLocalAdd(conf, s, id, 'eth0');
const ipOf = (r: ReturnType<typeof add>): string => ('error' in r ? r.error : r.result.ips.map((i) => i.address).join(','));

describe('host-local configuration (allocator/config.go, range.go, range_set.go)', () => {
  it('fills in the defaults: gateway .1, rangeStart .1 (gateway skipped), rangeEnd before broadcast', () => {
    const c = load({ subnet: '10.1.1.0/24' });
    expect(c.ranges[0]!.map((r) => [formatIpv4(r.gateway), formatIpv4(r.rangeStart), formatIpv4(r.rangeEnd)])).toEqual([['10.1.1.1', '10.1.1.1', '10.1.1.254']]);
  });

  it('refuses what the plugin refuses, with its words', () => {
    const err = (ipam: Record<string, unknown>, v = '1.0.0') => {
      const c = loadHostLocalConfig(ipam, v);
      return 'error' in c ? c.error : 'ok';
    };
    expect(err({ subnet: '10.1.1.0/31' })).toBe('invalid range set 0: Network 10.1.1.0/31 too small to allocate from');
    expect(err({ subnet: '10.1.1.5/24' })).toBe('invalid range set 0: network has host bits set. For a subnet mask of length 24 the network address is 10.1.1.0');
    expect(err({ subnet: '10.1.1.0/24', rangeStart: '10.2.0.5' })).toBe('invalid range set 0: 10.2.0.5 not in network 10.1.1.0/24');
    expect(err({ subnet: '10.1.1.0/24', rangeStart: '10.1.1.50', rangeEnd: '10.1.1.10' })).toBe('invalid range set 0: 10.1.1.10 is in network 10.1.1.0/24 but before start 10.1.1.50');
    expect(err({ subnet: '10.1.1.0/24', gateway: '10.9.9.9' })).toBe('invalid range set 0: gateway 10.9.9.9 not in network 10.1.1.0/24');
    expect(err({ ranges: [[{ subnet: '192.168.0.0/20' }, { subnet: '192.168.2.0/24' }]] })).toBe(
      'invalid range set 0: subnets 192.168.0.1-192.168.15.254 and 192.168.2.1-192.168.2.254 overlap');
    expect(err({ ranges: [[{ subnet: '192.168.0.0/20' }], [{ subnet: '192.168.2.0/24' }]] })).toBe('range set 0 overlaps with 1');
    expect(err({ ranges: [[]] })).toBe('invalid range set 0: empty range set');
    expect(err({ type: 'host-local' })).toBe('no IP ranges specified');
    expect(err({ subnet: 'ten/8' })).toBe('invalid CIDR address: ten/8');
    expect(err({ ranges: [[{ subnet: '10.1.0.0/24' }], [{ subnet: '10.2.0.0/24' }]] }, '0.2.0')).toBe('CNI version 0.2.0 does not support more than 1 address per family');
  });
});

describe('host-local allocation (allocator.go)', () => {
  it('on 192.168.1.0/29 hands out .2 to .6, then fails with the range set', () => {
    const c = load({ subnet: '192.168.1.0/29' });
    let s = EMPTY_HOST_LOCAL;
    const got: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = add(c, s, `c${i}`);
      got.push(ipOf(r));
      if (!('error' in r)) s = r.store;
    }
    expect(got).toEqual(['192.168.1.2/29', '192.168.1.3/29', '192.168.1.4/29', '192.168.1.5/29', '192.168.1.6/29',
      'failed to allocate for range 0: no IP addresses available in range set: 192.168.1.1-192.168.1.6']);
  });

  it('is round-robin: a released address is not handed out again at once', () => {
    const c = load({ subnet: '10.1.1.0/24' });
    const a = add(c, EMPTY_HOST_LOCAL, 'a');
    if ('error' in a) throw new Error(a.error);
    expect(ipOf(a)).toBe('10.1.1.2/24');
    const b = add(c, hostLocalDel(a.store, 'a', 'eth0'), 'b');
    expect(ipOf(b)).toBe('10.1.1.3/24');
  });

  it('takes one address per range set, walking the ranges of a set in order (the reference bridge config)', () => {
    const c = load({ ranges: [[{ subnet: '10.10.0.0/16', rangeStart: '10.10.1.20', rangeEnd: '10.10.3.50', gateway: '10.10.0.254' }, { subnet: '172.16.5.0/24' }], [{ subnet: '10.20.0.0/24' }]] });
    const r = add(c, EMPTY_HOST_LOCAL, 'a');
    if ('error' in r) throw new Error(r.error);
    expect(r.result.ips).toEqual([{ address: '10.10.1.20/16', gateway: '10.10.0.254' }, { address: '10.20.0.2/24', gateway: '10.20.0.1' }]);
    // A set that runs out of its first range continues in the next one.
    const small = load({ ranges: [[{ subnet: '10.10.0.0/16', rangeStart: '10.10.1.20', rangeEnd: '10.10.1.21' }, { subnet: '172.16.5.0/24' }]] });
    let s = EMPTY_HOST_LOCAL;
    const got: string[] = [];
    for (const id of ['a', 'b', 'c']) {
      const x = add(small, s, id);
      got.push(ipOf(x));
      if (!('error' in x)) s = x.store;
    }
    expect(got).toEqual(['10.10.1.20/16', '10.10.1.21/16', '172.16.5.2/24']);
  });

  it('honours requested addresses (CNI_ARGS IP=, runtimeConfig ips) and refuses the gateway, a taken one, one outside', () => {
    const c = (args: string, plugin: Record<string, unknown> = {}) => load({ subnet: '10.1.1.0/24' }, args, plugin);
    const first = add(c('IgnoreUnknown=1;IP=10.1.1.9'), EMPTY_HOST_LOCAL, 'a');
    expect(ipOf(first)).toBe('10.1.1.9/24');
    if ('error' in first) return;
    expect(ipOf(add(c('', { runtimeConfig: { ips: ['10.1.1.9/24'] } }), first.store, 'b'))).toBe(
      'failed to allocate for range 0: requested IP address 10.1.1.9 is not available in range set 10.1.1.1-10.1.1.254');
    expect(ipOf(add(c('IP=10.1.1.1'), EMPTY_HOST_LOCAL, 'b'))).toBe('failed to allocate for range 0: requested ip 10.1.1.1 is subnet\'s gateway');
    expect(ipOf(add(c('IP=10.9.9.9'), EMPTY_HOST_LOCAL, 'b'))).toBe('failed to allocate all requested IPs: 10.9.9.9');
    // Round-robin continues after a requested address.
    expect(ipOf(add(c(''), first.store, 'b'))).toBe('10.1.1.10/24');
  });

  it('refuses a second address for the same container and interface', () => {
    const c = load({ subnet: '10.1.1.0/24' });
    const a = add(c, EMPTY_HOST_LOCAL, 'a');
    if ('error' in a) throw new Error(a.error);
    expect(ipOf(add(c, a.store, 'a'))).toBe('failed to allocate for range 0: 10.1.1.2 has been allocated to a, duplicate allocation is not allowed');
    expect(hostLocalCheck(a.store, 'a', 'eth0')).toBeNull();
    expect(hostLocalCheck(EMPTY_HOST_LOCAL, 'a', 'eth0')).toEqual({ error: 'host-local: Failed to find address added by container a' });
  });
});

type Op = { t: 'add'; c: number } | { t: 'del'; c: number };
const ops = fc.array(fc.oneof(fc.record({ t: fc.constant('add' as const), c: fc.integer({ min: 0, max: 9 }) }), fc.record({ t: fc.constant('del' as const), c: fc.integer({ min: 0, max: 9 }) })), { maxLength: 60 });

describe('host-local properties', () => {
  const conf = load({ ranges: [[{ subnet: '10.0.0.0/29' }, { subnet: '10.0.1.0/29', rangeStart: '10.0.1.3', gateway: '10.0.1.6' }]] });
  const gateways = new Set(['10.0.0.1', '10.0.1.6']);

  it('never gives one address two owners, never the gateway, and allocate/release sequences never throw', () => {
    fc.assert(fc.property(ops, (seq) => {
      let s = EMPTY_HOST_LOCAL;
      const held = new Map<number, string>();
      for (const op of seq) {
        if (op.t === 'add') {
          const r = add(conf, s, `c${op.c}`);
          if ('error' in r) {
            expect(r.error).toMatch(held.has(op.c) ? /duplicate allocation is not allowed/ : /no IP addresses available in range set: 10\.0\.0\.1-10\.0\.0\.6,10\.0\.1\.3-10\.0\.1\.6/);
            continue;
          }
          s = r.store;
          const ip = r.result.ips[0]!.address.split('/')[0]!;
          expect(gateways.has(ip)).toBe(false);
          expect([...held.values()]).not.toContain(ip);
          held.set(op.c, ip);
        } else {
          s = hostLocalDel(s, `c${op.c}`, 'eth0');
          held.delete(op.c);
        }
        expect(Object.keys(s.allocated).sort()).toEqual([...held.values()].sort());
      }
    }));
  });

  it('hands a just-released address back only after every other free address was tried (a crash-looping pod)', () => {
    fc.assert(fc.property(ops, (seq) => {
      let s = EMPTY_HOST_LOCAL;
      for (const op of seq) {
        if (op.t === 'add') {
          const r = add(conf, s, `c${op.c}`);
          if (!('error' in r)) s = r.store;
        } else s = hostLocalDel(s, `c${op.c}`, 'eth0');
      }
      const first = add(conf, s, 'crashloop');
      if ('error' in first) return;
      const mine = first.result.ips[0]!.address.split('/')[0]!;
      s = hostLocalDel(first.store, 'crashloop', 'eth0');
      for (let i = 0; i < 20; i++) {
        const r = add(conf, s, `n${i}`);
        if ('error' in r) throw new Error(`exhausted while ${mine} was free: ${r.error}`);
        s = r.store;
        if (r.result.ips[0]!.address.split('/')[0] === mine) {
          const free = conf.ranges[0]!.flatMap((rg) => {
            const out: string[] = [];
            for (let ip = rg.rangeStart; ip <= rg.rangeEnd; ip++) if (ip !== rg.gateway) out.push(formatIpv4(ip));
            return out;
          }).filter((ip) => s.allocated[ip] === undefined);
          expect(free).toEqual([]);
          return;
        }
      }
      throw new Error(`${mine} never came back`);
    }));
  });

  it('keeps the ranges canonical for any valid subnet', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 8, max: 30 }), (addr, len) => {
      const net = (addr & (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0)) >>> 0;
      const c = loadHostLocalConfig({ subnet: `${formatIpv4(net)}/${len}` }, '1.0.0');
      if ('error' in c) throw new Error(c.error);
      const r = c.ranges[0]![0]!;
      expect(r.rangeStart).toBe(net + 1);
      expect(r.rangeEnd).toBe(parseIpv4(formatIpv4(net + 2 ** (32 - len) - 2)));
    }));
  });

  it("makes a subnet's default range, and flannel's delegate section, from numbers as from their texts", () => {
    // Any address and length (host bits, /31, /32 included); texts that are networks, or not, or not CIDRs.
    const raw = fc.record({ addr: fc.integer({ min: 0, max: 0xffffffff }), len: fc.integer({ min: 0, max: 32 }) });
    const cidr = fc.oneof(raw, raw.map(({ addr, len }) => ({ addr: len === 0 ? 0 : (addr & ((0xffffffff << (32 - len)) >>> 0)) >>> 0, len })));
    const text = fc.oneof(cidr.map((c) => `${formatIpv4(c.addr)}/${c.len}`), fc.constantFrom('10.1.0.0/16', '10.1.0.0/016', '10.1.0.0', 'x/8', ''));
    fc.assert(fc.property(cidr, text, text, (c, subnet, route) => {
      expect(defaultRange(c)).toEqual(canonicalRange({ subnet: `${formatIpv4(c.addr)}/${c.len}` }));
      const ipam = { type: 'host-local', ranges: [[{ subnet }]], routes: [{ dst: route }] };
      expect(loadSubnetHostLocalConfig(ipam, '0.3.1', subnet, route)).toEqual(loadPlainHostLocalConfig(ipam, '0.3.1'));
    }), { numRuns: 500 });
  });
});
