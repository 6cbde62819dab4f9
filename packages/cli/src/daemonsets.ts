/**
 * The cluster's DaemonSets as kubectl shows and changes them: kube-proxy and the CNI's agent
 * (`kubectl get ds`, `kubectl describe ds`, `kubectl set env ds/aws-node …`). A DaemonSet's container
 * environment is the CNI design's `settings`; `set env` reconfigures the design on the running cluster
 * (`Simulator.reconfigure`), which restarts the agent on every node as the rolling update does.
 */
import { isPodnetError, type Pod, type Simulator } from '@podnet/core';
import { humanDuration, tabwrite } from './format.js';
import { cniDaemonSet, KUBE_VERSION } from './kube.js';
import { err, ok, type Output } from './types.js';

/** One DaemonSet as the lab shell knows it. */
export interface DaemonSetView {
  readonly namespace: string;
  readonly name: string;
  readonly container: string;
  readonly image: string;
  /** Its pods (one per node), by the `k8s-app` label the agents carry. */
  readonly pods: readonly Pod[];
  /** The container's environment when the design models it (the CNI agent's settings), else null. */
  readonly env: Readonly<Record<string, string>> | null;
}

/** The DaemonSets of the cluster: kube-proxy, and the CNI's agent when its install has one. */
export function daemonSets(sim: Simulator): DaemonSetView[] {
  const cni = cniDaemonSet(sim.design.name);
  const list = [
    { namespace: 'kube-system', name: 'kube-proxy', container: 'kube-proxy', image: `registry.k8s.io/kube-proxy:${KUBE_VERSION}`, env: null },
    ...(cni ? [{ ...cni, env: sim.design.settings ?? null }] : []),
  ];
  const pods = sim.pods();
  return list
    .map((d) => ({ ...d, pods: pods.filter((p) => p.namespace === d.namespace && p.labels['k8s-app'] === d.name) }))
    .sort((a, b) => (a.namespace + a.name < b.namespace + b.name ? -1 : 1));
}

/** k8s.io/apimachinery's IsEnvVarName. */
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** Resource words kubectl accepts for DaemonSets. */
export const DAEMONSET_WORDS = ['daemonsets', 'daemonset', 'ds', 'daemonsets.apps', 'daemonset.apps'];

