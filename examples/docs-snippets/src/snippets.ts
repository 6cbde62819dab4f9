/**
 * Runs the TypeScript snippets of README.md, docs/*.md, docs/designs/*.md and each published package's README.md exactly as written. A ```ts block runs as
 * its own module; when the next block is a ```text block, that is the output the snippet must print.
 * Blocks in any other language (```text, ```sh, ```json…) are not run.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { format } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..');
const root = join(pkg, '..', '..');

/** One runnable snippet. */
export interface Snippet {
  /** `docs/model.md:42` — the file and the line of the opening fence. */
  readonly where: string;
  readonly code: string;
  /** The ```text block that follows it, or null. */
  readonly expected: string | null;
}

/** What `pnpm docs:api` generates under docs/ (typedoc copies the pages the TSDoc links to into api/media/): not documents of ours. */
const GENERATED = /^api[\\/]/;

/** The published packages, whose README is what npm shows. */
export const PUBLISHED = ['core', 'cni', 'testing', 'cli'] as const;

/**
 * The documents whose snippets must run: the README, every page under docs/ (sub-folders included, the
 * generated API reference excepted) and the README of each published package (examples/npm-consumer also runs those from the packed tarballs).
 */
export function documents(): string[] {
  const docs = (readdirSync(join(root, 'docs'), { recursive: true }) as string[]).filter((f) => f.endsWith('.md') && !GENERATED.test(f)).sort().map((f) => join(root, 'docs', f));
  return [join(root, 'README.md'), ...docs, ...PUBLISHED.map((p) => join(root, 'packages', p, 'README.md'))];
}

/** The ```ts snippets of one markdown file, each with the ```text block right after it if any. */
export function extractSnippets(file: string): Snippet[] {
  return snippetsIn(readFileSync(file, 'utf8'), (line) => `${relative(root, file)}:${line}`);
}

/**
 * The ```ts snippets of a markdown text, each with its output block, `where` naming each by the line of its
 * opening fence (examples/npm-consumer reads the packed READMEs with it).
 */
export function snippetsIn(markdown: string, where: (line: number) => string): Snippet[] {
  const lines = markdown.split('\n');
  const blocks: { lang: string; line: number; end: number; body: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    blocks.push({ lang: open[1]!, line: start + 1, end: i, body: body.join('\n') });
  }
  const out: Snippet[] = [];
  blocks.forEach((b, k) => {
    if (b.lang !== 'ts') return;
    const next = blocks[k + 1];
    const between = next ? lines.slice(b.end + 1, next.line - 1).join('\n') : '';
    // The output block counts only when nothing but blank lines or a short "prints:"-style line separates them.
    const adjacent = next !== undefined && next.lang === 'text' && between.split('\n').filter((l) => l.trim() !== '').length <= 1;
    out.push({ where: where(b.line), code: b.body, expected: adjacent ? next.body : null });
  });
  return out;
}

let counter = 0;

/** Runs a snippet as a module in this package (so `@podnet/*` resolve); returns what it printed. */
export async function runSnippet(s: Snippet): Promise<string> {
  const dir = join(pkg, '.generated');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${s.where.replace(/[^a-z0-9]+/gi, '-')}-${process.pid}-${counter++}.ts`);
  writeFileSync(file, `${s.code}\n`);
  const printed: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => void printed.push(format(...args));
  try {
    await import(pathToFileURL(file).href);
  } finally {
    console.log = log;
    rmSync(file, { force: true });
  }
  return printed.join('\n');
}
