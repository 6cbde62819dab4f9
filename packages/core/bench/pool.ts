/**
 * What a hop costs as the number of distinct flows in flight grows, at several cluster sizes: the per-hop
 * ratio `pnpm bench` reports for 1,000 random pairs at 150,000 pods, taken apart. Per cluster size, one
 * bulk-built flannel VXLAN state (30 pods per node), one committed ping per random cross-node pair (ARP and
 * FDBs learned), then for each pool size k, sends drawn at random from the first k pairs (checks and
 * recording on, nothing committed), the pools alternated in rounds after one untimed pass; ns of CPU per hop,
 * median of the rounds.
 * A cost that grew with the cluster would show at k = 6; one that grows with k is the memory the flows read.
 *
 * `--within=K` draws the pairs among the pods of the first K nodes only: as many flows, but few host
 * namespaces in flight (at 5,000 nodes, 1,000 pairs within 24 nodes cost about what 100 pairs over the whole
 * cluster do: the host namespaces, not the pods', are the memory that grows).
 *
 * `pnpm bench:pool [--nodes=20,500,5000] [--pools=6,30,100,300,1000] [--rounds=5] [--sends=3000] [--within=K]`
 * prints a table and writes bench-results/pool.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildClusterState, icmpEcho, listPods, podNsId, seededRandom, send } from '@podnet/core';
import { flannel } from '@podnet/cni';
import { cpuUs, median, SETTINGS, specs } from './lib/churn.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const arg = (k: string, d: string): string => process.argv.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3) ?? d;
const list = (k: string, d: string): number[] => arg(k, d).split(',').map((x) => {
  const n = Number(x);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${k} takes positive integers separated by commas, not ${x}`);
  return n;
});
const sizes = list('nodes', '20,500,5000');
const pools = list('pools', '6,30,100,300,1000');
const rounds = list('rounds', '5')[0]!;
const sends = list('sends', '3000')[0]!;
const within = process.argv.some((a) => a.startsWith('--within=')) ? list('within', '1')[0]! : null;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

interface Row { nodes: number; pods: number; nsPerHop: Record<string, number>; rounds: Record<string, number[]> }
const rows: Row[] = [];
for (const nodes of sizes) {
  const s = specs(nodes);
  let state = buildClusterState(SETTINGS, flannel(), s.nodes, s.pods);
  const ip = new Map(listPods(state).map((p) => [p.key, p.ip!]));
  const random = seededRandom(99);
  const pairs: { from: string; dst: number }[] = [];
  const nodesIn = within === null ? null : new Set(s.nodes.slice(0, within).map((n) => n.name));
  const pool = nodesIn === null ? s.pods : s.pods.filter((p) => nodesIn.has(p.node));
  if (nodesIn !== null && nodesIn.size < 2) throw new Error('--within takes at least 2 nodes: the pairs cross nodes');
  while (pairs.length < Math.max(...pools)) {
    const a = pool[Math.floor(random() * pool.length)]!;
    const b = pool[Math.floor(random() * pool.length)]!;
    if (a.node !== b.node) pairs.push({ from: podNsId(`default/${a.name}`), dst: ip.get(`default/${b.name}`)! });
  }
  for (const p of pairs) state = send(state, p.from, icmpEcho(p.dst)).state;
  const opts = { checks: true, record: true, commit: false } as const;
  const orders = pools.map((k) => Array.from({ length: sends }, () => Math.floor(random() * k)));
  const hops = orders.map((o) => o.reduce((h, i) => h + send(state, pairs[i]!.from, icmpEcho(pairs[i]!.dst), opts).trace.steps.length, 0));
  const per: number[][] = pools.map(() => []);
  // One pass of every pool untimed first: the code is compiled and the pools' memos built before any round counts.
  pools.forEach((_, j) => { for (const i of orders[j]!) send(state, pairs[i]!.from, icmpEcho(pairs[i]!.dst), opts); });
  gc();
  for (let r = 0; r < rounds; r++) {
    pools.forEach((_, j) => {
      const us = cpuUs(() => { for (const i of orders[j]!) send(state, pairs[i]!.from, icmpEcho(pairs[i]!.dst), opts); });
      per[j]!.push((us * 1000) / hops[j]!);
    });
  }
  rows.push({
    nodes, pods: s.pods.length,
    nsPerHop: Object.fromEntries(pools.map((k, j) => [k, median(per[j]!)])),
    rounds: Object.fromEntries(pools.map((k, j) => [k, per[j]!])),
  });
  process.stderr.write(`[pool] ${nodes} nodes done\n`);
}
console.log(`ns of CPU per hop, warm, checks + recording, ${sends} sends per pool and round, median of ${rounds} rounds${within === null ? '' : `, pairs among the pods of the first ${within} nodes`}`);
console.log(`| cluster | ${pools.map((k) => `${k} pairs`).join(' | ')} |`);
console.log(`| --- | ${pools.map(() => '---').join(' | ')} |`);
for (const r of rows) console.log(`| ${r.nodes.toLocaleString('en')} nodes / ${r.pods.toLocaleString('en')} pods | ${pools.map((k) => r.nsPerHop[k]!.toFixed(0)).join(' | ')} |`);
const out = join(ROOT, 'bench-results', 'pool.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), sends, rounds, within, pools, rows }, null, 2)}\n`);
console.log(`wrote ${out}`);
