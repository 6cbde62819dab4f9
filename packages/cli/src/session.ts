/**
 * The lab shell as a plain library: a {@link Session} holds one simulator, where the terminal is
 * (workstation, node, pod), background jobs and the files commands wrote. `run(line)` takes a command
 * line and returns what a terminal would show; it does no I/O, so a browser terminal can use it as is.
 */
import {
  fail, findNs, formatIpv4, isLocalAddress, parseIpv4, shown, getNs, hostNsId, isPodnetError, netnsPath, ownChains, podNsId, writePcap, type NetNs, type NsId, type PcapRecord, type Pod, type Simulator, type Trace,
} from '@podnet/core';
import { designFromSpec, seedLabSpec, simulatorFromSpec, type ClusterSpecJson } from '@podnet/cni';
import { captureStamp, ctime, SIM_EPOCH_MS } from './format.js';
import { iptables, iptablesSave } from './iptables.js';
import { conntrack } from './conntrack.js';
import { bridge, ip, isNetnsExec, linkNamed } from './ip.js';
import { installNodeAgents, nodeAgentSpecs } from './kube.js';
import { nc } from './nc.js';
import { LABS, type Lab } from './labs.js';
import { eksctl } from './eksctl.js';
import { kubectl, type KubectlHost } from './kubectl.js';
import { cat, crictl, hostname, ls, podByNetnsPath, podByPid, shellFile, sysctl } from './node.js';
import { captureLine, FilterError, framesOn, matchFilter, parseFilter, TcpConversations, type Filter, type PrintOptions } from './tcpdump.js';
import { grep, head, sort, tail, wc } from './text.js';
import { err, ok, type Ctx, type Output, type Place } from './types.js';
import { parseLine, quoteWord, type Words } from './words.js';

/** Options of {@link createSession}. */
export interface SessionOptions {
  /** The cluster (default: the seed lab of the lesson). */
  readonly spec?: ClusterSpecJson;
  /** Or a simulator built elsewhere. */
  readonly sim?: Simulator;
  /** Add kube-proxy and the CNI's DaemonSet pod to every node (default true). */
  readonly agents?: boolean;
  /** How long the cluster has been up when the session starts, in ms (default 10 minutes): what AGE shows. */
  readonly uptimeMs?: number;
  /**
   * Labs of your own, listed and started after the built-in ones: {@link Lab} objects, or what a lab file
   * holds ({@link labFromFile} turns one into a Lab). A lab with id 0 takes the next free number. Names and
   * numbers must not repeat (`INVALID_LAB`).
   */
  readonly labs?: readonly Lab[];
}

interface Frame {
  readonly place: Place;
  /** An `nsenter --net=…` shell: the namespace, and how the prompt names it. */
  readonly netns?: { readonly id: NsId; readonly name: string; readonly sysfs?: boolean };
  /** What leaving the shell does and prints (`kubectl run --rm -it`: the pod is deleted). */
  readonly onExit?: () => Output;
}

interface Job {
  readonly id: number;
  readonly text: string;
  readonly ns: NsId;
  readonly dev: string;
  readonly filter: Filter;
  /** MACs of the namespace's bridges (frames the host sends through a bridge are seen on it). */
  readonly bridgeMacs: ReadonlySet<string>;
  readonly count: number | null;
  readonly write: string | null;
  /** How to print each frame: `-e`, `-v` and `-x`/`-X` (see tcpdump.ts's PrintOptions). */
  readonly print: PrintOptions;
  readonly records: PcapRecord[];
  captured: number;
  /** How many `-t` (format.ts captureStamp), and the times of the job's first and latest lines (-ttt, -ttttt). */
  readonly stamps: number;
  first: number | null;
  prev: number;
}

/** Tools of the netshoot image podnet does not model, with where to look instead. */
const UNMODELLED: Readonly<Record<string, string>> = (() => {
  const nat = 'podnet lists and changes netfilter rules with iptables (nf_tables) and iptables-save only; see a translation\'s effect with tcpdump on the receiving pod (the source address it shows)';
  const sockets = 'podnet has no sockets or applications; ping, traceroute, `nc -zv HOST PORT` and tcpdump show what reaches a pod';
  return { 'iptables-legacy': nat, nft: nat, ss: sockets, netstat: sockets, curl: sockets, wget: sockets, dig: 'podnet has no DNS: use addresses', nslookup: 'podnet has no DNS: use addresses', arp: 'use `ip neigh`', mtr: 'use `traceroute -n`', tracepath: 'use `ping -M do -s SIZE` for the path MTU and `traceroute -n` for the hops', ifconfig: 'use `ip addr`', route: 'use `ip route`', brctl: 'use `bridge link` and `bridge fdb`', ethtool: 'use `ip -d link`' };
})();

/** Commands each place offers (for `help` and tab completion). */
const CLIENT_COMMANDS = ['kubectl', 'eksctl', 'lab', 'podnet'];
const NET_COMMANDS = ['ip', 'bridge', 'iptables', 'iptables-save', 'conntrack', 'ping', 'traceroute', 'nc', 'tcpdump', 'sysctl', 'nsenter', 'ls', 'cat', 'hostname', 'exit'];
const COMMON = ['echo', 'grep', 'head', 'tail', 'wc', 'sort', 'sleep', 'jobs', 'fg', 'kill', 'help', 'history', 'true', 'false', 'clear'];

/** One terminal on a simulated cluster. */
/** tcpdump 4.99's long options: those podnet reads as a short one, with whether they take an argument. */
const TCPDUMP_LONG: Readonly<Record<string, { short: string | null; arg: boolean }>> = {
  interface: { short: 'i', arg: true }, 'snapshot-length': { short: 's', arg: true }, 'no-promiscuous-mode': { short: 'p', arg: false },
  'immediate-mode': { short: null, arg: false },
  'buffer-size': { short: 'B', arg: true }, 'list-interfaces': { short: 'D', arg: false }, direction: { short: 'Q', arg: true },
  help: { short: 'h', arg: false }, 'monitor-mode': { short: 'I', arg: false }, 'dont-verify-checksums': { short: 'K', arg: false },
  'list-data-link-types': { short: 'L', arg: false }, 'no-optimize': { short: 'O', arg: false }, 'time-stamp-type': { short: 'j', arg: true },
  'list-time-stamp-types': { short: 'J', arg: false }, 'relinquish-privileges': { short: 'Z', arg: true }, version: { short: null, arg: false },
  count: { short: null, arg: false }, number: { short: null, arg: false }, print: { short: null, arg: false }, micro: { short: null, arg: false },
  nano: { short: null, arg: false }, 'time-stamp-precision': { short: null, arg: true }, lengths: { short: null, arg: false },
};
/** The long options podnet reads (the rest are tcpdump's, refused as not modelled). */
const TCPDUMP_LONG_READ = new Set(['interface', 'snapshot-length', 'no-promiscuous-mode', 'immediate-mode']);

