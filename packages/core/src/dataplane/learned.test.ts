import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Learned, LEARNED_LIST_MAX, Pendings, type Pending } from './learned.js';

/**
 * A run's overlays keep what they learned in flat lists (scanned) and index them only past
 * LEARNED_LIST_MAX entries: they must answer what maps keyed by the whole `ns|dev|address` answered,
 * whether the lists were indexed or not.
 */
const NS = ['pod/default/a', 'pod/default/b', 'node/node-1', 'node/node-2', 'underlay'];
const DEV = ['eth0', 'cni0', 'flannel.1', 'veth1'];

describe('Learned', () => {
  it('answers what a map by ns|dev|address answers, and commits each namespace in the order first learned', () => {
    const op = fc.tuple(fc.constantFrom(...NS), fc.constantFrom(...DEV), fc.integer({ min: 0, max: 24 }), fc.boolean(), fc.integer());
    fc.assert(
      fc.property(fc.array(op, { maxLength: LEARNED_LIST_MAX * 4 }), (ops) => {
        const l = new Learned<number, { v: number }>();
        const m = new Map<string, { v: number }>();
        for (const [ns, dev, k, write, v] of ops) {
          if (write) {
            const e = { v };
            l.set(ns, dev, k, e);
            m.set(`${ns}|${dev}|${k}`, e);
          }
          expect(l.get(ns, dev, k)).toBe(m.get(`${ns}|${dev}|${k}`));
          expect(l.size).toBe(m.size);
        }
        const order: string[] = [];
        for (const key of m.keys()) { const ns = key.split('|')[0]!; if (!order.includes(ns)) order.push(ns); }
        expect(l.namespaces()).toEqual(order);
        for (const ns of order) {
          const table: Record<string, { v: number }> = {};
          l.commit(ns, table);
          const want: Record<string, { v: number }> = {};
          for (const [key, e] of m) { const [n, dev, k] = key.split('|'); if (n === ns) want[`${dev}|${k}`] = e; }
          expect(Object.entries(table)).toEqual(Object.entries(want));
        }
      }),
      { numRuns: 300, seed: 20261126 },
    );
  });
});

describe('Pendings', () => {
  it('finds a wait by namespace, device and next hop, and gives them back in the order they began', () => {
    const op = fc.tuple(fc.constantFrom(...NS), fc.constantFrom(...DEV), fc.integer({ min: 0, max: 6 }), fc.constantFrom('add', 'delete', 'take'));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const p = new Pendings();
        const m = new Map<string, Pending>();
        for (const [ns, dev, nexthop, what] of ops) {
          const key = `${ns}|${dev}|${nexthop}`;
          expect(p.get(ns, dev, nexthop)).toBe(m.get(key));
          if (what === 'add' && !m.has(key)) {
            const w: Pending = { ns, dev, nexthop, items: [] };
            p.add(w);
            m.set(key, w);
          } else if (what === 'delete' && m.has(key)) {
            p.delete(m.get(key)!);
            m.delete(key);
          } else if (what === 'take') {
            expect(p.take()).toEqual([...m.values()]);
            m.clear();
          }
          expect(p.size).toBe(m.size);
        }
      }),
      { numRuns: 300, seed: 20261126 },
    );
  });
});
