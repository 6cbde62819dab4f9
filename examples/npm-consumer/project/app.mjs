// What a Node user runs after `npm install @podnet/core @podnet/cni @podnet/testing @podnet/cli`:
// plain ESM, no TypeScript loader, no custom export condition. Exits non-zero on any surprise.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { flannel } from '@podnet/cni';
import { checkDesign, checkDesignParallel } from '@podnet/testing';
import { createSession } from '@podnet/cli';
import { runSeedLab } from './seed-lab.mjs';

const lab = runSeedLab();
console.log(`traceroute ${JSON.stringify(lab.hops)}`);
console.log(`ping ${lab.ping}`);
console.log(`check ${JSON.stringify(lab.check)}`);

// @podnet/testing on a working design, a short campaign.
const r = checkDesign(flannel(), { numRuns: 25 });
assert.deepEqual(r, { ok: true, runs: 25, seed: 1 });
console.log(`checkDesign ${JSON.stringify(r)}`);
// Node's entry has the worker-thread runner too (a browser build's does not).
assert.equal(typeof checkDesignParallel, 'function');

// The lab shell as a library.
const out = createSession().run('kubectl get pods -o wide');
assert.equal(out.status, 0);
console.log(`session ${out.stdout.split('\n')[1]}`);

// Where the packages came from: this project's node_modules, resolved to the installed dist/ (the
// "import" condition), never a workspace's sources.
const require = createRequire(import.meta.url);
for (const name of ['@podnet/core', '@podnet/cni', '@podnet/testing', '@podnet/cli']) {
  const url = import.meta.resolve(name);
  assert.match(url, /\/node_modules\/.*\/dist\/index\.js$/, `${name} resolved to ${url}`);
  console.log(`resolved ${name} ${url.replace(/^.*\/node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, '')}`);
}
// CommonJS code can require() the packages too (Node 20.19+ loads ES modules through require; the exports'
// "default" condition lets it), and gets the very module an import gets.
const required = ['@podnet/core', '@podnet/cni', '@podnet/testing', '@podnet/cli'].map((name) => require(name));
assert.equal(required[0].createSimulator, (await import('@podnet/core')).createSimulator);
assert.equal(required[1].flannel, flannel);
assert.equal(required[2].checkDesign, checkDesign);
assert.equal(required[3].createSession, createSession);
console.log('require ok');
// The workspace's tooling is out of reach (nothing above this project has a node_modules with it)…
for (const name of ['tsx', 'vitest', 'typescript']) assert.throws(() => require.resolve(name), { code: 'MODULE_NOT_FOUND' }, name);
// …and so is every dependency a package did not declare (pnpm without hoisting): @podnet/cni may not
// import immer behind @podnet/core's back.
const from = (name) => createRequire(realpathSync(fileURLToPath(import.meta.resolve(name))));
assert.throws(() => from('@podnet/cni').resolve('immer'), { code: 'MODULE_NOT_FOUND' }, 'immer from @podnet/cni');
assert.match(from('@podnet/core').resolve('immer'), /\/node_modules\/immer\//, 'immer from @podnet/core');
console.log('isolated ok');
