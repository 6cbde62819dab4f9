/**
 * `pnpm differential <base-dir> [<dir>] [--seqs=25] [--seed=7] [--verdicts]`: does a change keep what a user sees?
 * With `--verdicts`, only the verdicts are compared (each event's violations and sampled check, `finish`, the final
 * audit, the pods, the ping and traceroute summaries), not the traces' steps: for a change that adds or rewords
 * steps on purpose (a new kernel behaviour) and must leave every verdict as it was.
 *
 * A performance change must not change behaviour. This plays the same random clusters on two builds of
 * podnet (repository roots with `pnpm build` done: e.g. a worktree of the commit before, made with
 * `git worktree add --detach ../base <commit> && cd ../base && pnpm install --frozen-lockfile && pnpm build`,
 * and this checkout; `<dir>` defaults to this checkout) and compares, for every design of @podnet/cni (the
 * working ones and the broken ones) at both check levels of @podnet/testing:
 *
 * - after every event of `--seqs` random sequences (15–30 events; half of them with faults, which break
 *   every design soon): how the event read, or its error (a DesignFailure's kind, explanation and events; a
 *   PodnetError's code and message; anything else is reported as UNTYPED), and the simulator's violations;
 * - at the end of each sequence: the full audit's verdict, every pod (node, phase, IP), `ip route`,
 *   `ip rule`, `ip neigh` and `bridge fdb` of every namespace, and recorded `ping -c 2` and traceroute
 *   traces (every step's note) between up to six endpoint pairs;
 * - at the every-change level, also the simulator's `sampled` check level (sample 4, seeded per sequence)
 *   on the same states after every event: its violations and how many probes it ran;
 * - checkDesign's counterexample of each broken design (its text), at both levels.
 *
 * A canonical JSON of each final state is compared too and reported apart (the first two of each design with the
 * path where they first differ): a change of representation
 * shows there without being a change of behaviour. The sequences are generated once, with the first
 * build's arbitraries. Exits 1 on any behaviour difference, printing the first three per design.
 * ~90 s for the default 25 sequences per design and level (750 sequences).
 */
import type { ClusterEvent, ClusterShape, ShapeOptions } from '@podnet/testing';
import { dirArgs, loadBuild, positiveFlag, type Build, type Cni, type Testing } from './lib/builds.js';

type Design = ReturnType<Cni['flannel']>;

const dirs = dirArgs();
if (dirs.length < 1 || dirs.length > 2) {
  process.stderr.write('usage: pnpm differential <base-dir> [<dir>] [--seqs=25] [--seed=7] [--verdicts]\n');
  process.exit(2);
}
const SEQS = positiveFlag('seqs', 25);
const SEED = positiveFlag('seed', 7);
const VERDICTS = process.argv.includes('--verdicts');
/** The lines `--verdicts` compares. */
const VERDICT_LINE = /^(violations:|sampled:|audit |finish|pod |ping |traceroute |probe )/;
const A = await loadBuild(dirs[0]!);
const B = await loadBuild(dirs[1] ?? '.');
// The sequences are generated once, with the first build's fast-check and arbitraries.
const fc = A.fc;

