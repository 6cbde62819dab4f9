/**
 * Per-design build benchmark (issue #3): every design of @podnet/cni built at 5,000 nodes / 150,000 pods
 * (`--quick`: 100 nodes) with `buildClusterState`, reporting build time, heap after GC, bytes per node and
 * per pod, and how the build scales (time and heap per node at half the size and at full size: a design
 * that copies what every node knows about every other node shows a ratio near 2, a linear one near 1).
 * Every built state is checked to work: pings between a sample of pods on different nodes must get
 * replies, else the figure is not reported as a pass.
 *
 * Run alone: `pnpm bench --only=designs [--quick] [--design=calico …]`. Writes bench-results/designs.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildClusterState, listNodes, ping, seededRandom, type ClusterSettings, type ClusterState, type CniDesign, type NodeSpec, type PodSpec } from '@podnet/core';
import { awsVpc, calico, cilium, flannel, nativeVpc } from '@podnet/cni';
import { ClusterRun, clusterCommands, clusterShapeArb, type CheckDesignOptions, type CheckLevel, type ClusterModel } from '@podnet/testing';
import fc from 'fast-check';
import { heapNow } from './lib/heap.js';

const QUICK = process.argv.includes('--quick');
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** One design at scale: how to make it, the cluster it needs, and how many pods each node runs. */
export interface DesignCase {
  readonly name: string;
  readonly make: () => CniDesign;
  readonly settings: ClusterSettings;
  /** Node specs for `n` nodes (segment placement, instance limits…). */
  readonly nodes: (n: number) => NodeSpec[];
  readonly podsPerNode: number;
  /** Nodes for 150,000 pods (5,000 at 30 pods per node). */
  readonly targetNodes: number;
  /** What checkDesign needs for this design (one segment, one node…). */
  readonly check?: CheckDesignOptions;
}

const name = (i: number) => `node-${String(i).padStart(5, '0')}`;
/** A /8 of pods (65,536 /24 blocks) and a /16 underlay (65,534 host addresses), for 5,000 nodes. */
const BIG: ClusterSettings = { podCidr: '10.0.0.0/8', nodeCidrMaskSize: 24, underlay: { segments: [{ name: 'dc', cidr: '172.16.0.0/16', gateway: '172.16.0.1', mtu: 1500 }] } };
const plainNodes = (n: number): NodeSpec[] => Array.from({ length: n }, (_, i) => ({ name: name(i) }));

/** Three /16 VPC subnets for the AWS VPC CNI (pods take subnet addresses), nodes round-robin over them. */
const VPC: ClusterSettings = {
  podCidr: '100.64.0.0/10', nodeCidrMaskSize: 24,
  underlay: { segments: [0, 1, 2].map((i) => ({ name: `subnet-${i}`, cidr: `10.${i}.0.0/16`, gateway: `10.${i}.0.1`, mtu: 9001 })) },
};
const vpcNodes = (n: number): NodeSpec[] => Array.from({ length: n }, (_, i) => ({ name: name(i), segment: `subnet-${i % 3}` }));

export const DESIGN_CASES: DesignCase[] = [
  { name: 'flannel vxlan', make: () => flannel({ backend: 'vxlan' }), settings: BIG, nodes: plainNodes, podsPerNode: 30, targetNodes: 5000 },
  { name: 'flannel host-gw', make: () => flannel({ backend: 'host-gw' }), settings: BIG, nodes: plainNodes, podsPerNode: 30, targetNodes: 5000, check: { segments: 1 } },
  { name: 'calico none', make: () => calico({ encapsulation: 'none' }), settings: BIG, nodes: plainNodes, podsPerNode: 30, targetNodes: 5000, check: { segments: 1 } },
  { name: 'calico ipip', make: () => calico({ encapsulation: 'ipip' }), settings: BIG, nodes: plainNodes, podsPerNode: 30, targetNodes: 5000 },
  { name: 'calico vxlan', make: () => calico({ encapsulation: 'vxlan' }), settings: BIG, nodes: plainNodes, podsPerNode: 30, targetNodes: 5000 },
  { name: 'cilium tunnel', make: () => cilium({ routing: 'tunnel' }), settings: BIG, nodes: plainNodes, podsPerNode: 30, targetNodes: 5000 },
  { name: 'cilium native', make: () => cilium({ routing: 'native' }), settings: BIG, nodes: plainNodes, podsPerNode: 30, targetNodes: 5000, check: { segments: 1 } },
  // m5.2xlarge: 58 pods a node (56 on ENI addresses); 150,000 pods need 2,679 nodes over three /16 subnets.
  { name: 'aws-vpc m5.2xlarge', make: () => awsVpc({ instanceType: 'm5.2xlarge' }), settings: VPC, nodes: vpcNodes, podsPerNode: 56, targetNodes: 2679 },
  { name: 'native-vpc gke', make: () => nativeVpc({ provider: 'gke' }), settings: BIG, nodes: plainNodes, podsPerNode: 30, targetNodes: 5000 },
  { name: 'native-vpc azure', make: () => nativeVpc({ provider: 'azure' }), settings: BIG, nodes: plainNodes, podsPerNode: 30, targetNodes: 5000 },
];

