#!/usr/bin/env node
// The `podnet` command: in a checkout (tsx installed) it runs the TypeScript sources, so it is never a
// stale build; installed from a registry it runs the build in dist/.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const src = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
let tsx = false;
try { createRequire(import.meta.url).resolve('tsx'); tsx = true; } catch { tsx = false; }
if (tsx && existsSync(src)) {
  const r = spawnSync(process.execPath, ['--conditions=@podnet/source', '--import', 'tsx', src, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
} else {
  await import(fileURLToPath(new URL('../dist/bin.js', import.meta.url)));
}