type Options = ShapeOptions & { readonly maxNodes?: number };
const DESIGNS: readonly [string, (b: Build) => Design, Options][] = [
  ['flannel vxlan', (b) => b.cni.flannel({ backend: 'vxlan' }), { router: 'both' }],
  ['flannel host-gw', (b) => b.cni.flannel({ backend: 'host-gw' }), { segments: 1 }],
  ['calico none', (b) => b.cni.calico({ encapsulation: 'none' }), { segments: 1 }],
  ['calico ipip', (b) => b.cni.calico({ encapsulation: 'ipip' }), { router: 'both' }],
  ['calico vxlan', (b) => b.cni.calico({ encapsulation: 'vxlan' }), { router: 'both' }],
  ['cilium tunnel', (b) => b.cni.cilium({ routing: 'tunnel' }), { router: 'both' }],
  ['cilium native', (b) => b.cni.cilium({ routing: 'native' }), { segments: 1 }],
  ['aws-vpc m5.large', (b) => b.cni.awsVpc({ instanceType: 'm5.large' }), { router: 'both' }],
  ['native-vpc gke', (b) => b.cni.nativeVpc({ provider: 'gke' }), { router: 'both' }],
  ['native-vpc azure', (b) => b.cni.nativeVpc({ provider: 'azure' }), { router: 'both' }],
  ['bridge', (b) => b.cni.bridge(), { maxNodes: 1 }],
  ['broken missingRoutes', (b) => b.cni.broken.missingRoutes(), { segments: 1 }],
  ['broken masquerade', (b) => b.cni.broken.masquerade(), {}],
  ['broken overlappingIpam', (b) => b.cni.broken.overlappingIpam(), {}],
  ['broken mtuMismatch', (b) => b.cni.broken.mtuMismatch(), {}],
];
const LEVELS = ['every-change', 'at-end'] as const;

/**
 * Whether a value is a sharded map (util/shards.ts): 128 slots, each null or a top of 128 slots, each null
 * or a leaf. Leaves have been dictionaries and are now arrays of `[tag, key, value, …]` entries; the
 * canonical form reads either as its entries in their order, so that two builds keeping the same entries
 * in different leaf representations print the same.
 */
function isShards(v: unknown): v is (unknown[] | null)[] {
  return Array.isArray(v) && v.length === 128 && v.every((t) => t === null || (Array.isArray(t) && t.length === 128 && t.every((l) => l === null || typeof l === 'object')));
}

/** A leaf's entries in their order, `[key, value]` each, from either representation. */
function leafEntries(l: unknown): [string, unknown][] {
  if (!Array.isArray(l)) return Object.keys(l as object).map((k) => [k, (l as Record<string, unknown>)[k]]);
  const out: [string, unknown][] = [];
  for (let i = 0; i + 2 < l.length; i += 3) out.push([l[i + 1] as string, l[i + 2]]);
  return out;
}

/** Plain data with sorted keys, maps and sets as sorted entries, sharded maps as their entries: equal states print equal. */
function canonical(v: unknown, path = new Set<unknown>()): unknown {
  if (v === null || typeof v !== 'object') return typeof v === 'bigint' ? String(v) : v;
  if (path.has(v)) return '[cycle]';
  path.add(v);
  try {
    if (ArrayBuffer.isView(v)) return Array.from(v as Uint8Array);
    if (isShards(v)) return v.map((top) => (top === null ? null : (top as unknown[]).map((l) => (l === null ? null : canonical(leafEntries(l), path)))));
    if (v instanceof Map) return [...v].map(([k, x]) => [String(k), canonical(x, path)] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    if (v instanceof Set) return [...v].map((x) => JSON.stringify(canonical(x, path))).sort();
    if (Array.isArray(v)) return v.map((x) => canonical(x, path));
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) o[k] = canonical((v as Record<string, unknown>)[k], path);
    return o;
  } finally {
    path.delete(v);
  }
}

function errorText(e: unknown): string {
  const x = e as { name?: string; kind?: string; explanation?: string; events?: readonly string[]; code?: string; message?: string; trace?: { disposition?: string } | null; stack?: string };
  if (x?.name === 'DesignFailure') return `DesignFailure ${x.kind}: ${x.explanation} | events: ${x.events?.join(' ; ')} | trace: ${x.trace?.disposition ?? null}`;
  if (typeof x?.code === 'string') return `PodnetError ${x.code}: ${x.message}`;
  return `UNTYPED ${String(x?.stack ?? e)}`;
}

