/**
 * `node --import tsx packages/core/bench/probes.ts <dir> [<dir> …] [--runs=N]` (after `pnpm build` in each):
 * how many forwarding probes the `every-change` checks take per property run of flannel VXLAN (20 events,
 * ≤ 6 nodes, the runs `ab.ts --what=property` plays), by the change that led to them, for each build. A count,
 * not a time: the same for every run of the same code, so it shows what a change to *which* pairs are probed
 * does where a CPU figure on this shared machine drifts by more than the change. Each change is checked beside
 * the simulator (played at `at-end`) as `ab.ts --what=checks` does: `diffScope` and `incrementalCheck`.
 */
import { dirArgs, loadBuild, positiveFlag } from './lib/builds.js';

const runs = positiveFlag('runs', 300);
for (const dir of dirArgs()) {
  const b = await loadBuild(dir);
  const design = b.cni.flannel({ backend: 'vxlan' });
  const cmds = b.fc.array(b.fc.oneof(...b.testing.clusterCommands({})), { minLength: 20, maxLength: 20 });
  const byChange = new Map<string, { changes: number; probes: number }>();
  const prop = b.fc.property(b.testing.clusterShapeArb({}), cmds, (shape, list) => {
    const run = new b.testing.ClusterRun(design, shape, { maxNodes: 6, checks: 'at-end' });
    let state = run.sim.state;
    let memory = b.core.audit(state).memory;
    run.sim.on('change', (e) => {
      const r = b.core.incrementalCheck(e.state, memory, b.core.diffScope(state, e.state));
      // The change's label begins with what made it: addPod, deletePod, send (what a packet taught), …
      const kind = e.label.split(' ')[0]!;
      const c = byChange.get(kind) ?? { changes: 0, probes: 0 };
      c.changes++;
      c.probes += r.probes;
      byChange.set(kind, c);
      memory = r.memory;
      state = e.state;
    });
    b.fc.modelRun(() => ({ model: {}, real: run }), list);
  });
  b.fc.assert(prop, { numRuns: runs, seed: 1 });
  let total = 0;
  for (const c of byChange.values()) total += c.probes;
  const rows = [...byChange].sort((x, y) => y[1].probes - x[1].probes).map(([k, c]) => `${k} ${(c.probes / c.changes).toFixed(1)} per change (${(c.changes / runs).toFixed(2)} per run)`);
  process.stdout.write(`${b.root}: ${(total / runs).toFixed(1)} probes per run; ${rows.join(', ')}\n`);
}
