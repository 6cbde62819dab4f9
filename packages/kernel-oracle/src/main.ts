/**
 * The kernel oracle's command line.
 *
 *   pnpm oracle [--runs N] [--faults F] [--seed S] [--path I | --fault-path I] [--design NAME]… [--concurrency C] [--no-scenarios] [--time-limit SEC] [--shrink SEC] [--require]
 *
 * --faults F: F generated topologies per design (besides the --runs ones) get 1–3 faults after the build
 * (faults.ts: links down, bounced or re-MTU'd, routes, neighbours, FDB entries deleted, ip_forward off,
 * FORWARD -j DROP); --fault-path I runs faulted topology I of the seed only.
 * Defaults: --runs 100, --faults 10, --seed 42, --concurrency 8 (topologies at a time: each spends much of its time
 * waiting for probes), --time-limit 1200. --path I runs generated topology I of the seed only (as a report
 * names it); --shrink SEC (default 120, 0 for none) lets fast-check shrink the first disagreeing generated
 * topology of each design.
 *   pnpm oracle --cleanup        remove namespaces left by oracle runs that died (prefix pno<pid>-, pid gone)
 *
 * Exit status: 0 when every comparison agreed, 1 on any disagreement (or an incomplete run), 2 on bad
 * arguments, 3 when namespaces cannot be created and --require was given (otherwise it says so loudly
 * and exits 0 having compared nothing).
 */
import fc from 'fast-check';
import { cleanupDeadRuns, installCleanup, probeFeatures, RUN_PREFIX, type Feature } from './kernel.js';
import { childCpuMs, pool, runTopology, type Disagreement, type OracleDesign, type Topology, type TopologyResult } from './oracle.js';
import { DESIGNS, faultedTopologyArb, SCENARIOS, topologyArb } from './scenarios.js';

interface Options { runs: number; faults: number; faultPath: number | null; seed: number; path: number | null; shrink: number; designs: string[]; concurrency: number; scenarios: boolean; timeLimit: number; require: boolean; cleanup: boolean }

