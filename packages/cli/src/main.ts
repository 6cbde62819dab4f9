/**
 * The `podnet` binary: an interactive lab shell on the seed lab (or `--scenario FILE`, a YAML or JSON
 * cluster spec), or `podnet -c 'CMD' [-c 'CMD' …]` to run commands one after another on one simulator.
 * Without a terminal and without `-c`, it reads commands from stdin, one per line.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parse } from 'yaml';
import type { ClusterSpecJson } from '@podnet/cni';
import { isPodnetError } from '@podnet/core';
import { labFromFile } from './labfile.js';
import type { Lab } from './labs.js';
import { createSession, type Session } from './session.js';

/** The lesson's commands, in its order: what `podnet --tour` (and `pnpm lab` without a terminal) shows. */
export const LESSON_TOUR: readonly string[] = [
  `kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name}{"\\t"}{.spec.podCIDR}{"\\n"}{end}'`,
  'kubectl get pods -A -o wide',
  "kubectl -n kube-system get pods | grep -E 'calico|cilium|flannel|weave|aws-node'",
  "kubectl get pods -A | grep -E 'calico|cilium|flannel|weave|aws-node'",
  'kubectl run netcheck --image=nicolaka/netshoot --restart=Never -- sleep 3600',
  'kubectl exec pod-c -- tcpdump -n -i eth0 icmp &',
  'kubectl exec netcheck -- ping -c 3 10.244.2.3',
  'kill %1',
  'kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin',
  'ls /host/etc/cni/net.d/',
  'cat /host/etc/cni/net.d/10-flannel.conflist',
  'ip link show type veth',
  'bridge link show',
  'ip route',
  'ping -c 2 10.244.1.4',
  'chroot /host',
  'crictl ps | grep pod-a',
];

const USAGE = `usage: podnet [--scenario FILE] [--tour] [-c COMMAND]...
       podnet lab list | podnet lab start N|FILE [-c COMMAND]...

  (no -c)          open the lab shell (on a terminal), or run the lines read from stdin
  -c COMMAND       run COMMAND; repeat to run several on the same cluster, in order
  --scenario FILE  the cluster: a YAML or JSON spec (default: the lesson's seed lab)
  --tour           run the lesson's commands, showing each with its prompt
  lab start FILE   a lab of your own: a YAML or JSON lab file (docs/lab-shell.md, "Write your own lab")
  -h, --help       this help
`;

function flushFiles(session: Session): void {
  for (const [path, bytes] of session.files) {
    const to = resolve(path);
    mkdirSync(dirname(to), { recursive: true });
    writeFileSync(to, bytes);
  }
  session.files.clear();
}

function show(session: Session, line: string): number {
  let r;
  try {
    r = session.run(line);
  } catch (e) {
    // A bug in podnet, not in what was typed: say so in one line, keep the shell.
    process.stderr.write(`podnet: internal error: ${(e as Error).message} (please report it with the command)\n`);
    return 70;
  }
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  flushFiles(session);
  return r.status;
}

