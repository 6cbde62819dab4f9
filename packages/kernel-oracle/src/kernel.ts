/**
 * Running commands against the kernel, safely: every namespace this process creates carries the
 * prefix `pno<pid>-`, every child process is tracked, and everything is removed on exit, on failure,
 * on SIGINT and on SIGTERM. Nothing here touches the root namespace: commands run with `ip -n NS`,
 * `bridge -n NS` or `nsenter --net=/run/netns/NS`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The namespace files `ip netns add` creates. */
export const NETNS_DIR = '/run/netns';

/**
 * The command prefix that runs a program in kernel namespace `k`: only the network namespace is entered
 * (`ip netns exec` also makes a mount namespace and remounts /sys, which none of the oracle's programs need
 * and which costs a tenth of a topology's CPU).
 */
export function inNs(k: string): string[] {
  if (!/^pno\d+-[0-9a-z]+-[0-9a-z]+$|^pno\d+-probe$/.test(k)) throw new Error(`not a namespace of an oracle run: "${k}"`);
  return ['nsenter', `--net=${NETNS_DIR}/${k}`];
}

/** The perl helper that writes the settings of many namespaces from one process (setns(2), then /proc/sys). */
export const NSRUN = fileURLToPath(new URL('./nsrun.pl', import.meta.url));

/** setns(2)'s number per Node architecture (x86_64, i386, arm, ppc64, s390x; the rest use the generic table). */
const SETNS: Readonly<Record<string, number>> = { x64: 308, ia32: 346, arm: 375, ppc64: 350, s390x: 339, arm64: 268, riscv64: 268, loong64: 268 };

/**
 * The command that runs nsrun.pl. Throws where the architecture's setns number is unknown; probeFeatures
 * reports that as namespaces being unusable, loudly.
 */
export function nsrunCommand(): string[] {
  const nr = SETNS[process.arch];
  if (nr === undefined) throw new Error(`setns(2) has no known number on ${process.arch}`);
  return ['perl', NSRUN, String(nr)];
}

/**
 * Whether br_netfilter is loaded (its sysctls exist; since Linux 5.3 each network namespace has its own, 1
 * in a new one): bridged IPv4 frames then pass iptables (`net.bridge.bridge-nf-call-iptables`), as podnet
 * models them. The oracle sets the sysctl in its namespaces as core set it (replay.ts); without the module a
 * design that renders a bridge is skipped (the `br_netfilter` feature). Only read here.
 */
export const BRIDGE_NF = existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables');

/** The namespace prefix of this run: `pno<pid>-`. */
export const RUN_PREFIX = `pno${process.pid}-`;

/** What a command printed and how it ended. */
export interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

const children = new Set<ChildProcess>();

/** Tracks a child started elsewhere, so that cleanup kills it too. */
export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.on('close', () => children.delete(child));
  return child;
}

/** Runs a program (never through a shell unless the program is sh), bounded by `timeoutMs`. */
export function run(file: string, args: readonly string[], o: { input?: string; timeoutMs?: number } = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, o.timeoutMs ?? 30_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', (e) => { stderr += String(e); });
    child.on('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, stdout, stderr, timedOut });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(o.input ?? '');
  });
}

/** Names of the network namespaces that exist (the files `ip netns add` made in /run/netns). */
export function listNamespaces(): string[] {
  try {
    return readdirSync(NETNS_DIR).filter((n) => n.length > 0 && !n.startsWith('.'));
  } catch {
    return [];
  }
}

function oraclePrefix(prefix: string): void {
  if (!/^pno\d+-/.test(prefix)) throw new Error(`refusing to delete namespaces by the prefix "${prefix}" (not an oracle prefix)`);
}

/** The `ip -batch` lines that delete every namespace starting with `prefix`, and their names. */
function deletions(prefix: string): { names: string[]; batch: string } {
  oraclePrefix(prefix);
  const names = listNamespaces().filter((n) => n.startsWith(prefix));
  return { names, batch: names.map((n) => `netns del ${n}\n`).join('') };
}

/**
 * Deletes every namespace whose name starts with `prefix` (synchronously: safe in an exit handler), all
 * with one `ip -force -batch -`.
 */
export function deleteByPrefix(prefix: string): string[] {
  const { names, batch } = deletions(prefix);
  if (names.length === 0) return [];
  try {
    execFileSync('ip', ['-force', '-batch', '-'], { input: batch, stdio: ['pipe', 'ignore', 'ignore'] });
  } catch { /* some were already gone */ }
  return names.filter((n) => !listNamespaces().includes(n));
}

/** {@link deleteByPrefix} without blocking the event loop (other topologies keep running). */
export async function deleteNamespaces(prefix: string): Promise<void> {
  const { names, batch } = deletions(prefix);
  if (names.length) await run('ip', ['-force', '-batch', '-'], { input: batch, timeoutMs: 60_000 });
}

