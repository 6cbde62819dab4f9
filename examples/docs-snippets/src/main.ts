// Runs every TypeScript snippet of README.md, docs/*.md, docs/designs/*.md and packages/*/README.md and prints what each printed.
import { documents, extractSnippets, runSnippet } from './snippets.js';

for (const doc of documents()) {
  for (const s of extractSnippets(doc)) {
    const out = await runSnippet(s);
    const verdict = s.expected === null ? 'ran' : out === s.expected ? 'ran, output as documented' : 'ran, OUTPUT DIFFERS from the documented one';
    console.log(`── ${s.where}: ${verdict}`);
    if (out) console.log(out);
    if (s.expected !== null && out !== s.expected) process.exitCode = 1;
  }
}
