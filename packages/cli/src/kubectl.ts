/**
 * kubectl against the simulated cluster: get (tables, wide, json, yaml, name, jsonpath), describe, run,
 * exec, debug, delete — with kubectl's table layout and its error texts.
 */
import { formatCidr, formatIpv4, isPodnetError, type Pod, type Simulator } from '@podnet/core';
import { stringify } from 'yaml';
import { humanDuration, kubeSuffix, rfc3339, tabwrite } from './format.js';
import { evaluateJsonPath, JsonPathError } from './jsonpath.js';
import { cordon, drain } from './drain.js';
import { DAEMONSET_WORDS, daemonSets, describeDaemonSets, getDaemonSets, setEnv } from './daemonsets.js';
import { agentPodAgain, cniDaemonSet, containerId, KUBE_VERSION, NODE_OS, nodeObject, podObject, podStatusText } from './kube.js';
import { err, ok, type Output, type Place } from './types.js';

/** What kubectl needs from the shell around it: run a command elsewhere, or move the terminal there. */
export interface KubectlHost {
  readonly sim: Simulator;
  /** Pods created by `kubectl run`: their restart policy and arguments. */
  readonly podMeta: Map<string, { restartPolicy: string; args: readonly string[] }>;
  /** DaemonSet template generations (`namespace/name` → n), bumped by each `kubectl set env` that changed something. */
  readonly dsGenerations: Map<string, number>;
  /** Runs words in a place (kubectl exec POD -- CMD) and returns what they printed. */
  runIn(place: Place, words: readonly string[]): Output;
  /** Opens an interactive shell in a place (exec -it … sh, debug node/…); `onExit` runs when it is left. */
  enter(place: Place, onExit?: () => Output): void;
}

interface Flags {
  namespace: string;
  all: boolean;
  output: string | null;
  image: string | null;
  restart: string | null;
  profile: string | null;
  stdin: boolean;
  tty: boolean;
  container: string | null;
  labels: string | null;
  /** `--show-labels`: a LABELS column last. */
  showLabels: boolean;
  /** `--rm` (kubectl run): delete the pod when the attached command or shell ends. */
  rm: boolean;
  /** `--no-headers` (kubectl get): the table without its header line. */
  noHeaders: boolean;
  /** `-w` / `--watch` (kubectl get), which podnet says it does not model. */
  watch: boolean;
  positional: string[];
  /** Words after `--`. */
  command: string[] | null;
}

const VALUE_FLAGS = new Set(['-n', '--namespace', '-o', '--output', '--image', '--restart', '--profile', '-c', '--container', '-l', '--labels', '--selector']);

function parseFlags(sub: string, args: readonly string[]): Flags | Output {
  const f: Flags = { namespace: 'default', all: false, output: null, image: null, restart: null, profile: null, stdin: false, tty: false, container: null, labels: null, showLabels: false, rm: false, noHeaders: false, watch: false, positional: [], command: null };
  const set = (name: string, v: string): Output | null => {
    if (name === '-n' || name === '--namespace') f.namespace = v;
    else if (name === '-o' || name === '--output') f.output = v;
    else if (name === '--image') f.image = v;
    else if (name === '--restart') f.restart = v;
    else if (name === '--profile') f.profile = v;
    else if (name === '-c' || name === '--container') f.container = v;
    else if (name === '-l' || name === '--labels' || name === '--selector') {
      if (SELECTOR_SET.test(` ${v}`)) return err(`podnet: set-based label selectors ("${v}") are not modelled: use k=v, k!=v, k or !k, joined by commas`);
      f.labels = v;
    }
    else return err(`error: unknown flag: ${name}\nSee 'kubectl ${sub} --help' for usage.`);
    return null;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') { f.command = args.slice(i + 1) as string[]; break; }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a : a.slice(0, eq);
      if (name === '--all-namespaces') { f.all = true; continue; }
      if (name === '--stdin') { f.stdin = true; continue; }
      if (name === '--tty') { f.tty = true; continue; }
      if (name === '--show-labels' && eq < 0) { f.showLabels = true; continue; }
      if (name === '--rm' && sub === 'run' && eq < 0) { f.rm = true; continue; }
      if (name === '--no-headers' && sub === 'get' && eq < 0) { f.noHeaders = true; continue; }
      if ((name === '--watch' || name === '--watch-only') && sub === 'get') { f.watch = true; continue; }
      if (name === '--sort-by' && sub === 'get') return err('podnet: kubectl get --sort-by is not modelled: put the key first and pipe into sort (kubectl get pods -o custom-columns=IP:.status.podIP,NAME:.metadata.name --no-headers | sort)');
      if (!VALUE_FLAGS.has(name)) return err(`error: unknown flag: ${name}\nSee 'kubectl ${sub} --help' for usage.`);
      const v = eq < 0 ? args[++i] : a.slice(eq + 1);
      if (v === undefined) return err(`error: flag needs an argument: ${name}\nSee 'kubectl ${sub} --help' for usage.`);
      const e = set(name, v);
      if (e) return e;
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      // Shorthand flags combine (-it) and take values attached (-owide, -nkube-system) or next.
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        if (c === 'A') f.all = true;
        else if (c === 'i') f.stdin = true;
        else if (c === 't') f.tty = true;
        else if (c === 'w' && sub === 'get') f.watch = true;
        else if (c === 'n' || c === 'o' || c === 'c' || c === 'l') {
          let v = a.slice(j + 1);
          if (v.startsWith('=')) v = v.slice(1);
          if (v === '') { const next = args[++i]; if (next === undefined) return err(`error: flag needs an argument: '${c}' in -${c}\nSee 'kubectl ${sub} --help' for usage.`); v = next; }
          const e = set(`-${c}`, v);
          if (e) return e;
          break;
        } else return err(`error: unknown shorthand flag: '${c}' in ${a}\nSee 'kubectl ${sub} --help' for usage.`);
      }
      continue;
    }
    f.positional.push(a);
  }
  return f;
}

