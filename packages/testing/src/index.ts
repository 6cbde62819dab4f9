/**
 * @podnet/testing — property-based testing of CNI designs with fast-check: arbitraries of what a cluster
 * goes through, model-based commands, and `checkDesign()` with shrunk counterexamples and traces.
 *
 * In a browser build (a bundler's `browser` condition) the package is `portable.ts`: all of this but the
 * worker-thread runner, `checkDesignParallel` and its helpers, which need Node.
 */
export * from './portable.js';
export type { ChunkOptions, ChunkOutcome, DesignSource, ParallelCheckOptions, ParallelCheckResult } from './parallel.js';
export { checkDesignParallel, chunkSeed, loadDesign, runChunk } from './parallel.js';
