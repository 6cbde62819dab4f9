/**
 * The cluster spec is JSON a person writes (a lab's `cluster:`, `--scenario`, the kernel oracle's topologies). A
 * fast-check property edits working specs of every kind of design at random — a value replaced by an edge value
 * or by arbitrary JSON, a key deleted or added, a list entry repeated — and holds `simulatorFromSpec` to the
 * contract of every public function: it builds a simulator whose audit runs, or it throws a PodnetError (code,
 * message, hint), never a TypeError from deep inside. It found a `null` underlay segment and a node on segment
 * `"__proto__"` (a name looked up in a plain object) reaching the model unchecked.
 */
import { isPodnetError } from '@podnet/core';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { hostGwLabSpec, seedLabSpec, simulatorFromSpec, type ClusterSpecJson } from './spec.js';

type Json = unknown;
type Key = string | number;
const EDGE: Json[] = [null, 0, -1, 1.5, 2 ** 32, '', 'x', '10.244.0.0/16', '10.244.1.0/33', '999.1.1.1', 'node-1', true, [], {}, [1], { a: 1 },
  '__proto__', 'constructor', 'toString'];

/** Every path to a value of `o`, the root's `[]` first. */
function paths(o: Json, at: Key[] = [], out: Key[][] = []): Key[][] {
  out.push(at);
  if (o !== null && typeof o === 'object') for (const k of Object.keys(o)) paths((o as Record<string, Json>)[k], [...at, Array.isArray(o) ? Number(k) : k], out);
  return out;
}

/** `o` with `edits` made in turn: 0 replace, 1 delete, 2 add a key to an object, 3 repeat a list's first entry. */
function edited(o: Json, edits: readonly (readonly [number, number, Json, string])[]): Json {
  let x = structuredClone(o);
  for (const [kind, at, value, key] of edits) {
    const v = structuredClone(value);
    const all = paths(x);
    const p = all[at % all.length]!;
    if (p.length === 0) {
      if (kind === 0) x = v;
      continue;
    }
    let parent = x as Record<Key, Json>;
    for (const k of p.slice(0, -1)) parent = parent[k] as Record<Key, Json>;
    const last = p.at(-1)!;
    const here = parent[last];
    if (kind === 1) {
      if (Array.isArray(parent)) parent.splice(last as number, 1);
      else delete parent[last];
    } else if (kind === 2 && here !== null && typeof here === 'object' && !Array.isArray(here)) (here as Record<string, Json>)[key] = v;
    else if (kind === 3 && Array.isArray(here)) here.push(structuredClone(here[0] ?? v));
    else parent[last] = v;
  }
  return x;
}

const BASES: ClusterSpecJson[] = [
  seedLabSpec(),
  hostGwLabSpec({ segments: 2 }),
  { ...seedLabSpec(), cni: { type: 'calico', encapsulation: 'ipip' } },
  { ...seedLabSpec(), cni: { type: 'cilium' } },
  { ...seedLabSpec(), cni: { type: 'aws-vpc' } },
  { ...seedLabSpec(), cni: { type: 'bridge' } },
];
const edits = fc.array(fc.tuple(fc.nat(4), fc.nat(500), fc.oneof(fc.constantFrom(...EDGE), fc.jsonValue({ maxDepth: 2 })), fc.constantFrom('extra', 'ip', 'name', 'podCidr', 'node', 'segment', 'mtu')), { minLength: 1, maxLength: 4 });

describe('a cluster spec edited at random', () => {
  test.prop([fc.constantFrom(...BASES), edits], { numRuns: 150 })('builds a simulator whose audit runs, or throws a PodnetError', (base, e) => {
    const spec = edited(base, e);
    try {
      simulatorFromSpec(spec as ClusterSpecJson).check();
    } catch (err) {
      expect(isPodnetError(err), `${String(err)}\n${JSON.stringify(spec)}`).toBe(true);
    }
  });

  it.each([
    ['a null segment', { ...seedLabSpec(), underlay: { segments: [null] } }, 'an underlay segment must be an object'],
    ['an underlay that is a number', { ...seedLabSpec(), underlay: 5 }, 'the underlay must be an object'],
    ['a node on segment "__proto__"', { ...seedLabSpec(), nodes: [{ name: 'node-1', segment: '__proto__' }], pods: [] }, 'segment "__proto__" does not exist'],
  ])('%s is refused with a typed error', (_what, spec, message) => {
    expect(() => simulatorFromSpec(spec as unknown as ClusterSpecJson)).toThrow(message);
    try {
      simulatorFromSpec(spec as unknown as ClusterSpecJson);
    } catch (err) {
      expect(isPodnetError(err)).toBe(true);
    }
  });
});