const RESOURCES: Record<string, 'pods' | 'nodes'> = { pods: 'pods', pod: 'pods', po: 'pods', nodes: 'nodes', node: 'nodes', no: 'nodes' };

function resourceOf(word: string | undefined): { kind: 'pods' | 'nodes'; name: string | null } | Output {
  if (word === undefined) return err("You must specify the type of resource to get. Use \"kubectl api-resources\" for a complete list of supported resources.\n\nerror: Required resource not specified.\nUse \"kubectl explain <resource>\" for a detailed description of that resource (e.g. kubectl explain pods).\nSee 'kubectl get -h' for help and examples");
  const [type, name] = word.includes('/') ? word.split('/', 2) as [string, string] : [word, null];
  const kind = RESOURCES[type.toLowerCase()];
  if (!kind) {
    // A type a real API server serves: kubectl would list it, so `doesn't have a resource type` would lie.
    const real = UNMODELLED_RESOURCES[type.toLowerCase()];
    if (real !== undefined) return err(`podnet: ${real} are not modelled: podnet serves nodes, pods and DaemonSets${real === 'services' || real === 'endpoints' || real === 'endpointslices' || real === 'ingresses' ? '; it has no Services, Ingresses or DNS: reach pods by their IPs (kubectl get pods -o wide)' : ''}`);
    return err(`error: the server doesn't have a resource type "${type}"`);
  }
  return { kind, name };
}

/** Resource types (and kubectl's short names) a real cluster serves and podnet does not model. */
const UNMODELLED_RESOURCES: Readonly<Record<string, string>> = (() => {
  const out: Record<string, string> = {};
  for (const [plural, ...aliases] of [
    ['services', 'service', 'svc'], ['endpoints', 'endpoint', 'ep'], ['endpointslices', 'endpointslice'], ['events', 'event', 'ev'],
    ['deployments', 'deployment', 'deploy'], ['replicasets', 'replicaset', 'rs'], ['statefulsets', 'statefulset', 'sts'], ['jobs', 'job'],
    ['cronjobs', 'cronjob', 'cj'], ['configmaps', 'configmap', 'cm'], ['secrets', 'secret'], ['namespaces', 'namespace', 'ns'],
    ['serviceaccounts', 'serviceaccount', 'sa'], ['networkpolicies', 'networkpolicy', 'netpol'], ['ingresses', 'ingress', 'ing'],
    ['persistentvolumes', 'persistentvolume', 'pv'], ['persistentvolumeclaims', 'persistentvolumeclaim', 'pvc'],
  ] as const) for (const w of [plural, ...aliases]) out[w] = plural;
  return out;
})();

/** `kubectl …`: the command's output, or kubectl's error. */
export function kubectl(host: KubectlHost, args: readonly string[]): Output {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
    return ok('kubectl controls the Kubernetes cluster manager.\n\nBasic Commands (podnet):\n  run           Run a particular image on the cluster\n  get           Display one or many resources\n  set           Set specific features on objects (set env)\n  delete        Delete resources\n\nCluster Management Commands:\n  cordon        Mark node as unschedulable\n  uncordon      Mark node as schedulable\n  drain         Drain node in preparation for maintenance\n\nTroubleshooting and Debugging Commands:\n  describe      Show details of a specific resource or group of resources\n  exec          Execute a command in a container\n  debug         Create debugging sessions for troubleshooting workloads and nodes\n\nUsage:\n  kubectl [flags] [options]\n');
  }
  // Global flags may come before the subcommand (kubectl -n kube-system get pods).
  if (sub.startsWith('-')) {
    // The subcommand is the first word that is neither a flag nor the value of one that takes the next word.
    let i = 0;
    while (i < args.length && args[i]!.startsWith('-')) i += ['-n', '--namespace', '-o', '--output'].includes(args[i]!) ? 2 : 1;
    if (i >= args.length) return err(`error: unknown command "" for "kubectl"`);
    return kubectl(host, [args[i]!, ...args.slice(0, i), ...args.slice(i + 1)]);
  }
  if (sub === 'set') return set(host, rest);
  if (sub === 'rollout') return rollout(host, rest);
  if (sub === 'cordon' || sub === 'uncordon') return cordon(host.sim, rest, sub === 'cordon');
  if (sub === 'drain') return drain(host.sim, rest);
  const f = parseFlags(sub, rest);
  if ('status' in f) return f;
  const ds = f.positional[0] !== undefined && DAEMONSET_WORDS.includes(f.positional[0].split('/')[0]!.toLowerCase());
  if (ds && (sub === 'get' || sub === 'describe')) {
    const [w0, ...more] = f.positional as [string, ...string[]];
    const names = w0.includes('/') ? [w0.split('/', 2)[1]!, ...more] : more;
    if (sub === 'get') {
      // The pods' and nodes' printer options, not the DaemonSet table's: said so, not silently dropped.
      if (f.watch) return err('podnet: kubectl get --watch is not modelled: the shell prints and returns; run kubectl get again to see what changed');
      const unread = f.showLabels ? '--show-labels' : f.noHeaders ? '--no-headers' : f.output?.startsWith('custom-columns') ? '-o custom-columns' : null;
      if (unread !== null) return err(`podnet: kubectl get daemonsets ${unread} is not modelled: podnet prints the DaemonSet table as it is (kubectl get pods ${unread} works)`);
      return getDaemonSets(host.sim, names, f.namespace, f.all, f.output);
    }
    return describeDaemonSets(host.sim, names, f.namespace, (d) => host.dsGenerations.get(`${d.namespace}/${d.name}`) ?? 1);
  }
  switch (sub) {
    case 'get': return get(host, f);
    case 'describe': return describe(host, f);
    case 'run': return run(host, f);
    case 'exec': return exec(host, f);
    case 'debug': return debug(host, f);
    case 'delete': return del(host, f);
    case 'version': return ok(`Client Version: ${KUBE_VERSION}\nKustomize Version: v5.4.2\nServer Version: ${KUBE_VERSION}\n`);
    default: {
      const not = Object.prototype.hasOwnProperty.call(KUBECTL_UNMODELLED, sub) ? KUBECTL_UNMODELLED[sub] : undefined;
      return err(not === undefined ? `error: unknown command "${sub}" for "kubectl"` : `podnet: kubectl ${sub} is not modelled: ${not}`);
    }
  }
}

