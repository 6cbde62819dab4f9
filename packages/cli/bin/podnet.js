#!/usr/bin/env node
// The `podnet` command: in a checkout (tsx installed) it runs the TypeScript sources, so it is never a
// stale build; installed from a registry it runs the build in dist/. The published package ships src/
// too (the declaration maps point into it), and a user's project may well have tsx: what tells a
// checkout from an install is that an installed package lives under node_modules (Node gives the real
// path, so the workspace's symlinks into packages/cli do not count).
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
const src = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
const installed = here.split(sep).includes('node_modules');
let tsx = false;
if (!installed) try { createRequire(import.meta.url).resolve('tsx'); tsx = true; } catch { tsx = false; }
if (tsx && existsSync(src)) {
  const r = spawnSync(process.execPath, ['--conditions=@podnet/source', '--import', 'tsx', src, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
} else {
  await import(fileURLToPath(new URL('../dist/bin.js', import.meta.url)));
}