/** Where two canonical JSONs first differ: the path to it and both values (shortened), for a reader to judge. */
function firstStateDifference(ja: string, jb: string): string {
  const walk = (x: unknown, y: unknown, at: string): string | null => {
    if (JSON.stringify(x) === JSON.stringify(y)) return null;
    if (x !== null && y !== null && typeof x === 'object' && typeof y === 'object') {
      const keys = [...new Set([...Object.keys(x), ...Object.keys(y)])];
      for (const k of keys) {
        const d = walk((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], `${at}.${k}`);
        if (d !== null) return d;
      }
    }
    const short = (v: unknown) => (JSON.stringify(v) ?? 'undefined').slice(0, 160);
    return `${at}: A ${short(x)}, B ${short(y)}`;
  };
  return walk(JSON.parse(ja), JSON.parse(jb), 'state') ?? 'same content';
}

/** What a user sees of one sequence on one build, as lines; and the final state's canonical JSON. */
function observe(b: Build, design: Design, shape: ClusterShape, events: readonly ClusterEvent[], checks: (typeof LEVELS)[number], maxNodes: number, seed: number): { lines: string[]; state: string } {
  const { core, testing } = b;
  const lines: string[] = [];
  let run: InstanceType<Testing['ClusterRun']>;
  try {
    run = new testing.ClusterRun(design, shape, { maxNodes, checks });
  } catch (e) {
    return { lines: [`create: ${errorText(e)}`], state: '' };
  }
  // At the every-change level the same states also go through the simulator's `sampled` level (sample 4,
  // a seeded random source per sequence), which the runs themselves never use: its verdict and probe count
  // after each change, from its own memory chain.
  const random = core.seededRandom(seed);
  let sampled = checks === 'every-change' ? { prev: run.sim.state, memory: core.sampledAudit(run.sim.state, 4, random).memory } : null;
  let failed = false;
  for (const e of events) {
    if (!run.canPlay(e)) { lines.push('skip'); continue; }
    try {
      lines.push(run.play(e));
    } catch (err) {
      lines.push(errorText(err));
      failed = true;
      break;
    }
    lines.push(`violations: ${run.sim.violations.map((v) => v.key).join(',')}`);
    if (sampled !== null) {
      const now = run.sim.state;
      const r = core.sampledCheck(now, sampled.memory, core.diffScope(sampled.prev, now), 4, random);
      sampled = { prev: now, memory: r.memory };
      lines.push(`sampled: ${r.violations.map((v) => v.key).join(',')} (${r.probes} probes)`);
    }
  }
  if (!failed) {
    try { run.finish(); lines.push('finish ok'); } catch (err) { lines.push(`finish: ${errorText(err)}`); }
  }
  let state = run.sim.state;
  const verdict = run.sim.check();
  lines.push(`audit ${verdict.ok} ${verdict.violations.map((v) => `${v.key} ${v.explanation}`).join(' || ')}`);
  const nodes = core.listNodes(state);
  const pods = core.listPods(state);
  for (const p of pods) lines.push(`pod ${p.name} ${p.node ?? '-'} ${p.status.phase} ${p.ip === null ? '-' : core.formatIpv4(p.ip)}`);
  const nsIds = [core.UNDERLAY_NS, ...nodes.map((n) => core.hostNsId(n.name)), ...pods.map((p) => core.podNsId(p.key)).filter((id) => core.locateNs(state, id))];
  const views = [['route', core.ipRoute], ['rule', core.ipRule], ['neigh', core.ipNeigh], ['fdb', core.bridgeFdb]] as const;
  for (const id of nsIds) {
    for (const [what, view] of views) {
      try { lines.push(`${id} ${what}: ${view(state, id).join(' / ')}`); } catch (e) { lines.push(`${id} ${what}: ${errorText(e)}`); }
    }
  }
  const running = pods.filter((p) => p.status.phase === 'Running' && p.ip !== null);
  const ends = [...running.map((p) => ({ name: p.name, ip: p.ip! })), ...nodes.map((n) => ({ name: n.name, ip: n.ip }))];
  for (let i = 0; i < Math.min(6, ends.length * ends.length); i++) {
    const from = ends[(i * 7) % ends.length]!;
    const to = core.formatIpv4(ends[(i * 3 + 1) % ends.length]!.ip);
    try {
      const p = core.ping(state, from.name, to, { count: 2 });
      state = p.state;
      lines.push(`ping ${from.name} ${to}: ${p.result.lines.join(' / ')}`);
      for (const t of p.result.traces) lines.push(...testing.formatTrace(t));
      const tr = core.traceroute(state, from.name, to);
      state = tr.state;
      lines.push(`traceroute ${from.name} ${to}: ${tr.result.lines.join(' / ')}`);
      for (const h of tr.result.hops) lines.push(...testing.formatTrace(h.trace));
    } catch (e) {
      lines.push(`probe ${from.name} ${to}: ${errorText(e)}`);
    }
  }
  return { lines, state: JSON.stringify(canonical(state)) };
}