/** kubectl's commands podnet does not model, with what to use instead (kubectl's own "unknown command" would be untrue). */
const KUBECTL_UNMODELLED: Readonly<Record<string, string>> = (() => {
  const noProcesses = 'podnet runs no container processes, so there is nothing to log or attach to; what a CNI agent did shows in the node\'s ip route, ip neigh, bridge fdb and iptables-save (kubectl debug node/NODE -it --image=nicolaka/netshoot)';
  const noObjects = 'podnet models nodes and pods only: add pods with kubectl run, remove them with kubectl delete pod';
  const noServices = 'podnet has no Services, Ingresses or DNS: reach pods by their IPs (kubectl get pods -o wide)';
  return {
    logs: noProcesses, attach: noProcesses, cp: noProcesses, top: 'podnet models no CPU or memory use',
    apply: noObjects, create: noObjects, edit: noObjects, patch: noObjects, replace: noObjects, scale: noObjects, label: noObjects, annotate: noObjects, autoscale: noObjects, wait: noObjects,
    expose: noServices, 'port-forward': noServices, proxy: noServices,
    'cluster-info': 'kubectl get nodes -o wide and kubectl describe node NODE show what podnet models of the cluster',
    'api-resources': 'podnet serves nodes, pods and the CNI agent\'s DaemonSet (kubectl get nodes, pods, ds)', explain: 'see docs/lab-shell.md for what kubectl does in podnet',
    config: 'podnet has one cluster and one context', auth: 'every command runs as the cluster admin', taint: 'use kubectl cordon and kubectl drain to keep pods off a node', certificate: 'podnet has no certificates',
  };
})();

/**
 * `kubectl rollout restart|status daemonset/NAME -n NS` (DaemonSets are what podnet's clusters roll): a restart
 * replaces every pod of the DaemonSet at once (kubectl's rolling update, one node at a time, done), and the
 * CNI's agent starts again on every node; status says it rolled out.
 */
function rollout(host: KubectlHost, args: readonly string[]): Output {
  const [verb, ...rest] = args;
  if (verb !== 'restart' && verb !== 'status') {
    if (verb === undefined) return err('error: Required resource not specified.\nUse "kubectl explain <resource>" for a detailed description of that resource (e.g. kubectl explain pods).\nSee \'kubectl rollout -h\' for help and examples');
    return err(`error: podnet models kubectl rollout restart and status, not "${verb}"`);
  }
  const f = parseFlags(`rollout ${verb}`, rest);
  if ('status' in f) return f;
  const [w0, ...more] = f.positional;
  if (w0 === undefined) return err(`error: required resource not specified\nSee 'kubectl rollout ${verb} -h' for help and examples`);
  const [type, inline] = w0.includes('/') ? (w0.split('/', 2) as [string, string]) : [w0, undefined];
  const name = inline ?? more[0];
  if (!DAEMONSET_WORDS.includes(type.toLowerCase())) return err(`error: podnet rolls DaemonSets only (kubectl rollout ${verb} daemonset/NAME -n NAMESPACE), not ${type}`);
  if (name === undefined) return err(`error: resource(s) were provided, but no name was specified`);
  const d = daemonSets(host.sim).find((x) => x.namespace === f.namespace && x.name === name);
  if (!d) return err(`Error from server (NotFound): daemonsets.apps "${name}" not found`);
  if (verb === 'status') return ok(`daemon set "${d.name}" successfully rolled out\n`);
  for (const pod of d.pods) {
    const again = agentPodAgain(host.sim.design.name, pod);
    host.sim.deletePod(pod.key);
    host.podMeta.delete(pod.key);
    if (again !== null) host.sim.addPod(again);
  }
  if (d.name === cniDaemonSet(host.sim.design.name)?.name) host.sim.restartAgents(undefined, `kubectl rollout restart daemonset/${d.name}: the agent starts again on every node`);
  const key = `${d.namespace}/${d.name}`;
  host.dsGenerations.set(key, (host.dsGenerations.get(key) ?? 1) + 1);
  return ok(`daemonset.apps/${d.name} restarted\n`);
}

