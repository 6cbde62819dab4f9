/**
 * `pnpm ab <base-dir> [<dir>] --what=bulk|property|checks|sampled|churn|probe|pairs|transitions [--nodes=N] [--rounds=R] [--checks=every-change|at-end] [--met] [--pool=N] [--cold]`:
 * how much faster (or slower) a change made podnet, measured the only way this machine allows.
 *
 * The machine's speed drifts up to 3× between runs of the same code, so two separate runs cannot compare two
 * builds. This loads both builds' compiled `dist/` (repository roots with `pnpm build` done; `<dir>` defaults
 * to this checkout) into one process and alternates them in ABBA order, so drift and the second-runner's
 * advantage (~5–10 % here) fall on both alike. Each round gives the CPU time of each build
 * (`process.cpuUsage()`, which counts the GC's helper threads too); it prints the medians and the geometric
 * mean of the per-round ratios B/A (below 1: B is faster).
 *
 * - `bulk`: `buildClusterState` of flannel VXLAN, `--nodes` nodes × 30 pods (default 2,000), one build per
 *   round and side, a full GC before each.
 * - `property`: @podnet/testing runs of flannel VXLAN (20 events, ≤ 6 nodes) at `--checks` (default at-end),
 *   50 runs per round and side after 300 warm-up runs each.
 * - `checks`: the exact level's checks alone, without the transitions' noise: @podnet/testing runs as in
 *   `property` played at `at-end`, each change checked beside the simulator as `every-change` checks it
 *   (`diffScope` and `incrementalCheck`, CPU of those calls only), then the same check again on the same state
 *   (every table the engine builds on a first visit already built): `cold` is what a run pays, `again` its
 *   warm part, and the probes those checks took per run. 50 runs per round and side after 300 warm-up runs each.
 * - `sampled`: on one bulk-built state per build (`--nodes`, default 2,000), a pod added on a random node with
 *   the simulator's sampled check (sample 4), then deleted with its check, 50 per round and side (the same
 *   nodes on both sides); each round's figure is the median of its 50 (a scavenge of a heap holding two large
 *   states lands on a few of them); the add's check is also given alone. Noisy: give it ≥ 12 rounds. With `--met`, each state's every node is first
 *   probed once (lib/churn.ts), as in a session that has run a while (regime.ts's second regime): a change
 *   to what a touched node's tables cost shows there, not hidden behind first visits of sampled nodes.
 * - `churn`: `sampled` without the checks: the add and delete transitions alone.
 * - `probe`: one packet through the model, on the seed lab (`seedLabSpec`): every cross-node pod pair three
 *   times per round and side, as a warm probe (ARP learned, unrecorded, nothing committed), a cold probe, a
 *   cold recorded send, and a cold recorded send whose learning is committed (what `sim.ping` does); CPU µs
 *   per send. `chained`: every pair once, unrecorded and committed, each send on the state the one before
 *   left (as a property run's sends go): the namespaces earlier sends taught are met for the first time.
 *   `TTL exceeded`: a warm probe sent with TTL 1, answered by an ICMP error from the sender's node. `big UDP
 *   unreachable`: 1,400 bytes with DF to a closed port, a port unreachable quoting 548 of them comes back. A
 *   round is ~1 ms: give it ≥ 300 rounds. Many short alternated rounds resolve a few percent on this machine
 *   where a few long ones do not (per-hop changes of the engine were measured so).
 * - `transitions`: the model's transitions alone, each applied 2,000 times per round and side to one 3-node
 *   flannel VXLAN state with 3 pods: a pod added (`addPodState`), a node added, a pod deleted, a node removed;
 *   CPU µs each. What a property run's events cost in immer and the actions, without the simulator's shell,
 *   the checks and a run's variety of states; give it ≥ 20 rounds.
 */
import { dirArgs, flag, loadBuild, positiveFlag, type Build, type Core, type Testing } from './lib/builds.js';
import { churn, cpuUs, median, meetEveryNode, SETTINGS, specs } from './lib/churn.js';

