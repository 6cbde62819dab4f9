/**
 * `node --import tsx --expose-gc --max-old-space-size=4096 packages/core/bench/regime.ts [<dir>] [--nodes=N] [--rounds=R]`:
 * what a sampled check after a pod add or delete costs on a freshly built state against one whose nodes a
 * long session has already probed, in one build (`<dir>`, default this checkout, after `pnpm build`).
 *
 * A probe builds per-node tables the first time it meets a node (its host's view, route table, FDB index,
 * the bridge's flood plan) and keeps them on the node's immutable objects, so the same check costs less once
 * the sampled nodes have been probed before — and the garbage collector copies the tables a first visit
 * makes. `pnpm bench` and `pnpm ab --what=sampled` start from a fresh bulk-built state and probe a few
 * thousand random nodes of 5,000: their figure lies between the two regimes measured here. Two states of
 * `--nodes` × 30 pods (flannel VXLAN, default 5,000) are built; on one, each node's first pod probes the
 * next node's first pod once (lib/churn.ts). Then rounds alternate (ABBA) between them, 50 pod adds (each with its sampled
 * check, sample 4) and deletes (with theirs) per round and state, on the same random nodes; it prints CPU
 * medians of the per-round medians, and the time spent in GC pauses per add + delete on each.
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { dirArgs, loadBuild, positiveFlag, type Core } from './lib/builds.js';
import { churn, median, meetEveryNode, SETTINGS, specs } from './lib/churn.js';

const NODES = positiveFlag('nodes', 5000);
const ROUNDS = positiveFlag('rounds', 12);
const { core, cni, root } = await loadBuild(dirArgs()[0] ?? '.');
const design = cni.flannel();
type State = ReturnType<Core['buildClusterState']>;

function build(): State {
  const s = specs(NODES);
  return core.buildClusterState(SETTINGS, design, s.nodes, s.pods);
}

const states = { fresh: build(), probed: build() };
meetEveryNode(core, states.probed);
(globalThis as { gc?: () => void }).gc?.();

const pauses: { at: number; ms: number }[] = [];
new PerformanceObserver((list) => { for (const e of list.getEntries()) pauses.push({ at: e.startTime, ms: e.duration }); }).observe({ entryTypes: ['gc'] });
const spans: { k: keyof typeof states; from: number; to: number }[] = [];
const got = { fresh: { add: [] as number[], del: [] as number[] }, probed: { add: [] as number[], del: [] as number[] } };

for (let round = 0; round <= ROUNDS; round++) {
  for (const k of round % 2 === 1 ? (['fresh', 'probed'] as const) : (['probed', 'fresh'] as const)) {
    const state = states[k];
    const from = performance.now();
    const { add, del } = churn(core, design, state, NODES, 50, core.seededRandom(round + 1), `rg-${round}`);
    // Round 0 warms the JIT on both states and is not counted.
    if (round === 0) continue;
    spans.push({ k, from, to: performance.now() });
    got[k].add.push(median(add));
    got[k].del.push(median(del));
  }
  // GC entries arrive asynchronously: let them in before the next round.
  await new Promise((r) => setTimeout(r, 5));
}
await new Promise((r) => setTimeout(r, 50));
process.stdout.write(`sampled check (${NODES} nodes × 30 pods, ${ROUNDS} rounds ABBA, CPU µs, medians of per-round medians of 50), ${root}\n`);
for (const k of ['fresh', 'probed'] as const) {
  let gcMs = 0;
  for (const p of pauses) if (spans.some((s) => s.k === k && p.at >= s.from && p.at <= s.to)) gcMs += p.ms;
  const label = k === 'fresh' ? 'fresh bulk-built state' : 'every node probed before';
  process.stdout.write(`  ${label}: add + check ${median(got[k].add).toFixed(0)}, delete + check ${median(got[k].del).toFixed(0)}; GC pauses ${((gcMs * 1000) / (ROUNDS * 50)).toFixed(0)} µs per add + delete (mean)\n`);
}
