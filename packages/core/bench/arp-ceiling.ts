/**
 * What a memo of the checks' ARP exchanges could save at most (docs/performance.md, "What was tried and not
 * kept"): flannel VXLAN property runs at `every-change` (the bench's property, lib/property.ts), each ARP
 * exchange a probe makes (`probeSend`: its request, until the reply reaches the requester) classified and timed.
 *
 * It needs the engine's hooks, which are not in the code (they would cost a check on every step); the patch
 * was made against c3abb83 (session 36): `git apply -3` when the engine has moved since.
 *
 *   git apply packages/core/bench/arp-ceiling.patch && pnpm build
 *   node --import tsx packages/core/bench/arp-ceiling.ts [--warmup=2000] [--runs=1000] [--seed=7]
 *   git checkout packages/core/src/dataplane/engine.ts && pnpm build
 *
 * Three kinds of pass over the same runs (same seed, after one warm-up): a tracking pass classifies every
 * exchange by its ordinal; three passes with timers only (an `hrtime` at each end) time each exchange and
 * each probe; three passes without hooks give the run's own CPU time. The engine is deterministic, so an
 * ordinal names the same exchange in every pass (checked: the counts must agree).
 *
 * An exchange is a *repeat* when an earlier probe on the same state made one with the same namespace,
 * device, target and source address and:
 * - rule T: the run has learned nothing yet in any namespace the recorded exchange touched;
 * - rule R: none of the neighbour and FDB keys the recorded exchange looked up is in the run's overlay of
 *   what it learned (the exchange then reads the same answers, so it is the same exchange). Verified: a
 *   repeat's steps, floods and learned entries must equal the recorded ones (`mismatches`).
 * - bound X (an upper bound, not a sound key: other parts of the state are read too): the same on any earlier
 *   state whose namespaces the exchange touched are the very same objects.
 */
import fc from 'fast-check';

/** What the hooks see of the engine's Run (engine.ts, with arp-ceiling.patch applied). */
interface RunLike {
  readonly state: object;
  readonly stepCount: number;
  readonly floods: number;
  readonly queue: readonly unknown[];
  readonly head: number;
  readonly neighUpd: Overlay;
  readonly fdbUpd: Overlay;
  ns(id: string): object | undefined;
  xcur: Exchange | Timed | null;
}
interface Overlay {
  get(ns: string, dev: string, k: unknown): unknown;
  namespaces(): string[];
}
type Read = readonly [table: 'n' | 'f', ns: string, dev: string, key: unknown];
interface Timed { readonly time: true; readonly t0: number; readonly steps0: number }
interface Exchange {
  readonly time: false;
  readonly key: string;
  readonly kind: string;
  readonly flags: number;
  readonly recR: Outcome | undefined;
  readonly recX: Outcome | undefined;
  readonly learnedNs: ReadonlySet<string>;
  readonly steps0: number;
  readonly floods0: number;
  readonly queued: boolean;
  readonly touched: Set<string>;
  readonly learned: string[];
  readonly learnedKeys: Set<string>;
  readonly reads: Read[];
  readonly readKeys: Set<string>;
  readsOverlay: boolean;
  otherSteps: number;
}
interface Outcome { readonly learned: string; readonly steps: number; readonly floods: number; readonly reads: readonly Read[] }

