/**
 * podnet as an npm user gets it: pack each publishable package as `pnpm publish` would, install the
 * tarballs into a fresh project outside the repository, and use them there from plain Node, from strict
 * TypeScript, and from a browser bundle. The test (consumer.test.ts) and the example (main.ts) drive
 * these steps; each returns what it saw and leaves the judging to its caller.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, parse as parsePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PUBLISHED } from '../../docs-snippets/src/snippets.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The consumer project's files (copied into the temporary project as they are). */
const TEMPLATE = join(here, '..', 'project');
/** The repository root. */
export const ROOT = join(here, '..', '..', '..');

export { PUBLISHED };
/** A package published to npm (packages/<dir>). */
export type PackageDir = (typeof PUBLISHED)[number];

/** What a finished command printed. */
export interface Ran {
  readonly command: string;
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The environment of a user's shell, without what the workspace's tools put in it: pnpm's bin shims set
 * NODE_PATH to the workspace's packages (through which `require` would find vitest or tsx from anywhere),
 * pnpm run adds each node_modules/.bin to PATH and npm_* settings, vitest its own variables.
 */
export function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(NODE_PATH|NODE_OPTIONS|NODE_ENV|npm_|pnpm_|PNPM_|VITEST|TEST$|TSX)/i.test(k)) continue;
    env[k] = v;
  }
  env['PATH'] = (process.env['PATH'] ?? '').split(':').filter((d) => !d.includes('node_modules')).join(':');
  return env;
}

