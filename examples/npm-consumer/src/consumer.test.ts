/**
 * podnet as an npm user gets it. beforeAll packs the four publishable packages, installs the tarballs
 * into a fresh project under the system's temporary directory (pnpm, offline, no hoisting) and type-checks
 * the project twice; each test then judges one thing a user would notice. Takes 15-30 s.
 *
 * The browser test needs Chromium (/usr/bin/chromium, or PODNET_CHROMIUM). Without it the test is skipped
 * with a message, except where PODNET_REQUIRE_BROWSER=1 or CI is set (.ci/run sets the first): there it fails.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ancestorNodeModules, bundleForBrowser, createProject, install, nodeGlobalUses, pack, packageProblems, PUBLISHED, ROOT, run,
  runInChromium, tsc, userEnv, type Packed, type Ran,
} from './consumer.js';
import { snippetsIn, type Snippet } from '../../docs-snippets/src/snippets.js';

const CHROMIUM = process.env['PODNET_CHROMIUM'] ?? '/usr/bin/chromium';
const REQUIRE_BROWSER = process.env['PODNET_REQUIRE_BROWSER'] === '1' || (process.env['CI'] ?? '') !== '';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM && !REQUIRE_BROWSER) {
  console.warn(`npm-consumer: no Chromium at ${CHROMIUM}: the browser test is SKIPPED here (apt-get install chromium, or set PODNET_CHROMIUM). CI sets PODNET_REQUIRE_BROWSER=1 and fails instead.`);
}

const SEED_HOPS = ['10.244.1.1', '10.244.2.0', '10.244.2.3'];
const POD_A_WIDE = 'pod-a   1/1     Running   0          10m   10.244.1.4   node-1   <none>           <none>';

let work = '';
let project = '';
let packed: Packed[] = [];
let installed: Ran & { readonly note: string | null };
let snippets: (Snippet & { readonly pkg: string })[] = [];
let nodeNext: Ran;
let bundler: Ran;

beforeAll(() => {
  work = realpathSync(mkdtempSync(join(tmpdir(), 'podnet-npm-consumer-')));
  const tarballs = join(work, 'tarballs');
  packed = PUBLISHED.map((dir) => pack(dir, tarballs));
  project = join(work, 'project');
  createProject(project, packed);
  installed = install(project);
  if (installed.status !== 0) throw new Error(`${installed.command} failed in ${project}:\n${installed.stdout}\n${installed.stderr}`);
  // Each package's README example, as the installed package holds it, becomes a file of the project:
  // type-checked with the rest, then run from what tsc emitted.
  snippets = PUBLISHED.flatMap((dir) => {
    const file = join(project, 'node_modules', '@podnet', dir, 'README.md');
    return existsSync(file) ? snippetsIn(readFileSync(file, 'utf8'), (line) => `readme-${dir}-${line}`).map((s) => ({ ...s, pkg: dir })) : [];
  });
  for (const s of snippets) writeFileSync(join(project, `${s.where}.ts`), `${s.code}\n`);
  nodeNext = tsc(project, 'tsconfig.nodenext.json');
  bundler = tsc(project, 'tsconfig.bundler.json');
}, 240_000);

afterAll(() => {
  if (work !== '' && process.env['PODNET_KEEP_CONSUMER'] !== '1') rmSync(work, { recursive: true, force: true });
});

describe('podnet as an npm user gets it', () => {
  it('packs each package as it would be published: no workspace: ranges, dist and types, no tests, a README and the LICENSE', () => {
    const rootLicense = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    expect(packed.map((p) => p.manifest['name'])).toEqual(['@podnet/core', '@podnet/cni', '@podnet/testing', '@podnet/cli']);
    for (const p of packed) expect(packageProblems(p, rootLicense), String(p.manifest['name'])).toEqual([]);
    // What pack rewrote: the workspace ranges became the version the workspace has.
    const cli = packed.find((p) => p.dir === 'cli')!;
    expect(cli.manifest['dependencies']).toMatchObject({ '@podnet/core': '^0.1.0', '@podnet/cni': '^0.1.0' });
    expect(cli.files).toContain('bin/podnet.js');
  });

  it('installs the tarballs into a project outside the repository, offline, with a strict layout', () => {
    if (installed.note !== null) console.warn(installed.note);
    expect(project.startsWith(realpathSync(ROOT))).toBe(false);
    // Nothing above the project lends it packages: not the workspace's node_modules, not /node_modules.
    expect(ancestorNodeModules(project)).toEqual([]);
    // No hoisting: a package reaches only what it declared (app.mjs tries).
    expect(existsSync(join(project, 'node_modules', '.pnpm', 'node_modules'))).toBe(false);
    for (const dir of PUBLISHED) expect(existsSync(join(project, 'node_modules', '@podnet', dir, 'dist', 'index.js')), dir).toBe(true);
  });

  it('runs the seed lab, checkDesign and the lab shell from a plain Node ESM script (no loader, no source condition), and require() gets the same modules', () => {
    const r = run(process.execPath, ['app.mjs'], project);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.slice(0, 5)).toEqual([
      `traceroute ${JSON.stringify(SEED_HOPS)}`,
      'ping true',
      'check {"ok":true,"violations":[]}',
      'checkDesign {"ok":true,"runs":25,"seed":1}',
      `session ${POD_A_WIDE}`,
    ]);
    expect(lines.filter((l) => l.startsWith('resolved '))).toEqual(PUBLISHED.map((d) => `resolved @podnet/${d} @podnet/${d}/dist/index.js`));
    expect(lines).toContain('require ok');
    expect(lines.at(-1)).toBe('isolated ok');
  });

  it('runs the podnet binary: kubectl get pods -o wide on the seed lab', () => {
    const r = run(join(project, 'node_modules', '.bin', 'podnet'), ['-c', 'kubectl get pods -o wide'], project);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^NAME +READY +STATUS +RESTARTS +AGE +IP +NODE/);
    expect(lines[1]).toBe(POD_A_WIDE);
    expect(lines.filter((l) => l.startsWith('pod-'))).toHaveLength(6);
    // Where the user's project has tsx (here: NODE_PATH lends the workspace's), the installed binary still
    // runs its dist/, not the sources it ships through that tsx (which it did before it looked for node_modules).
    const withTsx = run(join(project, 'node_modules', '.bin', 'podnet'), ['-c', 'kubectl get pods -o wide'], project, { ...userEnv(), NODE_PATH: join(ROOT, 'node_modules') });
    expect(withTsx.stderr).toBe('');
    expect(withTsx.stdout).toBe(r.stdout);
  });

  it('type-checks a strict TypeScript consumer against the installed .d.ts files, moduleResolution NodeNext', () => {
    expect(nodeNext.stdout + nodeNext.stderr).toBe('');
    expect(nodeNext.status).toBe(0);
    const r = run(process.execPath, [join('out', 'consumer.js')], project);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('duplicate pod: DUPLICATE_NAME\n10.244.1.4 true delivered 6 true 0 null\n');
  });

  it('ships declarations an older TypeScript reads: no typed array with a buffer type argument (5.7+ only)', () => {
    const generic: string[] = [];
    for (const dir of PUBLISHED) {
      const dist = join(project, 'node_modules', '@podnet', dir, 'dist');
      for (const f of readdirSync(dist, { recursive: true }) as string[]) {
        if (!f.endsWith('.d.ts')) continue;
        const m = readFileSync(join(dist, f), 'utf8').match(/\b\w*(Array|DataView)<\w*ArrayBuffer\w*>/g);
        if (m) generic.push(`${dir}/dist/${f}: ${m.join(', ')}`);
      }
    }
    expect(generic).toEqual([]);
  });

  it('type-checks the same consumer with moduleResolution Bundler', () => {
    expect(bundler.stdout + bundler.stderr).toBe('');
    expect(bundler.status).toBe(0);
  });

  it('runs each package README\'s example, from the README in the tarball, compiled by tsc, and prints what the README says', () => {
    expect(new Set(snippets.map((s) => s.pkg))).toEqual(new Set(PUBLISHED));
    for (const s of snippets) {
      const r = run(process.execPath, [join('out', `${s.where}.js`)], project);
      expect(r.stderr, s.where).toBe('');
      expect(r.status, s.where).toBe(0);
      if (s.expected !== null) expect(r.stdout.replace(/\n$/, ''), s.where).toBe(s.expected);
    }
    expect(snippets.filter((s) => s.expected !== null).length).toBeGreaterThanOrEqual(PUBLISHED.length);
  });

  it.skipIf(!HAVE_CHROMIUM && !REQUIRE_BROWSER)('bundles core, cni, cli and testing for the browser with esbuild and runs the seed lab and a checkDesign campaign in headless Chromium', async () => {
    expect(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (apt-get install chromium); PODNET_REQUIRE_BROWSER or CI forbids skipping`).toBe(true);
    const bundle = await bundleForBrowser(project, 'browser.mjs');
    // The bundle is made of the installed dist/ files, not the workspace's sources.
    const ours = bundle.inputs.filter((f) => f.includes('@podnet/'));
    expect(ours.length).toBeGreaterThan(0);
    expect(ours.every((f) => /^node_modules\/.*@podnet\/(core|cni|cli|testing)\/dist\/.*\.js$/.test(f)), ours.join('\n')).toBe(true);
    // @podnet/testing's browser entry, without the worker-thread runner.
    expect(ours.some((f) => f.endsWith('@podnet/testing/dist/portable.js')), ours.join('\n')).toBe(true);
    expect(ours.some((f) => /@podnet\/testing\/dist\/(index|parallel)\.js$/.test(f)), ours.join('\n')).toBe(false);
    // Node's globals used anywhere in the three packages' exports, reached by the page or not (soft: the
    // page runs and reports too).
    expect.soft(await nodeGlobalUses((await bundleForBrowser(project, 'everything.mjs', true)).js), 'Node globals in the bundle').toEqual([]);
    const page = await runInChromium(CHROMIUM, readFileSync(join(project, 'index.html'), 'utf8'), bundle.js);
    expect(page.errors).toEqual([]);
    expect(page.result).toMatchObject({
      hops: SEED_HOPS,
      ping: true,
      check: { ok: true, violations: [] },
      status: 0,
      design: { ok: true, runs: 10, seed: 1 },
    });
    expect((page.result as { kubectl: string[] }).kubectl[1]).toBe(POD_A_WIDE);
  }, 120_000);
});
