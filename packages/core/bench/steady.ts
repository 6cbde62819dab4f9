/**
 * Property runs of flannel VXLAN once V8 has warmed up, each measurement in a fresh process: 2,000 runs of
 * 20 events to warm up, then 1,500 measured (wall time and the process's CPU time), at both check levels.
 * `pnpm bench`'s long campaign measures the same rate after its shorter passes in one process, which makes it
 * swing more (its figures moved 1.5× between runs of the same code); this one starts every process the same way.
 *
 * `pnpm bench:steady [--processes=3] [--warmup=2000] [--runs=1500]` prints a table, writes bench-results/steady.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import type { CheckLevel } from '@podnet/testing';
import { flannelProperty } from './lib/property.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const arg = (k: string, d: string): string => process.argv.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3) ?? d;
const warmup = Number(arg('warmup', '2000'));
const runs = Number(arg('runs', '1500'));
const processes = Number(arg('processes', '3'));

interface One { checks: CheckLevel; wallRunsPerSec: number; cpuRunsPerSec: number }

/** One measurement, in this process: warm-up, then `runs` measured runs. */
function measure(checks: CheckLevel): One {
  const prop = flannelProperty(checks);
  fc.check(prop, { numRuns: warmup, seed: 7 });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const d = fc.check(prop, { numRuns: runs, seed: 9 });
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  if (d.failed) throw new Error(`flannel VXLAN failed a run (checks: ${checks}): ${String(d.errorInstance)}`);
  return { checks, wallRunsPerSec: (runs * 1000) / ms, cpuRunsPerSec: (runs * 1e6) / (cpu.user + cpu.system) };
}

const child = arg('child', '');
if (child !== '') {
  process.stdout.write(JSON.stringify(measure(child as CheckLevel)));
} else {
  const all: One[] = [];
  // The levels alternate, so that a machine slowing down or speeding up touches both alike.
  for (let p = 0; p < processes; p++) {
    for (const checks of ['at-end', 'every-change'] as const) {
      const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), `--child=${checks}`, `--warmup=${warmup}`, `--runs=${runs}`], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`the ${checks} process failed: ${r.stderr}`);
      all.push(JSON.parse(r.stdout) as One);
      process.stderr.write(`[steady] ${checks}, process ${p + 1}/${processes}: ${all.at(-1)!.wallRunsPerSec.toFixed(0)} runs/s\n`);
    }
  }
  console.log(`flannel VXLAN property runs (20 events, ≤ 6 nodes) after ${warmup} runs of warm-up, ${runs} measured, ${processes} fresh processes per level`);
  console.log('| checks | wall runs/s per process | CPU runs/s per process | target |');
  console.log('| --- | --- | --- | --- |');
  for (const checks of ['at-end', 'every-change'] as const) {
    const rows = all.filter((r) => r.checks === checks);
    console.log(`| ${checks} | ${rows.map((r) => r.wallRunsPerSec.toFixed(0)).join(', ')} | ${rows.map((r) => r.cpuRunsPerSec.toFixed(0)).join(', ')} | ≥ 1,000 |`);
  }
  const out = join(ROOT, 'bench-results', 'steady.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ warmup, runs, processes, results: all }, null, 2)}\n`);
  console.log(`wrote ${out}`);
}
