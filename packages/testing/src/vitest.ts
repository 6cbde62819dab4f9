/**
 * vitest integration: a design's test in a few lines.
 *
 * ```ts
 * import { testDesign } from '@podnet/testing/vitest';
 * testDesign(flannel(), { numRuns: 200 });
 * ```
 */
import type { CniDesign } from '@podnet/core';
import { expect, it } from 'vitest';
import { checkDesign, type CheckDesignOptions } from './check-design.js';

/**
 * Registers one vitest test that runs {@link checkDesign} and fails with the printed counterexample
 * (events, what broke, the trace, and the seed and path that replay it).
 */
export function testDesign(design: CniDesign, options: CheckDesignOptions & { readonly title?: string; readonly timeout?: number } = {}): void {
  const { title, timeout, ...check } = options;
  it(title ?? `${design.name} keeps the Kubernetes network model`, () => {
    const r = checkDesign(design, check);
    if (!r.ok) expect.fail(r.toString());
  }, timeout ?? 120_000);
}

/** Registers one vitest test that expects {@link checkDesign} to find a counterexample, and hands it over. */
export function testDesignBreaks(design: CniDesign, options: CheckDesignOptions & { readonly title?: string; readonly timeout?: number } = {}, inspect?: (r: Extract<ReturnType<typeof checkDesign>, { ok: false }>) => void): void {
  const { title, timeout, ...check } = options;
  it(title ?? `${design.name} is caught breaking the network model`, () => {
    const r = checkDesign(design, check);
    if (r.ok) expect.fail(`${design.name}: no counterexample in ${r.runs} runs (seed ${r.seed})`);
    inspect?.(r);
  }, timeout ?? 120_000);
}
