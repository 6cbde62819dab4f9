/**
 * `checkDesignParallel(source, options)`: a long {@link checkDesign} campaign spread over worker threads.
 *
 * fast-check runs one property in one thread. A campaign of many runs is split here into chunks of
 * `chunkRuns` runs, chunk `i` a campaign of its own with a seed derived from the campaign's seed and `i`;
 * workers take the chunks in order. The verdict is the first failing chunk's (by index, not by time), so it
 * is the same for any number of workers, `workers: 0` (every chunk in the calling thread) included, and the
 * counterexample replays in one thread with plain `checkDesign(design, { seed, path, replayPath })`.
 *
 * A worker cannot be handed a design (it holds functions), so it is named by the module that exports it:
 * `{ module: '@podnet/cni', export: 'flannel', args: [{ backend: 'vxlan' }] }`.
 */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CniDesign, Step, Trace } from '@podnet/core';
import { checkDesign, formatCounterexample, validateCampaign, type CheckDesignOptions, type CheckDesignResult, type Counterexample } from './check-design.js';

/**
 * Where a worker finds the design: a module (a bare specifier that `@podnet/testing` can resolve, a
 * `file:` URL or an absolute path) and the name of its export — a design, or a function that returns one
 * when called with `args` (JSON values). A dotted name reaches into an exported object
 * (`broken.missingRoutes`).
 */
export interface DesignSource {
  readonly module: string;
  /** Default `default`. */
  readonly export?: string;
  /** Arguments of the factory (structured-cloneable: plain data). Default none. */
  readonly args?: readonly unknown[];
}

/** Options of {@link checkDesignParallel}: {@link CheckDesignOptions} as data, plus how to split the work. */
export interface ParallelCheckOptions extends Omit<CheckDesignOptions, 'path' | 'replayPath' | 'onProgress'> {
  /**
   * Worker threads. Default: one fewer than the machine's cores (`os.availableParallelism() - 1`, at least
   * 1), at most the chunks.
   * `0` runs every chunk in the calling thread (the same verdict; a reference and a fallback).
   */
  readonly workers?: number;
  /** Runs per chunk. Default 500. The verdict depends on it (it fixes the chunks' seeds), not on `workers`. */
  readonly chunkRuns?: number;
  /** Called as chunks finish, with the runs done so far over all workers. */
  readonly onProgress?: (p: { readonly runs: number; readonly numRuns: number; readonly elapsedMs: number; readonly chunks: number; readonly chunksDone: number }) => void;
}

/** The verdict of {@link checkDesignParallel}: {@link CheckDesignResult}, plus which chunk failed. */
export type ParallelCheckResult =
  | (Extract<CheckDesignResult, { ok: true }> & { readonly chunks: number; readonly workers: number })
  | (Extract<CheckDesignResult, { ok: false }> & {
    readonly chunks: number;
    readonly workers: number;
    /** The failing chunk's index; `seed` is that chunk's seed (what `checkDesign` replays with). */
    readonly chunk: number;
    /** The campaign's own seed (the chunk seeds derive from it). */
    readonly campaignSeed: number;
  });

