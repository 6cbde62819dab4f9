/**
 * `pnpm test:shake`: the suite's tests (packages and examples, as `vitest run` finds them) with every property run SHAKE_K times as long (see setup.ts). Not
 * part of `pnpm test` (CI): a hunt for rare failures, ~2 minutes at 10×, ~3 at 30× on a 2-core machine.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig, mergeConfig } from 'vitest/config';
import base from '../../../../vitest.config.js';

const root = fileURLToPath(new URL('../../../..', import.meta.url));

export default mergeConfig(base, defineConfig({
  root,
  test: {
    // Added to vitest.config.ts's own setup file (mergeConfig joins the lists): the same tests, the same freezing.
    setupFiles: [fileURLToPath(new URL('./setup.ts', import.meta.url))],
  },
}));