interface Point { nodes: number; pods: number; buildMs: number; heapBytes: number | null }

function build(c: DesignCase, nodes: number): { state: ClusterState; ms: number } {
  const specs = c.nodes(nodes);
  const pods: PodSpec[] = [];
  for (const n of specs) for (let j = 0; j < c.podsPerNode; j++) pods.push({ name: `p-${n.name}-${j}`, node: n.name });
  const design = c.make();
  const t = performance.now();
  const state = buildClusterState(c.settings, design, specs, pods);
  return { state, ms: performance.now() - t };
}

/** Builds into `held` (no local keeps the state: the next baseline must not count it); returns the build time. */
function buildInto(held: { state: ClusterState | null }, c: DesignCase, nodes: number): number {
  const r = build(c, nodes);
  held.state = r.state;
  return r.ms;
}

/** Pings between pods on random distinct nodes; returns the failures. */
function sanity(state: ClusterState, pairs: number): string[] {
  const rnd = seededRandom(7);
  const nodes = listNodes(state);
  const failures: string[] = [];
  for (let i = 0; i < pairs; i++) {
    const a = nodes[Math.floor(rnd() * nodes.length)]!;
    const b = nodes[Math.floor(rnd() * nodes.length)]!;
    const pa = Object.values(a.pods)[0];
    const pb = Object.values(b.pods)[0];
    if (!pa || !pb || pb.ip === null) continue;
    const dst = [pb.ip >>> 24, (pb.ip >>> 16) & 255, (pb.ip >>> 8) & 255, pb.ip & 255].join('.');
    const r = ping(state, pa.key, dst, { count: 1 });
    if (!r.result.ok) failures.push(`${pa.key} → ${dst}: ${r.result.lines.slice(1, 2).join('')}`);
  }
  return failures;
}

export interface DesignRow {
  design: string; points: Point[]; scaling: { time: number; heap: number | null }; sanityFailures: string[];
  property: Throughput;
  propertyAtEnd: Throughput;
  /** For flannel VXLAN (full mode): the same after 2,000 warm-up runs, the rate of a long campaign. */
  steady: { everyChange: Throughput; atEnd: Throughput } | null;
}

/** Property-test throughput at one check level. */
export interface Throughput {
  /** Runs measured, and runs played before them (seed 99) to warm the JIT up. */
  runs: number; warmup: number; ms: number; runsPerSec: number; eventsPerSec: number; checks: CheckLevel;
  /**
   * Where a run's time goes, in ms per run: making the cluster (`new ClusterRun`), each kind of event
   * (the transition, its checks and, for `send`, the packet) summed over the run, and `finish` (the full
   * audit at `at-end`). The timers cost ~0.1 µs an event.
   */
  perRunMs: Record<string, number>;
}

/**
 * Property-test throughput: runs per second of sequences of exactly 20 events (fast-check commands over
 * a ClusterRun, clusters of up to 6 nodes), at a check level: `every-change` (every change judged by the
 * exact incremental checks — checkDesign's default) or `at-end` (unique IPs per change, the packets as
 * probes, one full audit at the end of each run).
 */
