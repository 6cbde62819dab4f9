/**
 * `kubectl cordon`, `uncordon` and `drain`, as kubectl's drain package does them: cordon sets
 * spec.unschedulable; drain cordons, refuses DaemonSet-managed pods without --ignore-daemonsets and pods
 * no controller owns without --force, then evicts the rest. podnet models no controllers (Deployments,
 * ReplicaSets): every pod that is not a DaemonSet's declares no controller, and an evicted pod is gone,
 * as a bare pod is in a real cluster.
 */
import type { Simulator } from '@podnet/core';
import { daemonSets } from './daemonsets.js';
import { err, type Output } from './types.js';

function nodeOrError(sim: Simulator, name: string | undefined, verb: string): Output | null {
  if (name === undefined) return err(`error: resource(s) were provided, but no name was specified\nSee 'kubectl ${verb} -h' for help and examples`);
  if (!sim.nodes().some((n) => n.name === name)) return err(`Error from server (NotFound): nodes "${name}" not found`);
  return null;
}

/** `kubectl cordon NODE` / `kubectl uncordon NODE`. */
export function cordon(sim: Simulator, args: readonly string[], on: boolean): Output {
  const verb = on ? 'cordon' : 'uncordon';
  const bad = args.find((a) => a.startsWith('-'));
  if (bad) return err(`error: unknown flag: ${bad.split('=')[0]}\nSee 'kubectl ${verb} --help' for usage.`);
  let stdout = '';
  let stderr = '';
  for (const name of args.length ? args : [undefined]) {
    const e = nodeOrError(sim, name, verb);
    if (e) { stderr += e.stderr; continue; }
    const already = (sim.node(name!).unschedulable ?? false) === on;
    if (on) sim.cordon(name!); else sim.uncordon(name!);
    stdout += `node/${name!} ${already ? 'already ' : ''}${verb}ed\n`;
  }
  return { stdout, stderr, status: stderr ? 1 : 0 };
}

const DRAIN_FLAGS = ['--ignore-daemonsets', '--force', '--delete-emptydir-data', '--delete-local-data'];

/** `kubectl drain NODE [--ignore-daemonsets] [--force] [--delete-emptydir-data]`. */
export function drain(sim: Simulator, args: readonly string[]): Output {
  const flags = new Set<string>();
  const names: string[] = [];
  for (const a of args) {
    if (a.startsWith('-')) {
      const [name, value] = a.split('=', 2) as [string, string | undefined];
      if (!DRAIN_FLAGS.includes(name)) return err(`error: unknown flag: ${name}\nSee 'kubectl drain --help' for usage.`);
      if (value === undefined || value === 'true') flags.add(name);
    } else names.push(a);
  }
  if (names.length === 0) return err("error: USAGE: drain NODE [flags]\nSee 'kubectl drain -h' for help and examples");
  const out: string[] = [];
  const errOut: string[] = [];
  if (flags.has('--delete-local-data')) errOut.push('Flag --delete-local-data has been deprecated, This option is deprecated and will be deleted. Use --delete-emptydir-data.');
  const pending: string[] = [];
  const fatal: string[] = [];
  for (const name of names) {
    const e = nodeOrError(sim, name, 'drain');
    if (e) return { stdout: out.map((l) => `${l}\n`).join(''), stderr: [...errOut, e.stderr.trimEnd()].map((l) => `${l}\n`).join(''), status: 1 };
    const already = sim.node(name).unschedulable === true;
    sim.cordon(name);
    out.push(`node/${name} ${already ? 'already ' : ''}cordoned`);
    const managed = new Set(daemonSets(sim).flatMap((d) => d.pods.map((p) => p.key)));
    const pods = sim.pods().filter((p) => p.node === name);
    const ds = pods.filter((p) => managed.has(p.key)).map((p) => p.key);
    const bare = pods.filter((p) => !managed.has(p.key));
    const errors: string[] = [];
    if (ds.length && !flags.has('--ignore-daemonsets')) errors.push(`cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): ${ds.join(', ')}`);
    if (bare.length && !flags.has('--force')) errors.push(`cannot delete Pods declare no controller (use --force to override): ${bare.map((p) => p.key).join(', ')}`);
    if (errors.length) {
      errOut.push(`error: unable to drain node "${name}" due to error: ${errors.length > 1 ? `[${errors.join(', ')}]` : errors[0]}, continuing command...`);
      pending.push(name);
      fatal.push(...errors);
      continue;
    }
    const warnings = [
      ...(ds.length ? [`ignoring DaemonSet-managed Pods: ${ds.join(', ')}`] : []),
      ...(bare.length ? [`deleting Pods that declare no controller: ${bare.map((p) => p.key).join(', ')}`] : []),
    ];
    if (warnings.length) errOut.push(`Warning: ${warnings.join('; ')}`);
    for (const p of bare) out.push(`evicting pod ${p.key}`);
    for (const p of bare) {
      sim.deletePod(p.key);
      out.push(`pod/${p.name} evicted`);
    }
    out.push(`node/${name} drained`);
  }
  if (pending.length) errOut.push('There are pending nodes to be drained:', ...pending.map((n) => ` ${n}`), ...fatal);
  return { stdout: out.map((l) => `${l}\n`).join(''), stderr: errOut.map((l) => `${l}\n`).join(''), status: pending.length ? 1 : 0 };
}
