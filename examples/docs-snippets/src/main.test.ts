import { describe, expect, it } from 'vitest';
import { documents, extractSnippets, PUBLISHED, runSnippet } from './snippets.js';

const all = documents().flatMap((d) => extractSnippets(d));

describe('documentation snippets', () => {
  it('finds the snippets of the README, of each page of docs/ (sub-folders included) and of each published package\'s README', () => {
    const files = new Set(all.map((s) => s.where.split(':')[0]));
    for (const f of ['README.md', 'docs/architecture.md', 'docs/cni-contract.md', 'docs/guarantees.md', 'docs/lab-shell.md', 'docs/model.md', 'docs/packet-path.md', 'docs/testing.md']) expect(files).toContain(f);
    for (const p of PUBLISHED) expect(files).toContain(`packages/${p}/README.md`);
    expect([...files].every((f) => f === 'README.md' || f!.startsWith('docs/') || /^packages\/[a-z]+\/README\.md$/.test(f!))).toBe(true);
  });

  for (const s of all) {
    it(`${s.where} runs as written${s.expected === null ? '' : ' and prints the documented output'}`, async () => {
      const out = await runSnippet(s);
      if (s.expected !== null) expect(out).toBe(s.expected);
    });
  }
});