let behaviour = 0;
let representation = 0;
let sequences = 0;
for (const [name, make, options] of DESIGNS) {
  const maxNodes = options.maxNodes ?? 6;
  const shapes = fc.sample(A.testing.clusterShapeArb(options), { seed: SEED, numRuns: SEQS });
  const lists = [true, false].map((faults) =>
    fc.sample(fc.array(A.testing.clusterEventArb({ ...options, faults }), { minLength: 15, maxLength: 30 }), { seed: SEED + 1, numRuns: SEQS }));
  let diffs = 0;
  let stateDiffs = 0;
  let observed = 0;
  for (const checks of LEVELS) {
    for (let i = 0; i < SEQS; i++) {
      const events = lists[i % 2]![i]!;
      const a = observe(A, make(A), shapes[i]!, events, checks, maxNodes, SEED + i);
      const b = observe(B, make(B), shapes[i]!, events, checks, maxNodes, SEED + i);
      if (VERDICTS) {
        a.lines = a.lines.filter((l) => VERDICT_LINE.test(l));
        b.lines = b.lines.filter((l) => VERDICT_LINE.test(l));
      }
      observed += a.lines.length;
      const at = a.lines.findIndex((l, j) => l !== b.lines[j]);
      const first = at >= 0 ? at : a.lines.length !== b.lines.length ? Math.min(a.lines.length, b.lines.length) : -1;
      if (first >= 0) {
        diffs++;
        if (diffs <= 3) process.stdout.write(`DIFF ${name}, ${checks}, sequence ${i}, line ${first}:\n  A: ${a.lines[first]}\n  B: ${b.lines[first]}\n`);
      }
      if (a.state !== b.state) {
        stateDiffs++;
        if (stateDiffs <= 2) process.stdout.write(`STATE ${name}, ${checks}, sequence ${i}: ${firstStateDifference(a.state, b.state)}\n`);
      }
    }
  }
  let cex = '';
  if (name.startsWith('broken')) {
    for (const checks of LEVELS) {
      // `--verdicts`: the counterexample without its trace's steps (`    12 [ns dev] kind: note`).
      const text = (t: string) => (VERDICTS ? t.split('\n').filter((l) => !/^\s+\d+ \[/.test(l)).join('\n') : t);
      const ta = text(String(A.testing.checkDesign(make(A), { ...options, checks, numRuns: 200 })));
      const tb = text(String(B.testing.checkDesign(make(B), { ...options, checks, numRuns: 200 })));
      if (ta !== tb) {
        diffs++;
        process.stdout.write(`DIFF ${name}, ${checks}: counterexample text\n--- A\n${ta.slice(0, 1500)}\n--- B\n${tb.slice(0, 1500)}\n`);
      }
      cex += `; counterexample (${checks}) ${ta === tb ? 'same' : 'DIFFERENT'}, ${ta.length} B`;
    }
  }
  sequences += LEVELS.length * SEQS;
  behaviour += diffs;
  representation += stateDiffs;
  process.stdout.write(`${name}: ${LEVELS.length * SEQS} sequences, ${observed} observations, ${diffs} behaviour differences, ${stateDiffs} final states with another canonical JSON${cex}\n`);
}
process.stdout.write(`SUMMARY: ${sequences} sequences over ${DESIGNS.length} designs × ${LEVELS.length} levels; ${behaviour} behaviour differences; ${representation} canonical-state differences\n`);
process.exit(behaviour > 0 ? 1 : 0);
