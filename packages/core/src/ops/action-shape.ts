/**
 * The shape of every action, checked before an action touches the state. Actions are public API: designs
 * written by users answer with them, labs read them from YAML (`faults:`), and `Simulator.apply` takes them
 * from anyone. The handlers parse and range-check each field's text (addresses, prefixes, MACs, names); this
 * checks first that each field has the type the handler reads it as, so a `null` key or a number where a
 * list was meant is refused as INVALID_ARGUMENT naming the field, never met deep in a handler as a TypeError
 * (a fast-check property of random actions, `packages/cni/src/action-fuzz.test.ts`, found them: a `null` sysctl key, a
 * peer set put with no name, a peer set named `toString` looked up on Object.prototype).
 */
import { fail } from '../errors.js';

/**
 * A field's type: `s` string, `n` finite number, `b` boolean, `sn` string or number, `s0` string or null,
 * a nested shape (an object), or a one-element list: a list whose every element has that type.
 */
type FieldType = 's' | 'n' | 'b' | 'sn' | 's0' | Shape | readonly [FieldType];
/** Field name to type; a name ending in `?` may be absent (undefined). */
interface Shape { readonly [field: string]: FieldType }

const ROUTE: Shape = {
  dst: 's', 'via?': 's', 'dev?': 's', 'onlink?': 'b', 'src?': 's', 'proto?': 's', 'scope?': 's', 'metric?': 'n', 'type?': 's', 'mtu?': 'n', 'table?': 'n',
};
const RULE: Shape = {
  table: 's', chain: 's', target: 's', 'src?': 's', 'notSrc?': 's', 'dst?': 's', 'notDst?': 's', 'inIf?': 's', 'outIf?': 's', 'protocol?': 's',
  'dport?': 'n', 'mark?': 's', 'jump?': 's', 'to?': 's', 'comment?': 's',
};
const IPRULE: Shape = { ns: 's', 'from?': 's', 'to?': 's', 'table?': 'n', 'priority?': 'n' };
const NS = { ns: 's' } as const;

/** By op: the fields each action is read with (besides `op`). Ops not listed are refused by the dispatcher. */
const SHAPES: Readonly<Record<string, Shape>> = {
  'link.add': {
    ...NS, name: 's', kind: 's', 'mtu?': 'n', 'mac?': 's', 'up?': 'b', 'master?': 's',
    'peer?': { ns: 's', name: 's', 'mac?': 's', 'mtu?': 'n', 'up?': 'b' },
    'vxlan?': { vni: 'n', local: 's', dstPort: 'n', dev: 's', learning: 'b', 'external?': 'b' },
    'ipip?': { 'local?': 's' },
  },
  'link.del': { ...NS, name: 's' },
  'link.set': { ...NS, name: 's', 'up?': 'b', 'mtu?': 'n', 'master?': 's0', 'mac?': 's', 'hairpin?': 'b' },
  'addr.add': { ...NS, dev: 's', addr: 's', 'scope?': 's', 'noprefixroute?': 'b' },
  'addr.del': { ...NS, dev: 's', addr: 's' },
  'addr.replace': { ...NS, dev: 's', addr: 's', 'scope?': 's', 'noprefixroute?': 'b' },
  'addr.change': { ...NS, dev: 's', addr: 's', 'scope?': 's', 'noprefixroute?': 'b' },
  'addr.flush': { ...NS, dev: 's', 'primary?': 'b', 'secondary?': 'b', 'scope?': 's', 'to?': 's' },
  'route.add': { ...NS, ...ROUTE },
  'route.replace': { ...NS, ...ROUTE },
  'route.append': { ...NS, ...ROUTE },
  'route.prepend': { ...NS, ...ROUTE },
  'route.change': { ...NS, ...ROUTE },
  'route.del': { ...NS, dst: 's', 'via?': 's', 'dev?': 's', 'metric?': 'n', 'table?': 'n' },
  'route.flush': { ...NS, 'table?': 'n', 'exact?': 's', 'root?': 's', 'match?': 's', 'dev?': 's', 'via?': 's', 'proto?': 's', 'type?': 's', 'scope?': 's' },
  'route.flushCache': NS,
  'route.cacheException': { ...NS, key: 's' },
  'iprule.add': IPRULE,
  'iprule.del': IPRULE,
  'neigh.add': { ...NS, dev: 's', ip: 's', mac: 's' },
  'neigh.replace': { ...NS, dev: 's', ip: 's', mac: 's' },
  'neigh.del': { ...NS, dev: 's', ip: 's' },
  'neigh.flush': { ...NS, 'dev?': 's', 'to?': 's', 'nud?': ['s'] },
  'fdb.add': { ...NS, dev: 's', mac: 's', 'dst?': 's', 'master?': 'b', 'state?': 's' },
  'fdb.append': { ...NS, dev: 's', mac: 's', 'dst?': 's', 'master?': 'b', 'state?': 's' },
  'fdb.replace': { ...NS, dev: 's', mac: 's', 'dst?': 's', 'master?': 'b', 'state?': 's' },
  'fdb.del': { ...NS, dev: 's', mac: 's', 'dst?': 's', 'master?': 'b' },
  'fdb.flush': { ...NS, dev: 's', 'master?': 'b', 'states?': ['s'] },
  'sysctl.set': { ...NS, key: 's', value: 'sn' },
  'rule.append': { ...NS, rule: RULE },
  'rule.del': { ...NS, rule: RULE },
  'rule.insert': { ...NS, rule: RULE, 'position?': 'n' },
  'rule.replace': { ...NS, rule: RULE, position: 'n' },
  'chain.new': { ...NS, table: 's', chain: 's' },
  'chain.del': { ...NS, table: 's', chain: 's' },
  'chain.flush': { ...NS, table: 's', chain: 's' },
  'chain.policy': { ...NS, table: 's', chain: 's', policy: 's' },
  listen: { ...NS, protocol: 's', port: 'n' },
  'conntrack.delete': { ...NS, 'protocol?': 's', 'src?': 's', 'dst?': 's', 'srcNat?': 's', 'dstNat?': 's' },
  'peerset.put': { set: 's', dev: 's', owner: 's', 'group?': 's', routes: [ROUTE], neigh: [{ ip: 's', mac: 's' }], fdb: [{ mac: 's', dst: 's' }] },
  'peerset.del': { set: 's', owner: 's' },
  'peerset.restore': { ...NS, set: 's', owner: 's', 'replace?': 'b' },
  'peerset.attach': { ...NS, set: 's', self: 's', 'group?': 's', 'match?': 's', 'via?': 's' },
  'vpc.assign': { segment: 's', eni: 's', deviceIndex: 'n', node: 's', ...NS, dev: 's', 'ips?': ['s'], 'prefixes?': ['s'], 'attach?': 'b', 'primaryIp?': 's' },
  'vpc.unassign': { segment: 's', eni: 's', 'ips?': ['s'], 'prefixes?': ['s'], 'detach?': 'b' },
  'tc.attach': { ...NS, dev: 's', direction: 's', obj: 's', sec: 's', 'encapDev?': 's' },
  'tc.detach': { ...NS, dev: 's', direction: 's' },
  'bpf.map.update': { map: 's', 'ns?': 's', key: 's', value: {} },
  'bpf.map.delete': { map: 's', 'ns?': 's', key: 's' },
};
const BPF_VALUES: Readonly<Record<string, Shape>> = {
  cilium_lxc: { 'dev?': 's', 'mac?': 's', 'host?': 'b', identity: 'n' },
  cilium_tunnel_map: { endpoint: 's', owner: 's' },
};