/** Runs a command to its end (no shell), by default in a user's environment. */
export function run(cmd: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = userEnv()): Ran {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
  if (r.error) throw r.error;
  return { command: [cmd, ...args].join(' '), status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The pnpm that runs this test (`pnpm test` sets npm_execpath; CI runs pnpm through npx, so it may not be
 * on PATH), else the one on PATH. The command and the arguments that come before pnpm's own.
 */
function pnpmCommand(): [string, string[]] {
  const exec = process.env['npm_execpath'];
  const isPnpm = (process.env['npm_config_user_agent'] ?? '').startsWith('pnpm/') && exec !== undefined && existsSync(exec);
  if (!isPnpm) return ['pnpm', []];
  return /\.[cm]?js$/.test(exec) ? [process.execPath, [exec]] : [exec, []];
}

/** Runs pnpm (see {@link pnpmCommand}) with `args` in `cwd`, in a user's environment. */
function pnpm(args: readonly string[], cwd: string): Ran {
  const [cmd, pre] = pnpmCommand();
  return run(cmd, [...pre, ...args], cwd);
}

/** One package as `pnpm pack` made it. */
export interface Packed {
  readonly dir: PackageDir;
  readonly tarball: string;
  /** package.json as the tarball holds it (what npm serves). */
  readonly manifest: Record<string, unknown>;
  /** The tarball's files, relative to its `package/` folder. */
  readonly files: readonly string[];
  readonly readme: string | null;
  readonly license: string | null;
}

function fromTarball(tarball: string, file: string): string | null {
  const r = spawnSync('tar', ['-xzOf', tarball, `package/${file}`], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  return r.status === 0 ? r.stdout : null;
}

/** Packs one package (its `prepack` builds it first) into `dest`, as `pnpm publish` would upload it. */
export function pack(dir: PackageDir, dest: string): Packed {
  const r = pnpm(['pack', '--pack-destination', dest], join(ROOT, 'packages', dir));
  if (r.status !== 0) throw new Error(`${r.command} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  const name = readdirSync(dest).find((f) => f.startsWith(`podnet-${dir}-`) && f.endsWith('.tgz'));
  if (name === undefined) throw new Error(`pnpm pack wrote no podnet-${dir}-*.tgz in ${dest}:\n${r.stdout}`);
  const tarball = join(dest, name);
  const list = spawnSync('tar', ['-tzf', tarball], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (list.status !== 0) throw new Error(`tar -tzf ${tarball}: ${list.stderr}`);
  const files = list.stdout.split('\n').filter((l) => l !== '' && !l.endsWith('/')).map((l) => l.replace(/^package\//, '')).sort();
  const manifest = JSON.parse(fromTarball(tarball, 'package.json') ?? 'null') as Record<string, unknown>;
  return { dir, tarball, manifest, files, readme: fromTarball(tarball, 'README.md'), license: fromTarball(tarball, 'LICENSE') };
}

/** Every file an `exports` map (or `bin`) of a manifest points at, with the condition path that leads there. */
function exportTargets(manifest: Record<string, unknown>): { readonly where: string; readonly file: string }[] {
  const out: { where: string; file: string }[] = [];
  const walk = (v: unknown, where: string): void => {
    if (typeof v === 'string') out.push({ where, file: v.replace(/^\.\//, '') });
    else if (v !== null && typeof v === 'object') for (const [k, w] of Object.entries(v)) walk(w, `${where} → ${k}`);
  };
  walk(manifest['exports'], 'exports');
  walk(manifest['bin'], 'bin');
  return out;
}

/**
 * What is wrong with a packed package for an npm user, in words (empty when nothing): `workspace:`
 * ranges left in, an export or bin target missing from the tarball, an export without `types` next to
 * its `import`, tests, fixtures or build info shipped, no README or LICENSE.
 */
export function packageProblems(p: Packed, rootLicense: string): string[] {
  const problems: string[] = [];
  const text = JSON.stringify(p.manifest);
  if (text.includes('workspace:')) problems.push(`package.json still has workspace: ranges: ${text.match(/"[^"]+":"workspace:[^"]*"/g)?.join(', ')}`);
  const files = new Set(p.files);
  for (const t of exportTargets(p.manifest)) {
    // The source condition is for the repository's own tools; its target ships, but need not.
    if (t.where.includes('@podnet/source')) continue;
    if (!files.has(t.file)) problems.push(`${t.where} points at ${t.file}, which is not in the tarball`);
  }
  const exportsMap = p.manifest['exports'];
  if (exportsMap === null || typeof exportsMap !== 'object') problems.push('no exports map');
  else {
    for (const [sub, cond] of Object.entries(exportsMap as Record<string, unknown>)) {
      const c = cond as Record<string, unknown>;
      if (typeof c['import'] !== 'string') problems.push(`exports["${sub}"] has no import condition`);
      if (typeof c['types'] !== 'string') problems.push(`exports["${sub}"] has no types condition`);
      else if (Object.keys(c).indexOf('types') > Object.keys(c).indexOf('import')) problems.push(`exports["${sub}"]: types must come before import (conditions match in order)`);
      else if (!files.has((c['types'] as string).replace(/^\.\//, '')) || !(c['types'] as string).endsWith('.d.ts')) problems.push(`exports["${sub}"].types is not a shipped .d.ts`);
    }
  }
  if (!p.files.some((f) => f.startsWith('dist/') && f.endsWith('.js'))) problems.push('no dist/*.js');
  if (!p.files.some((f) => f.startsWith('dist/') && f.endsWith('.d.ts'))) problems.push('no dist/*.d.ts');
  for (const f of p.files) {
    if (/\.test\.[cm]?[jt]s$|(^|\/)__fixtures__\/|(^|\/)testing\/|\.tsbuildinfo$/.test(f)) problems.push(`ships ${f}`);
  }
  if (p.readme === null) problems.push('no README.md');
  if (p.license === null) problems.push('no LICENSE');
  else if (p.license !== rootLicense) problems.push('LICENSE differs from the repository\'s');
  return problems;
}

/**
 * Makes the consumer project in `dir` (outside the repository): the template's files, a package.json
 * that depends on the tarballs, and pnpm settings: `overrides` so that the packages' own dependencies on
 * each other (^0.1.0 after packing) take the tarballs too rather than the registry, and no hoisting, so
 * a package that imports what it did not declare fails here as it would for a strict user.
 */
export function createProject(dir: string, packed: readonly Packed[]): void {
  mkdirSync(dir, { recursive: true });
  cpSync(TEMPLATE, dir, { recursive: true });
  const tgz = Object.fromEntries(packed.map((p) => [p.manifest['name'] as string, `file:${p.tarball}`]));
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({
    name: 'podnet-npm-consumer',
    private: true,
    type: 'module',
    // fast-check is @podnet/testing's peer: a user installs it next to it.
    dependencies: { ...tgz, 'fast-check': '4.10.2' },
  }, null, 2)}\n`);
  const overrides = Object.entries(tgz).map(([n, f]) => `  '${n}': '${f}'`).join('\n');
  writeFileSync(join(dir, 'pnpm-workspace.yaml'), `overrides:\n${overrides}\nhoist: false\n`);
}

/**
 * Installs the project from the pnpm store the workspace's install filled, without the network
 * (`--offline`). The packages are always in the store, but their registry metadata may not be: a
 * `--frozen-lockfile` install (CI's, on a fresh machine) fetches tarballs only, and pnpm's offline
 * resolution then fails ("Failed to resolve fast-check@4.10.2 in package mirror"). In that case, and only
 * then, it tries again with `--prefer-offline` (the network for what the cache lacks) and says so in
 * `note`. A real install problem fails both ways.
 */
export function install(dir: string): Ran & { readonly note: string | null } {
  const offline = pnpm(['install', '--offline'], dir);
  if (offline.status === 0) return { ...offline, note: null };
  const online = pnpm(['install', '--prefer-offline'], dir);
  return { ...online, note: `pnpm install --offline failed, so --prefer-offline was used:\n${offline.stdout}${offline.stderr}` };
}

/** Each directory from `dir` up to the file system's root that holds a node_modules. */
export function ancestorNodeModules(dir: string): string[] {
  const out: string[] = [];
  let d = dirname(dir);
  for (;;) {
    if (existsSync(join(d, 'node_modules'))) out.push(join(d, 'node_modules'));
    if (d === parsePath(d).root) return out;
    d = dirname(d);
  }
}

/** The TypeScript compiler of the repository (5.9), run on one of the project's tsconfig files. */
export function tsc(dir: string, tsconfig: string): Ran {
  return run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', tsconfig, '--pretty', 'false'], dir);
}

/** The browser bundle of `entry` (in the project), made by esbuild for the browser from the installed packages. */
export async function bundleForBrowser(dir: string, entry: string, minify = false): Promise<{ readonly js: string; readonly inputs: readonly string[] }> {
  const esbuild = await import('esbuild');
  const r = await esbuild.build({
    entryPoints: [join(dir, entry)],
    absWorkingDir: dir,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    write: false,
    metafile: true,
    minify,
    logLevel: 'silent',
  });
  return { js: r.outputFiles[0]!.text, inputs: Object.keys(r.metafile.inputs) };
}

/** Node-only globals a browser does not have. */
const NODE_GLOBALS = new Set(['process', 'Buffer', 'require', 'module', 'exports', '__dirname', '__filename', 'global', 'setImmediate', 'clearImmediate']);

/**
 * Where a bundle uses a Node-only global (process, Buffer, require, __dirname…), as `name: the code
 * around it`: what the page's run may not reach. Give it a bundle made with `minify` (every local binding
 * renamed, so a name left is a global). Parsed with TypeScript's parser: strings, comments and property
 * names are not uses, and neither is `typeof process` nor a use guarded by it (`typeof Buffer < "u" ? Buffer.isBuffer : …`).
 */
export async function nodeGlobalUses(minifiedJs: string): Promise<string[]> {
  const ts = (await import('typescript')).default;
  const sf = ts.createSourceFile('bundle.js', minifiedJs, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const uses: string[] = [];
  /** Whether `expr` tests `typeof name` somewhere (`typeof Buffer < "u"`, `typeof process !== 'undefined'`…). */
  const testsTypeof = (expr: import('typescript').Node, name: string): boolean =>
    (ts.isTypeOfExpression(expr) && ts.isIdentifier(expr.expression) && expr.expression.text === name) || (ts.forEachChild(expr, (c) => testsTypeof(c, name) || undefined) ?? false);
  /**
   * Whether a use runs only where the global exists: in the taken branch of a `?:`, an `if` or the right of
   * an `&&` whose test asks `typeof` of that very name (a dependency's `typeof Buffer < "u" ? Buffer.isBuffer : void 0`).
   */
  const guarded = (id: import('typescript').Identifier): boolean => {
    for (let n: import('typescript').Node = id; n.parent !== undefined; n = n.parent) {
      const p = n.parent;
      if (ts.isConditionalExpression(p) && p.whenTrue === n && testsTypeof(p.condition, id.text)) return true;
      if (ts.isIfStatement(p) && p.thenStatement === n && testsTypeof(p.expression, id.text)) return true;
      if (ts.isBinaryExpression(p) && p.operatorToken.kind === ts.SyntaxKind.AmpersandAmpersandToken && p.right === n && testsTypeof(p.left, id.text)) return true;
    }
    return false;
  };
  const visit = (node: import('typescript').Node): void => {
    if (ts.isIdentifier(node) && NODE_GLOBALS.has(node.text)) {
      const p = node.parent;
      const isName = (ts.isPropertyAccessExpression(p) && p.name === node)
        || ((ts.isPropertyAssignment(p) || ts.isMethodDeclaration(p) || ts.isPropertyDeclaration(p) || ts.isGetAccessorDeclaration(p) || ts.isSetAccessorDeclaration(p)) && p.name === node);
      if (!isName && !ts.isTypeOfExpression(p) && !guarded(node)) {
        const at = node.getStart(sf);
        uses.push(`${node.text}: …${minifiedJs.slice(Math.max(0, at - 60), at + 40)}…`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return uses;
}

/** What the page did: the result it left on `window`, and every error it threw or logged. */
export interface PageRun {
  readonly result: unknown;
  readonly errors: readonly string[];
}

/**
 * Serves `html` and `bundle.js` from a local HTTP server on 127.0.0.1 and opens the page in headless
 * Chromium (never a downloaded browser: `executablePath`), waiting for the page to set
 * `window.podnetResult`. Page errors and console errors are collected; other requests get a 404.
 */
export async function runInChromium(executablePath: string, html: string, bundle: string): Promise<PageRun> {
  const { chromium } = await import('playwright-core');
  const server = createServer((req, res) => {
    const body = req.url === '/' ? html : req.url === '/bundle.js' ? bundle : null;
    if (body === null) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': req.url === '/' ? 'text/html; charset=utf-8' : 'text/javascript; charset=utf-8' }).end(body);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  const browser = await chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
    timeout: 60_000,
  });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(`console error: ${m.text()}`); });
    page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => (globalThis as { podnetResult?: unknown }).podnetResult !== undefined, null, { timeout: 30_000 });
    const result = await page.evaluate(() => (globalThis as { podnetResult?: unknown }).podnetResult);
    return { result, errors };
  } finally {
    await browser.close();
    await new Promise((ok) => server.close(ok));
  }
}
