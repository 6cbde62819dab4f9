/** The text filters a pipeline ends in: grep, head, tail, wc, sort — GNU coreutils' options and errors. */
import type { Output } from './types.js';
import { ok, err } from './types.js';

function lines(text: string): string[] {
  if (text === '') return [];
  const l = text.split('\n');
  if (l.at(-1) === '') l.pop();
  return l;
}

const join = (l: readonly string[]) => (l.length ? `${l.join('\n')}\n` : '');

/** `grep [-E] [-F] [-v] [-i] [-c] [-n] [-w] [-e PATTERN] PATTERN`, reading stdin. Status 1 when nothing matched. */
export function grep(args: readonly string[], stdin: string): Output {
  let extended = false, fixed = false, invert = false, icase = false, count = false, number = false, word = false, onlyMatching = false;
  const patterns: string[] = [];
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-e') { const p = args[++i]; if (p === undefined) return err("grep: option requires an argument -- 'e'\nUsage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n", 2); patterns.push(p); continue; }
    if (a === '--') { files.push(...args.slice(i + 1)); break; }
    if (a.startsWith('-') && a.length > 1 && !a.startsWith('--')) {
      for (const f of a.slice(1)) {
        if (f === 'E') extended = true;
        else if (f === 'F') fixed = true;
        else if (f === 'v') invert = true;
        else if (f === 'i') icase = true;
        else if (f === 'c') count = true;
        else if (f === 'n') number = true;
        else if (f === 'w') word = true;
        else if (f === 'o') onlyMatching = true;
        else return err(`grep: invalid option -- '${f}'\nUsage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n`, 2);
      }
      continue;
    }
    if (a.startsWith('--')) return err(`grep: unrecognized option '${a}'\nUsage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n`, 2);
    if (patterns.length === 0) patterns.push(a);
    else files.push(a);
  }
  if (patterns.length === 0) return err('Usage: grep [OPTION]... PATTERNS [FILE]...\nTry \'grep --help\' for more information.\n', 2);
  if (files.length) return err(`grep: ${files[0]}: No such file or directory\n`, 2);
  let re: RegExp;
  try {
    const sources = patterns.flatMap((p) => p.split('\n')).map((p) => {
      if (fixed) return p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      // Basic regular expressions: | + ? ( ) { } are literal unless escaped; swap them for JavaScript.
      return extended ? p : p.replace(/\\([|+?(){}])|([|+?(){}])/g, (_m, esc: string | undefined, lit: string | undefined) => (esc ? esc : `\\${lit}`));
    }).map((p) => (word ? `(?<![A-Za-z0-9_])(?:${p})(?![A-Za-z0-9_])` : p));
    re = new RegExp(sources.map((s) => `(?:${s})`).join('|'), icase ? 'gi' : 'g');
  } catch {
    return err('grep: Unmatched ( or \\(\n', 2);
  }
  const out: string[] = [];
  let hits = 0;
  lines(stdin).forEach((line, i) => {
    re.lastIndex = 0;
    const m = re.test(line);
    if (m === invert) return;
    hits++;
    if (onlyMatching && !invert) {
      re.lastIndex = 0;
      for (const x of line.matchAll(re)) if (x[0]) out.push(number ? `${i + 1}:${x[0]}` : x[0]);
    } else out.push(number ? `${i + 1}:${line}` : line);
  });
  if (count) return { stdout: `${hits}\n`, stderr: '', status: hits ? 0 : 1 };
  return { stdout: join(out), stderr: '', status: hits ? 0 : 1 };
}

function countArg(tool: string, args: readonly string[]): number | Output {
  let n = 10;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    let v: string | undefined;
    if (a === '-n') v = args[++i];
    else if (/^-n\d+$/.test(a)) v = a.slice(2);
    else if (/^-\d+$/.test(a)) v = a.slice(1);
    else if (a.startsWith('--lines=')) v = a.slice(8);
    else if (a.startsWith('-')) return err(`${tool}: invalid option -- '${a.slice(1, 2)}'\nTry '${tool} --help' for more information.\n`, 1);
    else return err(`${tool}: cannot open '${a}' for reading: No such file or directory\n`, 1);
    if (v === undefined) return err(`${tool}: option requires an argument -- 'n'\nTry '${tool} --help' for more information.\n`, 1);
    if (!/^\d+$/.test(v)) return err(`${tool}: invalid number of lines: ‘${v}’\n`, 1);
    n = Number(v);
  }
  return n;
}

/** `head [-n N]`. */
export function head(args: readonly string[], stdin: string): Output {
  const n = countArg('head', args);
  return typeof n === 'number' ? ok(join(lines(stdin).slice(0, n))) : n;
}

/** `tail [-n N]`. */
export function tail(args: readonly string[], stdin: string): Output {
  const n = countArg('tail', args);
  return typeof n === 'number' ? ok(join(n === 0 ? [] : lines(stdin).slice(-n))) : n;
}

/** `wc [-l|-w|-c]`. */
export function wc(args: readonly string[], stdin: string): Output {
  const l = (stdin.match(/\n/g) ?? []).length;
  const w = stdin.split(/\s+/).filter(Boolean).length;
  const c = new TextEncoder().encode(stdin).length;
  const flags = args.filter((a) => a.startsWith('-'));
  for (const f of flags) if (!['-l', '-w', '-c'].includes(f)) return err(`wc: invalid option -- '${f.slice(1, 2)}'\nTry 'wc --help' for more information.\n`, 1);
  const files = args.filter((a) => !a.startsWith('-'));
  if (files.length) return err(`wc: ${files[0]}: No such file or directory\n`, 1);
  if (flags.length === 1) return ok(`${flags[0] === '-l' ? l : flags[0] === '-w' ? w : c}\n`);
  const width = Math.max(String(c).length, 7);
  return ok(`${String(l).padStart(width)} ${String(w).padStart(width)} ${String(c).padStart(width)}\n`);
}

/** `sort [-r] [-n] [-u]`. */
export function sort(args: readonly string[], stdin: string): Output {
  const l = lines(stdin);
  const numeric = args.includes('-n');
  l.sort((a, b) => (numeric ? parseFloat(a) - parseFloat(b) || (a < b ? -1 : a > b ? 1 : 0) : a < b ? -1 : a > b ? 1 : 0));
  if (args.includes('-r')) l.reverse();
  return ok(join(args.includes('-u') ? [...new Set(l)] : l));
}
