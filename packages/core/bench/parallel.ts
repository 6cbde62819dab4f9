/**
 * What worker threads give a long campaign: `checkDesignParallel` of flannel VXLAN with `workers: 0` (every
 * chunk in this thread), 1 and 2, at both check levels (each row its own seed) — wall-clock runs per second and the CPU the process
 * used (V8's garbage collector and compiler run on background threads, so one campaign thread already keeps
 * more than one core busy). The verdict is the same for every worker count; the figures are what changes.
 *
 * `pnpm bench:parallel [--runs=6000] [--workers=0,1,2]` prints a table, writes bench-results/parallel.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkDesignParallel, type CheckLevel } from '@podnet/testing';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const arg = (k: string, d: string) => process.argv.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3) ?? d;
const runs = Number(arg('runs', '6000'));
const counts = arg('workers', '0,1,2').split(',').map(Number);

interface Row { checks: CheckLevel; workers: number; runs: number; ms: number; cpuMs: number; runsPerSec: number }
const rows: Row[] = [];
for (const checks of ['at-end', 'every-change'] as const) {
  for (const workers of counts) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    // A seed of its own per row: this thread's memos (the designs' reactions, keyed by what they read) would
    // otherwise give a row the runs of an earlier row for free.
    const seed = rows.length + 1;
    const r = await checkDesignParallel({ module: '@podnet/cni', export: 'flannel', args: [{ backend: 'vxlan' }] }, { numRuns: runs, chunkRuns: 250, workers, checks, seed });
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    if (!r.ok) throw new Error(`flannel VXLAN failed a run: ${String(r)}`);
    rows.push({ checks, workers, runs: r.runs, ms, cpuMs: (cpu.user + cpu.system) / 1000, runsPerSec: (r.runs * 1000) / ms });
    process.stderr.write(`[parallel] ${checks}, workers ${workers}: ${rows.at(-1)!.runsPerSec.toFixed(0)} runs/s\n`);
  }
}
console.log(`checkDesignParallel, flannel VXLAN, ${runs} runs of up to 20 events, chunks of 250, ${os.availableParallelism()} cores`);
console.log('| checks | workers | wall s | CPU s | runs/s |');
console.log('| --- | --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.checks} | ${r.workers} | ${(r.ms / 1000).toFixed(2)} | ${(r.cpuMs / 1000).toFixed(2)} | ${r.runsPerSec.toFixed(0)} |`);
mkdirSync(join(ROOT, 'bench-results'), { recursive: true });
writeFileSync(join(ROOT, 'bench-results', 'parallel.json'), `${JSON.stringify({ schema: 'podnet-parallel-bench/1', node: process.version, cpu: os.cpus()[0]?.model, cores: os.availableParallelism(), date: new Date().toISOString(), rows }, null, 2)}\n`);
