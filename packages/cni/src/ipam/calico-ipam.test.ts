import { formatIpv4, parseCidr, parseIpv4 } from '@podnet/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  allBlocks, assignIp, autoAssign, blockCount, calicoIpam, getBlock, releaseHost, releaseIp,
  type CalicoIpamState, type CalicoNodeIpam,
} from './calico-ipam.js';

const pool = parseCidr('10.244.0.0/28');

describe('calico-ipam', () => {
  it('hands out a block\'s ordinals in order, and a released one only after the others (it goes to the end)', () => {
    let s = calicoIpam(pool, 30);
    let n: CalicoNodeIpam = { blocks: [] };
    const got: string[] = [];
    for (let i = 0; i < 3; i++) {
      const a = autoAssign(s, n, 'node-1', false);
      if ('error' in a) throw new Error(a.error);
      s = a.state; n = a.node; got.push(formatIpv4(a.ip));
    }
    s = releaseIp(s, parseIpv4('10.244.0.1')).state;
    for (let i = 0; i < 2; i++) {
      const a = autoAssign(s, n, 'node-1', false);
      if ('error' in a) throw new Error(a.error);
      s = a.state; n = a.node; got.push(formatIpv4(a.ip));
    }
    expect(got).toEqual(['10.244.0.0', '10.244.0.1', '10.244.0.2', '10.244.0.3', '10.244.0.1']);
  });

  it('refuses an address twice with libcalico-go\'s text, and an address of another node\'s block under strict affinity', () => {
    let s = calicoIpam(pool, 30);
    const a = assignIp(s, { blocks: [] }, 'node-1', parseIpv4('10.244.0.5'), false);
    if ('error' in a) throw new Error(a.error);
    s = a.state;
    expect(a.claimed).toBe(1);
    expect(assignIp(s, a.node, 'node-1', parseIpv4('10.244.0.5'), false)).toEqual({ error: 'Address already assigned in block' });
    expect(assignIp(s, { blocks: [] }, 'node-2', parseIpv4('10.244.0.6'), true)).toEqual({ error: 'Block host affinity does not match' });
    const borrowed = assignIp(s, { blocks: [] }, 'node-2', parseIpv4('10.244.0.6'), false);
    expect('error' in borrowed ? null : borrowed.borrowed).toBe(true);
  });

  it('releasing is idempotent; a node\'s empty blocks go, the others lose their affinity', () => {
    let s = calicoIpam(pool, 30);
    let n: CalicoNodeIpam = { blocks: [] };
    for (let i = 0; i < 5; i++) {
      const a = autoAssign(s, n, 'node-1', false);
      if ('error' in a) throw new Error(a.error);
      s = a.state; n = a.node;
    }
    const once = releaseIp(s, parseIpv4('10.244.0.4')).state;
    expect(releaseIp(once, parseIpv4('10.244.0.4')).state).toBe(once);
    const gone = releaseHost(once, n);
    expect([...allBlocks(gone)].map((b) => [b.index, b.affinity])).toEqual([[0, null]]);
    expect(gone.lowFree).toBe(1);
  });

  it('property: any sequence of assignments and releases keeps every address assigned at most once and accounts for it', () => {
    type Op = { t: 'auto'; host: number } | { t: 'pin'; host: number; ord: number } | { t: 'rel'; ord: number } | { t: 'gone'; host: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ t: fc.constant('auto' as const), host: fc.integer({ min: 0, max: 2 }) }),
      fc.record({ t: fc.constant('pin' as const), host: fc.integer({ min: 0, max: 2 }), ord: fc.integer({ min: 0, max: 15 }) }),
      fc.record({ t: fc.constant('rel' as const), ord: fc.integer({ min: 0, max: 15 }) }),
      fc.record({ t: fc.constant('gone' as const), host: fc.integer({ min: 0, max: 2 }) }),
    );
    fc.assert(fc.property(fc.boolean(), fc.array(op, { maxLength: 60, size: 'max' }), (strict, ops) => {
      let s: CalicoIpamState = calicoIpam(pool, 30);
      const nodes: CalicoNodeIpam[] = [{ blocks: [] }, { blocks: [] }, { blocks: [] }];
      const held = new Map<number, number>(); // address → host
      for (const o of ops) {
        if (o.t === 'rel') {
          const ip = pool.addr + o.ord;
          s = releaseIp(s, ip).state;
          held.delete(ip);
          continue;
        }
        if (o.t === 'gone') {
          // A node leaves only without pods (core deletes them first).
          for (const [ip, h] of [...held]) if (h === o.host) { s = releaseIp(s, ip).state; held.delete(ip); }
          s = releaseHost(s, nodes[o.host]!);
          nodes[o.host] = { blocks: [] };
          continue;
        }
        const host = `node-${o.host}`;
        const a = o.t === 'auto' ? autoAssign(s, nodes[o.host]!, host, strict) : assignIp(s, nodes[o.host]!, host, pool.addr + o.ord, strict);
        if ('error' in a) {
          if (o.t === 'auto' && !strict) expect(held.size).toBe(16);
          continue;
        }
        expect(held.has(a.ip)).toBe(false);
        held.set(a.ip, o.host);
        s = a.state; nodes[o.host] = a.node;
      }
      // Every held address is allocated in its block, and nothing else is.
      let inUse = 0;
      for (const b of allBlocks(s)) inUse += 4 - b.unallocated.length;
      expect(inUse).toBe(held.size);
      for (const ip of held.keys()) expect(getBlock(s, Math.floor((ip - pool.addr) / 4))!.unallocated).not.toContain((ip - pool.addr) % 4);
      // Every block below lowFree exists.
      for (let i = 0; i < Math.min(s.lowFree, blockCount(s)); i++) expect(getBlock(s, i)).toBeDefined();
    }), { numRuns: 200 });
  });
});
