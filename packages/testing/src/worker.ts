/**
 * A worker thread of {@link checkDesignParallel}: loads the design once, then runs each chunk it is given
 * (`runChunk`, the same call the calling thread makes with `workers: 0`) and posts its outcome back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadDesign, runChunk, type ChunkOptions, type DesignSource } from './parallel.js';

const port = parentPort;
if (port) {
  const { source, options } = workerData as { source: DesignSource; options: ChunkOptions };
  const fail = (e: unknown): void => {
    port.postMessage({ type: 'error', name: e instanceof Error ? e.name : 'Error', message: e instanceof Error ? e.message : String(e) });
  };
  const ready = loadDesign(source);
  ready.catch(fail);
  port.on('message', (m: { type: 'chunk'; index: number; numRuns: number }) => {
    ready.then((design) => {
      port.postMessage({ type: 'done', index: m.index, outcome: runChunk(design, options, m.index, m.numRuns) });
    }, () => undefined).catch(fail);
  });
}
