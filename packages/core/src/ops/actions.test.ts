/**
 * An action list is applied with the namespace it last looked up remembered (actions never create or
 * remove a namespace): applying a list must give what applying its actions one list each gives, on
 * random lists over several namespaces that add, change and delete links (a veth's far end in another
 * namespace), addresses, routes, neighbours and sysctls — with the same error when one fails, and the
 * state unchanged then.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPodnetError } from '../errors.js';
import { addNodeState, createClusterState } from '../model/cluster.js';
import type { CniDesign } from '../cni/contract.js';
import type { ClusterState } from '../model/types.js';
import { applyActions, type Action } from './actions.js';

/** A design that wires nothing: the namespaces are the nodes' hosts and the underlay, changed by the lists. */
const bare: CniDesign = {
  name: 'bare',
  nodeAdded: () => ({ actions: [] }),
  nodeRemoved: () => ({ actions: [] }),
  podAdded: () => ({ error: { cniVersion: '1.0.0', code: 999, msg: 'bare wires no pods' } }),
  podDeleted: () => ({ actions: [] }),
};

const start: ClusterState = ['a', 'b'].reduce((s, n) => addNodeState(s, { name: `node-${n}` }, bare).state, createClusterState({ podCidr: '10.244.0.0/16' }, bare));

const NS = ['node/node-a', 'node/node-b', 'underlay'] as const;
const DEVS = ['br0', 'v0', 'v1', 'lo', 'eth0'] as const;

const actionArb: fc.Arbitrary<Action> = fc.tuple(fc.constantFrom(...NS), fc.constantFrom(...NS), fc.constantFrom(...DEVS), fc.constantFrom(...DEVS), fc.integer({ min: 1, max: 9 }), fc.nat({ max: 13 }))
  .map(([ns, other, dev, dev2, n, op]): Action => {
    switch (op) {
      case 0: case 10: return { op: 'link.add', ns, name: dev, kind: 'bridge' };
      case 1: case 11: case 12: case 13: return { op: 'link.add', ns, name: dev, kind: 'veth', up: true, peer: { ns: other, name: dev2, up: true } };
      case 2: return { op: 'link.set', ns, name: dev, up: n % 2 === 0, ...(n > 6 ? { master: dev2 } : {}) };
      case 3: return { op: 'addr.add', ns, dev, addr: `10.${n}.0.1/24` };
      case 4: return { op: 'addr.del', ns, dev, addr: `10.${n}.0.1/24` };
      case 5: return { op: 'route.add', ns, dst: `10.${100 + n}.0.0/16`, via: `10.${n}.0.2` };
      case 6: return { op: 'neigh.add', ns, dev, ip: `10.${n}.0.9`, mac: '02:00:00:00:00:09' };
      case 7: return { op: 'sysctl.set', ns, key: `net.ipv4.conf.${dev}.proxy_arp`, value: n % 2 };
      case 8: return { op: 'link.del', ns, name: dev };
      default: return { op: 'route.del', ns, dst: `10.${100 + n}.0.0/16` };
    }
  });

const outcome = (f: () => ClusterState): { state: ClusterState } | { code: string } => {
  try {
    return { state: f() };
  } catch (e) {
    if (!isPodnetError(e)) throw e;
    return { code: e.code };
  }
};

describe('applyActions', () => {
  it('applies a list as its actions one list each would, and fails alike', () => {
    let long = 0;
    fc.assert(
      fc.property(fc.array(actionArb, { minLength: 8, maxLength: 20 }), fc.nat(), (raw, at) => {
        // The actions that apply one after another, one list each (those that fail there are left out).
        const good: Action[] = [];
        let one = start;
        for (const a of raw) {
          const r = outcome(() => applyActions(one, [a]));
          if ('state' in r) {
            good.push(a);
            one = r.state;
          }
        }
        expect(outcome(() => applyActions(start, good))).toEqual({ state: one });
        if (good.length >= 4) long++;
        // A list that also holds an action that fails fails with that action's error, as the same
        // actions one list each do when they reach it.
        // Either a missing device in a namespace that exists, or a namespace id that names none — the
        // empty id too, which a list's memory of the namespace it last looked up must not answer.
        const [bad, code]: [Action, string] = at % 3 === 0
          ? [{ op: 'listen', ns: ['', 'pod/none'][at % 2]!, protocol: 'tcp', port: 80 }, 'NAMESPACE_NOT_FOUND']
          : [{ op: 'route.add', ns: NS[at % NS.length]!, dst: '10.200.0.0/16', dev: 'missing0' }, 'LINK_NOT_FOUND'];
        const list = [...good.slice(0, at % (good.length + 1)), bad, ...good.slice(at % (good.length + 1))];
        const whole = outcome(() => applyActions(start, list));
        expect(whole).toEqual({ code });
        expect(whole).toEqual(outcome(() => list.reduce((s, a) => applyActions(s, [a]), start)));
      }),
      { numRuns: 200, seed: 3 },
    );
    // Most lists must apply several actions in a row, over the namespaces in turn.
    expect(long).toBeGreaterThan(80);
  });
});

describe('an interface named __proto__', () => {
  const startJson = JSON.stringify(start);
  // A host namespace's links are a prototype-less record (util/dict.ts), the underlay's and a pod's a
  // plain object: the name used to add a key to the first and throw immer's bare Error on the others.
  it('is refused with a typed error in every namespace, as a device and as a veth peer, and nothing changes', () => {
    const adds: Action[] = [
      ...NS.map((ns): Action => ({ op: 'link.add', ns, name: '__proto__', kind: 'bridge' })),
      ...NS.map((ns): Action => ({ op: 'link.add', ns: 'node/node-a', name: 'v9', kind: 'veth', peer: { ns, name: '__proto__' } })),
    ];
    for (const a of adds) {
      let caught: unknown;
      try { applyActions(start, [a]); } catch (e) { caught = e; }
      expect(isPodnetError(caught) && caught.code).toBe('UNSUPPORTED');
    }
    expect(JSON.stringify(start)).toBe(startJson);
  });
});