/** `kubectl set env …` (the only `set` podnet models). */
function set(host: KubectlHost, args: readonly string[]): Output {
  let namespace = 'default';
  const words: string[] = [];
  // The namespace flag may come anywhere, also before `env` (kubectl -n kube-system set env …).
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-n' || a === '--namespace') {
      const v = args[++i];
      if (v === undefined) return err(`error: flag needs an argument: ${a === '-n' ? "'n' in -n" : a}\nSee 'kubectl set env --help' for usage.`);
      namespace = v;
    } else if (a.startsWith('--namespace=')) namespace = a.slice(12);
    else if (a.startsWith('-n') && a.length > 2 && !a.startsWith('--')) namespace = a.slice(2).replace(/^=/, '');
    else words.push(a);
  }
  const [what, ...rest] = words;
  if (what !== 'env') return err(what === undefined ? "error: Required resource not specified.\nSee 'kubectl set -h' for help and examples" : `error: unknown command "${what}" for "kubectl set"`);
  return setEnv(host.sim, rest, namespace, (d) => {
    const key = `${d.namespace}/${d.name}`;
    host.dsGenerations.set(key, (host.dsGenerations.get(key) ?? 1) + 1);
  });
}

function podsIn(host: KubectlHost, f: Flags): Pod[] {
  let pods = host.sim.pods();
  if (!f.all) pods = pods.filter((p) => p.namespace === f.namespace);
  if (f.labels) {
    const sel = labelSelector(f.labels);
    pods = pods.filter((p) => sel.every((t) => t(p.labels)));
  }
  return pods;
}

/**
 * A label selector's equality requirements, as kubectl reads them: `k=v`, `k==v`, `k!=v` (true also of a
 * pod without k), `k` (has k), `!k` (has not); requirements joined by commas. Set requirements (`k in (…)`,
 * `notin`) are refused as not modelled by the caller (see {@link SELECTOR_SET}).
 */
function labelSelector(text: string): ((labels: Readonly<Record<string, string>>) => boolean)[] {
  return text.split(',').map((req) => {
    const r = req.trim();
    const m = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(r);
    if (m) {
      const [, k, op, v] = m as unknown as [string, string, string, string];
      return op === '!=' ? (l) => l[k] !== v : (l) => l[k] === v;
    }
    if (r.startsWith('!')) return (l) => !Object.hasOwn(l, r.slice(1));
    return (l) => Object.hasOwn(l, r);
  });
}

