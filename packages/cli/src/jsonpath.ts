/**
 * The subset of kubectl's JSONPath templates (https://kubernetes.io/docs/reference/kubectl/jsonpath/)
 * that lessons use: `{.a.b}` fields, `[*]` and `[N]` (negative counts from the end), `[?(@.x=="v")]`
 * filters, `{range …}…{end}`, and `{"literal"}` strings with `\t` `\n` escapes. Text outside braces is
 * printed as is; a missing field prints nothing (kubectl get allows missing keys). Several results of one expression are joined by spaces, as kubectl joins them.
 */

type Seg = { k: 'field'; name: string } | { k: 'all' } | { k: 'index'; i: number } | { k: 'filter'; path: Seg[]; op: '==' | '!='; value: string | number };
type Node = { k: 'text'; text: string } | { k: 'path'; segs: Seg[] } | { k: 'range'; segs: Seg[]; body: Node[] };

/** A template that kubectl's JSONPath would reject, with kubectl's wording where it has one. */
export class JsonPathError extends Error {}

function parsePath(src: string): Seg[] {
  let s = src.trim();
  if (s.startsWith('$')) s = s.slice(1);
  if (s.startsWith('@')) s = s.slice(1);
  const segs: Seg[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === '.') {
      i++;
      const m = /^[A-Za-z0-9_\-\\/]*(?:\\\.[A-Za-z0-9_\-/]*)*/.exec(s.slice(i))!;
      if (m[0].length === 0) { if (i >= s.length) break; continue; }
      segs.push({ k: 'field', name: m[0].replace(/\\\./g, '.') });
      i += m[0].length;
    } else if (c === '[') {
      const end = s.indexOf(']', i);
      if (end < 0) throw new JsonPathError(`unterminated array`);
      const inner = s.slice(i + 1, end);
      if (inner === '*') segs.push({ k: 'all' });
      else if (/^-?\d+$/.test(inner)) segs.push({ k: 'index', i: Number(inner) });
      else {
        const f = /^\?\(\s*@((?:\.[A-Za-z0-9_\-]+)+)\s*(==|!=)\s*(?:"([^"]*)"|'([^']*)'|(-?\d+))\s*\)$/.exec(inner);
        if (!f) throw new JsonPathError(`unrecognized identifier ${inner}`);
        segs.push({ k: 'filter', path: parsePath(f[1]!), op: f[2] as '==' | '!=', value: f[3] ?? f[4] ?? Number(f[5]) });
      }
      i = end + 1;
    } else {
      throw new JsonPathError(`unrecognized character in action: ${JSON.stringify(c)}`);
    }
  }
  return segs;
}

function unquote(lit: string): string {
  return lit.slice(1, -1).replace(/\\(.)/g, (_, ch: string) => (ch === 't' ? '\t' : ch === 'n' ? '\n' : ch === 'r' ? '\r' : ch));
}

function parseTemplate(t: string): Node[] {
  const root: Node[] = [];
  const stack: Node[][] = [root];
  let i = 0;
  while (i < t.length) {
    const open = t.indexOf('{', i);
    if (open < 0) { stack.at(-1)!.push({ k: 'text', text: t.slice(i) }); break; }
    if (open > i) stack.at(-1)!.push({ k: 'text', text: t.slice(i, open) });
    // The closing brace: the first } outside a string literal.
    let j = open + 1;
    let quote: string | null = null;
    for (; j < t.length; j++) {
      const c = t[j]!;
      if (quote) { if (c === '\\') j++; else if (c === quote) quote = null; }
      else if (c === '"' || c === "'") quote = c;
      else if (c === '}') break;
    }
    if (j >= t.length) throw new JsonPathError('unclosed action');
    const expr = t.slice(open + 1, j).trim();
    i = j + 1;
    if (expr === 'end') {
      if (stack.length === 1) throw new JsonPathError('not in range, nothing to end');
      stack.pop();
    } else if (expr.startsWith('range ')) {
      const node: Node = { k: 'range', segs: parsePath(expr.slice(6)), body: [] };
      stack.at(-1)!.push(node);
      stack.push(node.body);
    } else if (/^(".*"|'.*')$/s.test(expr)) {
      stack.at(-1)!.push({ k: 'text', text: unquote(expr) });
    } else {
      stack.at(-1)!.push({ k: 'path', segs: parsePath(expr) });
    }
  }
  if (stack.length > 1) throw new JsonPathError('range without end');
  return root;
}

function walk(values: unknown[], segs: readonly Seg[]): unknown[] {
  let cur = values;
  for (const s of segs) {
    const next: unknown[] = [];
    for (const v of cur) {
      if (s.k === 'field') {
        // kubectl get -o jsonpath allows missing keys: a missing field prints nothing.
        if (v !== null && typeof v === 'object' && !Array.isArray(v) && s.name in v) next.push((v as Record<string, unknown>)[s.name]);
      } else if (Array.isArray(v)) {
        if (s.k === 'all') next.push(...v);
        else if (s.k === 'index') {
          const at = s.i < 0 ? v.length + s.i : s.i;
          if (at >= 0 && at < v.length) next.push(v[at]);
        } else {
          for (const item of v) {
            let got: unknown[];
            try { got = walk([item], s.path); } catch { got = []; }
            const hit = got.some((g) => g === s.value || String(g) === String(s.value));
            if (s.op === '==' ? hit : !hit) next.push(item);
          }
        }
      }
    }
    cur = next;
  }
  return cur;
}

function show(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function render(nodes: readonly Node[], data: unknown): string {
  let out = '';
  for (const n of nodes) {
    if (n.k === 'text') out += n.text;
    else if (n.k === 'path') out += walk([data], n.segs).map(show).join(' ');
    else for (const item of walk([data], n.segs)) out += render(n.body, item);
  }
  return out;
}

/**
 * Evaluates a kubectl JSONPath template against a value.
 *
 * @example evaluateJsonPath('{range .items[*]}{.metadata.name}{"\\n"}{end}', list)
 * @throws {@link JsonPathError} on a template kubectl would reject.
 */
export function evaluateJsonPath(template: string, data: unknown): string {
  return render(parseTemplate(template), data);
}
