/**
 * Two builds of podnet in one process, for the tools that compare them (`ab.ts`, `differential.ts`): each
 * build is a repository root whose packages were built (`pnpm build`), loaded from its compiled `dist/`, with
 * the fast-check its packages use.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export type Core = typeof import('@podnet/core');
export type Cni = typeof import('@podnet/cni');
export type Testing = typeof import('@podnet/testing');
export type Fc = typeof import('fast-check');

/** One build's packages. */
export interface Build { readonly root: string; readonly core: Core; readonly cni: Cni; readonly testing: Testing; readonly fc: Fc }

/** Loads the build at `root` (a path, made absolute). */
export async function loadBuild(root: string): Promise<Build> {
  const dir = resolve(root);
  const imp = (path: string): Promise<unknown> => import(pathToFileURL(`${dir}/${path}`).href);
  return {
    root: dir,
    core: (await imp('packages/core/dist/index.js')) as Core,
    cni: (await imp('packages/cni/dist/index.js')) as Cni,
    testing: (await imp('packages/testing/dist/index.js')) as Testing,
    fc: ((await imp('node_modules/fast-check/lib/fast-check.js')) as { default: Fc }).default,
  };
}

/** The command line's `--name=value`, if given. */
export function flag(name: string): string | undefined {
  return process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

/** The command line's `--name=N`, a positive integer (`dflt` when not given). */
export function positiveFlag(name: string, dflt: number): number {
  const v = flag(name);
  const n = v === undefined ? dflt : Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, not ${String(v)}`);
  return n;
}

/** The command line's directories (arguments not starting with `--`). */
export function dirArgs(): string[] {
  return process.argv.slice(2).filter((a) => !a.startsWith('--'));
}
