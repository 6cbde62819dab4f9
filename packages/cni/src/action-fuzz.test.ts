/**
 * Raw actions are public API (designs answer with them, labs inject faults with them, `Simulator.apply` takes
 * them), so every one is held to the contract of a public function: applied, or refused with a PodnetError
 * that leaves the state exactly as it was. A fast-check property takes the actions real designs answered with
 * (flannel, calico IPIP, cilium, bridge, each joining and leaving nodes and pods) and the fault actions labs
 * use, changes up to two fields to edge values (null, a number where text was meant, a list, `__proto__`, an
 * existing name of another kind…), and applies sequences of them to the seed lab; after each, the full audit
 * must run. core's `checkActionShape` (ops/action-shape.ts) came from what it found.
 */
import { createSimulator, isPodnetError, type Action } from '@podnet/core';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { bridge } from './designs/bridge.js';
import { calico } from './designs/calico.js';
import { cilium } from './designs/cilium.js';
import { flannel } from './designs/flannel.js';
import { recordActions } from './record.js';
import { seedLabSpec, simulatorFromSpec } from './spec.js';

function designActions(): Action[] {
  const out: Action[] = [];
  for (const d of [flannel(), calico({ encapsulation: 'ipip' }), cilium(), bridge()]) {
    const r = recordActions(d);
    const sim = createSimulator({ podCidr: '10.244.0.0/16', cni: r.design });
    sim.addNode({ name: 'node-1', ip: '192.168.1.11' });
    sim.addNode({ name: 'node-2', ip: '192.168.1.12' });
    sim.addPod({ name: 'pod-a', node: 'node-1' });
    sim.addPod({ name: 'pod-b', node: 'node-2' });
    sim.deletePod('pod-b');
    sim.removeNode('node-2');
    out.push(...r.actions);
  }
  return out;
}

const FAULTS: Action[] = [
  { op: 'sysctl.set', ns: 'node/node-1', key: 'net.ipv4.ip_forward', value: 0 },
  { op: 'sysctl.set', ns: 'node/node-1', key: 'net.ipv4.conf.cni0.proxy_arp', value: 1 },
  { op: 'route.del', ns: 'node/node-1', dst: '10.244.2.0/24' },
  { op: 'route.replace', ns: 'node/node-1', dst: '10.244.2.0/24', via: '192.168.1.12', dev: 'eth0' },
  { op: 'neigh.del', ns: 'node/node-1', dev: 'flannel.1', ip: '10.244.2.0' },
  { op: 'neigh.replace', ns: 'node/node-1', dev: 'eth0', ip: '192.168.1.99', mac: '02:00:00:00:00:99' },
  { op: 'link.del', ns: 'node/node-1', name: 'cni0' },
  { op: 'link.set', ns: 'node/node-1', name: 'cni0', up: false },
  { op: 'link.set', ns: 'pod/default/pod-a', name: 'eth0', mtu: 1400 },
  { op: 'addr.del', ns: 'node/node-1', dev: 'cni0', addr: '10.244.1.1/24' },
  { op: 'route.flushCache', ns: 'node/node-1' },
  { op: 'fdb.del', ns: 'node/node-1', dev: 'flannel.1', mac: '02:00:00:00:00:01' },
  { op: 'chain.new', ns: 'node/node-1', table: 'filter', chain: 'X' },
  { op: 'chain.flush', ns: 'node/node-1', table: 'nat', chain: 'POSTROUTING' },
  { op: 'chain.policy', ns: 'node/node-1', table: 'filter', chain: 'FORWARD', policy: 'DROP' },
  { op: 'rule.append', ns: 'node/node-1', rule: { table: 'filter', chain: 'FORWARD', target: 'DROP', src: '10.244.2.0/24' } },
  { op: 'conntrack.delete', ns: 'node/node-1' },
  { op: 'route.append', ns: 'node/node-1', dst: '10.99.0.0/16', via: '192.168.1.12' },
  { op: 'route.prepend', ns: 'node/node-1', dst: '10.244.2.0/24', dev: 'eth0' },
  { op: 'route.change', ns: 'node/node-1', dst: 'default', via: '192.168.1.1' },
  { op: 'route.flush', ns: 'node/node-1', dev: 'cni0' },
  { op: 'addr.replace', ns: 'node/node-1', dev: 'cni0', addr: '10.244.1.1/24' },
  { op: 'addr.flush', ns: 'pod/default/pod-a', dev: 'eth0' },
  { op: 'neigh.flush', ns: 'node/node-1', dev: 'cni0' },
  { op: 'fdb.flush', ns: 'node/node-1', dev: 'cni0' },
  { op: 'sysctl.set', ns: 'node/node-1', key: 'net.ipv4.conf.eth0.route_localnet', value: 1 },
  { op: 'sysctl.set', ns: 'node/node-1', key: 'net.ipv4.conf.default.rp_filter', value: 2 },
];