/** Removes leftovers of oracle runs whose process is dead (`--cleanup`); returns what it deleted. */
export function cleanupDeadRuns(): string[] {
  const gone: string[] = [];
  const pids = new Set<number>();
  for (const ns of listNamespaces()) {
    const m = /^pno(\d+)-/.exec(ns);
    if (m) pids.add(Number(m[1]));
  }
  for (const pid of pids) {
    if (pid === process.pid || alive(pid)) continue;
    gone.push(...deleteByPrefix(`pno${pid}-`));
  }
  return gone;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A program to run in kernel namespace `k` (through {@link inNs}). */
export interface NsJob {
  readonly k: string;
  readonly args: readonly string[];
  /** Seconds to wait before it starts (after the group's previous program). */
  readonly delay?: number;
}

/** `w` as one shell word (quoted when it needs to be). */
export const shellWord = (w: string) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);

/** Roughly how long a job may take, in seconds: its delay and the wait it asks for (ping -W, traceroute -w). */
function expectedSeconds(j: NsJob): number {
  const w = j.args.findIndex((a) => a === '-W' || a === '-w');
  return (j.delay ?? 0) + (w >= 0 ? Number(j.args[w + 1]) || 0 : 0);
}

/**
 * Runs groups of programs: the programs of a group one after the other (all in one namespace), the groups
 * side by side, about `concurrency` at a time. Every program is bounded by its own options (ping's -W,
 * traceroute's -w and -m); the whole run by `timeoutMs`. Starting programs is what the oracle spends its
 * time on (a fork of bash with `&` costs several ms here, an `nsenter` another exec), so each namespace
 * gets one `sh` (dash) entered once with nsenter, which starts its programs itself: its groups are dealt
 * to lanes (the longest expected first, each to the lane that ends soonest), a lane running its groups
 * one after the other, and the lanes of all namespaces side by side — `concurrency` lanes shared out
 * between the namespaces, at least one each. Returns what each program printed, in the order given.
 */