const dirs = dirArgs();
const what = flag('what');
if (dirs.length < 1 || dirs.length > 2 || (what !== 'bulk' && what !== 'property' && what !== 'checks' && what !== 'sampled' && what !== 'churn' && what !== 'probe' && what !== 'pairs' && what !== 'transitions')) {
  process.stderr.write('usage: pnpm ab <base-dir> [<dir>] --what=bulk|property|checks|sampled|churn|probe|pairs|transitions [--nodes=N] [--rounds=R] [--checks=every-change|at-end] [--met] [--pool=N] [--cold]\n');
  process.exit(2);
}
const checksArg = flag('checks') ?? 'at-end';
if (checksArg !== 'at-end' && checksArg !== 'every-change') throw new Error(`--checks must be at-end or every-change, not ${checksArg}`);
const checks: 'at-end' | 'every-change' = checksArg;
const ROUNDS = positiveFlag('rounds', what === 'bulk' ? 4 : what === 'probe' ? 300 : 8);
const NODES = positiveFlag('nodes', 2000);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const builds = { A: await loadBuild(dirs[0]!), B: await loadBuild(dirs[1] ?? '.') };

/** CPU milliseconds of `f`, all threads. */
const cpu = (f: () => void): number => cpuUs(f) / 1000;

/** One measurement per side and round: named CPU figures (ms). */
type Side = (b: Build, round: number) => Record<string, number>;

function bulkSide(): Side {
  const s = specs(NODES);
  return (b) => {
    gc();
    const design = b.cni.flannel();
    return { build: cpu(() => b.core.buildClusterState(SETTINGS, design, s.nodes, s.pods)) };
  };
}

type Run = InstanceType<Testing['ClusterRun']>;

/**
 * The property the bench's property rows play: @podnet/testing runs of flannel VXLAN (20 events, ≤ 6 nodes)
 * at `level`, warmed up by 300 runs. `watch` sees each run before its events; `finish` ends each with its
 * final audit.
 */
function flannelProperty(b: Build, level: 'at-end' | 'every-change', finish: boolean, watch: (run: Run) => void = () => {}) {
  const design = b.cni.flannel({ backend: 'vxlan' });
  const cmds = b.fc.array(b.fc.oneof(...b.testing.clusterCommands({})), { minLength: 20, maxLength: 20 });
  const prop = b.fc.property(b.testing.clusterShapeArb({}), cmds, (shape, list) => {
    const run = new b.testing.ClusterRun(design, shape, { maxNodes: 6, checks: level });
    watch(run);
    b.fc.modelRun(() => ({ model: {}, real: run }), list);
    if (finish) run.finish();
  });
  b.fc.check(prop, { numRuns: 300, seed: 99 });
  return prop;
}

/** 50 runs of a round's seed. */
function playRound(b: Build, prop: ReturnType<typeof flannelProperty>, round: number): void {
  if (b.fc.check(prop, { numRuns: 50, seed: 1000 + round }).failed) throw new Error('a property run failed during the A/B');
}

function propertySide(): Side {
  const props = new Map([[builds.A, flannelProperty(builds.A, checks, true)], [builds.B, flannelProperty(builds.B, checks, true)]]);
  return (b, round) => ({ 'ms per run': cpu(() => playRound(b, props.get(b)!, round)) / 50 });
}

function checksSide(): Side {
  const make = (b: Build) => {
    let cold = 0;
    let again = 0;
    let probes = 0;
    const prop = flannelProperty(b, 'at-end', false, (run) => {
      let state = run.sim.state;
      let memory = b.core.audit(state).memory;
      run.sim.on('change', (e) => {
        let t = process.cpuUsage();
        const scope = b.core.diffScope(state, e.state);
        const before = memory;
        const checked = b.core.incrementalCheck(e.state, before, scope);
        memory = checked.memory;
        let u = process.cpuUsage(t);
        probes += checked.probes;
        cold += u.user + u.system;
        t = process.cpuUsage();
        b.core.incrementalCheck(e.state, before, b.core.diffScope(state, e.state));
        u = process.cpuUsage(t);
        again += u.user + u.system;
        state = e.state;
      });
    });
    return { prop, take: () => { const r = { cold, again, probes }; cold = 0; again = 0; probes = 0; return r; } };
  };
  const props = new Map([[builds.A, make(builds.A)], [builds.B, make(builds.B)]]);
  return (b, round) => {
    const p = props.get(b)!;
    p.take();
    playRound(b, p.prop, round);
    const { cold, again, probes } = p.take();
    return { 'checks ms per run (cold)': cold / 50 / 1000, 'the same checks again': again / 50 / 1000, 'probes per run': probes / 50 };
  };
}