/** The seed of chunk `index` of a campaign seeded `seed` (a 32-bit mix: nearby seeds and chunks give unrelated seeds). */
export function chunkSeed(seed: number, index: number): number {
  let h = Math.imul((seed | 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

/** What a chunk reports (crosses the thread boundary: plain data only). */
export type ChunkOutcome =
  | { readonly ok: true; readonly runs: number }
  | { readonly ok: false; readonly runs: number; readonly seed: number; readonly path: string; readonly replayPath: string; readonly counterexample: Counterexample; readonly design: string };

/** The options one chunk runs with (`CheckDesignOptions` minus what cannot cross a thread). */
export type ChunkOptions = Omit<ParallelCheckOptions, 'workers' | 'chunkRuns' | 'onProgress'>;

/** Runs chunk `index` of a campaign in this thread. What a worker does with each chunk it is given. */
export function runChunk(design: CniDesign, options: ChunkOptions, index: number, numRuns: number): ChunkOutcome {
  const seed = chunkSeed(options.seed ?? 1, index);
  const r = checkDesign(design, { ...options, seed, numRuns });
  if (r.ok) return { ok: true, runs: r.runs };
  const cx = r.counterexample;
  const counterexample = { ...cx, trace: plainTrace(cx.trace), violation: cx.violation?.trace ? { ...cx.violation, trace: plainTrace(cx.violation.trace)! } : cx.violation };
  return { ok: false, runs: r.runs, seed, path: r.path, replayPath: r.replayPath, counterexample, design: design.name };
}

/**
 * A trace as plain data that survives a thread crossing (structured clone): a step's note is computed when
 * read (an accessor the clone would not carry), so each step is copied field by field.
 */
function plainTrace(t: Trace | null): Trace | null {
  if (t === null) return null;
  const steps = t.steps.map((s): Step => ({ index: s.index, packet: s.packet, ns: s.ns, dev: s.dev, kind: s.kind, note: s.note, frame: s.frame, ip: s.ip }));
  return { ...t, steps };
}

/**
 * Loads the design a {@link DesignSource} names. Rejects with a TypeError that says what was missing when
 * the module or export is not there or is not a design.
 */
export async function loadDesign(source: DesignSource): Promise<CniDesign> {
  checkSource(source);
  const spec = isAbsolute(source.module) ? pathToFileURL(source.module).href : source.module;
  let mod: Record<string, unknown>;
  try {
    mod = await import(spec) as Record<string, unknown>;
  } catch (e) {
    throw new TypeError(`design module ${source.module} could not be loaded: ${e instanceof Error ? e.message : String(e)}. Hint: give a file: URL or an absolute path for a module of your own (new URL('./my-design.js', import.meta.url).href), or a package @podnet/testing can resolve.`);
  }
  const name = source.export ?? 'default';
  let v: unknown = mod;
  for (const part of name.split('.')) v = v !== null && typeof v === 'object' || typeof v === 'function' ? (v as Record<string, unknown>)[part] : undefined;
  if (v === undefined) throw new TypeError(`design module ${source.module} has no export ${name}. Hint: export the design (or a function that returns it) and name it in 'export'.`);
  const design = typeof v === 'function' ? (v as (...a: unknown[]) => unknown)(...(source.args ?? [])) : v;
  if (!design || typeof (design as CniDesign).podAdded !== 'function') throw new TypeError(`${source.module} ${name}${typeof v === 'function' ? '(…)' : ''} is not a CNI design (no podAdded). Hint: name a design like flannel() from @podnet/cni, or a function returning one.`);
  return design as CniDesign;
}

function checkSource(source: DesignSource): void {
  if (!source || typeof source !== 'object' || typeof source.module !== 'string' || source.module === '') {
    throw new TypeError("checkDesignParallel needs where a worker finds the design: { module: '@podnet/cni', export: 'flannel' }");
  }
  if (source.export !== undefined && (typeof source.export !== 'string' || source.export === '')) throw new TypeError(`export must be a non-empty name, not ${String(source.export)}`);
  if (source.args !== undefined && !Array.isArray(source.args)) throw new TypeError('args must be an array of plain values (the factory\'s arguments)');
}

/** The worker script: the built one beside this module, or the package's dist/ when this runs from source. */
function workerUrl(): URL {
  const here = import.meta.url;
  const url = here.endsWith('.ts') ? new URL('../dist/worker.js', here) : new URL('./worker.js', here);
  if (!existsSync(fileURLToPath(url))) throw new Error(`@podnet/testing: ${fileURLToPath(url)} is missing. Hint: build the workspace first (pnpm build).`);
  return url;
}

/**
 * The worker's Node flags: this thread's, less a `--conditions` that points imports at TypeScript sources
 * (set when running from source, as under vitest): the worker script is built JavaScript, and so must be
 * what it imports.
 */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if ((a === '--conditions' || a === '-C') && argv[i + 1] === '@podnet/source') i += 1;
    else if (a !== '--conditions=@podnet/source' && a !== '-C=@podnet/source') out.push(a);
  }
  return out;
}

/** One chunk's work as the scheduler hands it out. */
interface Task { readonly index: number; readonly numRuns: number }

/**
 * Runs a campaign of `numRuns` runs (default 100) over worker threads and returns the same verdict as
 * {@link checkDesign} would give for one of its chunks: `ok`, or the first failing chunk's shrunk
 * counterexample, printable and replayable in one thread. Bad options reject with a RangeError or TypeError
 * before any worker starts.
 */
export async function checkDesignParallel(source: DesignSource, options: ParallelCheckOptions = {}): Promise<ParallelCheckResult> {
  checkSource(source);
  // A replay path belongs to one chunk's campaign (replay it with checkDesign); it is not passed on.
  const { workers: w, chunkRuns: cr, onProgress, ...rest } = options as ParallelCheckOptions & { path?: unknown; replayPath?: unknown };
  const { path: _path, replayPath: _replayPath, ...chunkOptions } = rest;
  const numRuns = options.numRuns ?? 100;
  const chunkRuns = cr ?? 500;
  const seed = options.seed ?? 1;
  if (!Number.isInteger(numRuns) || numRuns < 1) throw new RangeError(`numRuns must be a positive integer, not ${String(options.numRuns)}`);
  if (!Number.isInteger(chunkRuns) || chunkRuns < 1) throw new RangeError(`chunkRuns must be a positive integer, not ${String(cr)}`);
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, not ${String(options.seed)}`);
  // The rest of the options are checked here as checkDesign checks them, before any worker starts.
  validateCampaign(chunkOptions);
  const chunks = Math.ceil(numRuns / chunkRuns);
  // One core fewer than the machine has: a campaign thread keeps more than one core busy (V8 collects and
  // compiles on background threads), so on 2 cores a second worker only slows the first (bench:parallel).
  const workers = w ?? Math.max(1, Math.min(chunks, availableParallelism() - 1));
  if (!Number.isInteger(workers) || workers < 0 || workers > 256) throw new RangeError(`workers must be an integer from 0 to 256, not ${String(w)}`);
  const used = Math.min(workers, chunks);
  const tasks: Task[] = Array.from({ length: chunks }, (_, i) => ({ index: i, numRuns: Math.min(chunkRuns, numRuns - i * chunkRuns) }));
  const outcomes: (ChunkOutcome | undefined)[] = new Array(chunks);
  const t0 = performance.now();
  let done = 0;
  let runsDone = 0;
  const finished = (i: number, o: ChunkOutcome): void => {
    outcomes[i] = o;
    done += 1;
    runsDone += o.runs;
    onProgress?.({ runs: runsDone, numRuns, elapsedMs: performance.now() - t0, chunks, chunksDone: done });
  };
  // The first chunk that failed, by index: chunks after it need not run (and are stopped).
  const firstFailure = (): number => outcomes.findIndex((o) => o !== undefined && !o.ok);
  const settled = (): boolean => {
    const f = firstFailure();
    const upTo = f === -1 ? chunks : f;
    for (let i = 0; i < upTo; i++) if (outcomes[i] === undefined) return false;
    return true;
  };

  if (workers === 0) {
    const design = await loadDesign(source);
    for (const t of tasks) {
      finished(t.index, runChunk(design, chunkOptions, t.index, t.numRuns));
      if (!outcomes[t.index]!.ok) break;
    }
  } else {
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      const pool: Worker[] = [];
      let closed = false;
      const close = (err?: unknown): void => {
        if (closed) return;
        closed = true;
        for (const wk of pool) void wk.terminate();
        if (err !== undefined) reject(err);
        else resolve();
      };
      const give = (wk: Worker): void => {
        const f = firstFailure();
        if (next < chunks && (f === -1 || next < f)) {
          wk.postMessage({ type: 'chunk', index: tasks[next]!.index, numRuns: tasks[next]!.numRuns });
          next += 1;
        } else if (settled()) {
          close();
        }
      };
      let url: URL;
      try {
        url = workerUrl();
      } catch (e) {
        close(e);
        return;
      }
      for (let k = 0; k < used; k++) {
        const wk = new Worker(url, { workerData: { source, options: chunkOptions }, execArgv: workerExecArgv() });
        pool.push(wk);
        wk.on('message', (m: { type: 'done'; index: number; outcome: ChunkOutcome } | { type: 'error'; message: string; name: string }) => {
          if (closed) return;
          if (m.type === 'error') {
            const E = m.name === 'RangeError' ? RangeError : TypeError;
            close(new E(m.message));
            return;
          }
          finished(m.index, m.outcome);
          if (settled()) close();
          else give(wk);
        });
        wk.on('error', (e) => close(e));
        wk.on('exit', (code) => { if (!closed && code !== 0) close(new Error(`a checkDesignParallel worker exited with code ${code}`)); });
        give(wk);
      }
    });
  }

  const f = firstFailure();
  if (f === -1) return { ok: true, runs: runsDone, seed, chunks, workers: used };
  const o = outcomes[f] as Extract<ChunkOutcome, { ok: false }>;
  let runs = o.runs;
  for (let i = 0; i < f; i++) runs += outcomes[i]!.runs;
  const checks = options.checks ?? 'every-change';
  return {
    ok: false, runs, seed: o.seed, path: o.path, replayPath: o.replayPath, counterexample: o.counterexample,
    chunks, workers: used, chunk: f, campaignSeed: seed,
    toString: () => `${formatCounterexample(o.design, { seed: o.seed, path: o.path, replayPath: o.replayPath, checks }, runs, o.counterexample)}\n(chunk ${f} of a ${numRuns}-run campaign, seed ${seed}, ${chunkRuns} runs per chunk)`,
  };
}
