/** Heap measurement shared by the benchmark sections. */
import v8 from 'node:v8';

// Forced GCs age bytecode, and V8 then flushes functions not run lately: the heap baseline drops and
// the code comes back, recompiled, inside the measured difference (noise of ~1 MiB, larger than a small
// node-only build). Keep bytecode for the whole run.
v8.setFlagsFromString('--no-flush-bytecode');
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) console.error('warning: run with --expose-gc (pnpm bench does): heap figures are unavailable without it');

/**
 * `heapUsed` after full GCs. Two back-to-back `gc()` calls are not enough: V8 keeps recently used maps
 * (hidden classes) alive for two more GCs (--retain-maps-for-n-gc=2), and through them a whole dropped
 * cluster state was seen to survive both (16 MiB of 25 MiB at 100 nodes; gone at the third). So collect
 * until the figure stops falling (by less than 64 KiB), at least three and at most eight times.
 */
export function heapNow(): number | null {
  if (!gc) return null;
  gc();
  gc();
  let prev = process.memoryUsage().heapUsed;
  for (let i = 0; i < 6; i++) {
    gc();
    const h = process.memoryUsage().heapUsed;
    if (prev - h < 64 * 1024) return Math.min(prev, h);
    prev = h;
  }
  return prev;
}

