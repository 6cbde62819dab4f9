import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_HOST_LOCAL, envIpText, hostLocalAdd, hostLocalCheck, hostLocalDel, loadHostLocalConfig, type HostLocalConfig, type HostLocalStore,
} from './host-local.js';

// host-local keeps, beside each immutable store, an index of which addresses each container holds, and
// hands it on from store to store. A store read for the first time (a copy, an old store brought back by
// undo) is indexed by a scan. Whatever the history, every answer must be the one a fresh copy gives.

const load = (args: string): HostLocalConfig => {
  const c = loadHostLocalConfig({ ranges: [[{ subnet: '10.0.0.0/29' }], [{ subnet: '10.0.1.0/29', rangeStart: '10.0.1.3' }]] }, '1.0.0', args);
  if ('error' in c) throw new Error(c.error);
  return c;
};
const free = load('');
const pinned = [load('IP=10.0.0.4'), load('IP=10.0.1.5'), load('IP=10.0.0.4;IP=10.0.1.3')];
/** A structurally equal store that host-local has never seen (no index: it scans). */
const fresh = (s: HostLocalStore): HostLocalStore => JSON.parse(JSON.stringify(s)) as HostLocalStore;
const view = (s: HostLocalStore) => ({ allocated: Object.entries(s.allocated), last: Object.entries(s.lastReserved) });
/** What the store says (id, ifname) holds, read by a plain scan. */
const scanHeld = (s: HostLocalStore, id: string, ifname: string) => Object.keys(s.allocated).filter((k) => s.allocated[k]!.id === id && s.allocated[k]!.ifname === ifname);

const op = fc.oneof(
  fc.record({ t: fc.constant('add' as const), c: fc.nat(5), ifname: fc.constantFrom('eth0', 'net1'), pin: fc.nat(3) }),
  fc.record({ t: fc.constant('del' as const), c: fc.nat(5), ifname: fc.constantFrom('eth0', 'net1') }),
  fc.record({ t: fc.constant('check' as const), c: fc.nat(5), ifname: fc.constantFrom('eth0', 'net1') }),
  fc.record({ t: fc.constant('back' as const), to: fc.nat() }),
);

describe('host-local owner index', () => {
  it('answers every ADD, DEL and CHECK as a never-seen copy of the store does, whatever the history (undo included)', () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 80 }), (seq) => {
      let s = EMPTY_HOST_LOCAL;
      const history: HostLocalStore[] = [s];
      for (const o of seq) {
        if (o.t === 'back') {
          s = history[o.to % history.length]!;
          continue;
        }
        const id = `c${o.c}`;
        if (o.t === 'add') {
          const conf = o.pin < 3 ? pinned[o.pin]! : free;
          const copy = fresh(s);
          const want = hostLocalAdd(conf, copy, id, o.ifname);
          const got = hostLocalAdd(conf, s, id, o.ifname);
          if ('error' in want) {
            expect(got).toEqual(want);
            // A duplicate is refused exactly when the container already holds an address.
            if (/duplicate allocation/.test(want.error)) expect(scanHeld(s, id, o.ifname).length).toBeGreaterThan(0);
            continue;
          }
          if ('error' in got) throw new Error(got.error);
          expect(got.result).toEqual(want.result);
          expect(view(got.store)).toEqual(view(want.store));
          s = got.store;
        } else if (o.t === 'del') {
          const want = hostLocalDel(fresh(s), id, o.ifname);
          const got = hostLocalDel(s, id, o.ifname);
          expect(view(got)).toEqual(view(want));
          expect(scanHeld(got, id, o.ifname)).toEqual([]);
          if (scanHeld(s, id, o.ifname).length === 0) expect(got).toBe(s);
          s = got;
        } else {
          expect(hostLocalCheck(s, id, o.ifname)).toEqual(hostLocalCheck(fresh(s), id, o.ifname));
          expect(hostLocalCheck(s, id, o.ifname) === null).toBe(scanHeld(s, id, o.ifname).length > 0);
        }
        history.push(s);
      }
    }));
  });

  it('leaves the stores it reads unchanged', () => {
    const a = hostLocalAdd(free, EMPTY_HOST_LOCAL, 'c1', 'eth0');
    if ('error' in a) throw new Error(a.error);
    const before = view(a.store);
    const b = hostLocalAdd(free, a.store, 'c2', 'eth0');
    hostLocalDel(a.store, 'c1', 'eth0');
    expect('error' in b).toBe(false);
    expect(view(a.store)).toEqual(before);
    expect(Object.keys(EMPTY_HOST_LOCAL.allocated)).toEqual([]);
  });
});

describe('CNI_ARGS IP=', () => {
  /** types.LoadArgs as host-local used it: split on `;`, then each pair on its first two `=`-separated parts. */
  const bySplit = (args: string): string | null => {
    for (const pair of args.split(';')) {
      const [k, v] = pair.split('=', 2);
      if (k === 'IP' && v !== undefined) return v;
    }
    return null;
  };

  it('is read as splitting the pairs reads it', () => {
    const piece = fc.constantFrom('IP', 'IP=', 'IPX=1', 'I', 'P', '=', ';', '10.0.0.4', 'K8S_POD_NAME=a', 'IgnoreUnknown=1', 'IP=10.0.0.9', 'x=IP=1', '');
    fc.assert(fc.property(fc.array(piece, { maxLength: 10 }), (parts) => {
      const args = parts.join('');
      expect(envIpText(args)).toBe(bySplit(args));
    }), { numRuns: 2000 });
    expect(envIpText('IgnoreUnknown=1;K8S_POD_NAMESPACE=default;IP=10.1.2.3')).toBe('10.1.2.3');
    expect(envIpText('IP=1=2;IP=3')).toBe('1');
  });
});
