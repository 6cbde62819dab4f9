/**
 * Labs written as plain data — a YAML or JSON file a teacher writes, or an object — turned into the
 * {@link Lab}s the shell runs beside its own (`podnet lab start my-lab.yaml`, `createSession({ labs })`).
 * A file says which cluster to build (a cluster spec, the seed lab by default), which faults to apply before
 * the student arrives (podnet's raw actions, the ones `Simulator.apply` takes), the hints, and what `lab
 * check` probes: like the built-in labs, it never reads what the student typed.
 */
import { fail, formatIpv4, isPodnetError, parseIpv4, type Action, type Simulator } from '@podnet/core';
import { seedLabSpec, type ClusterSpecJson } from '@podnet/cni';
import { auditLines, crossNodePings, type Lab, type LabVerdict } from './labs.js';
import { buildCluster } from './session.js';

/**
 * One probe of `lab check`, all of which must hold:
 * - `audit`: the three guarantees hold in a full audit of the cluster;
 * - `cross-node-pings`: a pod on each node gets a reply from a pod on every other node;
 * - `{ ping: { from, to, expect } }`: `from` (a pod or node name) pings `to` (an IPv4 address or a pod name,
 *   whose address is read when the check runs) and gets a reply — or, with `expect: no-reply`, does not;
 * - `{ running: [pods] }`: these pods are Running.
 */
export type LabCheckSpec =
  | 'audit'
  | 'cross-node-pings'
  | { readonly ping: { readonly from: string; readonly to: string; readonly expect?: 'reply' | 'no-reply' } }
  | { readonly running: readonly string[] };

/** A lab as a file holds it. */
export interface LabFile {
  /** Its number in `lab list`; by default the next one after the labs before it. */
  readonly id?: number;
  /** What `lab start` takes besides the number: lower-case letters, digits and "-". */
  readonly name: string;
  readonly title: string;
  /** What the student reads when the lab starts: the ticket. */
  readonly brief: string;
  /** The cluster: a cluster spec as `--scenario` takes it. Default: the lesson's seed lab. */
  readonly cluster?: ClusterSpecJson;
  /** podnet actions applied to the cluster before the student arrives (`Simulator.apply`). */
  readonly faults?: readonly Action[];
  readonly hints?: readonly string[];
  readonly check: readonly LabCheckSpec[];
}

const HINT = 'A lab file has name, title, brief and check (a list of: audit, cross-node-pings, { ping: { from, to, expect } }, { running: [pods] }), and may have id, cluster (a cluster spec), faults (podnet actions) and hints: docs/lab-shell.md, "Write your own lab".';

