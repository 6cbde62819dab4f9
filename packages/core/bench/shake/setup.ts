/**
 * `pnpm test:shake`'s setup: every fast-check property of the suite runs `SHAKE_K` times (default 10) as many
 * runs as it asks for (100 when it names none), each on a fresh random seed, to find what fails on one seed in
 * hundreds before CI draws that seed (fieldToWrite's property did, once in ~100 seeds, until 64d8e33). A
 * property given a `seed` or a `path` (a replay) runs as written. Deep freezing is on, as in vitest.setup.ts.
 */
import { vi } from 'vitest';
import { setFreezing } from '@podnet/core';

setFreezing(true);

vi.mock('fast-check', async (importOriginal) => {
  const m = await importOriginal<typeof import('fast-check')>();
  const k = Number(process.env.SHAKE_K ?? 10);
  if (!Number.isInteger(k) || k < 1) throw new Error(`SHAKE_K must be a positive integer, not ${process.env.SHAKE_K}`);
  const original = m.assert;
  const assert = ((property: unknown, params?: { numRuns?: number; seed?: number; path?: string }) =>
    params?.seed !== undefined || params?.path !== undefined
      ? original(property as never, params as never)
      : original(property as never, { ...(params ?? {}), numRuns: (params?.numRuns ?? 100) * k } as never)) as typeof m.assert;
  return { ...m, assert, default: { ...(m.default as object), assert } };
});
