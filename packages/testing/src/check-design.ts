/**
 * `checkDesign(design)`: a seeded fast-check campaign over cluster shapes and event sequences that
 * either finds nothing wrong or returns the smallest sequence it could shrink to, with the broken
 * promise and the packet trace that shows it — printable, and replayable from its seed and path.
 */
import type { CniDesign, Trace, Violation } from '@podnet/core';
import fc from 'fast-check';
import { clusterCommands } from './commands.js';
import { clusterShapeArb, describeValue, type ClusterShape, type EventOptions, type ShapeOptions } from './events.js';
import { formatTrace } from './format.js';
import { ClusterRun, DesignFailure, DesignThrew, describeThrown, type CheckLevel, type FailureKind } from './runner.js';

/** Options of {@link checkDesign}. */
export interface CheckDesignOptions extends EventOptions, ShapeOptions {
  /** fast-check seed. Default 1: the same campaign every time (pass `Date.now()` to explore). */
  readonly seed?: number;
  /** Replays one counterexample: the `path` a failed result printed (with its seed and replayPath). */
  readonly path?: string;
  /** With `path`: which of the counterexample's commands ran (fast-check's commands replay path). */
  readonly replayPath?: string;
  /** Runs (event sequences) to try. Default 100. */
  readonly numRuns?: number;
  /** Events per sequence at most. Default 20. */
  readonly maxEvents?: number;
  /** Nodes at most. Default 6. */
  readonly maxNodes?: number;
  /**
   * What is checked when (see {@link CheckLevel}): `every-change` (default) judges every guarantee exactly
   * after every event; `at-end` judges unique IPs after every event, the packets of the sequence as they
   * go, and every guarantee on the final state — ~1.5× the runs per second (6× fewer probes), but it can
   * miss a violation that a later event of the same sequence removes.
   */
  readonly checks?: CheckLevel;
  /** Called every `progressEvery` runs (default 100) with how far the campaign is (for long campaigns). */
  readonly onProgress?: (p: { readonly runs: number; readonly numRuns: number; readonly elapsedMs: number; readonly shrinking: boolean }) => void;
  readonly progressEvery?: number;
}

/** The smallest failing case found. */
export interface Counterexample {
  readonly shape: ClusterShape;
  /** The events as they ran, with the names they resolved to; the one that failed last. */
  readonly events: readonly string[];
  /**
   * What broke: a guarantee, the MTU, or `error` when the design threw on a valid event (or the simulator
   * refused the actions it answered with): then `events` end with that event, marked `→ threw`, and
   * `explanation` gives the error's code, message and hint.
   */
  readonly kind: FailureKind | 'error';
  readonly explanation: string;
  /**
   * How it was found: right after the last event (`after-event`), or by the full audit that ends the
   * sequence at the `at-end` check level (`end-of-sequence`; the events shown then stop at the one after
   * which the exact checks first see a violation, found by playing the sequence again).
   */
  readonly found: 'after-event' | 'end-of-sequence';
  readonly violation: Violation | null;
  /** The packet that showed it, hop by hop. */
  readonly trace: Trace | null;
  /** What the trace leaves unsaid (an ARP request nobody answered, and why), one line each; often empty. */
  readonly why: readonly string[];
}

/** The verdict of {@link checkDesign}. */
export type CheckDesignResult =
  | { readonly ok: true; readonly runs: number; readonly seed: number; /** `<design> keeps the network model over N runs (seed S)` (not enumerable). */ toString(): string }
  | { readonly ok: false; readonly runs: number; readonly seed: number; readonly path: string; readonly replayPath: string; readonly counterexample: Counterexample; toString(): string };

/**
 * Throws the RangeError or TypeError {@link checkDesign} would for these options (run counts, node limit,
 * check level, and what the shape and event arbitraries reject), without running anything.
 */
export function validateCampaign(options: Omit<CheckDesignOptions, 'onProgress'>): void {
  if (options === null || typeof options !== 'object') throw new TypeError(`checkDesign options must be an object, not ${describeValue(options)}`);
  const o = options as CheckDesignOptions;
  if (o.seed !== undefined && !Number.isSafeInteger(o.seed)) throw new RangeError(`seed must be an integer, not ${describeValue(o.seed)}`);
  for (const k of ['path', 'replayPath'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'string') throw new TypeError(`${k} must be the string a counterexample printed, not ${describeValue(o[k])}`);
  }
  if (o.maxEvents !== undefined && (!Number.isInteger(o.maxEvents) || o.maxEvents < 0)) throw new RangeError(`maxEvents must be a non-negative integer, not ${describeValue(o.maxEvents)}`);
  if (o.progressEvery !== undefined && (!Number.isInteger(o.progressEvery) || o.progressEvery < 1)) throw new RangeError(`progressEvery must be a positive integer, not ${describeValue(o.progressEvery)}`);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw new TypeError(`onProgress must be a function, not ${describeValue(o.onProgress)}`);
  const numRuns = options.numRuns ?? 100;
  const maxNodes = options.maxNodes ?? 6;
  if (!Number.isInteger(numRuns) || numRuns < 1) throw new RangeError(`numRuns must be a positive integer, not ${String(options.numRuns)}`);
  if (!Number.isInteger(maxNodes) || maxNodes < 1 || maxNodes > 64) throw new RangeError(`maxNodes must be an integer from 1 to 64, not ${String(options.maxNodes)}`);
  const checks = options.checks ?? 'every-change';
  if (checks !== 'every-change' && checks !== 'at-end') throw new RangeError(`checks must be every-change or at-end, not ${String(options.checks)}`);
  clusterShapeArb(options);
  clusterCommands(options);
}

