import { describe, expect, it } from 'vitest';
import { documents, extractSnippets, runSnippet } from './snippets.js';

const all = documents().flatMap((d) => extractSnippets(d));

describe('documentation snippets', () => {
  it('finds the snippets of the README, of each page of docs/ and of docs/designs/', () => {
    const files = new Set(all.map((s) => s.where.split(':')[0]));
    expect([...files].sort()).toEqual([
      'README.md', 'docs/architecture.md', 'docs/designs/aws-vpc.md', 'docs/designs/cilium.md', 'docs/designs/native-vpc.md',
      'docs/guarantees.md', 'docs/model.md', 'docs/packet-path.md',
    ]);
  });

  for (const s of all) {
    it(`${s.where} runs as written${s.expected === null ? '' : ' and prints the documented output'}`, async () => {
      const out = await runSnippet(s);
      if (s.expected !== null) expect(out).toBe(s.expected);
    });
  }
});
