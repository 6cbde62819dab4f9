// The browser entry: bundled by esbuild (platform 'browser') from the installed packages and run in
// Chromium. Any error, thrown or logged, fails the test; the result is handed to the test on window.
import { createSession } from '@podnet/cli';
import { flannel } from '@podnet/cni';
import { checkDesign } from '@podnet/testing';
import { runSeedLab } from './seed-lab.mjs';

try {
  const lab = runSeedLab();
  // The lab shell's library has no I/O either: a browser terminal drives it as the binary does.
  const shell = createSession().run('kubectl get pods -o wide');
  // A short property campaign of @podnet/testing (its browser entry: everything but the worker threads).
  const design = checkDesign(flannel(), { numRuns: 10 });
  const result = { ...lab, kubectl: shell.stdout.split('\n').slice(0, 2), status: shell.status, design };
  window.podnetResult = result;
  document.getElementById('out').textContent = JSON.stringify(result, null, 2);
} catch (e) {
  window.podnetResult = { error: String((e && e.stack) || e) };
  throw e;
}
