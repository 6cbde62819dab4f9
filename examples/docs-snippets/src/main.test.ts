import { describe, expect, it } from 'vitest';
import { documents, extractSnippets, runSnippet } from './snippets.js';

const all = documents().flatMap((d) => extractSnippets(d));

describe('documentation snippets', () => {
  it('finds the snippets of the README and of each page of docs/ (sub-folders included)', () => {
    const files = new Set(all.map((s) => s.where.split(':')[0]));
    for (const f of ['README.md', 'docs/architecture.md', 'docs/cni-contract.md', 'docs/guarantees.md', 'docs/lab-shell.md', 'docs/model.md', 'docs/packet-path.md', 'docs/testing.md']) expect(files).toContain(f);
    expect([...files].every((f) => f === 'README.md' || f!.startsWith('docs/'))).toBe(true);
  });

  for (const s of all) {
    it(`${s.where} runs as written${s.expected === null ? '' : ' and prints the documented output'}`, async () => {
      const out = await runSnippet(s);
      if (s.expected !== null) expect(out).toBe(s.expected);
    });
  }
});
