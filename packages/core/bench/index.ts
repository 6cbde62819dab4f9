/**
 * `pnpm bench [--quick] [--profile] [--only=core|designs]`: the core benchmark (run.ts: build, forwarding,
 * pod churn, checks) and the per-design builds (designs.ts), one after the other in one process.
 */
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
if (only !== undefined && only !== 'core' && only !== 'designs') throw new Error(`--only must be core or designs, not ${only}`);
if (only === undefined || only === 'core') await import('./run.js');
if (only === undefined || only === 'designs') await import('./designs.js');
