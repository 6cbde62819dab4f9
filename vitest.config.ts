import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@podnet/source'] },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'examples/*/src/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
