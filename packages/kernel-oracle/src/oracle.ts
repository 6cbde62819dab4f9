/**
 * One topology through the oracle: build it in podnet with a recording design, render the recording
 * into namespaces, compare the tables, run the same probes on both sides, and list every disagreement.
 */
import {
  createClusterState, createSimulator, formatIpv4, ipNeigh, ipRoute, bridgeFdb, seededRandom, UNDERLAY_NS,
  type CniDesign, type ClusterSettings, type NodeSpec, type PodSpec, type Simulator,
} from '@podnet/core';
import {
  kernelFdb, kernelPingOutcome, kernelTraceroute, podnetPingOutcome, podnetTraceroute, tableDiff, tableLines,
} from './compare.js';
import { kernelCapture, podnetCapture } from './capture.js';
import { run, type Feature } from './kernel.js';
import { recording } from './record.js';
import { NoKernelRendering, Renderer } from './replay.js';

/** A design the oracle renders: one line of the design table. */
export interface OracleDesign {
  /** Name in reports and on the command line (`--design`). */
  readonly name: string;
  readonly make: () => CniDesign;
  /** Kernel features its rendering needs; missing ones skip the design, loudly. */
  readonly needs: readonly Feature[];
  /**
   * Why the design is left out of a default run (`--design NAME` still runs it): an open disagreement
   * with the kernel that podnet cannot fix yet. Every default run prints it.
   */
  readonly open?: string;
}

/** What happens after the cluster is built. */
export type Churn = { readonly op: 'deletePod'; readonly pod: number } | { readonly op: 'removeNode'; readonly node: number };

/** A topology: the cluster spec, optional churn, and how many pairs to probe. */
export interface Topology {
  readonly label: string;
  readonly settings: ClusterSettings;
  readonly nodes: readonly NodeSpec[];
  readonly pods: readonly PodSpec[];
  readonly churn?: readonly Churn[];
  /** Ordered pairs probed: all when there are no more than this many, a seeded sample of this many beyond. */
  readonly maxPairs?: number;
  /** Pairs probed with MTU-sized DF pings. */
  readonly mtuPairs?: number;
  /** Pings captured on the sender's node's eth0 on both sides and compared frame by frame. */
  readonly captures?: number;
  readonly seed?: number;
}

/** One thing podnet and the kernel disagree on, with both sides. */
export interface Disagreement {
  readonly topology: string;
  /** `kernel refused`, `ip route`, `ip neigh`, `bridge fdb`, `ping`, `ping DF`, `traceroute`, `no rendering`. */
  readonly kind: string;
  readonly where: string;
  readonly podnet: string;
  readonly kernel: string;
}

/** The outcome of one topology. */
export interface TopologyResult {
  readonly label: string;
  readonly disagreements: readonly Disagreement[];
  /** Probes compared (pings, traceroutes, DF pings). */
  readonly probes: number;
  /** Tables compared (route, neigh, fdb per namespace). */
  readonly tables: number;
}