function flag(name: string, dflt: number): number {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  if (a === undefined) return dflt;
  const v = Number(a.slice(name.length + 3));
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} must be a whole number ≥ 0, not ${a.slice(name.length + 3)}`);
  return v;
}
const RUNS = flag('runs', 1000), WARMUP = flag('warmup', 2000), SEED = flag('seed', 7);
if (RUNS < 1) throw new Error('--runs must be at least 1');

const now = (): number => Number(process.hrtime.bigint()) / 1000; // µs
const T_RULE = 1, R_RULE = 2, X_BOUND = 4;
let mode: 'off' | 'track' | 'time' = 'off';
let ordinal = 0;
const flags: number[] = [], kinds: string[] = [], steps: number[] = [], micros: number[] = [];
let probes = 0, probeSteps = 0, probeUs = 0, probeT0 = 0, mismatchR = 0, mismatchX = 0, queuedAtStart = 0, otherSteps = 0;
let memoT = new WeakMap<object, Map<string, ReadonlySet<string>>>();
let memoR = new WeakMap<object, Map<string, Outcome>>();
let memoX = new Map<string, (Outcome & { readonly objs: readonly (readonly [string, object | undefined])[] })[]>();

const inOverlay = (run: RunLike, [t, ns, dev, k]: Read): boolean => (t === 'n' ? run.neighUpd : run.fdbUpd).get(ns, dev, k) !== undefined;
const tracked = (run: RunLike): Exchange => run.xcur as Exchange;

(globalThis as Record<string, unknown>).__podnetArpCeiling = {
  probeStart(): void {
    if (mode === 'time') probeT0 = now();
  },
  probeEnd(run: RunLike): void {
    if (mode === 'off') return;
    probes++;
    probeSteps += run.stepCount;
    if (mode === 'time') probeUs += now() - probeT0;
  },
  step(run: RunLike, ns: string, frame: { payload: { kind: string } } | null): void {
    const x = tracked(run);
    x.touched.add(ns);
    if (frame === null || frame.payload.kind !== 'arp') x.otherSteps++;
  },
  read(run: RunLike, t: 'n' | 'f', ns: string, dev: string, k: unknown): void {
    const x = tracked(run);
    const key = `${t}|${ns}|${dev}|${String(k)}`;
    if (x.readKeys.has(key)) return;
    x.readKeys.add(key);
    x.reads.push([t, ns, dev, k]);
    // A key the exchange itself learned is read from what it wrote, the same in every run.
    if (!x.learnedKeys.has(key) && inOverlay(run, [t, ns, dev, k])) x.readsOverlay = true;
  },
  learn(run: RunLike, t: 'n' | 'f', ns: string, dev: string, k: unknown, what: string): void {
    const x = tracked(run);
    x.touched.add(ns);
    x.learned.push(`${t} ${ns} ${dev} ${String(k)} ${what}`);
    x.learnedKeys.add(`${t}|${ns}|${dev}|${String(k)}`);
  },
  start(run: RunLike, ns: { id: string }, link: { name: string; kind: string }, target: number, src: number): void {
    if (mode === 'off') return;
    if (run.xcur !== null) throw new Error('an ARP exchange began inside another: the ceiling assumes they do not nest');
    if (mode === 'time') {
      run.xcur = { time: true, t0: now(), steps0: run.stepCount };
      return;
    }
    const key = `${ns.id}|${link.name}|${target}|${src}`;
    const queued = run.queue.length - run.head > 0;
    const learnedNs = new Set([...run.neighUpd.namespaces(), ...run.fdbUpd.namespaces()]);
    const recT = memoT.get(run.state)?.get(key);
    const recR = memoR.get(run.state)?.get(key);
    const recX = memoX.get(key)?.find((r) => r.objs.every(([id, o]) => run.ns(id) === o) && !r.reads.some((q) => inOverlay(run, q)));
    let f = 0;
    if (!queued && recT !== undefined && ![...recT].some((n) => learnedNs.has(n))) f |= T_RULE;
    if (!queued && recR !== undefined && !recR.reads.some((q) => inOverlay(run, q))) f |= R_RULE;
    if (!queued && recX !== undefined) f |= X_BOUND;
    const kind = ns.id.startsWith('pod/') ? 'a pod resolves its next hop'
      : ns.id.startsWith('node/') ? `a host resolves on its ${link.kind === 'bridge' ? 'bridge' : link.kind === 'physical' ? 'NIC' : link.kind}`
        : 'the underlay router resolves';
    run.xcur = {
      time: false, key, kind, flags: f, recR: f & R_RULE ? recR : undefined, recX: f & X_BOUND ? recX : undefined, learnedNs,
      steps0: run.stepCount, floods0: run.floods, queued, touched: new Set([ns.id]), learned: [], learnedKeys: new Set(),
      reads: [], readKeys: new Set(), readsOverlay: false, otherSteps: 0,
    };
  },
  end(run: RunLike): void {
    const x = run.xcur!;
    run.xcur = null;
    const i = ordinal++;
    const n = run.stepCount - x.steps0;
    if (x.time) {
      micros[i] = now() - x.t0;
      steps[i] = n;
      return;
    }
    flags[i] = x.flags;
    kinds[i] = x.kind;
    if (x.queued) queuedAtStart++;
    otherSteps += x.otherSteps;
    const out: Outcome = { learned: x.learned.join(';'), steps: n, floods: run.floods - x.floods0, reads: x.reads };
    const same = (r: Outcome): boolean => r.learned === out.learned && r.steps === out.steps && r.floods === out.floods;
    if (x.recR !== undefined && !same(x.recR)) mismatchR++;
    if (x.recX !== undefined && !same(x.recX)) mismatchX++;
    if (x.queued) return;
    const touchedLearned = [...x.touched].some((ns) => x.learnedNs.has(ns));
    let mT = memoT.get(run.state);
    if (mT === undefined) memoT.set(run.state, (mT = new Map()));
    if (!mT.has(x.key) && !touchedLearned) mT.set(x.key, x.touched);
    let mR = memoR.get(run.state);
    if (mR === undefined) memoR.set(run.state, (mR = new Map()));
    if (!mR.has(x.key) && !x.readsOverlay) mR.set(x.key, out);
    if (x.recX === undefined && !x.readsOverlay) {
      const l = memoX.get(x.key) ?? [];
      l.push({ ...out, objs: [...x.touched].map((id) => [id, run.ns(id)] as const) });
      if (l.length > 8) l.shift();
      memoX.set(x.key, l);
    }
  },
};

// Imported only now: the engine reads its hooks off globalThis as it loads.
const { flannelProperty } = await import('./lib/property.js');
const prop = flannelProperty('every-change');
fc.assert(prop, { numRuns: WARMUP, seed: 1 });

/** A pass over the runs: CPU and wall time per run, µs. */
function pass(m: typeof mode): { cpu: number; wall: number } {
  mode = m;
  ordinal = probes = probeSteps = probeUs = 0;
  memoT = new WeakMap();
  memoR = new WeakMap();
  memoX = new Map();
  const c0 = process.cpuUsage();
  const t0 = now();
  fc.assert(prop, { numRuns: RUNS, seed: SEED });
  const wall = (now() - t0) / RUNS;
  const c = process.cpuUsage(c0);
  return { cpu: (c.user + c.system) / RUNS, wall };
}

pass('track');
const exchanges = ordinal;
if (exchanges === 0) throw new Error('no ARP exchange seen: apply packages/core/bench/arp-ceiling.patch and pnpm build first');
const allProbeSteps = probeSteps, allProbes = probes;
// The timers read the wall clock (getrusage per exchange would cost more than a repeat): each timed pass's
// sums are taken as shares of that pass's own wall time, so a busy machine's waits scale both alike.
const runUs: number[] = [], timers: number[] = [], probeShares: number[] = [], exTimes: { us: number[]; wall: number }[] = [];
for (let r = 0; r < 3; r++) {
  runUs.push(pass('off').cpu);
  const t = pass('time');
  timers.push(t.cpu);
  if (ordinal !== exchanges) throw new Error(`the timed pass saw ${ordinal} exchanges, the tracking pass ${exchanges}`);
  probeShares.push(probeUs / RUNS / t.wall);
  exTimes.push({ us: micros.slice(), wall: t.wall });
}
const median = (a: readonly number[]): number => [...a].sort((p, q) => p - q)[a.length >> 1]!;
const run = median(runUs);
const count = (pred: (i: number) => boolean): number => flags.reduce((s, _, i) => s + (pred(i) ? 1 : 0), 0);
const stepsOf = (pred: (i: number) => boolean): number => steps.reduce((s, v, i) => s + (pred(i) ? v : 0), 0);
/** The share of a run's time spent in the exchanges `pred` picks (median of the timed passes). */
const shareOf = (pred: (i: number) => boolean): number => median(exTimes.map((t) => t.us.reduce((s, v, i) => s + (pred(i) ? v : 0), 0) / RUNS / t.wall));
/** The same in µs of a run's CPU time (the passes without hooks). */
const usOf = (pred: (i: number) => boolean): number => shareOf(pred) * run;
const pct = (v: number, of: number): string => `${(100 * v / of).toFixed(1)} %`;

console.log(`flannel VXLAN, every-change, ${RUNS} runs (seed ${SEED}) after ${WARMUP} of warm-up`);
console.log(`a run: ${run.toFixed(0)} µs CPU (passes without hooks ${runUs.map((v) => v.toFixed(0)).join(', ')}; with timers ${timers.map((v) => v.toFixed(0)).join(', ')})`);
console.log(`probes: ${(allProbes / RUNS).toFixed(2)} a run, ${(allProbeSteps / allProbes).toFixed(1)} steps each, ${(median(probeShares) * run).toFixed(0)} µs a run (${pct(median(probeShares), 1)} of a run)`);
console.log(`ARP exchanges: ${(exchanges / RUNS).toFixed(2)} a run, ${(stepsOf(() => true) / exchanges).toFixed(1)} steps each (${pct(stepsOf(() => true), allProbeSteps)} of the probes' steps; other work inside them: ${otherSteps} steps, begun with work queued: ${queuedAtStart})`);
const rows: [string, (i: number) => boolean][] = [
  ['every exchange', () => true],
  ['repeats, rule T (touched namespaces learned nothing)', (i) => (flags[i]! & T_RULE) !== 0],
  ['repeats, rule R (looked-up keys not in the overlay)', (i) => (flags[i]! & R_RULE) !== 0],
  ['bound X (any earlier state, same namespace objects)', (i) => (flags[i]! & X_BOUND) !== 0],
];
for (const [name, pred] of rows) {
  const n = count(pred), us = usOf(pred);
  console.log(`  ${name.padEnd(54)} ${(n / RUNS).toFixed(2)} a run (${pct(n, exchanges)}), ${(stepsOf(pred) / RUNS).toFixed(0)} steps, ${us.toFixed(0)} µs a run = ${pct(shareOf(pred), 1)} of a run`);
}
console.log('by kind (rule R repeats in brackets):');
for (const k of [...new Set(kinds)].sort()) {
  const pred = (i: number): boolean => kinds[i] === k;
  const rep = (i: number): boolean => pred(i) && (flags[i]! & R_RULE) !== 0;
  console.log(`  ${k.padEnd(34)} ${(count(pred) / RUNS).toFixed(2)} a run, ${(stepsOf(pred) / count(pred)).toFixed(1)} steps each, ${usOf(pred).toFixed(0)} µs a run (${(count(rep) / RUNS).toFixed(2)}, ${usOf(rep).toFixed(0)} µs)`);
}
console.log(`mismatches (a repeat whose steps, floods or learned entries differ from the recorded exchange's): rule R ${mismatchR}, bound X ${mismatchX}`);
