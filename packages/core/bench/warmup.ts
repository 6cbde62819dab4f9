/**
 * How fast property runs get as a campaign goes on: flannel VXLAN, 20-event runs on up to 6 nodes (the bench's
 * property figure, bench/designs.ts), played in windows of `--window` runs in one fresh process, each window
 * its own seed, and the rate of each window printed. The first windows run while V8 is still compiling (a
 * function is optimised once it has run enough bytecode, and one called a few times per run needs hundreds
 * of runs for that), so a 200-run CI campaign sees a fraction of what a long one sees.
 *
 * `--gc-at=K` forces a full collection (`gc()`, the process runs with --expose-gc) before window K, to show
 * what it costs: optimised code that embedded objects of earlier runs is thrown away with them ("weak
 * objects" in `--trace-deopt`) and compiled again.
 *
 * `pnpm bench:warmup [--windows=20] [--window=100] [--checks=at-end|every-change] [--gc-at=K]` prints one line
 * per window and writes bench-results/warmup.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CheckLevel } from '@podnet/testing';
import { flannelProperty } from './lib/property.js';
import fc from 'fast-check';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const arg = (k: string, d: string) => process.argv.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3) ?? d;
const windows = Number(arg('windows', '20'));
const size = Number(arg('window', '100'));
const checks = arg('checks', 'at-end') as CheckLevel;
const gcAt = Number(arg('gc-at', '-1'));
if (!(Number.isInteger(windows) && windows > 0 && Number.isInteger(size) && size > 0)) throw new RangeError('--windows and --window must be positive integers');
if (checks !== 'at-end' && checks !== 'every-change') throw new RangeError(`--checks must be at-end or every-change, not ${checks}`);
const gc = (globalThis as { gc?: () => void }).gc;
if (gcAt >= 0 && !gc) throw new Error('--gc-at needs node --expose-gc (pnpm bench:warmup passes it)');

const prop = flannelProperty(checks);

const rows: { window: number; firstRun: number; runsPerSec: number; gc: boolean }[] = [];
for (let w = 0; w < windows; w++) {
  if (w === gcAt) gc!();
  const t = performance.now();
  const d = fc.check(prop, { numRuns: size, seed: 1000 + w });
  if (d.failed) throw new Error(`flannel VXLAN failed a property run (window ${w}): ${String(d.errorInstance)}`);
  const runsPerSec = (size * 1000) / (performance.now() - t);
  rows.push({ window: w, firstRun: w * size, runsPerSec, gc: w === gcAt });
  console.log(`runs ${String(w * size).padStart(5)}–${String((w + 1) * size - 1).padEnd(5)} ${runsPerSec.toFixed(0).padStart(5)} runs/s${w === gcAt ? '  (after a forced gc())' : ''}`);
}
mkdirSync(join(ROOT, 'bench-results'), { recursive: true });
writeFileSync(join(ROOT, 'bench-results', 'warmup.json'), `${JSON.stringify({ schema: 'podnet-warmup-bench/1', design: 'flannel vxlan', checks, window: size, rows }, null, 2)}\n`);