export function propertyThroughput(c: DesignCase, runs: number, checks: CheckLevel = 'every-change', warmup = Math.max(5, Math.floor(runs / 10))): Throughput {
  const opts = c.check ?? {};
  const cmds = fc.array(fc.oneof(...clusterCommands(opts)), { minLength: 20, maxLength: 20 });
  const design = c.make();
  let events = 0;
  let phases = new Map<string, number>();
  const add = (k: string, since: number) => phases.set(k, (phases.get(k) ?? 0) + performance.now() - since);
  const prop = fc.property(clusterShapeArb(opts), cmds, (shape, list) => {
    let t = performance.now();
    const run = new ClusterRun(design, shape, { maxNodes: opts.maxNodes ?? 6, checks });
    add('create', t);
    const timed = list.map((c) => ({
      check: (m: Readonly<ClusterModel>) => c.check(m),
      run: (m: ClusterModel, r: ClusterRun) => {
        const t0 = performance.now();
        c.run(m, r);
        add(c.event.type, t0);
      },
      toString: () => c.toString(),
    }));
    fc.modelRun(() => ({ model: {}, real: run }), timed);
    t = performance.now();
    run.finish();
    add('finish', t);
    events += list.length;
  });
  // A full collection first (the bench runs with --expose-gc): the 150,000-pod states built just before are
  // garbage, and the figure should not depend on when V8 gets round to them.
  (globalThis as { gc?: () => void }).gc?.();
  // Warm-up (JIT), then the measured runs.
  fc.check(prop, { numRuns: warmup, seed: 99 });
  events = 0;
  phases = new Map();
  const t = performance.now();
  const d = fc.check(prop, { numRuns: runs, seed: 1 });
  const ms = performance.now() - t;
  if (d.failed) throw new Error(`${c.name}: a property run failed during the benchmark (checks: ${checks}): ${String(d.errorInstance)}`);
  const perRunMs = Object.fromEntries([...phases].map(([k, v]) => [k, v / runs]));
  return { runs, warmup, ms, runsPerSec: (runs * 1000) / ms, eventsPerSec: (events * 1000) / ms, checks, perRunMs };
}

/** The property-throughput figures of one design (see {@link propertyFigures}). */
interface PropertyFigures { property: Throughput; propertyAtEnd: Throughput; steady: DesignRow['steady'] }

/**
 * Every property figure of a design, measured in the calling process: 500 runs at each check level after
 * 50 of warm-up (what a 500-run campaign sees: its runs come while V8 is still optimising), and, for the
 * design the target names, 500 more at each level after 2,000 runs of warm-up (the rate of a long campaign).
 */
function measurePropertyFigures(c: DesignCase): PropertyFigures {
  const property = propertyThroughput(c, QUICK ? 50 : 500, 'every-change');
  const propertyAtEnd = propertyThroughput(c, QUICK ? 50 : 500, 'at-end');
  const steady = c.name === 'flannel vxlan' && !QUICK
    ? { everyChange: propertyThroughput(c, 500, 'every-change', 2000), atEnd: propertyThroughput(c, 500, 'at-end', 2000) }
    : null;
  return { property, propertyAtEnd, steady };
}

const CHILD_FLAG = '--property-child=';

/**
 * {@link measurePropertyFigures} in a fresh Node process (same flags, this file), as a campaign runs in a
 * user's test process. Measured in the bench's own process, the runs came after the 150,000-pod states of
 * the core bench and this design's own 5,000-node build: V8's old generation, sized for those, made the
 * property runs' collections slower. The same code, flannel VXLAN after 2,000 runs of warm-up: at-end 353
 * runs/s after a 5,000-node build in the process against 487 in a fresh one; every-change 248 against 272.
 */
function propertyFigures(c: DesignCase): PropertyFigures {
  const args = [...process.execArgv, fileURLToPath(import.meta.url), `${CHILD_FLAG}${c.name}`, ...(QUICK ? ['--quick'] : [])];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
  const line = r.stdout?.split('\n').find((l) => l.startsWith('PROPERTY_JSON '));
  if (r.status !== 0 || !line) throw new Error(`${c.name}: the property-throughput process failed (exit ${r.status}${r.error ? `, ${r.error.message}` : ''})`);
  return JSON.parse(line.slice('PROPERTY_JSON '.length)) as PropertyFigures;
}

