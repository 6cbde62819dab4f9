import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@podnet/source'] },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'examples/*/src/**/*.test.ts'],
    testTimeout: 120_000,
    // In CI a JSON report feeds the closing "N passed, N failed" line of .ci/run.
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.tmp/vitest.json' }]] : ['default'],
  },
});
