#!/usr/bin/env node
// The `podnet` command: runs the built binary when present, the TypeScript sources (via tsx) otherwise.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const built = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
if (existsSync(built)) {
  await import(built);
} else {
  const src = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
  const r = spawnSync(process.execPath, ['--conditions=@podnet/source', '--import', 'tsx', src, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
}