/** `kubectl get ds [NAME…] [-n NS | -A] [-o wide|name]`. */
export function getDaemonSets(sim: Simulator, names: readonly string[], namespace: string, all: boolean, output: string | null): Output {
  if (output !== null && output !== 'wide' && output !== 'name') return err(`error: podnet prints DaemonSets as a table, -o wide or -o name, not -o ${output}`);
  const inScope = daemonSets(sim).filter((d) => all || d.namespace === namespace);
  const errors: string[] = [];
  const shown = names.length ? names.flatMap((n) => { const d = inScope.find((x) => x.name === n); if (!d) errors.push(`Error from server (NotFound): daemonsets.apps "${n}" not found`); return d ? [d] : []; }) : inScope;
  const stderr = errors.map((e) => `${e}\n`).join('');
  if (shown.length === 0) return { stdout: '', stderr: stderr || (all ? 'No resources found\n' : `No resources found in ${namespace} namespace.\n`), status: errors.length ? 1 : 0 };
  if (output === 'name') return { stdout: shown.map((d) => `daemonset.apps/${d.name}\n`).join(''), stderr, status: errors.length ? 1 : 0 };
  const wide = output === 'wide';
  const showNs = all && names.length === 0;
  const rows = [[...(showNs ? ['NAMESPACE'] : []), 'NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'NODE SELECTOR', 'AGE', ...(wide ? ['CONTAINERS', 'IMAGES', 'SELECTOR'] : [])]];
  const nodes = String(sim.nodes().length);
  for (const d of shown) {
    const ready = String(d.pods.filter((p) => p.status.phase === 'Running').length);
    rows.push([...(showNs ? [d.namespace] : []), d.name, nodes, String(d.pods.length), ready, String(d.pods.length), ready, '<none>', humanDuration(sim.now()), ...(wide ? [d.container, d.image, `k8s-app=${d.name}`] : [])]);
  }
  return { stdout: tabwrite(rows).map((l) => `${l}\n`).join(''), stderr, status: errors.length ? 1 : 0 };
}

/** `kubectl describe ds NAME -n NS`: kubectl's DaemonSet describer, for the fields podnet models. */
export function describeDaemonSets(sim: Simulator, names: readonly string[], namespace: string, generation: (d: DaemonSetView) => number): Output {
  const inNs = daemonSets(sim).filter((d) => d.namespace === namespace);
  const errors: string[] = [];
  const shown = names.length ? names.flatMap((n) => { const d = inNs.find((x) => x.name === n); if (!d) errors.push(`Error from server (NotFound): daemonsets.apps "${n}" not found`); return d ? [d] : []; }) : inNs;
  const out: string[] = [];
  const pad = (label: string, value: string, width = 16) => `${label}${' '.repeat(Math.max(1, width - label.length))}${value}`;
  for (const d of shown) {
    if (out.length) out.push('', '');
    const running = d.pods.filter((p) => p.status.phase === 'Running').length;
    const nodes = sim.nodes().length;
    out.push(
      pad('Name:', d.name), pad('Selector:', `k8s-app=${d.name}`), pad('Node-Selector:', '<none>'), pad('Labels:', `k8s-app=${d.name}`),
      pad('Annotations:', `deprecated.daemonset.template.generation: ${generation(d)}`),
      `Desired Number of Nodes Scheduled: ${nodes}`, `Current Number of Nodes Scheduled: ${d.pods.length}`,
      `Number of Nodes Scheduled with Up-to-date Pods: ${d.pods.length}`, `Number of Nodes Scheduled with Available Pods: ${running}`,
      'Number of Nodes Misscheduled: 0', `Pods Status:  ${running} Running / ${d.pods.length - running} Waiting / 0 Succeeded / 0 Failed`,
      'Pod Template:', `  Labels:  k8s-app=${d.name}`, '  Containers:', `   ${d.container}:`, `    Image:      ${d.image}`,
    );
    const env = Object.entries(d.env ?? {});
    if (env.length === 0) out.push('    Environment:  <none>');
    else out.push('    Environment:', ...tabwrite(env.map(([k, v]) => [`${k}:`, v]), 2, 0).map((l) => `      ${l}`));
    out.push(pad('Events:', '<none>'));
  }
  return { stdout: out.length ? `${out.join('\n')}\n` : '', stderr: errors.map((e) => `${e}\n`).join(''), status: errors.length ? 1 : 0 };
}

/**
 * `kubectl set env (daemonset/NAME | ds NAME) [-n NS] [--list] KEY=VALUE… KEY-…`. Prints
 * `daemonset.apps/NAME env updated` when the environment changed (nothing when it did not, as kubectl),
 * and `--list` as kubectl prints it. Only the CNI agent's environment is modelled; changing it
 * reconfigures the design on the running cluster.
 */
export function setEnv(sim: Simulator, args: readonly string[], namespace: string, onUpdated: (d: DaemonSetView) => void): Output {
  let list = false;
  const words: string[] = [];
  for (const a of args) {
    if (a === '--list') list = true;
    else if (a === '--overwrite' || a === '--overwrite=true') continue;
    else if (a.startsWith('-') && a !== '-') return err(`error: unknown flag: ${a.split('=')[0]}\nSee 'kubectl set env --help' for usage.`);
    else words.push(a);
  }
  const [first, ...rest] = words;
  if (first === undefined) return err("error: at least one resource must be specified to use a selector\nSee 'kubectl set env -h' for help and examples");
  let type: string;
  let name: string | undefined;
  let envArgs: string[];
  if (first.includes('/')) { [type, name] = first.split('/', 2) as [string, string]; envArgs = rest; }
  else { type = first; name = rest[0]; envArgs = rest.slice(1); }
  if (!DAEMONSET_WORDS.includes(type.toLowerCase())) {
    if (['pods', 'pod', 'po', 'deployments', 'deployment', 'deploy', 'statefulsets', 'sts', 'replicasets', 'rs'].includes(type.toLowerCase())) return err(`error: podnet changes the environment of DaemonSets only (kubectl set env daemonset/aws-node -n kube-system …), not ${type}`);
    return err(`error: the server doesn't have a resource type "${type}"`);
  }
  if (name === undefined || name === '' || name.includes('=')) return err("error: resource(s) were provided, but no name was specified");
  const d = daemonSets(sim).find((x) => x.namespace === namespace && x.name === name);
  if (!d) return err(`Error from server (NotFound): daemonsets.apps "${name}" not found`);
  const changes: Record<string, string | null> = {};
  for (const e of envArgs) {
    const eq = e.indexOf('=');
    const key = eq > 0 ? e.slice(0, eq) : e.slice(0, -1);
    if ((eq > 0 || e.endsWith('-')) && !ENV_NAME.test(key)) {
      return err(`error: "${key}" is not a valid key name: a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')`);
    }
    if (eq > 0) changes[key] = e.slice(eq + 1);
    else if (e.endsWith('-') && e.length > 1) changes[key] = null;
    else return err(`error: environment variables must be of the form key=value and can only contain letters, numbers, and underscores`);
  }
  if (list) {
    const env = { ...(d.env ?? {}) };
    return ok(`# DaemonSet ${d.name}, container ${d.container}\n${Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join('')}`);
  }
  if (Object.keys(changes).length === 0) return err('error: at least one environment variable must be provided');
  if (d.env === null) return err(`error: podnet models no environment for ${d.name}: only the AWS VPC CNI's aws-node has settings that change on a running cluster`);
  // kubectl patches only when something changes: the same values print nothing.
  const before = d.env;
  const same = Object.entries(changes).every(([k, v]) => (v === null ? before[k] === undefined : before[k] === v));
  if (same) return ok();
  try {
    sim.reconfigure(changes, `kubectl set env daemonset/${d.name} ${Object.entries(changes).map(([k, v]) => (v === null ? `${k}-` : `${k}=${v}`)).join(' ')}`);
  } catch (e) {
    if (isPodnetError(e)) return err(`error: ${e.message}`);
    throw e;
  }
  onUpdated(d);
  return ok(`daemonset.apps/${d.name} env updated\n`);
}