const SAMPLES = (() => {
  // Up to six actions of each op, so that the ops a design repeats do not crowd out the others.
  const byOp = new Map<string, Action[]>();
  for (const a of [...designActions(), ...FAULTS]) {
    const l = byOp.get(a.op) ?? [];
    if (l.length < 6) l.push(a);
    byOp.set(a.op, l);
  }
  return [...byOp.values()].flat();
})();
const EDGE: unknown[] = [null, undefined, 0, -1, 1.5, 2 ** 32, Number.NaN, '', 'x', true, [], {}, [1], { a: 1 }, '__proto__', 'constructor', 'toString',
  'node/node-1', 'pod/default/pod-a', 'cni0', 'eth0', 'lo', '10.244.1.4', '10.244.1.0/24', '0.0.0.0/0', '02:00:00:00:00:01', 'nat', 'POSTROUTING', 'DROP', 'veth'];

/** A sample action with up to two fields (or a field of a nested object or list) set to edge values. */
const action = fc.tuple(fc.constantFrom(...SAMPLES), fc.array(fc.tuple(fc.nat(30), fc.constantFrom(...EDGE), fc.boolean()), { maxLength: 2 })).map(([a, edits]) => {
  const x = structuredClone(a) as unknown as Record<string, unknown>;
  for (const [i, v, deep] of edits) {
    const keys = Object.keys(x).filter((k) => k !== 'op');
    if (keys.length === 0) continue;
    const k = keys[i % keys.length]!;
    const here = x[k];
    if (deep && Array.isArray(here) && here.length > 0) here[i % here.length] = structuredClone(v);
    else if (deep && here !== null && typeof here === 'object' && Object.keys(here).length > 0) {
      const ks = Object.keys(here);
      (here as Record<string, unknown>)[ks[i % ks.length]!] = structuredClone(v);
    } else x[k] = structuredClone(v);
  }
  return x as unknown as Action;
});

