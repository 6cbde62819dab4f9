// Packs the four packages, installs them into a fresh project in the temporary directory as a user's
// `npm install` would, and runs the project's app.mjs and the podnet binary there. What the test checks
// (consumer.test.ts), shown.
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProject, install, pack, PUBLISHED, run } from './consumer.js';

const work = realpathSync(mkdtempSync(join(tmpdir(), 'podnet-npm-example-')));
try {
  const packed = PUBLISHED.map((dir) => pack(dir, join(work, 'tarballs')));
  for (const p of packed) console.log(`packed ${String(p.manifest['name'])}: ${p.files.length} files`);
  const project = join(work, 'project');
  createProject(project, packed);
  const i = install(project);
  if (i.status !== 0) throw new Error(`${i.command}:\n${i.stdout}${i.stderr}`);
  console.log(`installed into ${project} (${i.command.split(' ').slice(-2).join(' ')})\n`);
  for (const [what, r] of [['$ node app.mjs', run(process.execPath, ['app.mjs'], project)], ["$ npx podnet -c 'kubectl get pods -o wide'", run(join(project, 'node_modules', '.bin', 'podnet'), ['-c', 'kubectl get pods -o wide'], project)]] as const) {
    console.log(what);
    process.stdout.write(r.stdout + r.stderr);
    if (r.status !== 0) process.exitCode = 1;
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
