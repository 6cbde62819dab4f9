/**
 * Every public method of the Simulator, called with arguments of any type: edge values, objects without a
 * prototype, symbols, bigints, valid specs and packets, in random sequences on the seed lab. Each call returns,
 * or throws a PodnetError and leaves the state as it was (undo and redo aside, which change it by design); the
 * audit runs after each. It found pods named by an object (`events({})`), namespace ids that were not strings
 * (`nodeOf()`), and error messages that threw while describing a symbol or a prototype-less object (`shown`).
 * The wire serializers (`emitFrame`, `writePcap`) get the frames of seed-lab traces with a field replaced or
 * deleted: they emit, or refuse with a PodnetError (a frame without `eth` was a TypeError).
 */
import { emitFrame, icmpEcho, isPodnetError, parseIpv4, writePcap, type Frame } from '@podnet/core';
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { seedLabSpec, simulatorFromSpec } from './spec.js';

const EDGE: unknown[] = [null, undefined, 0, -1, 1.5, 2 ** 32, Number.NaN, Number.POSITIVE_INFINITY, '', 'x', true, [], {}, [1], '__proto__', 'constructor',
  'toString', 'node-1', 'pod-a', 'default/pod-a', 'node/node-1', 'pod/default/pod-a', '10.244.2.3', '10.244.1.0/24', '192.168.1.11', 'eth0', 'cni0',
  'nat', 'filter', 'FORWARD', 10, 1000, 1n, Symbol('s'), Object.create(null), ['node-1'], icmpEcho(0x0af40203), { name: 'node-9' },
  { name: 'pod-z', node: 'node-1' }, { name: 'pod-y' }, { count: 2 }, { maxHops: 3 }, { firstTtl: 2 }, { record: false }, { op: 'link.set', ns: 'node/node-1', name: 'cni0', up: false }];
const FIELDS = ['name', 'node', 'ip', 'podCidr', 'segment', 'containers', 'namespace', 'hostNetwork', 'count', 'size', 'ttl', 'maxHops', 'firstTtl', 'record', 'ports'];
const arg = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...EDGE) }, { weight: 1, arbitrary: fc.dictionary(fc.constantFrom(...FIELDS), fc.constantFrom(...EDGE), { maxKeys: 3 }) });
const METHODS = ['advance', 'addNode', 'removeNode', 'addPod', 'deletePod', 'reconfigure', 'restartAgents', 'cordon', 'uncordon', 'events', 'capacity',
  'cniConfig', 'apply', 'send', 'ping', 'traceroute', 'counters', 'zeroCounters', 'node', 'pod', 'has', 'nodeOf', 'undo', 'redo'] as const;
const show = (x: unknown): string => {
  try {
    return JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' || typeof v === 'symbol' ? String(v) : v)) ?? String(x);
  } catch {
    return Object.prototype.toString.call(x);
  }
};

describe('the Simulator under arguments of any type', () => {
  test.prop([fc.array(fc.tuple(fc.constantFrom(...METHODS), fc.array(arg, { maxLength: 3 })), { minLength: 1, maxLength: 8 })], { numRuns: 120 })(
    'each call returns, or throws a PodnetError that changes nothing; the audit runs after each',
    (calls) => {
      const sim = simulatorFromSpec(seedLabSpec());
      const methods = sim as unknown as Record<string, (...args: unknown[]) => unknown>;
      for (const [m, args] of calls) {
        const before = sim.state;
        const what = `${m}(${args.map(show).join(', ')})`;
        try {
          methods[m]!.apply(sim, args);
        } catch (e) {
          expect(isPodnetError(e), `${what}: ${String(e)}`).toBe(true);
          if (m !== 'undo' && m !== 'redo') expect(sim.state === before, `${what} failed and changed the state`).toBe(true);
        }
        expect(() => sim.check(), what).not.toThrow();
      }
    },
  );
});

/** Frames the seed lab's traces carry (ARP, ICMP, VXLAN with its inner frame), to edit. */
const FRAMES: Frame[] = (() => {
  const sim = simulatorFromSpec(seedLabSpec());
  const out: Frame[] = [];
  for (const [from, to] of [['pod-a', '10.244.2.3'], ['node-1', '10.244.3.2']] as const) for (const st of sim.send(from, icmpEcho(parseIpv4(to))).steps) if (st.frame) out.push(st.frame);
  return out;
})();

/** Every path to a value inside `o` (bytes are leaves). */
function paths(o: unknown, at: readonly string[] = [], out: string[][] = []): string[][] {
  out.push([...at]);
  if (o !== null && typeof o === 'object' && !(o instanceof Uint8Array)) for (const k of Object.keys(o)) paths((o as Record<string, unknown>)[k], [...at, k], out);
  return out;
}
/**
 * A deep copy (a prototype-less object stays one). Every value an edit puts in a frame is a copy: the edge values
 * are shared by every run, and an edit that wrote into one (or put one inside itself) changed it for the runs
 * after, and could make a cycle that `paths` walked until the stack overflowed.
 */
const copied = (o: unknown): unknown => (o === null || typeof o !== 'object' || o instanceof Uint8Array ? o : Array.isArray(o) ? o.map(copied)
  : Object.assign(Object.create(Object.getPrototypeOf(o) as object | null) as object, Object.fromEntries(Object.entries(o).map(([k, v]) => [k, copied(v)]))));
const edited = fc.tuple(fc.constantFrom(...FRAMES), fc.array(fc.tuple(fc.nat(500), fc.constantFrom(...EDGE, 'arp', 'ipv4', 'raw', 'vxlan', new Uint8Array(3)), fc.boolean()), { minLength: 1, maxLength: 2 })).map(([f, edits]) => {
  let x = copied(f);
  for (const [i, v, del] of edits) {
    const all = paths(x);
    const p = all[i % all.length]!;
    if (p.length === 0) {
      x = copied(v);
      continue;
    }
    let parent = x as Record<string, unknown>;
    for (const k of p.slice(0, -1)) parent = parent[k] as Record<string, unknown>;
    if (del) delete parent[p.at(-1)!];
    else parent[p.at(-1)!] = copied(v);
  }
  return x;
});

describe('the wire serializers under frames edited at random', () => {
  test.prop([edited], { numRuns: 300 })('emitFrame and writePcap emit, or throw a PodnetError', (f) => {
    for (const call of [() => emitFrame(f as Frame), () => writePcap([{ timestampMs: 1, frame: f as Frame }]), () => writePcap(f as never)]) {
      try {
        call();
      } catch (e) {
        expect(isPodnetError(e), `${show(f)}: ${String(e)}`).toBe(true);
      }
    }
  });
});