/** tcpdump's words with its long options made short ones; a string is what tcpdump (or podnet) says instead. */
function longTcpdumpOptions(args: readonly string[]): string[] | string {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') { out.push(...args.slice(i)); break; }
    if (!a.startsWith('--')) { out.push(a); continue; }
    const eq = a.indexOf('=');
    const typed = a.slice(2, eq < 0 ? undefined : eq);
    const hits = Object.keys(TCPDUMP_LONG).filter((k) => k === typed || k.startsWith(typed));
    const name = hits.includes(typed) ? typed : hits.length === 1 ? hits[0]! : null;
    if (name === null) return hits.length > 1 ? `tcpdump: option '${a}' is ambiguous` : `tcpdump: unrecognized option '${a}'`;
    const o = TCPDUMP_LONG[name]!;
    let v: string | undefined;
    if (o.arg) {
      v = eq < 0 ? args[++i] : a.slice(eq + 1);
      if (v === undefined) return `tcpdump: option '--${name}' requires an argument`;
    } else if (eq >= 0) return `tcpdump: option '--${name}' doesn't allow an argument`;
    if (!TCPDUMP_LONG_READ.has(name)) return `tcpdump: podnet does not model --${name} (it models -i, -c, -w, -e, -n, -v, -x, -X and a filter expression)`;
    if (o.short !== null) out.push(`-${o.short}`, ...(v === undefined ? [] : [v]));
  }
  return out;
}

export class Session implements KubectlHost {
  #sim: Simulator;
  readonly podMeta = new Map<string, { restartPolicy: string; args: readonly string[] }>();
  readonly dsGenerations = new Map<string, number>();
  /** Node groups `eksctl create nodegroup` made: name → its nodes. */
  readonly nodegroups = new Map<string, readonly string[]>();
  /** Files commands wrote (`tcpdump -w`): path → bytes. The caller decides where they go. */
  readonly files: Map<string, Uint8Array> = new Map();
  /** True once `exit` left the last shell. */
  exited = false;
  readonly #stack: Frame[] = [{ place: { kind: 'client' } }];
  readonly #jobs: Job[] = [];
  /** Output of background jobs not shown yet: capture lines at their wire time, then bash's job notices. */
  #pending: { out: { t: number; text: string }[]; err: string } = { out: [], err: '' };
  #wire = 0;
  #spacing = 0;
  #history: string[] = [];
  #background = false;
  #quiet = false;
  #labState: { lab: Lab; hints: number } | undefined;
  /** The built-in labs, then the session's own. */
  readonly #labs: readonly Lab[];
  readonly #listener = (t: Trace) => this.#onTrace(t);

  constructor(options: SessionOptions = {}) {
    this.#labs = withLabs(options.labs);
    this.#sim = options.sim ?? buildCluster(options.spec ?? seedLabSpec(), options.agents ?? true);
    this.#attach(this.#sim, options);
  }

  /** The labs this session offers (`lab list`): the built-in ones, then those of {@link SessionOptions.labs}. */
  get labs(): readonly Lab[] {
    return this.#labs;
  }

  #attach(sim: Simulator, options: SessionOptions): void {
    this.#sim = sim;
    if (options.agents ?? true) installNodeAgents(sim);
    const up = options.uptimeMs ?? 10 * 60_000;
    if (up > 0 && sim.now() < up) sim.advance(up - sim.now());
    sim.on('delivered', this.#listener);
    sim.on('dropped', this.#listener);
    this.#wire = sim.now();
  }

  /** Replaces the cluster (labs start and reset this way); the terminal goes back to the workstation. */
  replaceSimulator(sim: Simulator, options: SessionOptions = {}): void {
    this.#sim.off('delivered', this.#listener);
    this.#sim.off('dropped', this.#listener);
    this.#jobs.length = 0;
    this.#stack.length = 1;
    this.#labState = undefined;
    this.podMeta.clear();
    this.dsGenerations.clear();
    this.nodegroups.clear();
    this.#attach(sim, options);
  }

  /** The simulator (its state changes as commands run). */
  get sim(): Simulator {
    return this.#sim;
  }

  /** Where the terminal is. */
  get place(): Place {
    return this.#stack.at(-1)!.place;
  }

  /** The prompt for the current place. */
  prompt(): string {
    const f = this.#stack.at(-1)!;
    const p = f.place;
    const net = f.netns ? ` [netns ${f.netns.name}]` : '';
    if (p.kind === 'client') return 'you@laptop:~$ ';
    if (p.kind === 'node') return p.debug ? `${p.node} (node debugger)${net}:~# ` : `root@${p.node}${net}:/# `;
    return `${p.pod}${net}:/# `;
  }

  /** Lines typed so far. */
  history(): string[] {
    return [...this.#history];
  }

  /**
   * Runs one command line (pipelines, `;`, `&&`, `||`, `&`) and returns what the terminal shows:
   * stdout, stderr, and the status of the last pipeline. Output of background jobs that the line's
   * traffic produced follows the line's own output, as it would appear in the terminal.
   */
  run(line: string): Output {
    if (line.trim()) this.#history.push(line);
    const parsed = parseLine(line);
    if (!parsed.ok) return err(parsed.error, 2);
    let stdout = '';
    let stderr = '';
    let status = 0;
    for (const p of parsed.pipelines) {
      if ((p.after === '&&' && status !== 0) || (p.after === '||' && status === 0)) continue;
      const r = this.#pipeline(p.commands, p.background);
      stdout += r.stdout + this.#takePending();
      stderr += r.stderr + this.#pending.err;
      this.#pending = { out: [], err: '' };
      status = r.status;
      if (this.exited) break;
    }
    return { stdout, stderr, status };
  }

  #pipeline(commands: readonly Words[], background: boolean): Output {
    let stdin = '';
    let stderr = '';
    let last: Output = ok();
    commands.forEach((words, i) => {
      last = this.#command(words, this.#stack.at(-1)!, stdin, i < commands.length - 1, background);
      stderr += last.stderr;
      stdin = last.stdout;
    });
    return { stdout: stdin, stderr, status: last.status };
  }

  /** The iptables chains of the terminal's namespace's own (flanneld's on a node), for completion. */
  #ownChains(): string[] {
    const id = this.#nsOf(this.#stack.at(-1)!);
    if (id === null) return [];
    const ns = getNs(this.#sim.state, id);
    return [...ownChains(ns, 'filter'), ...ownChains(ns, 'nat')];
  }

  #nsOf(frame: Frame): NsId | null {
    if (frame.netns) return frame.netns.id;
    const p = frame.place;
    if (p.kind === 'client') return null;
    if (p.kind === 'node') return hostNsId(p.node);
    const pod = this.#sim.pod(p.pod);
    return pod.netns ? podNsId(pod.key) : hostNsId(pod.node!);
  }

  /** The namespace /sys/class/net shows: the place's (nsenter keeps the mounts), or `ip netns exec`'s target. */
  #sysfsNs(frame: Frame): NetNs {
    return getNs(this.#sim.state, (frame.netns?.sysfs === true ? frame.netns.id : this.#nsOf({ place: frame.place }))!);
  }

  #command(words: Words, frame: Frame, stdin: string, piped: boolean, background: boolean): Output {
    const [cmd, ...args] = words;
    if (cmd === undefined) return ok();
    const before = this.#sim.now();
    this.#wire = Math.max(this.#wire, before);
    this.#spacing = 0;
    this.#background = background;
    try {
      return this.#dispatch(cmd, args, frame, stdin, piped, background);
    } catch (e) {
      // A model error the command did not translate: say it in the tool's voice, never a stack.
      if (isPodnetError(e)) return err(`${cmd}: ${e.message}`, 1);
      throw e;
    } finally {
      if (this.#wire > this.#sim.now()) this.#sim.advance(Math.ceil(this.#wire - this.#sim.now()));
    }
  }