function parse(argv: readonly string[]): Options {
  const o: Options = { runs: 100, faults: 10, faultPath: null, seed: 42, path: null, shrink: 120, designs: [], concurrency: 8, scenarios: true, timeLimit: 1200, require: false, cleanup: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${a} needs a non-negative integer`);
      return v;
    };
    if (a === '--runs') o.runs = num();
    else if (a === '--seed') o.seed = num();
    else if (a === '--path') o.path = num();
    else if (a === '--faults') o.faults = num();
    else if (a === '--fault-path') o.faultPath = num();
    else if (a === '--shrink') o.shrink = num();
    else if (a === '--concurrency') o.concurrency = Math.max(1, num());
    else if (a === '--time-limit') o.timeLimit = num();
    else if (a === '--design') o.designs.push(argv[++i] ?? '');
    else if (a === '--no-scenarios') o.scenarios = false;
    else if (a === '--require') o.require = true;
    else if (a === '--cleanup') o.cleanup = true;
    else if (a === '--') continue;
    else throw new Error(`unknown option ${a}`);
  }
  if (o.path !== null && o.faultPath !== null) throw new Error('--path and --fault-path each name one topology: give one of them');
  for (const d of o.designs) if (!DESIGNS.some((x) => x.name === d)) throw new Error(`unknown design "${d}" (known: ${DESIGNS.map((x) => x.name).join(', ')})`);
  return o;
}

/** CPU seconds spent by this process and by the programs it ran (from /proc/self/stat), for the totals. */
function cpuSeconds(): string {
  const own = process.cpuUsage();
  const children = childCpuMs();
  return `oracle ${((own.user + own.system) / 1e6).toFixed(1)} s${Number.isNaN(children) ? '' : `, programs it ran ${(children / 1000).toFixed(1)} s`}`;
}

function loud(lines: string[]): void {
  const bar = '!'.repeat(78);
  process.stdout.write(`${bar}\n${lines.map((l) => `!! ${l}`).join('\n')}\n${bar}\n`);
}

function show(d: Disagreement): string {
  return `  ✗ [${d.kind}] ${d.topology} — ${d.where}\n      podnet: ${d.podnet}\n      kernel: ${d.kernel}`;
}

async function main(): Promise<number> {
  let o: Options;
  try {
    o = parse(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`kernel-oracle: ${(e as Error).message}\n`);
    return 2;
  }
  if (o.cleanup) {
    const gone = cleanupDeadRuns();
    process.stdout.write(gone.length ? `removed ${gone.length} leftover namespaces:\n${gone.join('\n')}\n` : 'no leftovers of dead oracle runs\n');
    return 0;
  }
  installCleanup();
  const started = Date.now();
  const features = await probeFeatures();
  const netns = features.get('netns');
  if (netns !== true) {
    loud([
      'KERNEL ORACLE SKIPPED: network namespaces cannot be created here.',
      `reason: ${netns ?? 'unknown'}`,
      'NO comparison against Linux was made; nothing below is a result.',
    ]);
    return o.require ? 3 : 0;
  }
  const designs = DESIGNS.filter((d) => (o.designs.length === 0 ? d.open === undefined : o.designs.includes(d.name)));
  const open = DESIGNS.filter((d) => d.open !== undefined && !designs.includes(d));
  if (open.length) loud(['DESIGNS WITH AN OPEN DISAGREEMENT, NOT RUN (run them with --design NAME):', ...open.map((d) => `${d.name}: ${d.open!}`)]);
  const usable: OracleDesign[] = [];
  const skipped: string[] = [];
  for (const d of designs) {
    const missing = (['ping', 'traceroute', ...d.needs] as Feature[]).filter((f) => features.get(f) !== true);
    if (missing.length) skipped.push(`${d.name}: ${missing.map((f) => `${f} (${String(features.get(f))})`).join('; ')}`);
    else usable.push(d);
  }
  if (skipped.length) loud(['DESIGNS SKIPPED (the kernel here lacks what their rendering needs; NOT compared):', ...skipped]);

  process.stdout.write(`kernel-oracle: prefix ${RUN_PREFIX}, seed ${o.seed}, ${o.runs} generated and ${o.faults} faulted topologies per design, ${o.concurrency} at a time\n`);
  type Job = { design: OracleDesign; topo: Topology; path?: number; faulted?: boolean };
  const one = o.path !== null || o.faultPath !== null;
  const perDesign: Job[][] = [];
  const sample = o.runs > 0 && o.faultPath === null ? fc.sample(topologyArb(), { seed: o.seed, numRuns: o.path === null ? o.runs : Math.max(o.runs, o.path + 1) }) : [];
  const faultedSample = o.path === null && (o.faults > 0 || o.faultPath !== null) ? fc.sample(faultedTopologyArb(), { seed: o.seed, numRuns: o.faultPath === null ? o.faults : o.faultPath + 1 }) : [];
  for (const d of usable) {
    const mine: Job[] = [];
    if (o.scenarios && !one) for (const s of SCENARIOS) if (!s.designs || s.designs.includes(d.name)) mine.push({ design: d, topo: { ...s.topology, listEveryFdb: true } });
    sample.forEach((t, i) => {
      if (o.faultPath === null && (o.path === null || o.path === i)) mine.push({ design: d, topo: { ...t, label: `generated #${i} (--seed ${o.seed} --path ${i})` }, path: i });
    });
    faultedSample.forEach((t, i) => {
      if (o.faultPath === null || o.faultPath === i) mine.push({ design: d, topo: { ...t, label: `faulted #${i} (--seed ${o.seed} --fault-path ${i})` }, path: i, faulted: true });
    });
    perDesign.push(mine);
  }
  // Designs take turns, so a time limit leaves every design equally short rather than the last ones out.
  const jobs: Job[] = [];
  for (let i = 0; perDesign.some((m) => i < m.length); i++) for (const m of perDesign) if (i < m.length) jobs.push(m[i]!);
  const results = new Map<string, TopologyResult[]>();
  let done = 0;
  let timedOut = false;
  const deadline = started + o.timeLimit * 1000;
  const all = await pool(o.concurrency, jobs.map((j, i) => async () => {
    if (Date.now() > deadline) {
      timedOut = true;
      return null;
    }
    const r = await runTopology(j.design, j.topo, `${RUN_PREFIX}${i.toString(36)}-`);
    done++;
    if (r.disagreements.length) process.stdout.write(`${r.disagreements.map(show).join('\n')}\n`);
    if (done % 10 === 0) process.stdout.write(`  … ${done}/${jobs.length} topologies (${Math.round((Date.now() - started) / 1000)} s)\n`);
    return { design: j.design.name, r, path: j.path, faulted: j.faulted === true };
  }));
  const generated = new Map<string, number>();
  const faultedRun = new Map<string, number>();
  for (const x of all) {
    if (!x) continue;
    results.set(x.design, [...(results.get(x.design) ?? []), x.r]);
    if (x.path !== undefined && !x.faulted) generated.set(x.design, (generated.get(x.design) ?? 0) + 1);
    if (x.faulted) faultedRun.set(x.design, (faultedRun.get(x.design) ?? 0) + 1);
  }

  // The first failing generated topology of each design, shrunk by fast-check to a smallest one that
  // still disagrees (each try is a kernel run; bounded by --shrink seconds).
  for (const d of usable) for (const fam of [false, true]) {
    const first = all.find((x) => x && x.design === d.name && x.path !== undefined && x.faulted === fam && x.r.disagreements.length > 0);
    if (!first || o.shrink === 0) continue;
    const flag = fam ? '--fault-path' : '--path';
    const arb = fam ? faultedTopologyArb() : topologyArb();
    // Shrinking stays within --time-limit too.
    const budget = Math.min(o.shrink * 1000, deadline - Date.now());
    if (budget < 5000) {
      process.stdout.write(`\nnot shrinking ${d.name} ${fam ? 'faulted' : 'generated'} #${first.path!}: the time limit is reached (replay it with --seed ${o.seed} ${flag} ${first.path!})\n`);
      continue;
    }
    process.stdout.write(`\nshrinking ${d.name} ${fam ? 'faulted' : 'generated'} #${first.path!} (up to ${Math.round(budget / 1000)} s)…\n`);
    let tries = 0;
    const out = await fc.check(fc.asyncProperty(arb, async (t) => {
      const r = await runTopology(d, { ...t, label: `shrink ${tries}` }, `${RUN_PREFIX}z${(tries++).toString(36)}-`);
      return r.disagreements.length === 0;
    }), { seed: o.seed, path: String(first.path!), numRuns: 1, interruptAfterTimeLimit: budget, markInterruptAsFailure: false });
    if (out.failed && out.counterexample) {
      const [t] = out.counterexample;
      process.stdout.write(`smallest disagreeing topology after ${tries} kernel runs (replay: --seed ${o.seed} ${flag} ${first.path!}):\n${JSON.stringify({ settings: t.settings, nodes: t.nodes, pods: t.pods, churn: t.churn, ...(t.faults ? { faults: t.faults } : {}) }, null, 1)}\n`);
    } else process.stdout.write(`shrinking stopped after ${tries} kernel runs without a smaller case${out.interrupted ? ' (time limit)' : ''}\n`);
  }

  let total = 0;
  process.stdout.write('\nkernel-oracle totals (podnet against Linux network namespaces):\n');
  for (const d of usable) {
    const rs = results.get(d.name) ?? [];
    const n = rs.reduce((s, r) => s + r.disagreements.length, 0);
    total += n;
    const kinds = new Map<string, number>();
    for (const r of rs) for (const x of r.disagreements) kinds.set(x.kind, (kinds.get(x.kind) ?? 0) + 1);
    const g = generated.get(d.name) ?? 0;
    const fl = faultedRun.get(d.name) ?? 0;
    process.stdout.write(`  ${d.name.padEnd(23)} ${String(g).padStart(4)} generated + ${fl} faulted + ${rs.length - g - fl} fixed topologies, ${String(rs.reduce((s, r) => s + r.probes, 0)).padStart(6)} probes, ${String(rs.reduce((s, r) => s + r.tables, 0)).padStart(5)} tables compared (${rs.reduce((s, r) => s + (r.fdbKnownEmpty ?? 0), 0)} FDBs of veth-only namespaces not listed; ${rs.reduce((s, r) => s + (r.retried ?? 0), 0)} probes asked twice), ${n} disagreements${kinds.size ? ` (${[...kinds].map(([k, c]) => `${k}: ${c}`).join(', ')})` : ''}\n`);
  }
  for (const s of skipped) process.stdout.write(`  SKIPPED ${s}\n`);
  process.stdout.write(`  ${Math.round((Date.now() - started) / 1000)} s of wall time; CPU: ${cpuSeconds()}\n`);
  if (timedOut) {
    const expected = o.faultPath !== null ? 0 : o.path === null ? o.runs : 1;
    const expectedFaulted = o.path !== null ? 0 : o.faultPath === null ? o.faults : 1;
    loud([
      `TIME LIMIT (${o.timeLimit} s) reached: ${jobs.length - done} topologies NOT compared; this run is INCOMPLETE.`,
      ...usable.filter((d) => (generated.get(d.name) ?? 0) < expected).map((d) => `${d.name}: ${generated.get(d.name) ?? 0} of ${expected} generated topologies compared`),
      ...usable.filter((d) => (faultedRun.get(d.name) ?? 0) < expectedFaulted).map((d) => `${d.name}: ${faultedRun.get(d.name) ?? 0} of ${expectedFaulted} faulted topologies compared`),
    ]);
    return 1;
  }
  if (usable.length === 0) {
    loud(['No design could be rendered on this kernel: NOTHING was compared.']);
    return o.require ? 3 : 0;
  }
  process.stdout.write(total === 0 ? 'kernel-oracle: podnet and Linux agree on everything compared.\n' : `kernel-oracle: ${total} disagreements.\n`);
  return total === 0 ? 0 : 1;
}

main().then((code) => { process.exitCode = code; }, (e: unknown) => {
  process.stderr.write(`kernel-oracle: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exitCode = 1;
});