function sampledSide(checked = true): Side {
  const s = specs(NODES);
  const states = new Map<Build, ReturnType<Core['buildClusterState']>>();
  for (const b of [builds.A, builds.B]) states.set(b, b.core.buildClusterState(SETTINGS, b.cni.flannel(), s.nodes, s.pods));
  if (process.argv.includes('--met')) for (const b of [builds.A, builds.B]) meetEveryNode(b.core, states.get(b)!);
  gc();
  return (b, round) => {
    const state = states.get(b)!;
    const { add, del, addCheck } = churn(b.core, b.cni.flannel(), state, NODES, 50, b.core.seededRandom(round + 1), `ab-${round}`, checked);
    // Medians, not sums: a scavenge of a heap holding two large states lands on a few operations.
    const check = checked ? ' + check' : '';
    const out = { [`add${check} µs (median of 50)`]: median(add), [`delete${check} µs (median of 50)`]: median(del) };
    // The check alone (diffScope and sampledCheck), inside the add's figure: what a probe's first visits cost.
    if (checked) out['the add\'s check alone µs (median of 50)'] = median(addCheck);
    return out;
  };
}

function probeSide(): Side {
  const make = (b: Build) => {
    const sim = b.cni.simulatorFromSpec(b.cni.seedLabSpec());
    const pairs: [string, number][] = [];
    for (const p of sim.pods()) for (const q of sim.pods()) if (p.node !== q.node && q.ip !== null) pairs.push([b.core.endpointNs(sim.state, p.name), q.ip]);
    let warm = sim.state;
    for (const [from, ip] of pairs) warm = b.core.send(warm, from, b.core.icmpEcho(ip)).state;
    return { cold: sim.state, warm, pairs };
  };
  const labs = new Map([[builds.A, make(builds.A)], [builds.B, make(builds.B)]]);
  return (b) => {
    const { cold, warm, pairs } = labs.get(b)!;
    const c = b.core;
    /** CPU µs per send of `f` over every pair, three times. */
    const each = (f: (from: string, ip: number) => void): number => (cpu(() => { for (let r = 0; r < 3; r++) for (const [from, ip] of pairs) f(from, ip); }) * 1000) / (3 * pairs.length);
    /** CPU µs per send of every pair sent unrecorded and committed in turn, each on the state the one before left. */
    const chained = (): number => (cpu(() => { let s = cold; for (const [from, ip] of pairs) s = c.send(s, from, c.icmpEcho(ip), { record: false }).state; }) * 1000) / pairs.length;
    return {
      'warm probe µs': each((from, ip) => c.send(warm, from, c.icmpEcho(ip), { record: false, commit: false })),
      'cold probe µs': each((from, ip) => c.send(cold, from, c.icmpEcho(ip), { record: false, commit: false })),
      'cold recorded µs': each((from, ip) => c.send(cold, from, c.icmpEcho(ip), { commit: false })),
      'cold recorded + commit µs': each((from, ip) => c.send(cold, from, c.icmpEcho(ip))),
      'chained µs': chained(),
      // An ICMP error: the echo sent with TTL 1 expires at the sender's node (warm, unrecorded, nothing committed).
      'TTL exceeded µs': each((from, ip) => { const e = c.icmpEcho(ip); c.send(warm, from, { ...e, header: { ...e.header, ttl: 1 } }, { record: false, commit: false }); }),
      // A property run's big UDP send: 1,400 bytes with DF to a closed port, answered by a port unreachable that quotes its first 548 bytes.
      'big UDP unreachable µs': each((from, ip) => c.send(warm, from, c.udpPacket(ip, 33434, { size: 1400, df: true }), { record: false, commit: false })),
    };
  };
}