describe('raw actions, valid and broken', () => {
  it('samples every op the designs and the labs use', () => {
    expect(new Set(SAMPLES.map((a) => a.op)).size).toBeGreaterThanOrEqual(33);
  });

  test.prop([fc.array(action, { minLength: 1, maxLength: 10 })], { numRuns: 80 })('each is applied or refused with a PodnetError that changes nothing; the audit runs after each', (actions) => {
    const sim = simulatorFromSpec(seedLabSpec());
    for (const a of actions) {
      const before = sim.state;
      try {
        sim.apply(a);
      } catch (e) {
        expect(isPodnetError(e), `${JSON.stringify(a)}: ${String(e)}`).toBe(true);
        expect(sim.state === before, `${JSON.stringify(a)} was refused and changed the state`).toBe(true);
      }
      expect(() => sim.check(), JSON.stringify(a)).not.toThrow();
    }
  });

  it('a rule spec found well-shaped is checked again when it can change (only frozen ones are remembered)', () => {
    const sim = simulatorFromSpec(seedLabSpec());
    const rule = { table: 'filter', chain: 'FORWARD', target: 'DROP', src: '10.9.0.0/16' } as Record<string, unknown>;
    sim.apply({ op: 'rule.append', ns: 'node/node-1', rule } as unknown as Action);
    rule['chain'] = 7;
    expect(() => sim.apply({ op: 'rule.append', ns: 'node/node-2', rule } as unknown as Action)).toThrow('rule.append.rule.chain must be a string, not 7');
  });

  it('an action whose keys come in the order of the one before it, or in another, is checked field by field', () => {
    const sim = simulatorFromSpec(seedLabSpec());
    // The check remembers each op's last key order: a key in another place, one the op does not read, or a
    // wrong value where the last action had a good one must each still be seen.
    sim.apply({ op: 'sysctl.set', ns: 'node/node-1', key: 'net.ipv4.ip_forward', value: 1 });
    sim.apply({ value: 1, key: 'net.ipv4.ip_forward', ns: 'node/node-2', op: 'sysctl.set' } as Action);
    sim.apply({ op: 'sysctl.set', ns: 'node/node-1', extra: true, key: 'net.ipv4.ip_forward', value: 1 } as Action);
    for (const [a, message] of [
      [{ op: 'sysctl.set', ns: 'node/node-1', key: 7, value: 1 }, 'sysctl.set.key must be a string, not 7'],
      [{ value: 1, key: null, ns: 'node/node-2', op: 'sysctl.set' }, 'sysctl.set.key must be a string, not null'],
      [{ op: 'sysctl.set', ns: 'node/node-1', key: 'net.ipv4.ip_forward' }, 'sysctl.set.value is missing'],
      [{ op: 'sysctl.set', ns: 'node/node-1', value: 1, key: 'net.ipv4.ip_forward', extra: true, ns2: 1 }, null],
    ] as const) {
      const before = sim.state;
      if (message === null) sim.apply(a as unknown as Action);
      else {
        expect(() => sim.apply(a as unknown as Action)).toThrow(message);
        expect(sim.state).toBe(before);
      }
    }
  });

  it.each([
    ['a sysctl with a null key', { op: 'sysctl.set', ns: 'node/node-1', key: null, value: 0 }, 'sysctl.set.key must be a string, not null'],
    ['a peer set put with no name', { op: 'peerset.put', set: null, dev: 'flannel.1', owner: 'x', routes: [], neigh: [], fdb: [] }, 'peerset.put.set must be a string, not null'],
    ['a peer set put whose routes are a number', { op: 'peerset.put', set: 's', dev: 'flannel.1', owner: 'x', routes: 5, neigh: [], fdb: [] }, 'peerset.put.routes must be a list, not 5'],
    ['a route whose dst is missing', { op: 'route.add', ns: 'node/node-1', dev: 'eth0' }, 'route.add.dst is missing'],
    ['a veth whose peer is a string', { op: 'link.add', ns: 'node/node-1', name: 'v1', kind: 'veth', peer: 'eth0' }, 'link.add.peer must be an object, not "eth0"'],
    ['a peer set named toString', { op: 'peerset.del', set: 'toString', owner: 'node-2' }, 'no peer set "toString"'],
    ['a peer set named __proto__', { op: 'peerset.put', set: '__proto__', dev: 'flannel.1', owner: 'x', routes: [], neigh: [], fdb: [] }, 'a peer set cannot be named "__proto__"'],
    ['a list where an action was meant', [[]], 'not an action: a list'],
  ])('%s is refused with a typed error that names the field', (_what, a, message) => {
    const sim = simulatorFromSpec(seedLabSpec());
    const before = sim.state;
    let err: unknown;
    try {
      sim.apply(a as never);
    } catch (e) {
      err = e;
    }
    expect(isPodnetError(err, 'INVALID_ARGUMENT') || isPodnetError(err, 'PEERSET_NOT_FOUND')).toBe(true);
    expect((err as Error).message).toContain(message);
    expect(sim.state).toBe(before);
  });
});