const PING = ['ping', '-n', '-c', '1', '-W', '1'];
const TRACE = ['traceroute', '-n', '-w', '1', '-q', '1', '-m', '8'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `tasks` with at most `limit` at a time, keeping their order in the result. */
export async function pool<T>(limit: number, tasks: readonly (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return out;
}

/** Builds a topology in podnet with a recording design (churn included). */
export function buildRecorded(design: OracleDesign, topo: Topology) {
  const rec = recording(design.make());
  const sim = createSimulator({ ...topo.settings, cni: rec.design, nodes: [...topo.nodes], pods: [...topo.pods], checks: 'off' });
  for (const c of topo.churn ?? []) {
    const mark = rec.log.length;
    try {
      if (c.op === 'deletePod') {
        const pods = sim.pods();
        if (pods.length > 0) sim.deletePod(pods[c.pod % pods.length]!.key);
      } else {
        const nodes = sim.nodes();
        if (nodes.length > 1) sim.removeNode(nodes[c.node % nodes.length]!.name);
      }
    } catch {
      rec.rollback(mark);
    }
  }
  return { rec, sim };
}

interface Endpoint { readonly name: string; readonly ns: string; readonly ip: string; readonly mtu: number }

function endpoints(sim: Simulator): Endpoint[] {
  const out: Endpoint[] = [];
  for (const n of sim.nodes()) out.push({ name: n.name, ns: `node/${n.name}`, ip: formatIpv4(n.ip), mtu: n.host.links['eth0']?.mtu ?? 1500 });
  for (const p of sim.pods()) {
    if (p.status.phase !== 'Running' || !p.netns || p.ip === null) continue;
    out.push({ name: p.key, ns: `pod/${p.key}`, ip: formatIpv4(p.ip), mtu: p.netns.links['eth0']?.mtu ?? 1500 });
  }
  return out;
}

function pairs(eps: readonly Endpoint[], max: number, seed: number): [Endpoint, Endpoint][] {
  const all: [Endpoint, Endpoint][] = [];
  for (const a of eps) for (const b of eps) if (a !== b) all.push([a, b]);
  if (all.length <= max) return all;
  const rnd = seededRandom(seed);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, max);
}

/** Runs one topology against the kernel; `prefix` is the namespace prefix it may use (and removes). */
export async function runTopology(design: OracleDesign, topo: Topology, prefix: string, concurrency = 12): Promise<TopologyResult> {
  const label = `${design.name} ${topo.label}`;
  const dis: Disagreement[] = [];
  const say = (kind: string, where: string, podnet: string, kernel: string) => dis.push({ topology: label, kind, where, podnet, kernel });
  let built0: ReturnType<typeof buildRecorded>;
  try {
    built0 = buildRecorded(design, topo);
  } catch (e) {
    // Generated topologies are valid specs: a refusal is the design's or podnet's, and is reported.
    say('podnet refused', 'building the cluster', (e as Error).message, 'not built');
    return { label, disagreements: dis, probes: 0, tables: 0 };
  }
  const { rec, sim } = built0;
  const t0 = Date.now();
  const phases: string[] = [];
  const lap = (what: string) => { if (process.env['ORACLE_TIMING']) phases.push(`${what} ${Date.now() - t0}ms`); };
  const renderer = new Renderer(prefix);
  try {
    const bare: CniDesign = { name: 'bare', nodeAdded: () => ({ actions: [] }), nodeRemoved: () => ({ actions: [] }), podAdded: () => ({ error: { cniVersion: '1.0.0', code: 7, msg: 'bare' } }), podDeleted: () => ({ actions: [] }) };
    renderer.underlay(createClusterState(topo.settings, bare).underlay);
    for (const r of rec.log) renderer.reaction(r);
  } catch (e) {
    if (!(e instanceof NoKernelRendering)) throw e;
    say('no rendering', '-', 'podnet accepted the design\'s actions', e.message);
    return { label, disagreements: dis, probes: 0, tables: 0 };
  }
  try {
    const built = await run('bash', ['-c', renderer.script()], { timeoutMs: 120_000 });
    if (built.code !== 0) {
      const m = /ORACLE-FAILED (\d+)/.exec(built.stderr);
      const line = m ? renderer.lines[Number(m[1])] : undefined;
      say('kernel refused', line ? line.shell : '(build script)', line ? `accepted: ${line.origin}` : 'accepted every action', built.timedOut ? 'timed out' : built.stderr.replace(/ORACLE-FAILED \d+\n?/, '').trim());
      return { label, disagreements: dis, probes: 0, tables: 0 };
    }
    // A link losing carrier reaches routes through linkwatch, which delays such events up to a second.
    if (rec.log.some((r) => r.kind === 'podDeleted' || r.kind === 'nodeRemoved')) await sleep(1200);
    lap('built');
    const spaces = renderer.names.entries().filter(([id]) => !id.startsWith('seg:'));

    // Tables, before any probe: every entry is one a design or core put there.
    // One `ip netns exec` per namespace: entering a namespace (and remounting /sys) is what costs.
    const show = spaces.map(([id, k]) => `ip netns exec ${k} sh -c 'echo "@@@ ${id} route"; ip route show; echo "@@@ ${id} neigh"; ip -4 neigh show; echo "@@@ ${id} fdb"; bridge fdb show'`).join('\n');
    const shown = await run('bash', ['-c', show], { timeoutMs: 60_000 });
    const sections = new Map<string, string>();
    let key = '';
    for (const line of shown.stdout.split('\n')) {
      const m = /^@@@ (\S+) (\w+)$/.exec(line);
      if (m) {
        key = `${m[1]} ${m[2]}`;
        sections.set(key, '');
      } else if (key) sections.set(key, `${sections.get(key)!}${line}\n`);
    }
    let tables = 0;
    for (const [id] of spaces) {
      const nsId = id === UNDERLAY_NS ? UNDERLAY_NS : id;
      const compare = (kind: 'route' | 'neigh' | 'fdb', pod: string[], ker: string[], ordered: boolean, title: string) => {
        tables++;
        const d = tableDiff(pod, ker, ordered);
        if (d) say(title, id, d.onlyPodnet.length ? d.onlyPodnet.join(' | ') : '(nothing else)', d.onlyKernel.length ? d.onlyKernel.join(' | ') : '(nothing else)');
        void kind;
      };
      compare('route', ipRoute(sim.state, nsId), tableLines(sections.get(`${id} route`) ?? ''), true, 'ip route');
      compare('neigh', ipNeigh(sim.state, nsId), tableLines(sections.get(`${id} neigh`) ?? ''), false, 'ip neigh');
      compare('fdb', bridgeFdb(sim.state, nsId), kernelFdb(sections.get(`${id} fdb`) ?? ''), false, 'bridge fdb');
    }

    lap('tables');
    // Probes: ping and traceroute for ordered pairs, concurrently in the kernel.
    const eps = endpoints(sim);
    const chosen = pairs(eps, topo.maxPairs ?? 30, topo.seed ?? 1);
    const k = (e: Endpoint) => renderer.names.of(e.ns);
    const kernelPing = async (a: Endpoint, b: Endpoint, extra: string[] = [], wait = '1') => {
      const args = [...PING.slice(0, 4), '-W', wait, ...extra, b.ip];
      const r = await run('ip', ['netns', 'exec', k(a), ...args], { timeoutMs: 15_000 });
      return kernelPingOutcome(r.stdout, r.stderr);
    };
    const kernelTrace = async (a: Endpoint, b: Endpoint, wait = '1') => {
      const r = await run('ip', ['netns', 'exec', k(a), ...TRACE.slice(0, 2), '-w', wait, ...TRACE.slice(4), b.ip], { timeoutMs: 30_000 });
      return kernelTraceroute(r.stdout, r.stderr);
    };
    const kernelOut = await pool(concurrency, chosen.flatMap(([a, b]) => [() => kernelPing(a, b), () => kernelTrace(a, b)]));
    lap('kernel probes');
    let probes = 0;
    for (let i = 0; i < chosen.length; i++) {
      const [a, b] = chosen[i]!;
      const where = `${a.name} → ${b.name} (${b.ip})`;
      const p = podnetPingOutcome(sim.ping(a.name, b.ip));
      let kp = kernelOut[2 * i]!;
      // A slow answer (ARP gives up after 3 s) misses ping's 1 s wait: ask again, longer, before disagreeing.
      // Errors of a failed route lookup (net and host unreachable) are limited per sender by
      // net.ipv4.route.error_cost/error_burst, global sysctls the oracle must not touch: wait for a token.
      if (kp !== p && /Unreachable/.test(p)) await sleep(1100);
      if (kp !== p) kp = await kernelPing(a, b, [], '5');
      if (kp !== p) say('ping', where, p, kp);
      const t = podnetTraceroute(sim.traceroute(a.name, b.ip, { maxHops: 8 }), a.ns);
      let kt = kernelOut[2 * i + 1]!;
      if (kt !== t && / !/.test(t)) await sleep(1100);
      if (kt !== t) kt = await kernelTrace(a, b, '5');
      if (kt !== t) say('traceroute', where, t, kt);
      probes += 2;
    }

    lap('compared');
    // Captures: one ping, seen on the sending node's eth0 (the wire: VXLAN/IPIP outer headers included).
    const capPairs = chosen.filter(([a, b]) => a.ns.startsWith('pod/') && b.ns.startsWith('pod/')).slice(0, topo.captures ?? 1);
    for (const [a, b] of capPairs) {
      const node = sim.pod(a.name).node!;
      const where = `${a.name} → ${b.name} (${b.ip}) captured on ${node} eth0`;
      const p = podnetCapture(sim.ping(a.name, b.ip).traces, `node/${node}`, 'eth0');
      let kc: string[];
      try {
        kc = await kernelCapture(renderer.names.of(`node/${node}`), 'eth0', () => kernelPing(a, b));
      } catch (e) {
        say('capture', where, p.join(' ; '), `no capture: ${(e as Error).message}`);
        continue;
      }
      const d = tableDiff(p, kc, true);
      if (d) say('capture', where, p.join(' ; ') || '(no frame)', kc.join(' ; ') || '(no frame)');
      probes++;
    }
    // MTU with DF: the largest packet the sender's eth0 takes, and one byte more; in order, on both sides.
    const mtuChosen = pairs(eps, topo.mtuPairs ?? 3, (topo.seed ?? 1) + 7);
    for (const [a, b] of mtuChosen) {
      for (const size of [a.mtu - 28, a.mtu - 27]) {
        const where = `${a.name} → ${b.name} (${b.ip}) ping -M do -s ${size}`;
        const p = podnetPingOutcome(sim.ping(a.name, b.ip, { size, df: true }));
        // Not asked twice: a Frag Needed teaches the sender a path MTU, so a second ask is another probe.
        const kp = await kernelPing(a, b, ['-M', 'do', '-s', String(size)], '2');
        if (kp !== p) say('ping DF', where, p, kp);
        probes++;
      }
    }
    lap('mtu');
    return { label, disagreements: dis, probes, tables };
  } finally {
    await run('bash', ['-c', `for n in $(ip netns list | awk '{print $1}' | grep '^${prefix}'); do ip netns del "$n"; done`], { timeoutMs: 60_000 });
    lap('deleted');
    if (phases.length) process.stderr.write(`[timing] ${label}: ${phases.join(', ')}\n`);
  }
}
