/**
 * The lab shell takes whatever a person types. A fast-check property types it: command lines the other tests of
 * this package run (read from their sources, so a new command joins the corpus with its test), mutated word by
 * word (a word dropped, repeated, replaced by another command's word or by an edge value, the line cut short), each
 * typed at the workstation or in a shell on a node or in a pod, in sequences on one session. It holds the shell to
 * what a user relies on:
 * - `run` never throws: whatever the line, the terminal shows the tool's own output or error, never a JavaScript
 *   rendering of a value (a function's source, `[object Object]`);
 * - a failed `ip addr|route|neigh`, `bridge fdb` or `iptables` command leaves the cluster exactly as it was (the
 *   kernel applies each of them as one netlink request or, iptables-nft, one transaction). `ip link set` and `sysctl`
 *   are left out: the kernel's do_setlink applies a request's attributes in turn and stops at the first error, and
 *   procps' sysctl writes every valid `-w` argument even when another fails (measured: `sysctl bridge -w
 *   net.ipv4.ip_forward=1` wrote ip_forward and exited 1);
 * - the cluster after the sequence passes through a full audit (`sim.check()`) without an exception.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { createSession } from './index.js';

/** Every literal command line the package's other tests run (`run('…')`, `` run(`…`) `` without interpolation). */
function corpus(): string[] {
  const lines = new Set<string>();
  for (const f of readdirSync(__dirname).filter((n) => n.endsWith('.test.ts') && n !== 'shell-fuzz.test.ts')) {
    const src = readFileSync(`${__dirname}/${f}`, 'utf8');
    for (const m of src.matchAll(/\brun\('((?:[^'\\\n]|\\.)*)'\)|\brun\(`([^`$\\\n]*)`\)/g)) {
      const line = m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!;
      if (line.trim() && !/^\s*exit\b/.test(line)) lines.add(line);
    }
  }
  return [...lines].sort();
}

const all = corpus();
const atClient = (l: string) => /^(kubectl|eksctl|lab|podnet)\b/.test(l);
const clientLines = all.filter(atClient);
// What runs inside a node or a pod: the lines typed there, and what `kubectl exec POD -- …` runs.
const shellLines = [...new Set([...all.filter((l) => !atClient(l)), ...all.filter((l) => l.includes(' -- ')).map((l) => l.slice(l.indexOf(' -- ') + 4))])].sort();
const EDGE = ['', '-', '--', '-1', '0', '65536', '4294967296', '1e99', 'NaN', '10.244.1.4/33', '300.1.1.1', '0.0.0.0/0', 'dev', 'via',
  'lo', 'eth0', 'cni0', 'flannel.1', 'x'.repeat(80), 'ñ', '-o', 'wide', 'json', '-n', 'kube-system', 'pod-a', 'node-1', 'node/node-9',
  'table', 'metric', 'onlink', 'all', 'help', '-s', '-d', '-j', 'DROP', '-A', '-D', '-t', 'nat', 'mtu', '68', 'up', 'down', 'del', 'add', 'flush',
  // Names every object has: a word looked up in a plain table must not find Object.prototype's members.
  'constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'];
/** What JavaScript prints of a value it was not meant to print: never a tool's output. */
const LEAK = /\[native code\]|\[object Object\]|=> |\bfunction \w*\(/;
const WORDS = [...new Set([...all.flatMap((l) => l.split(/\s+/)), ...EDGE])];

/** A line of `lines`, or one with a few words changed. */
function typed(lines: readonly string[]) {
  const edited = fc.tuple(fc.constantFrom(...lines), fc.array(fc.tuple(fc.nat(4), fc.nat(40), fc.constantFrom(...WORDS)), { minLength: 1, maxLength: 3 })).map(([line, edits]) => {
    const w = line.split(' ');
    for (const [op, i, word] of edits) {
      const k = w.length === 0 ? 0 : i % w.length;
      if (op === 0) w.splice(k, 1);
      else if (op === 1) w.splice(k, 0, word);
      else if (op === 2) w[k] = word;
      else if (op === 3) w.push(word);
      else w.length = Math.min(w.length, k + 1);
    }
    return w.join(' ');
  });
  return fc.oneof({ weight: 1, arbitrary: fc.constantFrom(...lines) }, { weight: 3, arbitrary: edited });
}

const where = fc.constantFrom('node-1', 'node-2', 'node-3', 'pod-a', 'pod-c', 'pod-f');
const session = fc.array(fc.oneof(fc.tuple(fc.constant('workstation'), typed(clientLines)), fc.tuple(where, typed(shellLines))), { minLength: 1, maxLength: 20 });
const ATOMIC = /^(ip( -\S+)* (a|addr|address|r|ro|route|n|neigh)\b|bridge( -\S+)* fdb\b|iptables\b)/;

describe('the lab shell under anything typed', () => {
  it('reads a corpus from the other tests', () => {
    expect(clientLines.length).toBeGreaterThan(50);
    expect(shellLines.length).toBeGreaterThan(100);
  });

  test.prop([session], { numRuns: 120 })('never throws; a failed netlink or iptables command changes nothing; the audit runs', (lines) => {
    const s = createSession();
    for (const [place, line] of lines) {
      for (let k = 0; k < 5 && s.place.kind !== 'client'; k++) s.run('exit');
      if (s.exited) break;
      if (place.startsWith('node')) s.run(`kubectl debug node/${place} -it --image=nicolaka/netshoot --profile=sysadmin`);
      else if (place.startsWith('pod')) s.run(`kubectl exec -it ${place} -- sh`);
      const before = s.sim.state;
      const r = s.run(line);
      expect(typeof r.stdout === 'string' && typeof r.stderr === 'string' && Number.isInteger(r.status), line).toBe(true);
      expect(`${r.stdout}${r.stderr}`, `${place}: ${line}`).not.toMatch(LEAK);
      if (r.status !== 0 && ATOMIC.test(line) && !/[;&|]/.test(line)) expect(s.sim.state === before, `${place}: ${line} failed (${r.stderr.trim()}) and changed the cluster`).toBe(true);
      if (s.exited) break;
    }
    expect(() => s.sim.check()).not.toThrow();
  });

  it('kubectl with only global flags says it has no command (it recursed until the stack overflowed)', () => {
    const s = createSession();
    expect(s.run('kubectl --restart=Never -it --image=nicolaka/netshoot')).toEqual({ stdout: '', stderr: 'error: unknown command "" for "kubectl"\n', status: 1 });
    expect(s.run('kubectl -n kube-system -o wide get pods').stdout).toContain('kube-proxy-');
  });
});