/** Runs the binary with these arguments; resolves to the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  const commands: string[] = [];
  let scenario: string | null = null;
  let tour = false;
  let lab: string | null = null;
  let start = 0;
  const labs: Lab[] = [];
  let labFile: string | null = null;
  if (argv[0] === 'lab') {
    // podnet lab list|hint|check print and exit; podnet lab start N opens the shell (or runs -c) in the lab.
    const sub = argv[1] ?? 'list';
    const takesRef = sub === 'start';
    let ref = takesRef ? argv[2] : undefined;
    // podnet lab start FILE: a lab of your own, from a YAML or JSON file.
    if (ref !== undefined && /\.(ya?ml|json)$/i.test(ref)) {
      try {
        const own = labFromFile(parse(readFileSync(ref, 'utf8')));
        labs.push(own);
        labFile = ref;
        ref = own.name;
      } catch (e) {
        process.stderr.write(`podnet: ${ref}: ${(e as Error).message}\n${isPodnetError(e) ? `hint: ${e.hint}\n` : ''}`);
        return 1;
      }
    }
    lab = ['lab', sub, ...(ref !== undefined ? [ref] : [])].join(' ');
    start = takesRef ? 3 : 2;
    if (sub !== 'start') {
      const r = createSession().run(lab);
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr + (sub === 'list' ? '' : 'podnet: a lab lives in one shell: start it with podnet lab start N, then type lab hint / lab check there\n'));
      return r.status;
    }
  }
  for (let i = start; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-c') { const c = argv[++i]; if (c === undefined) { process.stderr.write(`podnet: -c needs a command\n${USAGE}`); return 2; } commands.push(c); }
    else if (a === '--scenario') { scenario = argv[++i] ?? null; if (scenario === null) { process.stderr.write(`podnet: --scenario needs a file\n${USAGE}`); return 2; } }
    else if (a.startsWith('--scenario=')) scenario = a.slice(11);
    else if (a === '--tour') tour = true;
    else if (a === '-h' || a === '--help') { process.stdout.write(USAGE); return 0; }
    else { process.stderr.write(`podnet: unknown option ${a}\n${USAGE}`); return 2; }
  }
  let session: Session;
  try {
    const spec = scenario === null ? undefined : (parse(readFileSync(scenario, 'utf8')) as ClusterSpecJson);
    session = createSession({ ...(spec === undefined ? {} : { spec }), ...(labs.length ? { labs } : {}) });
  } catch (e) {
    process.stderr.write(`podnet: ${labFile ?? scenario ?? 'seed lab'}: ${(e as Error).message}\n`);
    return 1;
  }
  if (lab !== null) {
    const status = show(session, lab);
    if (status !== 0) return status;
  }
  if (tour) {
    for (const c of LESSON_TOUR) {
      process.stdout.write(`${session.prompt()}${c}\n`);
      show(session, c);
    }
    return 0;
  }
  if (commands.length) {
    let status = 0;
    for (const c of commands) {
      status = show(session, c);
      if (session.exited) break;
    }
    const closing = session.close();
    process.stdout.write(closing.stdout);
    process.stderr.write(closing.stderr);
    flushFiles(session);
    return status;
  }
  return interactive(session);
}

function interactive(session: Session): Promise<number> {
  const tty = process.stdin.isTTY === true;
  if (tty) {
    process.stdout.write('podnet lab shell — a simulated cluster (the lesson\'s seed lab unless --scenario says otherwise).\n'
      + 'Try: kubectl get pods -A -o wide · kubectl debug node/node-1 -it --image=nicolaka/netshoot · help · exit\n\n');
  }
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal: tty,
    historySize: 1000,
    completer: (line: string): [string[], string] => [session.complete(line), line.split(/\s+/).at(-1) ?? ''],
  });
  let status = 0;
  return new Promise((done) => {
    const prompt = () => { rl.setPrompt(session.prompt()); if (tty) rl.prompt(); };
    rl.on('line', (line) => {
      if (!tty) process.stdout.write(`${session.prompt()}${line}\n`);
      status = show(session, line);
      if (session.exited) { rl.close(); return; }
      prompt();
    });
    rl.on('SIGINT', () => {
      // Ctrl-C stops the newest capture (what runs "in the foreground"), or abandons the line, as in bash.
      const r = session.interrupt();
      if (r === null) { process.stdout.write('^C\n'); rl.write(null, { ctrl: true, name: 'u' }); }
      else { process.stdout.write(r.stdout); process.stderr.write(r.stderr); }
      flushFiles(session);
      prompt();
    });
    rl.on('close', () => {
      const closing = session.close();
      process.stdout.write(closing.stdout);
      process.stderr.write(closing.stderr);
      flushFiles(session);
      if (tty) process.stdout.write('\n');
      done(status);
    });
    prompt();
  });
}