function bad(where: string, what: string): never {
  fail('INVALID_LAB', `${where}: ${what}`, { where }, HINT);
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const KEYS = new Set(['id', 'name', 'title', 'brief', 'cluster', 'faults', 'hints', 'check']);

function text(data: Record<string, unknown>, key: string, where: string): string {
  const v = data[key];
  if (typeof v !== 'string' || v.trim() === '') bad(`${where}.${key}`, `must be a non-empty string, not ${JSON.stringify(v) ?? String(v)}`);
  return v;
}

function checkSpec(c: unknown, where: string): LabCheckSpec {
  if (c === 'audit' || c === 'cross-node-pings') return c;
  if (isObject(c) && Object.keys(c).length === 1 && 'ping' in c) {
    const p = c['ping'];
    if (!isObject(p)) bad(`${where}.ping`, 'must be { from, to, expect? }');
    for (const k of Object.keys(p)) if (k !== 'from' && k !== 'to' && k !== 'expect') bad(`${where}.ping`, `has no field "${k}" (from, to, expect)`);
    const from = text(p, 'from', `${where}.ping`);
    const to = text(p, 'to', `${where}.ping`);
    const expect = p['expect'] ?? 'reply';
    if (expect !== 'reply' && expect !== 'no-reply') bad(`${where}.ping.expect`, `must be reply or no-reply, not ${JSON.stringify(expect)}`);
    return { ping: { from, to, expect } };
  }
  if (isObject(c) && Object.keys(c).length === 1 && 'running' in c) {
    const r = c['running'];
    if (!Array.isArray(r) || r.length === 0 || !r.every((x) => typeof x === 'string' && x !== '')) bad(`${where}.running`, 'must be a non-empty list of pod names');
    return { running: [...r] };
  }
  bad(where, `is not a check: ${JSON.stringify(c) ?? String(c)} (audit, cross-node-pings, { ping: { from, to, expect } }, { running: [pods] })`);
}

/** Runs one check on the cluster: its lines, and whether it held. */
function runCheck(sim: Simulator, c: LabCheckSpec): { ok: boolean; lines: string[] } {
  if (c === 'audit') return auditLines(sim);
  if (c === 'cross-node-pings') return crossNodePings(sim);
  if ('running' in c) {
    const lines: string[] = [];
    let ok = true;
    for (const name of c.running) {
      const pod = sim.pods().find((p) => p.key === name || (p.name === name && p.namespace === 'default'));
      const good = pod?.status.phase === 'Running';
      ok &&= good;
      lines.push(`${good ? 'ok  ' : 'FAIL'} pod ${name} ${pod === undefined ? 'does not exist' : `is ${pod.status.phase}${good ? '' : pod.status.reason ? ` (${pod.status.reason})` : ''}`}`);
    }
    return { ok, lines };
  }
  const { from, to, expect = 'reply' } = c.ping;
  let dst: string;
  try {
    dst = formatIpv4(parseIpv4(to));
  } catch {
    const pod = sim.pods().find((p) => p.key === to || (p.name === to && p.namespace === 'default'));
    if (pod?.ip == null) return { ok: false, lines: [`FAIL ping ${from} → ${to}: pod ${to} ${pod === undefined ? 'does not exist' : 'has no IP'}`] };
    dst = formatIpv4(pod.ip);
  }
  const label = `ping ${from} → ${to}${dst === to ? '' : ` (${dst})`}`;
  let r;
  try {
    r = sim.ping(from, dst);
  } catch (e) {
    if (!isPodnetError(e)) throw e;
    return { ok: false, lines: [`FAIL ${label}: ${e.message}`] };
  }
  const good = (expect === 'reply') === r.ok;
  const what = r.ok ? 'reply' : `no reply${r.errors[0] ? ` (${r.errors[0].message})` : ''}`;
  return { ok: good, lines: [`${good ? 'ok  ' : 'FAIL'} ${label}: ${what}${expect === 'no-reply' ? ', and none is expected' : ''}`] };
}

/**
 * The lab a file describes, checked: its fields as {@link LabFile} says, its cluster built and its faults
 * applied once (so that a spec or action the simulator refuses is reported now, naming the field, and not
 * when a student starts the lab). `build` makes the cluster; by default as the shell does (with the node agents).
 * Throws a PodnetError `INVALID_LAB` saying which field is wrong (the simulator's own error in its words).
 */
export function labFromFile(data: unknown, build: (spec: ClusterSpecJson) => Simulator = (spec) => buildCluster(spec)): Lab {
  if (!isObject(data)) bad('lab', `must be an object (a YAML mapping), not ${Array.isArray(data) ? 'a list' : JSON.stringify(data) ?? String(data)}`);
  for (const k of Object.keys(data)) if (!KEYS.has(k)) bad(`lab.${k}`, `is not a field of a lab (${[...KEYS].join(', ')})`);
  const name = text(data, 'name', 'lab');
  if (!NAME.test(name)) bad('lab.name', `"${name}" must be lower-case letters, digits and "-", at most 63 characters`);
  const where = `lab ${name}`;
  const title = text(data, 'title', where);
  const brief = text(data, 'brief', where);
  const id = data['id'];
  if (id !== undefined && (!Number.isInteger(id) || (id as number) < 1)) bad(`${where}.id`, `must be a positive integer, not ${JSON.stringify(id)}`);
  const hints = data['hints'] ?? [];
  if (!Array.isArray(hints) || !hints.every((h) => typeof h === 'string')) bad(`${where}.hints`, 'must be a list of strings');
  const faults = data['faults'] ?? [];
  if (!Array.isArray(faults) || !faults.every(isObject)) bad(`${where}.faults`, 'must be a list of podnet actions ({ op: …, ns: …, … })');
  const checks = data['check'];
  if (!Array.isArray(checks) || checks.length === 0) bad(`${where}.check`, 'must be a non-empty list of what lab check probes');
  const check = checks.map((c, i) => checkSpec(c, `${where}.check[${i}]`));
  const cluster = data['cluster'];
  if (cluster !== undefined && !isObject(cluster)) bad(`${where}.cluster`, 'must be a cluster spec (an object with nodes and pods)');
  const spec = (): ClusterSpecJson => (cluster === undefined ? seedLabSpec() : structuredClone(cluster) as unknown as ClusterSpecJson);
  const actions = faults as unknown as readonly Action[];
  // Build it once now: what the simulator refuses is the file's mistake, told with the field it is in.
  let sim: Simulator;
  try {
    sim = build(spec());
  } catch (e) {
    if (!isPodnetError(e)) throw e;
    fail('INVALID_LAB', `${where}.cluster: ${e.message}`, { where: `${where}.cluster`, cause: e.code }, e.hint);
  }
  for (let i = 0; i < actions.length; i++) {
    try {
      sim.apply(actions[i]!);
    } catch (e) {
      if (!isPodnetError(e)) throw e;
      fail('INVALID_LAB', `${where}.faults[${i}]: ${e.message}`, { where: `${where}.faults[${i}]`, cause: e.code }, e.hint);
    }
  }
  return {
    id: (id as number | undefined) ?? 0,
    name, title, brief,
    spec,
    faults: () => actions.map((a) => structuredClone(a)),
    hints: [...hints],
    check(s): LabVerdict {
      let ok = true;
      const lines: string[] = [];
      for (const c of check) {
        const r = runCheck(s, c);
        ok &&= r.ok;
        lines.push(...r.lines);
      }
      return { ok, lines };
    },
  };
}