const TYPE_NAMES: Record<string, string> = { s: 'a string', n: 'a number', b: 'true or false', sn: 'a string or a number', s0: 'a string or null' };

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return typeof (v as { op?: unknown }).op === 'string' ? `an object with op ${JSON.stringify((v as { op: string }).op)}` : 'an object';
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

/** A shape as the check walks it: made once per shape, so checking an action allocates nothing. */
interface Field { readonly name: string; readonly optional: boolean; readonly type: Compiled }
/**
 * A shape compiled: its fields by name, and how many of them are required. `seen` and `seenAs` remember, by
 * position, the keys of the objects last checked against it and their fields (null: a key the shape does not
 * read, such as `op`): a design makes each op's actions from one literal, so their keys come in one order, and
 * {@link fits} compares each key with the one seen at its place (the same interned string: one pointer
 * comparison) where a `byName` lookup hashed it. A memo: it changes no answer.
 */
interface Fields {
  readonly byName: ReadonlyMap<string, Field>;
  readonly required: number;
  readonly fields: readonly Field[];
  readonly seen: string[];
  readonly seenAs: (Field | null)[];
}
type Compiled = 's' | 'n' | 'b' | 'sn' | 's0' | Fields | { readonly each: Compiled };

const compiled = new Map<Shape, Fields>();
function compile(t: FieldType): Compiled {
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) return { each: compile((t as readonly [FieldType])[0]) };
  const shape = t as Shape;
  let c = compiled.get(shape);
  if (c === undefined) {
    const fields = Object.keys(shape).map((k) => ({ name: k.endsWith('?') ? k.slice(0, -1) : k, optional: k.endsWith('?'), type: compile(shape[k]!) }));
    c = { fields, byName: new Map(fields.map((f) => [f.name, f])), required: fields.filter((f) => !f.optional).length, seen: [], seenAs: [] };
    compiled.set(shape, c);
  }
  return c;
}

function isType(v: unknown, t: 's' | 'n' | 'b' | 'sn' | 's0'): boolean {
  switch (t) {
    case 's': return typeof v === 'string';
    case 'n': return typeof v === 'number' && Number.isFinite(v);
    case 'b': return typeof v === 'boolean';
    case 'sn': return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
    default: return typeof v === 'string' || v === null;
  }
}