function pairsSide(): Side {
  const s = specs(NODES);
  const POOL = positiveFlag('pool', 1000);
  const COLD = process.argv.includes('--cold');
  const SENDS = 2000;
  // The pairs by pod key, drawn once: the same pods on both sides.
  const random = builds.A.core.seededRandom(1234);
  const keys: [string, string][] = [];
  while (keys.length < POOL) {
    const a = Math.floor(random() * s.pods.length);
    const b = Math.floor(random() * s.pods.length);
    if (s.pods[a]!.node !== s.pods[b]!.node) keys.push([`default/${s.pods[a]!.name}`, `default/${s.pods[b]!.name}`]);
  }
  const order = Array.from({ length: SENDS }, () => Math.floor(random() * POOL));
  const make = (b: Build) => {
    const c = b.core;
    let state = c.buildClusterState(SETTINGS, b.cni.flannel(), s.nodes, s.pods);
    const ip = new Map(c.listPods(state).map((p) => [p.key, p.ip!]));
    const pairs = keys.map(([from, to]) => ({ from: c.podNsId(from), dst: ip.get(to)! }));
    // Warm: one committed ping per pair first, so ARP and the FDBs are learned; --cold: the state as built.
    if (!COLD) for (const p of pairs) state = c.send(state, p.from, c.icmpEcho(p.dst)).state;
    let hops = 0;
    for (const i of order) hops += c.send(state, pairs[i]!.from, c.icmpEcho(pairs[i]!.dst), { commit: false }).trace.steps.length;
    return { state, pairs, hops };
  };
  const sides = new Map([[builds.A, make(builds.A)], [builds.B, make(builds.B)]]);
  if (sides.get(builds.A)!.hops !== sides.get(builds.B)!.hops) throw new Error(`the builds take different hops: ${sides.get(builds.A)!.hops} vs ${sides.get(builds.B)!.hops}`);
  gc();
  return (b) => {
    const { state, pairs, hops } = sides.get(b)!;
    const c = b.core;
    const opts = { checks: true, record: true, commit: false } as const;
    const ms = cpu(() => { for (const i of order) c.send(state, pairs[i]!.from, c.icmpEcho(pairs[i]!.dst), opts); });
    return { 'ns per hop': (ms * 1e6) / hops, 'µs per send': (ms * 1000) / SENDS };
  };
}

/** See `transitions` above. */
function transitionsSide(): Side {
  const N = 2000;
  const make = (b: Build) => {
    const c = b.core;
    const design = b.cni.flannel({ backend: 'vxlan' });
    const sim = c.createSimulator({ cni: design, checks: 'off', nodes: [{ name: 'a' }, { name: 'b' }, { name: 'c' }], pods: [{ name: 'p1', node: 'a' }, { name: 'p2', node: 'b' }, { name: 'p3', node: 'a' }] });
    const s = sim.state;
    const each: Record<string, () => unknown> = {
      'addPod µs': () => c.addPodState(s, { name: 'q', node: 'a' }, design, []),
      'addNode µs': () => c.addNodeState(s, { name: 'd' }, design),
      'deletePod µs': () => c.deletePodState(s, 'p1', design),
      'removeNode µs': () => c.removeNodeState(s, 'b', design),
    };
    return each;
  };
  const sides = new Map([[builds.A, make(builds.A)], [builds.B, make(builds.B)]]);
  return (b) => {
    const out: Record<string, number> = {};
    for (const [k, f] of Object.entries(sides.get(b)!)) out[k] = cpuUs(() => { for (let i = 0; i < N; i++) f(); }) / N;
    return out;
  };
}

const side: Side = what === 'transitions' ? transitionsSide() : what === 'bulk' ? bulkSide() : what === 'property' ? propertySide() : what === 'checks' ? checksSide() : what === 'probe' ? probeSide() : what === 'pairs' ? pairsSide() : sampledSide(what === 'sampled');
// One warm-up round per side (JIT), then ABBA rounds.
side(builds.A, 0);
side(builds.B, 0);
const got: { A: Record<string, number>[]; B: Record<string, number>[] } = { A: [], B: [] };
for (let r = 1; r <= ROUNDS; r++) {
  const order = r % 2 === 1 ? (['A', 'B'] as const) : (['B', 'A'] as const);
  for (const k of order) got[k].push(side(builds[k], r));
  process.stderr.write(`round ${r}/${ROUNDS}\n`);
}
process.stdout.write(`${what}${what === 'property' ? ` (${checks})` : what === 'checks' ? '' : what === 'probe' ? ' (seed lab)' : what === 'transitions' ? ' (3-node flannel VXLAN)' : what === 'pairs' ? ` (${NODES} nodes, ${process.argv.includes('--cold') ? 'cold' : 'warm'}, checks + record)` : ` (${NODES} nodes)`}, ${ROUNDS} rounds ABBA, CPU; A = ${builds.A.root}, B = ${builds.B.root}\n`);
for (const key of Object.keys(got.A[0]!)) {
  const a = got.A.map((x) => x[key]!);
  const b = got.B.map((x) => x[key]!);
  const ratio = Math.exp(a.reduce((s, v, i) => s + Math.log(b[i]! / v), 0) / a.length);
  process.stdout.write(`  ${key}: A median ${median(a).toFixed(2)}, B median ${median(b).toFixed(2)}; B/A per round (geometric mean) ×${ratio.toFixed(3)}\n`);
}
