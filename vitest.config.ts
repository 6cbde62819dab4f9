import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Tests run against the TypeScript sources of the workspace packages, never a stale dist/.
  resolve: { conditions: ['@podnet/source', 'import', 'default'] },
  ssr: { resolve: { conditions: ['@podnet/source', 'import', 'default'], externalConditions: ['@podnet/source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'examples/*/src/**/*.test.ts'],
    testTimeout: 120_000,
    setupFiles: ['./vitest.setup.ts'],
    // In CI a JSON report feeds the closing "N passed, N failed" line of .ci/run.
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.tmp/vitest.json' }]] : ['default'],
  },
});