  #dispatch(cmd: string, args: readonly string[], frame: Frame, stdin: string, piped: boolean, background: boolean): Output {
    const place = frame.place;
    const ns = this.#nsOf(frame);
    const ctx: Ctx = { sim: this.#sim, place, ns, stdin, background };
    // Commands every shell has.
    switch (cmd) {
      case 'echo': return ok(`${args.filter((a, i) => !(i === 0 && a === '-n')).join(' ')}${args[0] === '-n' ? '' : '\n'}`);
      case 'true': return ok();
      case 'false': return { stdout: '', stderr: '', status: 1 };
      case 'sleep': return this.#sleep(args);
      case 'grep': case 'egrep': return grep(cmd === 'egrep' ? ['-E', ...args] : args, stdin);
      case 'head': return head(args, stdin);
      case 'tail': return tail(args, stdin);
      case 'wc': return wc(args, stdin);
      case 'sort': return sort(args, stdin);
      case 'clear': return ok();
      case 'history': return ok(this.#history.map((h, i) => `${String(i + 1).padStart(5)}  ${h}\n`).join(''));
      case 'help': return ok(this.#help());
      case 'jobs': return ok(this.#jobs.map((j, i) => `[${j.id}]${i === this.#jobs.length - 1 ? '+' : '-'}  ${'Running'.padEnd(24)}${j.text} &\n`).join(''));
      case 'fg': case 'kill': return this.#stopJob(cmd, args);
      case 'exit': case 'logout': return this.#exit();
      case 'lab': return this.#lab(args);
      case 'podnet': return args[0] === 'lab' ? this.#lab(args.slice(1)) : err('podnet: inside the shell, podnet takes lab commands: podnet lab list|start N|check|hint|reset', 2);
    }
    if (place.kind === 'client') {
      if (cmd === 'kubectl' || cmd === 'k') return kubectl(this, args);
      if (cmd === 'eksctl') return eksctl(this, args);
      if (NET_COMMANDS.includes(cmd) || cmd === 'crictl') {
        return err(`bash: ${cmd}: podnet models the cluster, not your laptop. Open a shell on a node (kubectl debug node/node-1 -it --image=nicolaka/netshoot) or run it in a pod (kubectl exec POD -- ${cmd} …)`, 127);
      }
      return err(`bash: ${cmd}: command not found`, 127);
    }
    const nsObj = getNs(this.#sim.state, ns!);
    const admin = place.kind === 'node' && place.admin;
    switch (cmd) {
      case 'ip': return isNetnsExec(args) ? this.#netnsExec(frame, args.slice(args.indexOf('exec') + 1), stdin, piped, background) : ip(ctx, args, admin);
      case 'bridge': return bridge(ctx, args, admin);
      case 'ping': return this.#ping(ctx, args);
      case 'traceroute': return this.#traceroute(ctx, args);
      case 'nc': return nc({ sim: this.#sim, from: this.#endpoint(ctx.ns!), ns: ctx.ns!, wait: (ms) => this.#pass(ms), sent: (t) => this.#pass((t.steps.length + 1) * 0.01) }, args);
      case 'tcpdump': return this.#tcpdump(ctx, args, [cmd, ...args], background);
      case 'sysctl': return sysctl(this.#sim, nsObj, args, admin, shellFile(this.#sim, place, nsObj));
      case 'iptables': case 'iptables-nft': return iptables(ctx, args, admin);
      case 'iptables-save': case 'iptables-nft-save': return iptablesSave(ctx, args, admin, ctime(this.#sim.now()));
      case 'conntrack': return conntrack(ctx, args, admin);
      case 'ls': return ls(this.#sim, place, args, piped, nsObj, this.#sysfsNs(frame));
      case 'cat': return cat(this.#sim, place, args, stdin, nsObj, this.#sysfsNs(frame));
      case 'hostname': return hostname(this.#sim, place, nsObj, args);
      case 'nsenter': return this.#nsenter(frame, args, stdin, piped, background);
      case 'chroot': return this.#chroot(frame, args, stdin, piped, background);
      case 'crictl':
        if (place.kind === 'node' && !place.debug) return crictl(this.#sim, place.node, args);
        return err(`bash: crictl: command not found\npodnet: crictl talks to containerd on the node; it is not in the ${place.kind === 'node' ? 'netshoot image: run `chroot /host` first' : 'pod'}`, 127);
      case 'kubectl':
        return err('bash: kubectl: command not found', 127);
    }
    // netshoot has these, so "command not found" would send a student looking for a package to install.
    const unmodelled = Object.prototype.hasOwnProperty.call(UNMODELLED, cmd) ? UNMODELLED[cmd] : undefined;
    if (unmodelled !== undefined) return err(`bash: ${cmd}: not modelled by podnet (the netshoot image has it): ${unmodelled}`, 127);
    return err(`bash: ${cmd}: command not found`, 127);
  }

  /**
   * `sleep NUMBER[SUFFIX]…` (coreutils: seconds, or s, m, h, d; the arguments add up): the simulated clock moves
   * on that long, and what happens meanwhile happens (flanneld's resync loop puts its iptables rules back).
   */
  #sleep(args: readonly string[]): Output {
    const TRY = "Try 'sleep --help' for more information.";
    if (args.length === 0) return err(`sleep: missing operand\n${TRY}`, 1);
    const unit: Readonly<Record<string, number>> = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 };
    let seconds = 0;
    for (const a of args) {
      const m = /^(\d+(?:\.\d*)?|\.\d+)([smhd]?)$/.exec(a);
      if (!m) return err(`sleep: invalid time interval '${a}'\n${TRY}`, 1);
      seconds += Number(m[1]) * unit[m[2]!]!;
    }
    this.#wire += seconds * 1000;
    return ok();
  }

  /**
   * Lets `ms` of simulated time pass in the middle of a command (nc's retransmissions): later packets are sent,
   * and captured, that much later, and the agents' loops run meanwhile. After a packet, the time its trace's
   * steps take in captures (0.01 ms a step, as #onTrace stamps them), so that the next packet prints after them.
   */
  #pass(ms: number): void {
    this.#wire += ms;
    // The simulator's clock moves in whole ms; the rest waits for the command's end (see #command).
    if (this.#wire - this.#sim.now() >= 1) this.#sim.advance(Math.floor(this.#wire - this.#sim.now()));
  }

  /** `lab list|start N|check|hint|reset`. */
  #lab(args: readonly string[]): Output {
    const [sub, ref] = args;
    const current = this.#labState;
    if (sub === undefined || sub === 'list') {
      return ok(`${this.#labs.map((l) => `${current?.lab === l ? '*' : ' '} ${l.id}  ${l.name.padEnd(18)} ${l.title}`).join('\n')}\n\nlab start N · lab hint · lab check · lab reset\n`);
    }
    if (sub === 'start' || sub === 'reset') {
      const lab = sub === 'reset' ? current?.lab : ref === undefined ? undefined : this.#labs.find((l) => String(l.id) === ref || l.name === ref);
      if (lab === undefined) return err(sub === 'reset' ? 'lab: no lab started (lab start N)' : `lab: no lab "${ref ?? ''}" (lab list)`, 2);
      const sim = buildCluster(lab.spec());
      const faults = lab.faults(sim);
      if (faults.length) sim.apply(faults, `lab ${lab.id}: the fault`);
      this.replaceSimulator(sim);
      this.#labState = { lab, hints: 0 };
      return ok(`Lab ${lab.id}: ${lab.title}\n\n${lab.brief}\n`);
    }
    if (current === undefined) return err('lab: no lab started (lab start N)', 2);
    if (sub === 'hint') {
      const h = current.lab.hints[current.hints];
      if (h === undefined) return ok('No more hints: lab check says what is still wrong.\n');
      current.hints++;
      return ok(`Hint ${current.hints}/${current.lab.hints.length}: ${h}\n`);
    }
    if (sub === 'check') {
      // The grader's probes are not the student's traffic: captures do not see them.
      this.#quiet = true;
      let v;
      try { v = current.lab.check(this.#sim); } finally { this.#quiet = false; }
      return { stdout: `${v.lines.join('\n')}\n\n${v.ok ? `Lab ${current.lab.id} solved.` : `Not yet: lab ${current.lab.id} is not solved (lab hint helps).`}\n`, stderr: '', status: v.ok ? 0 : 1 };
    }
    return err(`lab: unknown command "${sub}" (lab list|start N|check|hint|reset)`, 2);
  }

  #help(): string {
    const p = this.place;
    const cmds = p.kind === 'client' ? [...CLIENT_COMMANDS, ...COMMON] : [...NET_COMMANDS, ...(p.kind === 'node' ? ['crictl', 'chroot'] : []), ...COMMON];
    return `podnet lab shell — ${p.kind === 'client' ? 'your workstation (kubectl)' : p.kind === 'node' ? `node ${p.node}` : `pod ${p.pod}`}\ncommands: ${cmds.join(' ')}\n`;
  }

  #exit(): Output {
    if (this.#stack.length === 1) {
      this.exited = true;
      return ok();
    }
    const left = this.#stack.pop()!;
    return left.onExit ? left.onExit() : ok();
  }

  /** KubectlHost: runs words in a place (kubectl exec POD -- …, kubectl debug node/… -- …). */
  runIn(place: Place, words: readonly string[]): Output {
    const [cmd, ...args] = words;
    if (cmd === undefined) return ok();
    return this.#dispatch(cmd, args, { place }, '', false, this.#background);
  }

  /** KubectlHost: the terminal moves into a place (an interactive shell there). */
  enter(place: Place, onExit?: () => Output): void {
    this.#stack.push(onExit ? { place, onExit } : { place });
  }

  #chroot(frame: Frame, args: readonly string[], stdin: string, piped: boolean, background: boolean): Output {
    const p = frame.place;
    const dir = args[0];
    if (dir === undefined) return err("chroot: missing operand\nTry 'chroot --help' for more information.", 125);
    if (p.kind !== 'node' || !p.debug || dir.replace(/\/+$/, '') !== '/host') return err(`chroot: cannot change root directory to '${dir}': No such file or directory`, 125);
    const next: Frame = { place: { ...p, debug: false }, ...(frame.netns ? { netns: frame.netns } : {}) };
    if (args.length > 1) return this.#command(args.slice(1), next, stdin, piped, background);
    this.#stack.push(next);
    return ok();
  }

  /**
   * `nsenter [-t PID] -n[FILE] | --net[=FILE] [--] CMD…`, read as util-linux 2.38's getopt_long reads it
   * (measured in namespaces): `-n` and `--net` take their file only joined to them (`-nFILE`, `--net=FILE`),
   * so `nsenter --net /var/run/netns/X ip a` has no file (`neither filename nor target pid supplied for
   * ns/net`); without a file they enter the target's (`-t PID`, `-tPID`, `--target[=]PID`). PID 1 is the
   * node's init, a container's PID is the one `crictl inspect` shows (the node debugger shares the host's
   * PIDs); `/proc/PID/ns/net` is the same namespace as a file. The other namespaces are not modelled.
   */
  #nsenter(frame: Frame, args: readonly string[], stdin: string, piped: boolean, background: boolean): Output {
    const p = frame.place;
    const usage = "\nTry 'nsenter --help' for more information.";
    let path: string | undefined;
    let net = false;
    let target: string | undefined;
    let i = 0;
    for (; i < args.length; i++) {
      const a = args[i]!;
      if (a === '--') { i++; break; }
      if (!a.startsWith('-') || a === '-') break;
      if (a.startsWith('--')) {
        const [name, value] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
        if (name === '--net') { net = true; path = value; continue; }
        if (name === '--target') {
          const v = value ?? args[++i];
          if (v === undefined) return err(`nsenter: option '--target' requires an argument${usage}`, 1);
          target = v;
          continue;
        }
        if (['--mount', '--uts', '--ipc', '--pid', '--cgroup', '--user', '--time', '--all', '--root', '--wd', '--setuid', '--setgid', '--preserve-credentials', '--no-fork', '--follow-context', '--help', '--version'].includes(name)) {
          return err(`nsenter: podnet does not model nsenter ${name}: only the network namespace (-n/--net), with -t PID or a file`, 1);
        }
        return err(`nsenter: unrecognized option '${a}'${usage}`, 1);
      }
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        if (c === 'n') { net = true; path = j + 1 < a.length ? a.slice(j + 1) : undefined; break; }
        if (c === 't') {
          const v = j + 1 < a.length ? a.slice(j + 1) : args[++i];
          if (v === undefined) return err(`nsenter: option requires an argument -- 't'${usage}`, 1);
          target = v;
          break;
        }
        if ('muipCUTaSGrwFZhV'.includes(c)) return err(`nsenter: podnet does not model nsenter -${c}: only the network namespace (-n/--net), with -t PID or a file`, 1);
        return err(`nsenter: invalid option -- '${c}'${usage}`, 1);
      }
    }
    if (target !== undefined && !/^\d+$/.test(target)) return err(`nsenter: failed to parse pid: '${target}'`, 1);
    const rest = args.slice(i);
    // With no namespace named, nsenter runs the command where it is (measured: `nsenter -t PID true`, exit 0).
    if (!net) return rest.length ? this.#command(rest, frame, stdin, piped, background) : ok();
    if (path === undefined && target === undefined) return err('nsenter: neither filename nor target pid supplied for ns/net', 1);
    const file = path ?? `/proc/${target}/ns/net`;
    // In a pod, PID 1 is the container's own first process (its PID namespace): /proc/1/ns/net opens, and
    // setns without CAP_SYS_ADMIN is refused.
    if (p.kind === 'pod' && /^\/proc\/(1|self)\/ns\/net$/.test(file)) return err(`nsenter: reassociate to namespace 'ns/net' failed: Operation not permitted`, 1);
    if (p.kind !== 'node') return err(`nsenter: cannot open ${file}: No such file or directory`, 1);
    const procPid = /^\/proc\/(\d+)\/ns\/net$/.exec(file)?.[1];
    let found: Pod | 'host' | undefined;
    if (procPid !== undefined) found = podByPid(this.#sim, p.node, Number(procPid));
    else {
      const nodePath = p.debug ? (file.startsWith('/host/') ? file.slice(5) : null) : file;
      found = nodePath === null ? undefined : podByNetnsPath(this.#sim, p.node, nodePath);
    }
    if (found === undefined || (found !== 'host' && !found.hostNetwork && !found.netns)) return err(`nsenter: cannot open ${file}: No such file or directory`, 1);
    if (!p.admin) return err(`nsenter: reassociate to namespace 'ns/net' failed: Operation not permitted`, 1);
    // A host-network pod's container, like PID 1, is in the node's namespace.
    const next: Frame = found === 'host' || found.hostNetwork || !found.netns
      ? { place: p }
      : { place: p, netns: { id: podNsId(found.key), name: netnsPath(found).split('/').pop()! } };
    if (rest.length) return this.#command(rest, next, stdin, piped, background);
    this.#stack.push(next);
    return ok();
  }

  /**
   * `ip netns exec NAME CMD…`: CMD in the namespace /var/run/netns/NAME, as nsenter runs it (iproute2's
   * words, measured: a name it cannot open, then setns(2) without CAP_SYS_ADMIN). In the debug pod
   * /var/run/netns is the container's own: `chroot /host` first, or nsenter the path under /host.
   */
  #netnsExec(frame: Frame, args: readonly string[], stdin: string, piped: boolean, background: boolean): Output {
    const [name, ...cmd] = args;
    if (name === undefined) return err('No netns name specified', 1);
    if (cmd.length === 0) return err('No command specified', 1);
    const p = frame.place;
    const pod = p.kind === 'node' && !p.debug ? podByNetnsPath(this.#sim, p.node, `/var/run/netns/${name}`) : undefined;
    if (p.kind !== 'node' || !pod || !pod.netns) return err(`Cannot open network namespace "${name}": No such file or directory`, 255);
    if (!p.admin) return err(`setting the network namespace "${name}" failed: Operation not permitted`, 255);
    return this.#command(cmd, { place: p, netns: { id: podNsId(pod.key), name, sysfs: true } }, stdin, piped, background);
  }

  #endpoint(ns: NsId): string {
    return ns.startsWith('node/') ? ns.slice(5) : ns.slice(4);
  }

  #ping(ctx: Ctx, args: readonly string[]): Output {
    let count: number | null = null;
    let size = 56;
    let df = true;
    let ttl: number | undefined;
    let ident: number | undefined;
    let interval = 1000;
    let dst: string | undefined;
    let bindTo: string | undefined;
    let broadcast = false;
    let quiet = false;
    const usage = '\n\nUsage\n  ping [options] <destination>';
    // getopt(3), as iputils 20221126 reads ping's options: flags cluster (`-qn`), and an option that takes an
    // argument ends its cluster with the rest of the word or the next one (`-c1`, `-qc 3`, `-W1`): measured,
    // `ping -c1W1` gives -c the argument `1W1` (`ping: invalid argument: '1W1'`, exit 1), `ping -zc1` is
    // `ping: invalid option -- 'z'` and the usage (exit 2).
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (!a.startsWith('-') || a.length < 2) { dst = a; continue; }
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        if ('csMteiIWwlmpQSTF'.includes(c)) {
          const v = j + 1 < a.length ? a.slice(j + 1) : args[++i];
          if (v === undefined) return err(`ping: option requires an argument -- '${c}'${usage}`, 2);
          if (!/^\d+$/.test(v) && 'cste'.includes(c)) return err(`ping: invalid argument: '${v}'`, 1);
          if (c === 'c') { if (Number(v) < 1) return err(`ping: invalid argument: '${v}': out of range: 1 <= value <= 9223372036854775807`, 1); count = Number(v); }
          else if (c === 's') { if (Number(v) > 65507) return err(`ping: invalid argument: '${v}': out of range: 0 <= value <= 2147483647`, 1); size = Number(v); }
          else if (c === 'M') { if (v === 'do' || v === 'want') df = true; else if (v === 'dont') df = false; else return err(`ping: invalid -M argument: ${v}`, 2); }
          else if (c === 't') { if (Number(v) < 1 || Number(v) > 255) return err(`ping: invalid argument: '${v}': out of range: 0 <= value <= 255`, 1); ttl = Number(v); }
          else if (c === 'e') { if (Number(v) > 65535) return err(`ping: invalid argument: '${v}': out of range: 0 <= value <= 65535`, 1); ident = Number(v); }
          else if (c === 'i') { if (!/^(\d+(\.\d*)?|\.\d+)$/.test(v) || Number(v) > 3600) return err(`ping: bad timing interval: ${v}`, 2); interval = Math.round(Number(v) * 1000); }
          // iputils: an address binds the source (bind(2)), anything else names a device (SO_BINDTODEVICE).
          else if (c === 'I') bindTo = v;
          // -W and -w (timeouts): podnet's replies come or not at once; the value is taken and changes nothing.
          else if (c !== 'W' && c !== 'w') return err(`ping: podnet does not model -${c} (it models -c, -s, -M, -t, -e, -i, -I, -W, -w, -q, -n, -b)`, 2);
          break;
        }
        if (c === 'q') quiet = true;
        else if (c === 'b') broadcast = true;
        else if (c === 'n' || c === '4') continue;
        else if (c === '6') return err('ping: podnet models IPv4 only (-6)', 2);
        else if ('aABdDfhLOrRUvV'.includes(c)) return err(`ping: podnet does not model -${c} (it models -c, -s, -M, -t, -e, -i, -I, -W, -w, -q, -n, -b)`, 2);
        else return err(`ping: invalid option -- '${c}'${usage}`, 2);
      }
    }
    if (dst === undefined) return err('ping: usage error: Destination address required', 1);
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(dst)) return err(`ping: ${dst}: Name or service not known`, 2);
    const bind = bindTo === undefined ? {} : /^\d+\.\d+\.\d+\.\d+$/.test(bindTo) ? { source: bindTo } : { device: bindTo };
    const ns = findNs(this.#sim.state, ctx.ns!);
    // Measured (ping-dev-formats.txt (a)): iputils checks the binding before it sends anything, exit 2.
    if (bind.device !== undefined && ns?.links[bind.device] === undefined) return err(`ping: SO_BINDTODEVICE ${bind.device}: No such device`, 2);
    if (bind.source !== undefined && (ns === undefined || !isLocalAddress(ns, parseIpv4(bind.source)))) return err('ping: bind: Cannot assign requested address', 2);
    this.#spacing = interval;
    const r = this.#sim.ping(this.#endpoint(ctx.ns!), dst, { count: count ?? 4, size, df, interval, ...(ttl !== undefined ? { ttl } : {}), ...(ident !== undefined ? { ident } : {}), ...bind, ...(broadcast ? { broadcast } : {}) });
    // A broadcast destination: refused without -b (exit 2, nothing sent), warned about with it, on stderr
    // (measured, bcast-formats.txt (b)).
    if (r.broadcast === true && r.transmitted === 0) return err(r.lines.join('\n'), 2);
    // iputils warns when the source the bound device's route selects is not an address of that device
    // (measured: `ping -I lo 10.244.1.4` on a node, source 192.168.1.11 of eth0).
    const foreign = bind.device !== undefined && r.source !== null && !ns!.links[bind.device]!.addrs.some((x) => formatIpv4(x.ip) === r.source);
    const warning = `${r.broadcast === true ? 'WARNING: pinging broadcast address\n' : ''}${foreign ? `ping: Warning: source address might be selected on device other than: ${bind.device}\n` : ''}`;
    const lines = [...r.lines];
    // Without -c ping runs until interrupted: the lab shell sends four and stops as Ctrl-C would.
    if (count === null && lines.length > 2) lines.splice(lines.length - 3, 0, '^C');
    if (r.transmitted > 0 && r.received === 0) {
      // iputils ends the summary with a second line: the rtt figures (podnet has none: no latency model)
      // and `pipe N` when more than one request was unanswered at once. With nothing received there are
      // no rtt figures, so the line is `pipe N` or empty. A failed ARP answers the requests it held only
      // after its three solicitations (~3 s), when four requests have left at ping's 1 s interval:
      // measured (iputils 20221126) pipe 2, 3, 4, 4 for -c 2, 3, 4, 5; errors that come back at once
      // (an unreachable route) and silent losses leave an empty line.
      const delayed = r.traces.some((t) => t.disposition === 'neighbourUnreachable');
      const pipe = delayed ? Math.min(r.transmitted, 4) : 1;
      lines.push(pipe > 1 ? `pipe ${pipe}` : '');
    }
    // -q: the first line and the summary alone (measured: `ping -qc1 127.0.0.1`, the header, a blank line, the
    // statistics), a `^C` before the summary kept.
    const k = quiet ? lines.findIndex((l) => l.startsWith('--- ')) : -1;
    if (k > 1) lines.splice(1, (lines[k - 2] === '^C' ? k - 2 : k - 1) - 1);
    return { stdout: `${lines.join('\n')}\n`, stderr: warning, status: r.ok ? 0 : r.transmitted === 0 ? 2 : 1 };
  }

  #traceroute(ctx: Ctx, args: readonly string[]): Output {
    let max = 30;
    let first = 1;
    let probes = 3;
    let dst: string | undefined;
    // traceroute 2.1.2's options (its CLIF parser, measured): `-w1` takes the rest of the word; flags cluster
    // (`-nI`), and an option with an argument may end a cluster, taking the next word (`-nq 1`), but not the
    // rest of it (`-nq1`: "Option `-q' (argc 1) requires an argument: `-q nqueries'").
    const takes: Readonly<Record<string, string>> = { f: 'first_ttl', g: 'gate,...', i: 'device', m: 'max_ttl', N: 'squeries', p: 'port', t: 'tos', l: 'flow_label', w: 'MAX,HERE,NEAR', q: 'nqueries', s: 'src_addr', z: 'sendwait', M: 'name', O: 'OPTS,...' };
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (!a.startsWith('-') || a.length < 2) { dst ??= a; continue; }
      const argc = i + 1;
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        const what = Object.prototype.hasOwnProperty.call(takes, c) ? takes[c] : undefined;
        if (what === undefined) {
          if ('46dFITnreAUDV'.includes(c)) { if (c === '6') return err('traceroute: podnet models IPv4 only (-6)', 2); continue; }
          return err(`Bad option \`-${c}' (argc ${argc})`, 2);
        }
        const v = j === 1 && a.length > 2 ? a.slice(2) : j === a.length - 1 ? args[++i] : undefined;
        if (v === undefined) return err(`Option \`-${c}' (argc ${argc}) requires an argument: \`-${c} ${what}'`, 2);
        const n = /^\d+$/.test(v) ? Number(v) : NaN;
        // "Cannot handle" counts the word that held the value (the next one, or the option's own: -mabc).
        const at = i + 1;
        if (c === 'm') { if (Number.isNaN(n)) return err(`Cannot handle \`-m' option with arg \`${v}' (argc ${at})`, 2); if (n > 255) return err('max hops cannot be more than 255', 2); max = n; }
        else if (c === 'f') { if (Number.isNaN(n)) return err(`Cannot handle \`-f' option with arg \`${v}' (argc ${at})`, 2); first = n; }
        else if (c === 'q') {
          // traceroute(8) sends -q probes per hop (default 3) and prints one `*` for each that got no answer.
          if (Number.isNaN(n)) return err(`Cannot handle \`-q' option with arg \`${v}' (argc ${at})`, 2);
          if (n < 1 || n > 10) return err('no more than 10 probes per hop', 2);
          probes = n;
        } else if (c !== 'w' && c !== 'p') return err(`traceroute: podnet does not model -${c} (it models -n, -m, -f, -q, -w, -p and -I)`, 2);
        break;
      }
    }
    if (dst !== undefined && (first < 1 || first > max)) return err('first hop out of range', 2);    if (dst === undefined) return err('Usage:\n  traceroute [ -46dFITnreAUDV ] [ -f first_ttl ] [ -g gate,... ] [ -i device ] [ -m max_ttl ] [ -N squeries ] [ -p port ] [ -t tos ] [ -l flow_label ] [ -w MAX,HERE,NEAR ] [ -q nqueries ] [ -s src_addr ] [ -z sendwait ] [ --fwmark=num ] host [ packetlen ]', 2);
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(dst)) return err(`${dst}: Name or service not known\nCannot handle "host" cmdline arg \`${dst}' on position 1 (argc ${args.length})`, 2);
    this.#spacing = 1;
    const r = this.#sim.traceroute(this.#endpoint(ctx.ns!), dst, { maxHops: max, firstTtl: first });
    // A broadcast: connect(2) refuses it (EACCES) after the first line (measured, bcast-formats.txt (l)).
    if (r.broadcast === true) return { stdout: `${r.lines[0]!}\n`, stderr: `${r.lines.slice(1).join('\n')}\n`, status: 1 };
    // The model sends one probe per hop; a hop where it got no answer is `*` for each of the -q probes
    // (` 2  * * *` by default, measured with traceroute 2.1.2 in namespaces).
    const stars = Array.from({ length: probes }, () => '*').join(' ');
    const lines = r.lines.map((l, i) => (i > 0 && r.hops[i - 1]?.address === null ? `${String(r.hops[i - 1]!.ttl).padStart(2)}  ${stars}` : l));
    return ok(`${lines.join('\n')}\n`);
  }

  #tcpdump(ctx: Ctx, argv: readonly string[], words: readonly string[], background: boolean): Output {
    let args = argv;
    let dev: string | null = null;
    let count: number | null = null;
    let write: string | null = null;
    let link = false;
    // tcpdump counts its flags: each v raises the verbosity (-vv, -v -v), each x or X the hex dump (-xx).
    let verbose = 0;
    let x = 0;
    let bigX = 0;
    let stamps = 0;
    const expr: string[] = [];
    const usage = 'Usage: tcpdump [-AbdDefhHIJKlLnNOpqStuUvxX#] [ -B size ] [ -c count ] [ --count ]\n\t\t[ -C file_size ] [ -E algo:secret ] [ -F file ] [ -G seconds ]\n\t\t[ -i interface ] [ --immediate-mode ] [ -j tstamptype ]\n\t\t[ -M secret ] [ --number ] [ --print ] [ -Q in|out|inout ]\n\t\t[ -r file ] [ -s snaplen ] [ -T type ] [ --version ]\n\t\t[ -V file ] [ -w file ] [ -W filecount ] [ -y datalinktype ]\n\t\t[ -z postrotate-command ] [ -Z user ]\n\t\t[ --time-stamp-precision precision ] [ --micro ] [ --nano ]\n\t\t[ expression ]';
    // getopt(3), as tcpdump parses its options: flags cluster (`-nn`, `-vvv`), and an option that takes an
    // argument ends its cluster, taking the rest of the word or the next one (`-ni eth0`, `-nei any`, `-c5`).
    // Long options, as getopt_long reads tcpdump 4.99's (a unique prefix is enough; `--interface=eth0` or
    // `--interface eth0`; measured: --interface, --snapshot-length and --immediate-mode capture as -i, -s and
    // plain): turned into the short ones; tcpdump's other long options are refused as not modelled.
    const long = longTcpdumpOptions(args);
    if (typeof long === 'string') return err(`${long}${long.includes('podnet') ? '' : `\n${usage}`}`, 1);
    args = long;
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === '--') { expr.push(...args.slice(i + 1)); break; }
      if (!a.startsWith('-') || a.length < 2) { expr.push(a); continue; }
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        if (c === 'i' || c === 'c' || c === 'w' || c === 's') {
          const v = j + 1 < a.length ? a.slice(j + 1) : args[++i];
          if (v === undefined) return err(`tcpdump: option requires an argument -- '${c}'\n${usage}`, 1);
          if (c === 'i') dev = v;
          else if (c === 'c') { if (!/^\d+$/.test(v) || Number(v) < 1) return err(`tcpdump: invalid packet count ${v}`, 1); count = Number(v); }
          else if (c === 'w') write = v;
          // The snapshot length changes nothing podnet prints (it captures whole frames); tcpdump checks it.
          else if (!/^\d+$/.test(v) || Number(v) > 262144) return err(`tcpdump: invalid snaplen ${v}`, 1);
          break;
        }
        if (c === 'e') link = true;
        else if (c === 'v') verbose++;
        else if (c === 'x') x++;
        else if (c === 'X') bigX++;
        else if (c === 't') stamps++;
        // n, N, l, q, p: name resolution, line buffering, quiet, promiscuity — nothing to change.
        else if ('nNlqp'.includes(c)) continue;
        // tcpdump 4.99's other options (its getopt string): real, and refused as not modelled rather than unknown.
        else if ('AbdDfhHIJKLOSuU#BCEFGjmMQrTVWyYzZ'.includes(c)) return err(`tcpdump: podnet does not model -${c} (it models -i, -c, -w, -e, -n, -v, -x, -X and a filter expression)`, 1);
        else return err(`tcpdump: invalid option -- '${c}'\n${usage}`, 1);
      }
    }
    const ns = getNs(this.#sim.state, ctx.ns!);
    const device = dev ?? Object.values(ns.links).filter((l) => l.kind !== 'loopback' && l.up).sort((a, b) => a.ifindex - b.ifindex)[0]?.name ?? 'lo';
    if (device !== 'any' && !linkNamed(ns, device)) return err(`tcpdump: ${device}: No such device exists\n(SIOCGIFHWADDR: No such device)`, 1);
    if (device === 'any' && write !== null) return err('tcpdump: podnet writes Ethernet captures only: pick one interface (-i eth0) with -w', 1);
    // -xx dumps the link-level header too, which on `any` is Linux cooked v2's, not modelled.
    if (device === 'any' && (x > 1 || bigX > 1)) return err('tcpdump: podnet dumps Ethernet headers only: pick one interface (-i eth0) with -xx or -XX', 1);
    let filter: Filter;
    try { filter = parseFilter(expr); } catch (e) {
      if (e instanceof FilterError) return err(`tcpdump: ${e.message}`, 1);
      throw e;
    }
    const id = (this.#jobs.at(-1)?.id ?? 0) + 1;
    const text = words.map(quoteWord).join(' ');
    const bridgeMacs = new Set(Object.values(ns.links).filter((l) => l.kind === 'bridge').map((l) => l.mac));
    // print.c: -X wins over -x; two of either dump the link-level header as well.
    const hex = bigX > 0 ? { ascii: true, link: bigX > 1 } : x > 0 ? { ascii: false, link: x > 1 } : null;
    const print: PrintOptions = { link, verbose: Math.min(verbose, 3), hex, conversations: new TcpConversations() };
    this.#jobs.push({ id, text, ns: ns.id, dev: device, filter, bridgeMacs, count, write, print, records: [], captured: 0, stamps: Math.min(stamps, 5), first: null, prev: 0 });
    const linkType = device === 'any' ? 'LINUX_SLL2 (Linux cooked v2)' : 'EN10MB (Ethernet)';
    // tcpdump.c: without -v and -w it says verbose output is suppressed; otherwise it prefixes the listening
    // line with its name (measured for -v and -w; -x alone still says suppressed).
    const listening = `${verbose === 0 && write === null ? 'tcpdump: verbose output suppressed, use -v[v]... for full protocol decode\n' : 'tcpdump: '}`
      + `listening on ${device}, link-type ${linkType}, snapshot length 262144 bytes\n`;
    const started = background ? `[${id}] ${4200 + id}\n` : '';
    const note = background ? '' : `podnet: tcpdump keeps capturing as job [${id}] while you type, as in a second terminal: traffic you send now prints here; \`fg\` or \`kill %${id}\` stops it\n`;
    return { stdout: started, stderr: listening + note, status: 0 };
  }

  #onTrace(trace: Trace): void {
    if (this.#quiet) return;
    const at = this.#wire;
    this.#wire += this.#spacing;
    for (const job of [...this.#jobs]) {
      for (const { step, frame } of framesOn(trace, job.ns, job.dev, job.bridgeMacs)) {
        if (!matchFilter(job.filter, frame)) continue;
        const t = at + step.index * 0.01;
        job.captured++;
        if (job.write !== null) job.records.push({ timestampMs: SIM_EPOCH_MS + t, frame });
        else {
          job.first ??= t;
          this.#pending.out.push({ t, text: `${captureLine(t, frame, job.print, captureStamp(job.stamps, t, job.captured === 1 ? t : job.prev, job.first))}\n` });
        }
        job.prev = t;
        if (job.count !== null && job.captured >= job.count) {
          this.#finish(job, 'Done');
          break;
        }
      }
    }
  }

  /** Capture lines of every job in wire-time order (two terminals print as packets pass), then job notices. */
  #takePending(): string {
    return this.#pending.out.map((e, i) => ({ ...e, i })).sort((a, b) => a.t - b.t || a.i - b.i).map((e) => e.text).join('');
  }

  #finish(job: Job, how: 'Done' | 'Terminated' | 'fg' | 'interrupt'): void {
    const i = this.#jobs.indexOf(job);
    if (i >= 0) this.#jobs.splice(i, 1);
    if (job.write !== null) this.files.set(job.write, writePcap(job.records));
    const summary = `${job.captured} packet${job.captured === 1 ? '' : 's'} captured\n${job.captured} packet${job.captured === 1 ? '' : 's'} received by filter\n0 packets dropped by kernel\n`;
    if (how === 'fg') this.#pending.err += summary;
    else if (how === 'interrupt') this.#pending.err += `^C\n${summary}`;
    else {
      this.#pending.err += summary;
      // bash marks the current job (the newest) with +, the one before it with -.
      const mark = this.#jobs.every((j) => j.id < job.id) ? '+' : '-';
      this.#pending.out.push({ t: Infinity, text: `[${job.id}]${mark}  ${how.padEnd(24)}${job.text}\n` });
    }
  }

  #stopJob(cmd: 'fg' | 'kill', args: readonly string[]): Output {
    const spec = args.find((a) => a.startsWith('%')) ?? (cmd === 'fg' ? args[0] : undefined);
    const job = spec === undefined ? (cmd === 'fg' ? this.#jobs.at(-1) : undefined) : this.#jobs.find((j) => `%${j.id}` === spec || String(j.id) === spec);
    if (job === undefined) {
      if (cmd === 'kill' && spec === undefined) return err('kill: usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]', 2);
      return err(`bash: ${cmd}: ${spec ?? 'current'}: no such job`, 1);
    }
    if (cmd === 'fg') {
      const out = `${job.text}\n`;
      this.#finish(job, 'fg');
      return ok(out);
    }
    this.#finish(job, 'Terminated');
    return ok();
  }

  /** Tab completion: candidates for the last word of `line` (commands, pod and node names). */
  complete(line: string): string[] {
    const words = line.split(/\s+/);
    const last = words.at(-1) ?? '';
    const first = words.length === 1;
    const p = this.place;
    const commands = p.kind === 'client' ? [...CLIENT_COMMANDS, ...COMMON, 'exit'] : [...NET_COMMANDS, ...COMMON, ...(p.kind === 'node' ? ['crictl', 'chroot'] : [])];
    const kubectlWords = ['get', 'describe', 'run', 'exec', 'debug', 'delete', 'set', 'env', 'cordon', 'uncordon', 'drain', 'daemonset', '--ignore-daemonsets', '-n', 'kube-system', 'nodes', 'pods', '--image=nicolaka/netshoot', '--restart=Never', '--profile=sysadmin', '-o', 'wide', '-A', '-it', '--'];
    const names = [
      ...this.#sim.nodes().flatMap((n) => [n.name, `node/${n.name}`]),
      ...this.#sim.pods().map((x) => x.name),
      ...this.#sim.pods().filter((x) => x.ip !== null).map((x) => `${x.ip! >>> 24}.${(x.ip! >>> 16) & 255}.${(x.ip! >>> 8) & 255}.${x.ip! & 255}`),
    ];
    const ipWords = ['link', 'addr', 'route', 'neigh', 'netns', 'show', 'type', 'veth', 'set', 'add', 'del', 'dev', 'up', 'down', 'mtu', 'via'];
    const iptablesWords = ['-t', 'nat', 'filter', '-L', '-S', '-A', '-I', '-D', '-C', '-F', '-N', '-X', '-n', '--line-numbers', 'INPUT', 'FORWARD', 'OUTPUT', 'PREROUTING', 'POSTROUTING', '-s', '-d', '-i', '-o', '-p', 'tcp', 'udp', 'icmp', '--dport', '-m', 'mark', '--mark', 'comment', '--comment', '-j', 'ACCEPT', 'DROP', 'REJECT', 'MASQUERADE', 'SNAT', 'DNAT', 'RETURN', '--to-source', '--to-destination',
      // The chains of the namespace's own (flanneld's on a node).
      ...this.#ownChains()];
    const pool = first ? commands : words[0] === 'kubectl' ? [...kubectlWords, ...names] : words[0] === 'ip' || words[0] === 'bridge' ? [...ipWords, 'fdb', ...names]
      : words[0] === 'iptables' || words[0] === 'iptables-save' ? [...iptablesWords, ...names] : names;
    return [...new Set(pool)].filter((c) => c.startsWith(last)).sort();
  }

  /**
   * Ctrl-C: stops the newest capture as if it ran in the foreground (tcpdump's summary), or does nothing
   * and returns null when no capture runs.
   */
  interrupt(): Output | null {
    const job = this.#jobs.at(-1);
    if (job === undefined) return null;
    this.#finish(job, 'interrupt');
    const out = { stdout: this.#takePending(), stderr: this.#pending.err, status: 130 };
    this.#pending = { out: [], err: '' };
    return out;
  }

  /** Stops every background job (as closing the terminal would), writing their capture files. */
  close(): Output {
    for (const j of [...this.#jobs]) this.#finish(j, 'Terminated');
    const out = { stdout: this.#takePending(), stderr: this.#pending.err, status: 0 };
    this.#pending = { out: [], err: '' };
    return out;
  }
}

/** Builds a spec's simulator, with the node agents in the same build (one transition, one audit). */
export function buildCluster(spec: ClusterSpecJson, agents = true): Simulator {
  // Anything but lists of nodes and pods is the spec's to refuse, with its own error.
  if (!agents || spec === null || typeof spec !== 'object' || !Array.isArray(spec.nodes) || (spec.pods !== undefined && !Array.isArray(spec.pods))) return simulatorFromSpec(spec);
  const names = spec.nodes.map((n) => n?.name).filter((n): n is string => typeof n === 'string');
  return simulatorFromSpec({ ...spec, pods: [...(spec.pods ?? []), ...nodeAgentSpecs(designFromSpec(spec.cni).name, names)] });
}

/** The built-in labs and `extra` after them, numbered and checked (see {@link SessionOptions.labs}). */
function withLabs(extra: readonly Lab[] | undefined): readonly Lab[] {
  if (extra === undefined) return LABS;
  if (!Array.isArray(extra)) fail('INVALID_LAB', `labs must be a list of labs, not ${shown(extra)}`);
  const all: Lab[] = [...LABS];
  for (const lab of extra) {
    if (lab === null || typeof lab !== 'object' || typeof lab.name !== 'string' || typeof lab.check !== 'function' || typeof lab.spec !== 'function' || typeof lab.faults !== 'function') {
      fail('INVALID_LAB', `labs: ${JSON.stringify(lab) ?? shown(lab)} is not a lab (labFromFile makes one from a lab file)`);
    }
    const id = lab.id === 0 ? Math.max(...all.map((l) => l.id)) + 1 : lab.id;
    const taken = all.find((l) => l.id === id || l.name === lab.name);
    if (taken) fail('INVALID_LAB', `labs: lab ${id} "${lab.name}" repeats ${taken.name === lab.name ? 'the name' : 'the number'} of lab ${taken.id} "${taken.name}"`, { id, name: lab.name });
    all.push(id === lab.id ? lab : { ...lab, id });
  }
  return all;
}

/** A terminal on a simulated cluster (the lesson's seed lab unless `spec` or `sim` says otherwise). */
export function createSession(options: SessionOptions = {}): Session {
  return new Session(options);
}