export function runDesignBench(): DesignRow[] {
  const out: DesignRow[] = [];
  const only = process.argv.filter((a) => a.startsWith('--design=')).map((a) => a.slice('--design='.length));
  for (const c of DESIGN_CASES.filter((d) => only.length === 0 || only.some((o) => d.name.startsWith(o)))) {
    const full = QUICK ? Math.min(100, c.targetNodes) : c.targetNodes;
    const sizes = [Math.max(2, Math.floor(full / 2)), full];
    const points: Point[] = [];
    let failures: string[] = [];
    // The only reference to a built state lives in `held`, cleared before the next baseline (a local can
    // outlive its iteration in a stack slot and keep the previous state alive, skewing the next figure).
    const held: { state: ClusterState | null } = { state: null };
    for (const n of sizes) {
      held.state = null;
      const base = heapNow();
      const ms = buildInto(held, c, n);
      const h = heapNow();
      points.push({ nodes: n, pods: n * c.podsPerNode, buildMs: ms, heapBytes: h === null || base === null ? null : h - base });
      if (n === full) failures = sanity((held as { state: ClusterState }).state, 20);
      process.stderr.write(`[designs] ${c.name}: ${n} nodes / ${n * c.podsPerNode} pods in ${(ms / 1000).toFixed(2)} s\n`);
    }
    held.state = null;
    const [half, whole] = points as [Point, Point];
    const per = (p: Point, v: number) => v / p.nodes;
    const { property, propertyAtEnd, steady } = propertyFigures(c);
    process.stderr.write(`[designs] ${c.name}: property runs/s (20 events each): ${property.runsPerSec.toFixed(0)} checks every-change, ${propertyAtEnd.runsPerSec.toFixed(0)} checks at-end\n`);
    out.push({
      design: c.name, points, sanityFailures: failures, property, propertyAtEnd, steady,
      scaling: {
        time: per(whole, whole.buildMs) / per(half, half.buildMs),
        heap: whole.heapBytes === null || half.heapBytes === null ? null : per(whole, whole.heapBytes) / per(half, half.heapBytes),
      },
    });
  }
  return out;
}

function main(): void {
  const rows = runDesignBench();
  const MiB = 1024 * 1024;
  const table = [['design', 'nodes', 'pods', 'build', 'heap after GC', 'B/pod (all in)', 'per-node time ×(full/half)', 'per-node heap ×', 'pings', 'property runs/s (20 events, ≤ 6 nodes): every-change / at-end']];
  for (const r of rows) {
    const p = r.points[r.points.length - 1]!;
    table.push([
      r.design, String(p.nodes), String(p.pods), `${(p.buildMs / 1000).toFixed(2)} s`,
      p.heapBytes === null ? 'n/a' : `${(p.heapBytes / MiB).toFixed(0)} MiB`, p.heapBytes === null ? 'n/a' : String(Math.round(p.heapBytes / p.pods)),
      r.scaling.time.toFixed(2), r.scaling.heap === null ? 'n/a' : r.scaling.heap.toFixed(2), r.sanityFailures.length ? `${r.sanityFailures.length} FAILED` : 'ok',
      `${r.property.runsPerSec.toFixed(0)} / ${r.propertyAtEnd.runsPerSec.toFixed(0)}${r.design === 'flannel vxlan' ? ' (target ≥ 1,000)' : ''}`,
    ]);
  }
  const w = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  const text = table.map((r) => r.map((c, i) => c.padEnd(w[i]!)).join(' | ')).join('\n');
  process.stdout.write(`\npodnet design bench (${QUICK ? 'quick' : 'full'}) — node ${process.version}, ${os.cpus()[0]?.model ?? '?'} × ${os.cpus().length}\n\n${text}\n`);
  for (const r of rows) for (const f of r.sanityFailures.slice(0, 3)) process.stdout.write(`note: ${r.design}: ping failed ${f}\n`);
  for (const r of rows.filter((x) => x.design === 'flannel vxlan')) {
    for (const t of [r.property, r.propertyAtEnd]) {
      const parts = Object.entries(t.perRunMs).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toFixed(2)}`);
      process.stdout.write(`note: ${r.design}, checks ${t.checks}: ${(1000 / t.runsPerSec).toFixed(2)} ms per run, of which (ms per run) ${parts.join(', ')}\n`);
    }
    if (r.steady) {
      const { everyChange: e, atEnd: a } = r.steady;
      process.stdout.write(`note: ${r.design}, a long campaign (${e.runs} runs measured after ${e.warmup}): ${e.runsPerSec.toFixed(0)} runs/s every-change / ${a.runsPerSec.toFixed(0)} at-end (target ≥ 1,000)\n`);
    }
  }
  mkdirSync(join(ROOT, 'bench-results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench-results', 'designs.json'), `${JSON.stringify({ schema: 'podnet-designs-bench/1', mode: QUICK ? 'quick' : 'full', rows }, null, 2)}\n`);
}

const child = process.argv.find((a) => a.startsWith(CHILD_FLAG))?.slice(CHILD_FLAG.length);
if (child === undefined) main();
else {
  const c = DESIGN_CASES.find((d) => d.name === child);
  if (!c) throw new Error(`no design case named ${child}`);
  process.stdout.write(`PROPERTY_JSON ${JSON.stringify(measurePropertyFigures(c))}\n`);
}
