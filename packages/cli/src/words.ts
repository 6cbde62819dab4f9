/**
 * A small POSIX-shell word splitter: enough of bash's grammar for the lab — quotes, backslashes,
 * comments, pipelines (`|`), lists (`;`, `&&`, `||`) and background jobs (`&`). No expansion ($VAR,
 * globs), no redirection: the lab shell refuses those with bash's own words rather than guessing.
 */

/** One simple command of a pipeline: its words after quote removal. */
export type Words = readonly string[];

/** A pipeline (`a | b | c`), how it is joined to the previous one, and whether it runs in the background. */
export interface Pipeline {
  readonly commands: readonly Words[];
  /** `;` (or the start), `&&` (run if the previous succeeded), `||` (run if it failed). */
  readonly after: ';' | '&&' | '||';
  readonly background: boolean;
}

/** What {@link parseLine} returns: the pipelines, or bash's syntax error. */
export type Parsed = { readonly ok: true; readonly pipelines: readonly Pipeline[] } | { readonly ok: false; readonly error: string };

type Token = { readonly kind: 'word'; readonly text: string } | { readonly kind: 'op'; readonly text: '|' | ';' | '&' | '&&' | '||' };

function tokenize(line: string): Token[] | string {
  const out: Token[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || c === '\n') { i++; continue; }
    if (c === '#') break;
    if (c === '|' || c === '&' || c === ';') {
      const two = line.slice(i, i + 2);
      if (two === '&&' || two === '||') { out.push({ kind: 'op', text: two }); i += 2; continue; }
      if (two === ';;') return "bash: syntax error near unexpected token `;;'";
      out.push({ kind: 'op', text: c as '|' | '&' | ';' });
      i++;
      continue;
    }
    if (c === '<' || c === '>') return `bash: podnet: redirection (${c}) is not supported in the lab shell: use tcpdump -w FILE to save a capture`;
    // A word: concatenated runs of unquoted, single-quoted and double-quoted text.
    let text = '';
    while (i < line.length) {
      const d = line[i]!;
      if (d === ' ' || d === '\t' || d === '\n' || d === '|' || d === '&' || d === ';' || d === '<' || d === '>') break;
      if (d === "'") {
        const end = line.indexOf("'", i + 1);
        if (end < 0) return "bash: unexpected EOF while looking for matching `''";
        text += line.slice(i + 1, end);
        i = end + 1;
      } else if (d === '"') {
        i++;
        let closed = false;
        while (i < line.length) {
          const e = line[i]!;
          if (e === '"') { closed = true; i++; break; }
          // Inside double quotes a backslash escapes only $ ` " \ and newline (bash(1), QUOTING).
          if (e === '\\' && i + 1 < line.length && '$`"\\\n'.includes(line[i + 1]!)) { text += line[i + 1]; i += 2; continue; }
          const x = expansion(line, i);
          if (x !== null) return x;
          text += e;
          i++;
        }
        if (!closed) return 'bash: unexpected EOF while looking for matching `"\'';
      } else if (d === '\\') {
        if (i + 1 < line.length) text += line[i + 1];
        i += 2;
      } else {
        const x = expansion(line, i);
        if (x !== null) return x;
        text += d;
        i++;
      }
    }
    out.push({ kind: 'word', text });
  }
  return out;
}

/**
 * What the shell says of an expansion at `line[i]` that bash would make and podnet does not: command
 * substitution (`$(…)`, backquotes) and parameters (`$NAME`, `${…}`, `$1`). bash would run or replace them,
 * so passing the text on as a word would answer a different command; a `$` bash leaves alone (`foo$`,
 * `$.`) is no expansion (null).
 */
function expansion(line: string, i: number): string | null {
  const c = line[i]!;
  const next = line[i + 1] ?? '';
  if (c === '`' || (c === '$' && next === '(')) return 'bash: podnet: command substitution ($(…) or `…`) is not supported in the lab shell: run the inner command first and type what it printed';
  if (c === '$' && /[A-Za-z_{0-9?#@*!$-]/.test(next)) return 'bash: podnet: variables ($NAME) are not supported in the lab shell: type the value itself';
  return null;
}

/**
 * Splits a command line into pipelines of words, as bash would before running it.
 *
 * @example parseLine(`kubectl get pods -A | grep -E 'a|b' && echo ok`)
 */
export function parseLine(line: string): Parsed {
  if (typeof line !== 'string') return { ok: false, error: 'bash: not a command line' };
  const tokens = tokenize(line);
  if (typeof tokens === 'string') return { ok: false, error: tokens };
  const pipelines: Pipeline[] = [];
  let commands: Words[] = [];
  let words: string[] = [];
  let after: Pipeline['after'] = ';';
  const unexpected = (t: string) => ({ ok: false as const, error: `bash: syntax error near unexpected token \`${t}'` });
  for (const t of tokens) {
    if (t.kind === 'word') { words.push(t.text); continue; }
    if (words.length === 0) return unexpected(t.text);
    commands.push(words);
    words = [];
    if (t.text === '|') continue;
    pipelines.push({ commands, after, background: t.text === '&' });
    commands = [];
    after = t.text === '&&' || t.text === '||' ? t.text : ';';
  }
  if (words.length) commands.push(words);
  else if (commands.length) return { ok: false, error: 'bash: syntax error: unexpected end of file' };
  if (commands.length) pipelines.push({ commands, after, background: false });
  else if (after !== ';') return { ok: false, error: 'bash: syntax error: unexpected end of file' };
  return { ok: true, pipelines };
}

/** Quotes a word so that {@link parseLine} reads it back unchanged (for history and job listings). */
export function quoteWord(w: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}