/** A set-based requirement (`app in (a,b)`, `tier notin (x)`), which podnet does not read. */
const SELECTOR_SET = /\s(in|notin)\s*\(/;

/** kubectl's LABELS column (labels.FormatLabels): `k=v` sorted by key, joined by commas; `<none>` if none. */
function labelsColumn(labels: Readonly<Record<string, string>>): string {
  const keys = Object.keys(labels).sort();
  return keys.length ? keys.map((k) => `${k}=${labels[k]}`).join(',') : '<none>';
}

function podRow(sim: Simulator, p: Pod, wide: boolean, ns: boolean): string[] {
  const n = p.containers.length;
  const row = [p.name, `${p.status.phase === 'Running' ? n : 0}/${n}`, podStatusText(p), '0', humanDuration(sim.now() - p.created)];
  if (ns) row.unshift(p.namespace);
  if (wide) row.push(p.ip === null ? '<none>' : formatIpv4(p.ip), p.node ?? '<none>', '<none>', '<none>');
  return row;
}

function get(host: KubectlHost, f: Flags): Output {
  const sim = host.sim;
  const r = resourceOf(f.positional[0]);
  if ('status' in r) return r;
  const names = r.name !== null ? [r.name, ...f.positional.slice(1)] : f.positional.slice(1);
  const out = f.output;
  if (f.watch) return err('podnet: kubectl get --watch is not modelled: the shell prints and returns; run kubectl get again to see what changed');
  if (out !== null && !['wide', 'json', 'yaml', 'name'].includes(out) && !out.startsWith('jsonpath=') && !out.startsWith('jsonpath') && !out.startsWith('custom-columns=')) {
    return err(`error: unable to match a printer suitable for the output format "${out}", allowed formats are: custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml`);
  }
  let objects: Record<string, unknown>[];
  let rows: string[][];
  const errors: string[] = [];
  if (r.kind === 'nodes') {
    let nodes = sim.nodes();
    if (names.length) {
      nodes = [];
      for (const n of names) { try { nodes.push(sim.node(n)); } catch { errors.push(`Error from server (NotFound): nodes "${n}" not found`); } }
    }
    objects = nodes.map((n) => nodeObject(sim, n));
    rows = [['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION', ...(out === 'wide' ? ['INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME'] : [])]];
    for (const n of nodes) {
      const row = [n.name, n.unschedulable ? 'Ready,SchedulingDisabled' : 'Ready', '<none>', humanDuration(sim.now() - n.created), KUBE_VERSION];
      if (out === 'wide') row.push(formatIpv4(n.ip), '<none>', NODE_OS.osImage, NODE_OS.kernelVersion, NODE_OS.containerRuntimeVersion);
      if (f.showLabels) row.push(labelsColumn((nodeObject(sim, n)['metadata'] as { labels?: Record<string, string> }).labels ?? {}));
      rows.push(row);
    }
  } else {
    let pods = podsIn(host, f);
    if (names.length) {
      pods = [];
      for (const n of names) {
        const p = sim.pods().find((x) => x.namespace === f.namespace && x.name === n);
        if (p) pods.push(p); else errors.push(`Error from server (NotFound): pods "${n}" not found`);
      }
    }
    objects = pods.map((p) => podObject(sim, p, host.podMeta.get(p.key)?.restartPolicy, host.podMeta.get(p.key)?.args));
    const showNs = f.all && names.length === 0;
    rows = [[...(showNs ? ['NAMESPACE'] : []), 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', ...(out === 'wide' ? ['IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'] : [])]];
    for (const p of pods) rows.push([...podRow(sim, p, out === 'wide', showNs), ...(f.showLabels ? [labelsColumn(p.labels)] : [])]);
  }
  if (f.showLabels) rows[0]!.push('LABELS');
  const stderr = errors.map((e) => `${e}\n`).join('');
  const status = errors.length ? 1 : 0;
  const kindName = r.kind === 'nodes' ? 'node' : 'pod';
  if (objects.length === 0 && errors.length === 0 && (out === null || out === 'wide' || out === 'name')) {
    return { stdout: '', stderr: r.kind === 'pods' && !f.all ? `No resources found in ${f.namespace} namespace.\n` : 'No resources found\n', status: 0 };
  }
  const single = names.length === 1 && objects.length === 1;
  const data = single ? objects[0] : { apiVersion: 'v1', items: objects, kind: 'List', metadata: { resourceVersion: '' } };
  let stdout: string;
  if (out === 'json') stdout = `${JSON.stringify(data, null, 4)}\n`;
  // kubectl -o yaml goes through sigs.k8s.io/yaml: keys sorted, sequences not indented.
  else if (out === 'yaml') stdout = stringify(data, { indentSeq: false, lineWidth: 0, sortMapEntries: true });
  else if (out === 'name') stdout = objects.map((o) => `${kindName}/${(o['metadata'] as { name: string }).name}\n`).join('');
  else if (out !== null && out.startsWith('jsonpath')) {
    const template = out.replace(/^jsonpath=?/, '');
    try {
      stdout = evaluateJsonPath(template, data);
    } catch (e) {
      if (e instanceof JsonPathError) return err(`error: error parsing jsonpath ${template}, ${e.message}`);
      throw e;
    }
  } else if (out !== null && out.startsWith('custom-columns=')) {
    const cols = customColumns(out.slice('custom-columns='.length), objects);
    if (typeof cols === 'string') return err(cols);
    stdout = tabwrite(f.noHeaders ? cols.slice(1) : cols).map((l) => `${l}\n`).join('');
  } else stdout = objects.length ? tabwrite(f.noHeaders ? rows.slice(1) : rows).map((l) => `${l}\n`).join('') : '';
  return { stdout, stderr, status };
}

/**
 * `-o custom-columns=HEADER:PATH,…` (kubectl's CustomColumnsPrinter): a header row, then one row an object
 * with each path's value (JSONPath, braces optional), `<none>` where it finds nothing; a spec without `:` is
 * refused in kubectl's words.
 */
function customColumns(spec: string, objects: readonly Record<string, unknown>[]): string[][] | string {
  const cols: [string, string][] = [];
  for (const part of spec.split(',')) {
    const at = part.indexOf(':');
    if (at <= 0) return `error: unexpected custom-columns spec: ${part}, expected <header>:<json-path-expr>`;
    const path = part.slice(at + 1);
    cols.push([part.slice(0, at), path.startsWith('{') ? path : `{${path}}`]);
  }
  const rows: string[][] = [cols.map(([h]) => h)];
  for (const o of objects) {
    const row: string[] = [];
    for (const [, path] of cols) {
      let v: string;
      try {
        v = evaluateJsonPath(path, o);
      } catch (e) {
        if (e instanceof JsonPathError) return `error: error parsing jsonpath ${path}, ${e.message}`;
        throw e;
      }
      row.push(v === '' ? '<none>' : v.replaceAll(' ', ','));
    }
    rows.push(row);
  }
  return rows;
}

/** A line of kubectl describe's tabwriter: its first cell and the rest, or a line without a tab. */
type Tabbed = string | readonly [string, string];

/**
 * Go's text/tabwriter as kubectl describe uses it (minwidth 0, padding 2, one tabbed column here): each run
 * of consecutive tabbed lines pads its first cells to the widest of them plus 2; a line without a tab ends
 * the run. Trailing spaces stay, as tabwriter leaves them.
 */
function tabBlocks(lines: readonly Tabbed[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines.length;) {
    const l = lines[i]!;
    if (typeof l === 'string') { out.push(l); i++; continue; }
    let j = i;
    let width = 0;
    for (; j < lines.length && typeof lines[j] !== 'string'; j++) width = Math.max(width, (lines[j] as readonly [string, string])[0].length);
    for (; i < j; i++) { const [cell, rest] = lines[i] as readonly [string, string]; out.push(`${cell.padEnd(width + 2)}${rest}`); }
  }
  return out;
}

function pad(label: string, value: string, width = 18): string {
  return `${label}${' '.repeat(Math.max(1, width - label.length))}${value}`;
}

function describe(host: KubectlHost, f: Flags): Output {
  const sim = host.sim;
  const r = resourceOf(f.positional[0]);
  if ('status' in r) return r;
  const names = r.name !== null ? [r.name] : f.positional.slice(1);
  const out: string[] = [];
  const errors: string[] = [];
  if (r.kind === 'nodes') {
    const nodes = names.length ? names.flatMap((n) => { try { return [sim.node(n)]; } catch { errors.push(`Error from server (NotFound): nodes "${n}" not found`); return []; } }) : sim.nodes();
    for (const n of nodes) {
      if (out.length) out.push('', '');
      const cap = sim.capacity(n.name);
      const pods = Object.values(n.pods).sort((a, b) => (a.key < b.key ? -1 : 1));
      out.push(
        pad('Name:', n.name, 20), pad('Roles:', '<none>', 20), pad('Labels:', 'kubernetes.io/arch=amd64', 20), `${' '.repeat(20)}kubernetes.io/hostname=${n.name}`, `${' '.repeat(20)}kubernetes.io/os=linux`,
        pad('Annotations:', `node.alpha.kubernetes.io/ttl: 0`, 20), pad('CreationTimestamp:', new Date(Date.parse(rfc3339(n.created))).toUTCString().replace('GMT', '+0000'), 20),
        pad('Taints:', n.unschedulable ? 'node.kubernetes.io/unschedulable:NoSchedule' : '<none>', 20), pad('Unschedulable:', String(n.unschedulable ?? false), 20),
        'Addresses:', `  InternalIP:  ${formatIpv4(n.ip)}`, `  Hostname:    ${n.name}`,
        'Capacity:', `  pods:               ${cap.allocatablePods}`, 'Allocatable:', `  pods:               ${cap.allocatablePods}`,
        'System Info:', `  Kernel Version:             ${NODE_OS.kernelVersion}`, `  OS Image:                   ${NODE_OS.osImage}`, `  Operating System:           linux`, `  Architecture:               amd64`,
        `  Container Runtime Version:  ${NODE_OS.containerRuntimeVersion}`, `  Kubelet Version:            ${KUBE_VERSION}`,
        pad('PodCIDR:', n.podCidr ? formatCidr(n.podCidr) : '', 30), pad('PodCIDRs:', n.podCidr ? formatCidr(n.podCidr) : '', 30),
        pad('Non-terminated Pods:', `(${cap.nonTerminatedPods} in total)`, 30),
      );
      const rows = [['Namespace', 'Name', 'CPU Requests', 'CPU Limits', 'Memory Requests', 'Memory Limits', 'Age'], ['---------', '----', '------------', '----------', '---------------', '-------------', '---']];
      for (const p of pods) rows.push([p.namespace, p.name, '0 (0%)', '0 (0%)', '0 (0%)', '0 (0%)', humanDuration(sim.now() - p.created)]);
      out.push(...tabwrite(rows, 2, 0).map((l) => `  ${l}`));
      // podnet models no CPU or memory: pods request none.
      out.push('Allocated resources:', '  (Total limits may be over 100 percent, i.e., overcommitted.)', '  Resource           Requests  Limits', '  --------           --------  ------', '  cpu                0 (0%)    0 (0%)', '  memory             0 (0%)    0 (0%)', pad('Events:', '<none>', 20));
    }
  } else {
    const pods = names.length ? names.flatMap((n) => { const p = sim.pods().find((x) => x.namespace === f.namespace && x.name === n); if (!p) errors.push(`Error from server (NotFound): pods "${n}" not found`); return p ? [p] : []; }) : podsIn(host, f);
    for (const p of pods) {
      if (out.length) out.push('', '');
      const node = p.node === null ? null : sim.node(p.node);
      const meta = host.podMeta.get(p.key);
      const running = p.status.phase === 'Running';
      const labels = Object.entries(p.labels).map(([k, v]) => `${k}=${v}`);
      out.push(
        pad('Name:', p.name), pad('Namespace:', p.namespace), pad('Priority:', '0'), pad('Service Account:', 'default'),
        pad('Node:', node ? `${node.name}/${formatIpv4(node.ip)}` : '<none>'),
        ...(node ? [pad('Start Time:', new Date(Date.parse(rfc3339(p.created))).toUTCString().replace('GMT', '+0000'))] : []),
        pad('Labels:', labels[0] ?? '<none>'), ...labels.slice(1).map((l) => `${' '.repeat(18)}${l}`),
        pad('Annotations:', '<none>'),
        pad('Status:', p.status.phase === 'ContainerCreating' ? 'Pending' : p.status.phase),
        ...(p.status.phase === 'Failed' && p.status.reason ? [pad('Reason:', p.status.reason), pad('Message:', p.status.message ?? '')] : []),
        pad('IP:', p.ip === null ? '' : formatIpv4(p.ip)).trimEnd(),
        ...(p.ip === null ? [pad('IPs:', '<none>')] : ['IPs:', `  IP:  ${formatIpv4(p.ip)}`]),
        'Containers:',
      );
      // kubectl writes the rest through one tabwriter (padding 2): consecutive lines with a tab share the
      // width of their first column, and a line without one (`Args:`, a container's name) starts afresh.
      const lines: Tabbed[] = [];
      const started = new Date(Date.parse(rfc3339(p.created))).toUTCString().replace('GMT', '+0000');
      // The kubelet reports its containers once the pod is on a node, unless it rejected the pod (Failed).
      const hasStatus = p.node !== null && p.status.phase !== 'Failed';
      for (const c of p.containers) {
        lines.push(`  ${c.name}:`);
        if (hasStatus) lines.push(['    Container ID:', running ? `containerd://${containerId(p, c.name)}` : '']);
        lines.push(['    Image:', c.image]);
        // podnet pulls no images: the image ID is the reference the runtime was given (crictl inspect's imageRef).
        if (hasStatus) lines.push(['    Image ID:', running ? c.image : '']);
        const ports = c.ports.map((x) => `${x.port}/${x.protocol}`);
        const hostPorts = c.ports.map((x) => `0/${x.protocol}`);
        lines.push([ports.length > 1 ? '    Ports:' : '    Port:', ports.join(', ') || '<none>']);
        lines.push([hostPorts.length > 1 ? '    Host Ports:' : '    Host Port:', hostPorts.join(', ') || '<none>']);
        if (meta?.args.length) lines.push('    Args:', ...meta.args.map((a) => `      ${a}`));
        if (hasStatus) {
          lines.push(['    State:', running ? 'Running' : 'Waiting'], running ? ['      Started:', started] : ['      Reason:', 'ContainerCreating']);
          lines.push(['    Ready:', running ? 'True' : 'False'], ['    Restart Count:', '0']);
        }
        lines.push(['    Environment:', '<none>'], ['    Mounts:', '<none>']);
      }
      // The kubelet's conditions (1.29+: PodReadyToStartContainers first) once the pod is on a node; the
      // scheduler's PodScheduled alone before; a pod the kubelet rejected keeps only the scheduler's.
      const conditions: [string, boolean][] = p.node === null || p.status.phase === 'Failed'
        ? [['PodScheduled', p.node !== null]]
        : [['PodReadyToStartContainers', running], ['Initialized', true], ['Ready', running], ['ContainersReady', running], ['PodScheduled', true]];
      lines.push('Conditions:', ['  Type', 'Status'], ...conditions.map(([t, v]): Tabbed => [`  ${t} `, `${v ? 'True' : 'False'} `]));
      // podnet models no volumes, resource requests, node selectors or taints of its own; every pod gets the
      // two tolerations the DefaultTolerationSeconds admission plugin adds.
      lines.push(['Volumes:', '<none>'], ['QoS Class:', 'BestEffort'], ['Node-Selectors:', '<none>'],
        ['Tolerations:', 'node.kubernetes.io/not-ready:NoExecute op=Exists for 300s'], ['', 'node.kubernetes.io/unreachable:NoExecute op=Exists for 300s']);
      const events = sim.events(p.key).map((e) => ({ type: e.type, reason: e.reason, time: e.time, from: e.from, message: e.message }));
      if (running && p.node !== null) {
        // What the kubelet records once the sandbox is up (podnet has no image pulls: images are present).
        for (const c of p.containers) {
          events.push(
            { type: 'Normal', reason: 'Pulled', time: p.created, from: 'kubelet', message: `Container image "${c.image}" already present on machine` },
            { type: 'Normal', reason: 'Created', time: p.created, from: 'kubelet', message: `Created container: ${c.name}` },
            { type: 'Normal', reason: 'Started', time: p.created, from: 'kubelet', message: `Started container ${c.name}` },
          );
        }
      }
      if (events.length === 0) lines.push(['Events:', '<none>']);
      out.push(...tabBlocks(lines));
      if (events.length > 0) {
        out.push('Events:');
        const rows = [['Type', 'Reason', 'Age', 'From', 'Message'], ['----', '------', '----', '----', '-------']];
        for (const e of events) rows.push([e.type, e.reason, humanDuration(sim.now() - e.time), e.from, e.message]);
        out.push(...tabwrite(rows, 2, 0).map((l) => `  ${l}`));
      }
    }
  }
  return { stdout: out.length ? `${out.join('\n')}\n` : '', stderr: errors.map((e) => `${e}\n`).join(''), status: errors.length ? 1 : 0 };
}

function run(host: KubectlHost, f: Flags): Output {
  const name = f.positional[0];
  if (name === undefined) return err("error: NAME is required for run\nSee 'kubectl run -h' for help and examples");
  if (f.image === null) return err('error: required flag(s) "image" not set');
  if (f.rm && !f.stdin) return err("error: --rm should only be used for attached containers\nSee 'kubectl run -h' for help and examples");
  if (f.restart !== null && !['Always', 'OnFailure', 'Never'].includes(f.restart)) return err(`error: invalid restart policy: ${f.restart}`);
  const key = `${f.namespace}/${name}`;
  if (host.sim.has(key)) return err(`Error from server (AlreadyExists): pods "${name}" already exists`);
  try {
    host.sim.addPod({ name, namespace: f.namespace, containers: [{ name, image: f.image }], labels: { run: name } });
  } catch (e) {
    if (isPodnetError(e)) return err(`The Pod "${name}" is invalid: ${e.message}`);
    throw e;
  }
  host.podMeta.set(key, { restartPolicy: f.restart ?? 'Always', args: f.command ?? [] });
  if (!f.stdin) return ok(`pod/${name} created\n`);
  // -i attaches to the pod's command: a shell is entered, another command runs and prints; with --rm the
  // pod is deleted when it ends (kubectl 1.31 prints `pod "NAME" deleted`).
  const removed = (): Output => {
    if (f.rm && host.sim.has(key)) { host.sim.deletePod(key); host.podMeta.delete(key); return ok(`pod "${name}" deleted\n`); }
    return ok();
  };
  const pod = host.sim.pods().find((p) => p.key === key)!;
  if (pod.status.phase !== 'Running') {
    const why = `podnet: pod "${name}" is ${pod.status.phase}, so there is nothing to attach to${pod.status.message ? ` (${pod.status.message})` : ''}`;
    const r = removed();
    return { stdout: r.stdout, stderr: `${why}\n`, status: 1 };
  }
  const place: Place = { kind: 'pod', pod: key };
  const cmd = f.command ?? [];
  if (cmd.length === 0 || (cmd.length === 1 && SHELLS.includes(cmd[0]!))) {
    host.enter(place, removed);
    return ok("If you don't see a command prompt, try pressing enter.\n");
  }
  const r = host.runIn(place, cmd);
  const gone = removed();
  return { ...r, stdout: r.stdout + gone.stdout };
}

/** What `kubectl exec -it POD -- SHELL` and `kubectl run -it` open as an interactive shell. */
const SHELLS = ['sh', 'bash', '/bin/sh', '/bin/bash', 'zsh', 'ash'];

function exec(host: KubectlHost, f: Flags): Output {
  const name = f.positional[0];
  if (name === undefined) return err("error: pod, type/name or --filename must be specified");
  if (f.command === null || f.command.length === 0) {
    return err(f.positional.length > 1
      ? 'error: exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND] instead\nSee \'kubectl exec -h\' for help and examples'
      : "error: you must specify at least one command for the container");
  }
  const podName = name.replace(/^(pod|pods|po)\//, '');
  const pod = host.sim.pods().find((p) => p.namespace === f.namespace && p.name === podName);
  if (!pod) return err(`Error from server (NotFound): pods "${podName}" not found`);
  if (f.container !== null && !pod.containers.some((c) => c.name === f.container)) return err(`error: unable to upgrade connection: container ${f.container} not found in pod ${podName}`);
  if (pod.status.phase === 'Failed') return err('error: cannot exec into a container in a completed pod; current phase is Failed');
  if (pod.status.phase !== 'Running') return err(`error: unable to upgrade connection: container not found ("${pod.containers[0]!.name}")`);
  const place: Place = { kind: 'pod', pod: pod.key };
  if (f.command.length === 1 && SHELLS.includes(f.command[0]!)) {
    if (!f.stdin) return ok();
    host.enter(place);
    return ok();
  }
  return host.runIn(place, f.command);
}

function debug(host: KubectlHost, f: Flags): Output {
  const target = f.positional[0];
  if (target === undefined) return err("error: one of --image or --filename must be specified, or a pod name to debug\nSee 'kubectl debug -h' for help and examples");
  if (!target.startsWith('node/')) return err('error: podnet models `kubectl debug node/NAME` (a shell on a node); to debug a pod, kubectl exec into it');
  const nodeName = target.slice(5);
  try { host.sim.node(nodeName); } catch { return err(`Error from server (NotFound): nodes "${nodeName}" not found`); }
  if (f.image === null) return err('error: --image is required for node debugging');
  if (f.profile !== null && !['legacy', 'general', 'baseline', 'netadmin', 'restricted', 'sysadmin'].includes(f.profile)) return err(`error: invalid profile: "${f.profile}"`);
  const pod = `node-debugger-${nodeName}-${kubeSuffix(`debug|${nodeName}|${host.sim.now()}`)}`;
  const banner = `Creating debugging pod ${pod} with container debugger on node ${nodeName}.\n`;
  // The general profile gives no capabilities; netadmin adds NET_ADMIN, sysadmin makes it privileged.
  const admin = f.profile === 'sysadmin' || f.profile === 'netadmin';
  const place: Place = { kind: 'node', node: nodeName, debug: true, admin };
  if (f.command && f.command.length) {
    const r = host.runIn(place, f.command);
    return { ...r, stdout: banner + r.stdout };
  }
  if (f.stdin) {
    host.enter(place);
    return ok(`${banner}If you don't see a command prompt, try pressing enter.\n`);
  }
  return ok(banner);
}

function del(host: KubectlHost, f: Flags): Output {
  const r = resourceOf(f.positional[0]);
  if ('status' in r) return r;
  if (r.kind !== 'pods') return err('error: podnet deletes pods only (kubectl delete pod NAME)');
  const names = r.name !== null ? [r.name, ...f.positional.slice(1)] : f.positional.slice(1);
  if (names.length === 0) return err('error: resource(s) were provided, but no name was specified');
  let stdout = '';
  let stderr = '';
  for (const n of names) {
    const key = `${f.namespace}/${n}`;
    const pod = host.sim.pods().find((p) => p.key === key);
    if (!pod) { stderr += `Error from server (NotFound): pods "${n}" not found\n`; continue; }
    host.sim.deletePod(key);
    host.podMeta.delete(key);
    stdout += `pod "${n}" deleted\n`;
    // A node agent's pod: its DaemonSet makes another on the node at once, and the CNI's agent starts again
    // there (flanneld puts back what it owns).
    const again = agentPodAgain(host.sim.design.name, pod);
    if (again !== null) {
      host.sim.addPod(again);
      if (again.labels?.['k8s-app'] === cniDaemonSet(host.sim.design.name)?.name) host.sim.restartAgents([pod.node!], `${again.name} starts on ${pod.node}`);
    }
  }
  return { stdout, stderr, status: stderr ? 1 : 0 };
}