export async function runGroups(groups: readonly (readonly NsJob[])[], concurrency: number, timeoutMs = 120_000): Promise<Ran[][]> {
  if (groups.length === 0) return [];
  const dir = await mkdtemp(join(tmpdir(), 'pno-run-'));
  try {
    const byNs = new Map<string, number[]>();
    groups.forEach((g, i) => {
      const k = g[0]?.k;
      if (k === undefined || g.some((j) => j.k !== k)) throw new Error('runGroups: a group runs in one namespace');
      inNs(k);
      for (const j of g) if (j.delay !== undefined && !(Number.isFinite(j.delay) && j.delay >= 0)) throw new Error(`bad delay ${j.delay}`);
      byNs.set(k, [...(byNs.get(k) ?? []), i]);
    });
    const perNs = Math.max(1, Math.ceil(Math.max(1, concurrency) / byNs.size));
    const outer: string[] = [];
    for (const [k, ids] of byNs) {
      const inner = laneScript(groups, ids, perNs, dir);
      outer.push(`${[...inNs(k), 'sh', '-c', inner].map(shellWord).join(' ')} &`);
    }
    outer.push('wait');
    const r = await run('sh', ['-c', outer.join('\n')], { timeoutMs });
    return await Promise.all(groups.map((g, i) => Promise.all(g.map(async (_, n) => {
      const read = (ext: string) => readFile(join(dir, `${i}.${n}.${ext}`), 'utf8').catch(() => '');
      return { code: null, stdout: await read('o'), stderr: await read('e'), timedOut: r.timedOut };
    }))));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The `sh` script that runs the groups `ids` (indexes into `groups`, all of one namespace) in at most `lanes`
 * lanes side by side, each program's output to `dir/GROUP.N.o` and `.e`: the groups dealt to lanes the
 * longest expected first, each to the lane that ends soonest, a lane running its groups one after the other.
 */
export function laneScript(groups: readonly (readonly NsJob[])[], ids: readonly number[], lanes: number, dir: string): string {
  const cost = (i: number) => groups[i]!.reduce((s, j) => s + expectedSeconds(j), 0.05);
  const dealt: { ends: number; ids: number[] }[] = Array.from({ length: Math.min(lanes, ids.length) }, () => ({ ends: 0, ids: [] }));
  for (const i of [...ids].sort((a, b) => cost(b) - cost(a))) {
    const lane = dealt.reduce((m, l) => (l.ends < m.ends ? l : m));
    lane.ids.push(i);
    lane.ends += cost(i);
  }
  // `sleep D && PROGRAM`: one AND list, so a lane of one delayed program (`… &`) waits in the background. With
  // `sleep D; PROGRAM &` the sleep ran in the namespace's shell itself and held back every lane after it
  // (spaced probes, REDIRECT_PAUSE_S in oracle.ts, started in reverse order, the longest delay first).
  const lane = (l: { ids: number[] }) => l.ids.flatMap((i) => groups[i]!.map((j, n) => `${j.delay ? `sleep ${j.delay} && ` : ''}${j.args.map(shellWord).join(' ')} >${dir}/${i}.${n}.o 2>${dir}/${i}.${n}.e`)).join('; ');
  return `${dealt.map((l) => (l.ids.length === 1 && groups[l.ids[0]!]!.length === 1 ? `${lane(l)} &` : `( ${lane(l)} ) &`)).join('\n')}\nwait`;
}

let installed = false;

/** Kills this run's children and deletes its namespaces. */
export function cleanupRun(): void {
  for (const c of children) {
    if (c.pid !== undefined) try { c.kill('SIGKILL'); } catch { /* gone */ }
  }
  children.clear();
  deleteByPrefix(RUN_PREFIX);
}

/** Cleans up on exit, on an uncaught error, on SIGINT and on SIGTERM (once per process). */
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  process.on('exit', cleanupRun);
  const bye = (code: number) => () => {
    process.stderr.write(`\nkernel-oracle: interrupted, removing namespaces ${RUN_PREFIX}*\n`);
    cleanupRun();
    process.exit(code);
  };
  process.on('SIGINT', bye(130));
  process.on('SIGTERM', bye(143));
  process.on('uncaughtException', (e) => {
    process.stderr.write(`kernel-oracle: ${e.stack ?? String(e)}\n`);
    cleanupRun();
    process.exit(1);
  });
}

/** Kernel features a rendering may need. */
export type Feature = 'netns' | 'bridge' | 'br_netfilter' | 'vxlan' | 'ipip' | 'iptables' | 'ping' | 'traceroute' | 'tcpdump';

/**
 * Which features this machine offers, found by trying them in a scratch namespace of this run. A
 * feature missing is reported with the reason (not root, no CAP_NET_ADMIN, module not available…).
 */
export async function probeFeatures(): Promise<Map<Feature, string | true>> {
  const out = new Map<Feature, string | true>();
  const ns = `${RUN_PREFIX}probe`;
  for (const tool of ['ping', 'traceroute', 'tcpdump'] as const) {
    const r = await run('sh', ['-c', `command -v ${tool}`]);
    out.set(tool, r.code === 0 ? true : `${tool} is not installed`);
  }
  if (process.platform !== 'linux') {
    out.set('netns', `not Linux (${process.platform})`);
    return out;
  }
  // Probes and settings enter a namespace with nsenter (util-linux).
  if ((await run('sh', ['-c', 'command -v nsenter'])).code !== 0) {
    out.set('netns', 'nsenter (util-linux) is not installed');
    return out;
  }
  if ((await run('sh', ['-c', 'command -v perl'])).code !== 0) {
    out.set('netns', 'perl is not installed (the oracle enters its namespaces with nsrun.pl)');
    return out;
  }
  const add = await run('ip', ['netns', 'add', ns]);
  if (add.code !== 0) {
    out.set('netns', `ip netns add failed: ${(add.stderr || add.stdout).trim() || `exit ${String(add.code)}`} (uid ${process.getuid?.() ?? '?'}; needs root or CAP_NET_ADMIN + CAP_SYS_ADMIN)`);
    return out;
  }
  try {
    out.set('netns', true);
    const tryIn = async (f: Feature, args: string[]) => {
      const r = await run('ip', ['-n', ns, ...args]);
      out.set(f, r.code === 0 ? true : `${args.join(' ')}: ${r.stderr.trim()}`);
    };
    await tryIn('bridge', ['link', 'add', 'b0', 'type', 'bridge']);
    // Never loaded by the oracle (it loads no module): only found.
    out.set('br_netfilter', BRIDGE_NF ? true : 'br_netfilter is not loaded (/proc/sys/net/bridge/bridge-nf-call-iptables is missing): bridged frames would not pass iptables, as podnet and Kubernetes nodes have them do');
    await run('ip', ['-n', ns, 'link', 'add', 'e0', 'type', 'veth', 'peer', 'name', 'e1']);
    await tryIn('vxlan', ['link', 'add', 'vx0', 'type', 'vxlan', 'id', '1', 'dev', 'e0', 'dstport', '8472']);
    await tryIn('ipip', ['link', 'add', 'ip0', 'type', 'ipip', 'local', '192.0.2.1']);
    // nsrun.pl writes a setting of this namespace (a value no new namespace has), read back with sysctl there.
    let wrote: Ran;
    try {
      const [perl, ...args] = nsrunCommand();
      wrote = await run(perl!, args, { input: `S\t0\t${ns}\tnet.ipv4.icmp_msgs_burst\t1234\n` });
      if (wrote.code === 0) wrote = await run('nsenter', [...inNs(ns).slice(1), 'sysctl', '-n', 'net.ipv4.icmp_msgs_burst']);
    } catch (e) {
      wrote = { code: 1, stdout: '', stderr: (e as Error).message, timedOut: false };
    }
    if (wrote.code !== 0 || wrote.stdout.trim() !== '1234') {
      out.set('netns', `nsrun.pl could not write a setting of a namespace: ${(wrote.stderr || wrote.stdout).trim() || `exit ${String(wrote.code)}`}`);
      return out;
    }
    const ipt = await run('nsenter', [`--net=${NETNS_DIR}/${ns}`, 'iptables', '-t', 'nat', '-S']);
    out.set('iptables', ipt.code === 0 ? true : `iptables -t nat: ${ipt.stderr.trim() || 'not installed'}`);
  } finally {
    await run('ip', ['netns', 'del', ns]);
  }
  return out;
}