function checkField(v: unknown, t: Compiled, where: string): void {
  if (typeof t === 'string') {
    if (!isType(v, t)) fail('INVALID_ARGUMENT', `${where} must be ${TYPE_NAMES[t]}, not ${describeValue(v)}`, { field: where, value: v });
    return;
  }
  if ('each' in t) {
    if (!Array.isArray(v)) fail('INVALID_ARGUMENT', `${where} must be a list, not ${describeValue(v)}`, { field: where, value: v });
    for (let i = 0; i < v.length; i++) checkField(v[i], t.each, `${where}[${i}]`);
    return;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail('INVALID_ARGUMENT', `${where} must be an object, not ${describeValue(v)}`, { field: where, value: v });
  checkFields(v as Record<string, unknown>, t, where);
}

/**
 * Whether `o` has the shape: a walk of the fields `o` has (not of every field the shape names: most optional
 * ones are absent, and reading an absent property of the many shapes actions come in is a slow, megamorphic
 * lookup), then a count of the required ones. It builds nothing: the error, with the field's path, is made by
 * {@link checkFields} only when this answers false (~75 ns an action of a flannel property run, CPU, where each
 * key's byName lookup made it ~110 ns).
 */
function fits(o: Record<string, unknown>, shape: Fields): boolean {
  let required = 0;
  let at = 0;
  const seen = shape.seen;
  const seenAs = shape.seenAs;
  for (const k in o) {
    let f: Field | null;
    if (at < seen.length && seen[at] === k) f = seenAs[at]!;
    else {
      f = shape.byName.get(k) ?? null;
      if (at <= seen.length) {
        seen[at] = k;
        seenAs[at] = f;
      }
    }
    at++;
    if (f === null) continue;
    const v = o[k];
    if (v === undefined) continue;
    if (!f.optional) required++;
    const t = f.type;
    if (typeof t === 'string') {
      if (!isType(v, t)) return false;
    } else if ('each' in t) {
      if (!Array.isArray(v)) return false;
      const e = t.each;
      for (let i = 0; i < v.length; i++) {
        const x: unknown = v[i];
        if (typeof e === 'string' ? !isType(x, e) : 'each' in e ? true : x === null || typeof x !== 'object' || Array.isArray(x) || !fits(x as Record<string, unknown>, e)) return false;
      }
    } else if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
    else if (!checked.has(v)) {
      if (!fits(v as Record<string, unknown>, t)) return false;
      if (Object.isFrozen(v)) checked.add(v);
    }
  }
  return required === shape.required;
}

/**
 * Nested objects found well-shaped that cannot change: frozen, so the answer stays true. A design that
 * hands the same frozen rule spec to every node's `rule.append` (flannel keeps its rule specs per lease) has
 * it checked once: a flannel node join's ten rules were most of the ~5 µs its actions' checks took.
 */
const checked = new WeakSet<object>();

/** Throws the error {@link fits} found, naming the field by its path (`peerset.put.routes[0].dst`). */
function checkFields(o: Record<string, unknown>, shape: Fields, where: string): void {
  for (const k in o) {
    const f = shape.byName.get(k);
    const v = o[k];
    if (f !== undefined && v !== undefined) checkField(v, f.type, `${where}.${k}`);
  }
  for (const f of shape.fields) if (!f.optional && o[f.name] === undefined) fail('INVALID_ARGUMENT', `${where}.${f.name} is missing`, { field: `${where}.${f.name}` });
}

const BY_OP = new Map<string, Fields>(Object.keys(SHAPES).map((op) => [op, compile(SHAPES[op]!) as Fields] as const));
const BPF_BY_MAP = new Map<string, Fields>(Object.keys(BPF_VALUES).map((m) => [m, compile(BPF_VALUES[m]!) as Fields] as const));

/**
 * Throws INVALID_ARGUMENT unless `a` is an object whose `op` is a string and whose fields have the types its
 * op reads them as (`ns` a string, `routes` a list of route objects, …). Values are checked by the op's
 * handler; an op podnet does not know is left to the dispatcher, which names it.
 */
export function checkActionShape(a: unknown): void {
  if (a === null || typeof a !== 'object' || Array.isArray(a) || typeof (a as { op?: unknown }).op !== 'string') {
    fail('INVALID_ARGUMENT', `not an action: ${describeValue(a)} (an action is an object with an op, such as { op: 'link.set', ns: 'node/node-1', name: 'cni0', up: false })`);
  }
  const o = a as Record<string, unknown> & { op: string };
  const fields = BY_OP.get(o.op);
  if (fields === undefined) return;
  if (!fits(o, fields)) checkFields(o, fields, o.op);
  if (o.op === 'bpf.map.update') {
    const values = BPF_BY_MAP.get(o['map'] as string);
    if (values !== undefined && !fits(o['value'] as Record<string, unknown>, values)) checkFields(o['value'] as Record<string, unknown>, values, `${o.op}.value`);
  }
}