/** Runs a campaign against a design. Deterministic: the same seed gives the same runs and counterexample. */
export function checkDesign(design: CniDesign, options: CheckDesignOptions = {}): CheckDesignResult {
  if (design === null || typeof design !== 'object' || typeof design.name !== 'string' || (['nodeAdded', 'nodeRemoved', 'podAdded', 'podDeleted'] as const).some((k) => typeof design[k] !== 'function')) {
    throw new TypeError('checkDesign needs a CNI design (a name and nodeAdded, nodeRemoved, podAdded, podDeleted), e.g. flannel() from @podnet/cni');
  }
  validateCampaign(options);
  const seed = options.seed ?? 1;
  const numRuns = options.numRuns ?? 100;
  const maxNodes = options.maxNodes ?? 6;
  const checks = options.checks ?? 'every-change';
  const every = options.progressEvery ?? 100;
  const t0 = performance.now();
  let runs = 0;
  let failed = false;
  const prop = fc.property(
    clusterShapeArb(options),
    // 'medium': sequence lengths spread over 0 … maxEvents (fast-check's default size keeps most below 5).
    fc.commands(clusterCommands(options), { maxCommands: options.maxEvents ?? 20, size: 'medium', ...(options.replayPath !== undefined ? { replayPath: options.replayPath } : {}) }),
    (shape, cmds) => {
      runs += 1;
      if (options.onProgress && runs % every === 0) options.onProgress({ runs, numRuns, elapsedMs: performance.now() - t0, shrinking: failed });
      const run = new ClusterRun(design, shape, { maxNodes, checks });
      try {
        fc.modelRun(() => ({ model: {}, real: run }), cmds);
        run.finish();
      } catch (e) {
        failed = true;
        throw e;
      }
    },
  );
  const details = fc.check(prop, { seed, numRuns, ...(options.path !== undefined ? { path: options.path } : {}) });
  if (!details.failed || details.counterexample === null) {
    // A verdict that prints as one, as the failed one does (`String(r)`, a template literal), without
    // changing what console.log or toEqual see: toString is not enumerable.
    const ok = { ok: true as const, runs: details.numRuns, seed };
    const level = checks === 'at-end' ? ', checks: at-end' : '';
    const text = options.path !== undefined
      ? `${design.name}: the counterexample at seed ${seed}, path '${options.path}' no longer fails${level}`
      : `${design.name} keeps the network model over ${details.numRuns} run${details.numRuns === 1 ? '' : 's'} (seed ${seed}${level})`;
    return Object.defineProperty(ok, 'toString', { value: () => text, enumerable: false });
  }
  const [shape, cmds] = details.counterexample;
  const replayPath = /replayPath="([^"]*)"/.exec(String(cmds))?.[1] ?? '';
  const err = details.errorInstance;
  const cx: Counterexample = err instanceof DesignFailure
    ? { shape, events: err.events, kind: err.kind, explanation: err.explanation, found: err.atEnd ? 'end-of-sequence' : 'after-event', violation: err.violation, trace: err.trace, why: err.why }
    : err instanceof DesignThrew
      ? { shape, events: err.events, kind: 'error', explanation: describeThrown(err.cause), found: 'after-event', violation: null, trace: null, why: [] }
      : { shape, events: [], kind: 'error', explanation: describeThrown(err), found: 'after-event', violation: null, trace: null, why: [] };
  const path = details.counterexamplePath ?? '';
  const result = {
    ok: false as const, runs: details.numRuns, seed, path, replayPath, counterexample: cx,
    toString: () => formatCounterexample(design.name, { seed, path, replayPath, checks, replayed: options.path !== undefined }, details.numRuns, cx),
  };
  return result;
}

/** The counterexample as a person reads it: cluster, events, what broke, the packet, how to replay. */
export function formatCounterexample(design: string, replay: { readonly seed: number; readonly path: string; readonly replayPath: string; readonly checks?: CheckLevel; readonly replayed?: boolean }, runs: number, cx: Counterexample): string {
  const segs = cx.shape.underlay.segments.map((s) => `${s.name} ${s.cidr}`).join(', ');
  const events = `${cx.events.length} event${cx.events.length === 1 ? '' : 's'}`;
  // A replay runs the counterexample once: "found after 1 run" would read as a different campaign's verdict.
  const how = replay.replayed ? `replayed from its seed and path: ${events}` : `found after ${runs} run${runs === 1 ? '' : 's'}, shrunk to ${events}`;
  const lines = [
    `${design} breaks the network model (${how})`,
    `cluster: pod CIDR ${cx.shape.podCidr}, /${cx.shape.nodeCidrMaskSize} per node, underlay ${segs}`,
    'events:',
    ...cx.events.map((e, i) => `  ${i + 1}. ${e}`),
    `broken: ${cx.kind}: ${cx.explanation}`,
  ];
  if (cx.found === 'end-of-sequence') lines.push('found by: the full audit at the end of the sequence (checks: at-end), then located by playing it again with exact checks');
  if (cx.trace) lines.push('trace:', ...formatTrace(cx.trace).map((l) => `  ${l}`));
  // `?? []`: a counterexample made before `why` existed (or by hand) prints as it did.
  for (const w of cx.why ?? []) lines.push(`why: ${w}`);
  const level = replay.checks === 'at-end' ? `, checks: 'at-end'` : '';
  lines.push(`replay: checkDesign(design, { seed: ${replay.seed}, path: '${replay.path}', replayPath: '${replay.replayPath}'${level} })`);
  return lines.join('\n');
}
