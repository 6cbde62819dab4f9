/**
 * Write a design, let checkDesign find its bug, fix it, and pass: `pnpm --filter @podnet-examples/static-routes-design example`.
 */
import { checkDesign } from '@podnet/testing';
import { staticRoutes } from './static-routes.js';

// One segment: a route `via <node ip> dev eth0` needs the node on the same L2 segment (host-gw's rule).
const first = checkDesign(staticRoutes({ fixed: false }), { numRuns: 200, segments: 1 });
console.log(first.ok ? `first version: no counterexample in ${first.runs} runs` : first.toString());
console.log();
const fixed = checkDesign(staticRoutes({ fixed: true }), { numRuns: 200, segments: 1 });
console.log(fixed.ok ? `fixed version: no counterexample in ${fixed.runs} runs (seed ${fixed.seed})` : fixed.toString());
if (first.ok || !fixed.ok) process.exit(1);
