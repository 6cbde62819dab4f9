/**
 * checkDesignParallel as a long campaign's user relies on it: the verdict does not depend on how many
 * workers ran it, a counterexample found in a worker replays in one thread with plain checkDesign, and
 * bad input is refused before any worker starts. The workers run the built dist/worker.js (the test
 * command builds first).
 */
import { fileURLToPath } from 'node:url';
import { broken, calico, flannel } from '@podnet/cni';
import { describe, expect, it } from 'vitest';
import { checkDesign } from './check-design.js';
import { checkDesignParallel, chunkSeed, loadDesign } from './parallel.js';

const MISSING_ROUTES = { module: '@podnet/cni', export: 'broken.missingRoutes' } as const;

describe('checkDesignParallel', () => {
  it('passes flannel VXLAN over 4 chunks in 2 workers, with progress as chunks finish', async () => {
    const seen: number[] = [];
    const r = await checkDesignParallel({ module: '@podnet/cni', export: 'flannel', args: [{ backend: 'vxlan' }] }, {
      numRuns: 200, chunkRuns: 50, workers: 2, checks: 'at-end', onProgress: (p) => seen.push(p.runs),
    });
    expect(r).toEqual({ ok: true, runs: 200, seed: 1, chunks: 4, workers: 2 });
    expect(seen).toHaveLength(4);
    expect(seen.at(-1)).toBe(200);
  });

  it('gives the same verdict with 2 workers as in the calling thread, and it replays with checkDesign', async () => {
    const options = { numRuns: 300, chunkRuns: 20, segments: 1, seed: 5 } as const;
    const inThread = await checkDesignParallel(MISSING_ROUTES, { ...options, workers: 0 });
    const twoWorkers = await checkDesignParallel(MISSING_ROUTES, { ...options, workers: 2 });
    if (inThread.ok || twoWorkers.ok) throw new Error('missing routes not caught');
    expect(twoWorkers.chunk).toBe(inThread.chunk);
    expect(twoWorkers.toString()).toBe(inThread.toString());
    expect(twoWorkers.seed).toBe(chunkSeed(5, twoWorkers.chunk));
    expect(twoWorkers.campaignSeed).toBe(5);
    expect(twoWorkers.counterexample.kind).toBe('no-nat');
    expect(twoWorkers.counterexample.trace?.disposition).toBe('noRoute');
    // Runs counted are those of the chunks before the failing one, plus the failing chunk's own.
    expect(twoWorkers.runs).toBeGreaterThan(20 * twoWorkers.chunk);
    expect(twoWorkers.runs).toBeLessThanOrEqual(20 * (twoWorkers.chunk + 1));
    const replay = checkDesign(broken.missingRoutes(), { segments: 1, seed: twoWorkers.seed, path: twoWorkers.path, replayPath: twoWorkers.replayPath });
    if (replay.ok) throw new Error('replay passed');
    expect(replay.counterexample.events).toEqual(twoWorkers.counterexample.events);
    expect(twoWorkers.toString()).toContain(`replay: checkDesign(design, { seed: ${twoWorkers.seed}, path: '${twoWorkers.path}'`);
  });

  it('derives unrelated chunk seeds from nearby campaign seeds', () => {
    const seeds = new Set<number>();
    for (let s = 0; s < 20; s++) for (let i = 0; i < 20; i++) seeds.add(chunkSeed(s, i));
    expect(seeds.size).toBe(400);
    expect(chunkSeed(1, 0)).toBe(chunkSeed(1, 0));
    expect(Number.isInteger(chunkSeed(-7, 3))).toBe(true);
  });

  it('loads a design by module and export, a factory with its arguments, or a dotted name', async () => {
    expect((await loadDesign({ module: '@podnet/cni', export: 'flannel', args: [{ backend: 'host-gw' }] })).name).toBe(flannel({ backend: 'host-gw' }).name);
    expect((await loadDesign(MISSING_ROUTES)).name).toBe(broken.missingRoutes().name);
    // A module of one's own, by absolute path or file: URL (here the built @podnet/cni).
    const built = new URL('../../cni/dist/index.js', import.meta.url);
    expect((await loadDesign({ module: fileURLToPath(built), export: 'calico', args: [{ encapsulation: 'ipip' }] })).name).toBe(calico({ encapsulation: 'ipip' }).name);
    expect((await loadDesign({ module: built.href, export: 'flannel' })).name).toBe(flannel().name);
  });

  it('refuses bad input before any worker starts, with what was wrong and a hint', async () => {
    await expect(checkDesignParallel({} as never)).rejects.toThrow(/needs where a worker finds the design/);
    await expect(checkDesignParallel(MISSING_ROUTES, { workers: -1 })).rejects.toThrow(RangeError);
    await expect(checkDesignParallel(MISSING_ROUTES, { chunkRuns: 0 })).rejects.toThrow(/chunkRuns must be a positive integer/);
    await expect(checkDesignParallel(MISSING_ROUTES, { checks: 'sometimes' as never })).rejects.toThrow(/checks must be every-change or at-end/);
    await expect(checkDesignParallel(MISSING_ROUTES, { router: 'cisco' as never })).rejects.toThrow(/router must be/);
    await expect(loadDesign({ module: '@podnet/no-such-package' })).rejects.toThrow(/could not be loaded.*Hint/);
    await expect(loadDesign({ module: '@podnet/cni', export: 'nope' })).rejects.toThrow(/has no export nope/);
    await expect(loadDesign({ module: '@podnet/cni', export: 'seedLabSpec' })).rejects.toThrow(/is not a CNI design/);
    // A worker that cannot load the design rejects the campaign with the same message.
    await expect(checkDesignParallel({ module: '@podnet/cni', export: 'nope' }, { workers: 1, numRuns: 10 })).rejects.toThrow(/has no export nope/);
  });
});
