/**
 * What a shell on a node or in a pod sees besides `ip`: files (/etc/cni/net.d, /var/run/netns,
 * /run/flannel/subnet.env, /proc/sys), crictl, sysctl.
 */
import { formatCidr, formatIpv4, isPodnetError, netnsPath, readSysctl, sysctlKeys, type NetNs, type Pod, type Simulator } from '@podnet/core';
import { humanDuration, rfc3339 } from './format.js';
import { sysClassNet } from './ip.js';
import { containerId } from './kube.js';
import { err, ok, type Output, type Place } from './types.js';

/** The node's files podnet models, by absolute path on the node. */
export function nodeFiles(sim: Simulator, node: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const [name, text] of Object.entries(sim.cniConfig(node))) files.set(`/etc/cni/net.d/${name}`, text);
  const n = sim.node(node);
  for (const p of Object.values(n.pods)) if (p.netns) files.set(netnsPath(p), '');
  if (sim.design.name.startsWith('flannel') && n.podCidr) {
    // flanneld writes the node's lease for the CNI plugin (FLANNEL_SUBNET is the gateway address/len,
    // FLANNEL_MTU what pods and cni0 get: the backend device's MTU, or the NIC's for host-gw).
    const mtu = n.host.links['cni0']?.mtu ?? n.host.links['flannel.1']?.mtu ?? sim.state.underlay.segments[n.segment]?.mtu ?? 1500;
    files.set('/run/flannel/subnet.env', `FLANNEL_NETWORK=${formatCidr(sim.state.podCidr)}\nFLANNEL_SUBNET=${formatIpv4((n.podCidr.addr + 1) >>> 0)}/${n.podCidr.len}\nFLANNEL_MTU=${mtu}\nFLANNEL_IPMASQ=true\n`);
  }
  return files;
}

/** Directories of a debug container's own filesystem (nicolaka/netshoot) and of a node's root. */
const CONTAINER_ROOT = ['bin', 'dev', 'etc', 'home', 'host', 'lib', 'media', 'mnt', 'opt', 'proc', 'root', 'run', 'sbin', 'srv', 'sys', 'tmp', 'usr', 'var'];
const NODE_ROOT = ['bin', 'boot', 'dev', 'etc', 'home', 'lib', 'lib64', 'media', 'mnt', 'opt', 'proc', 'root', 'run', 'sbin', 'srv', 'sys', 'tmp', 'usr', 'var'];

/** Resolves a path typed in a place to a node path, or null when it is not on the node. */
function toNodePath(place: Place, path: string): { node: string; path: string } | 'root' | null {
  const p = path.replace(/\/+$/, '') || '/';
  if (place.kind !== 'node') return null;
  if (!place.debug) return p === '/' ? 'root' : { node: place.node, path: p.replace(/^\/var\/run\//, '/run/') };
  if (p === '/host') return 'root';
  if (p.startsWith('/host/')) return { node: place.node, path: p.slice(5).replace(/^\/var\/run\//, '/run/') };
  return null;
}

/**
 * /proc/sys/net as the shell's process sees it: the files of the keys podnet models, read in the network
 * namespace the shell is in (`ns`: a pod's, a node's — a node debugger runs in the host's network, and
 * nsenter --net moves it), as the kernel shows /proc/sys/net per network namespace of the reader. A device's
 * dot is a dot in the path (`conf/flannel.1/forwarding`). Keys podnet does not model are not there, as
 * `sysctl` says of them.
 */
function procSys(ns: NetNs, rest: string): { kind: 'dir'; entries: string[] } | { kind: 'file'; text: string } | null {
  const parts = rest === '' ? [] : rest.split('/');
  if (parts.some((x) => x === '' || x === '.' || x === '..')) return null;
  if (parts.length > 0) {
    const v = readSysctl(ns, parts.map((x) => x.replaceAll('.', '/')).join('.'));
    if (v !== null) return { kind: 'file', text: `${v}\n` };
  }
  const entries = new Set<string>();
  for (const key of sysctlKeys(ns)) {
    const k = key.split('.').map((x) => x.replaceAll('/', '.'));
    if (k.length > parts.length && parts.every((x, i) => k[i] === x)) entries.add(k[parts.length]!);
  }
  return entries.size ? { kind: 'dir', entries: [...entries].sort() } : null;
}

function listing(sim: Simulator, place: Place, path: string, ns?: NetNs, sysNs?: NetNs): { kind: 'dir'; entries: string[] } | { kind: 'file'; text: string } | null {
  const p = path.replace(/\/+$/, '') || '/';
  if (ns !== undefined && place.kind !== 'client') {
    const sys = /^(?:\/host)?\/proc\/sys(?:\/(.*))?$/.exec(p);
    // /host/proc is the node's procfs, seen from the debugger: /proc/sys/net still answers for the reader's network.
    if (sys !== null && (!p.startsWith('/host/') || (place.kind === 'node' && place.debug))) return procSys(ns, sys[1] ?? '');
    if (p === '/proc' || (p === '/host/proc' && place.kind === 'node' && place.debug)) return { kind: 'dir', entries: ['sys'] };
    // /sys/class/net is sysfs's view of the network namespace that mounted it, not the reader's: the pod's in
    // a pod, the node's on a node and in its debugger (host network), also under nsenter --net (which keeps
    // the mounts); `ip netns exec` mounts a sysfs of its own, so there it is the target's (sysNs).
    const cls = /^(?:\/host)?\/sys\/class\/net(?:\/(.*))?$/.exec(p);
    if (cls !== null && sysNs !== undefined && (!p.startsWith('/host/') || (place.kind === 'node' && place.debug))) {
      const rest = cls[1] ?? '';
      const parts = rest === '' ? [] : rest.split('/');
      return parts.some((x) => x === '' || x === '.' || x === '..') ? null : sysClassNet(sim, sysNs, parts);
    }
  }
  if (place.kind === 'node' && place.debug && p === '/') return { kind: 'dir', entries: CONTAINER_ROOT };
  if (place.kind === 'pod' && p === '/') return { kind: 'dir', entries: CONTAINER_ROOT.filter((d) => d !== 'host') };
  if (place.kind === 'pod' && p === '/etc/hosts') {
    // The kubelet writes a pod's /etc/hosts (kubelet_pods.go, managedHostsHeader and ensureHostsFile): the
    // localhost lines, then the pod's IP and name, tab-separated. A host-network pod gets the node's file.
    const pod = sim.pod(place.pod);
    if (pod.ip === null || pod.hostNetwork) return null;
    return { kind: 'file', text: `# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n${formatIpv4(pod.ip)}\t${pod.name}\n` };
  }
  const at = toNodePath(place, p);
  if (at === 'root') return { kind: 'dir', entries: NODE_ROOT };
  if (at === null) return null;
  const files = nodeFiles(sim, at.node);
  const norm = (f: string) => f.replace(/^\/var\/run\//, '/run/');
  for (const [f, text] of files) if (norm(f) === at.path) return { kind: 'file', text };
  const entries = new Set<string>();
  for (const f of files.keys()) {
    const n = norm(f);
    if (n.startsWith(`${at.path}/`)) entries.add(n.slice(at.path.length + 1).split('/')[0]!);
  }
  return entries.size ? { kind: 'dir', entries: [...entries].sort() } : null;
}

/** The modelled file at `path` as a shell in `place` reads it: its text, 'dir' for a directory, else null. */
export function shellFile(sim: Simulator, place: Place, ns?: NetNs, sysNs?: NetNs): (path: string) => string | 'dir' | null {
  return (path) => {
    const l = listing(sim, place, path, ns, sysNs);
    return l === null ? null : l.kind === 'dir' ? 'dir' : l.text;
  };
}

/** `ls [-1] [-l] [PATH…]` over the modelled files. */
export function ls(sim: Simulator, place: Place, args: readonly string[], piped: boolean, ns?: NetNs, sysNs?: NetNs): Output {
  const paths = args.filter((a) => !a.startsWith('-'));
  const long = args.some((a) => a.startsWith('-') && a.includes('l'));
  const one = piped || long || args.some((a) => a.startsWith('-') && a.includes('1'));
  let stdout = '';
  let stderr = '';
  for (const path of paths.length ? paths : ['/']) {
    const l = listing(sim, place, path, ns, sysNs);
    if (l === null) { stderr += `ls: cannot access '${path}': No such file or directory\n`; continue; }
    const names = l.kind === 'file' ? [path] : l.entries;
    if (paths.length > 1 && l.kind === 'dir') stdout += `${path}:\n`;
    if (long) stdout += names.map((n) => `-rw-r--r--    1 root     root           ${String(l.kind === 'file' ? l.text.length : 0).padStart(4)} Jan  5 09:00 ${n}\n`).join('');
    else if (names.length) stdout += one ? names.map((n) => `${n}\n`).join('') : `${names.join('  ')}\n`;
  }
  return { stdout, stderr, status: stderr ? 2 : 0 };
}

/** `cat FILE…`. */
export function cat(sim: Simulator, place: Place, args: readonly string[], stdin: string, ns?: NetNs, sysNs?: NetNs): Output {
  if (args.length === 0) return ok(stdin);
  let stdout = '';
  let stderr = '';
  for (const path of args) {
    const l = listing(sim, place, path, ns, sysNs);
    // A pod's resolv.conf names the cluster DNS Service, which podnet does not have: said, not made up.
    if (l === null && place.kind === 'pod' && path.replace(/\/+$/, '') === '/etc/resolv.conf') stderr += `cat: ${path}: podnet does not model DNS (no cluster DNS Service, no resolv.conf): reach pods by their IPs (kubectl get pods -o wide)\n`;
    else if (l === null) stderr += `cat: ${path}: No such file or directory\n`;
    else if (l.kind === 'dir') stderr += `cat: ${path}: Is a directory\n`;
    else stdout += l.text;
  }
  return { stdout, stderr, status: stderr ? 1 : 0 };
}

/** procps-ng 4.0.2's usage text (`sysctl` alone prints it on stderr, after a bad option on stdout). */
const SYSCTL_USAGE = `
Usage:
 sysctl [options] [variable[=value] ...]

Options:
  -a, --all            display all variables
  -A                   alias of -a
  -X                   alias of -a
      --deprecated     include deprecated parameters to listing
      --dry-run        Print the key and values but do not write
  -b, --binary         print value without new line
  -e, --ignore         ignore unknown variables errors
  -N, --names          print variable names without values
  -n, --values         print only values of the given variable(s)
  -p, --load[=<file>]  read values from file
  -f                   alias of -p
      --system         read values from all system directories
  -r, --pattern <expression>
                       select setting that match expression
  -q, --quiet          do not echo variable set
  -w, --write          enable writing a value to variable
  -o                   does nothing
  -x                   does nothing
  -d                   alias of -h

 -h, --help     display this help and exit
 -V, --version  output version information and exit

For more details see sysctl(8).
`;

/** The long options podnet takes, as the short one each stands for. */
const SYSCTL_LONG: Readonly<Record<string, string>> = { all: 'a', binary: 'b', ignore: 'e', names: 'N', values: 'n', load: 'p', quiet: 'q', write: 'w', help: 'h', version: 'V', pattern: 'r' };

interface SysctlFlags { all: boolean; write: boolean; values: boolean; names: boolean; quiet: boolean; ignore: boolean; binary: boolean; load: string[]; pattern?: string }

/** `key = value`, `value` (-n) or `key` (-N), as procps prints a setting read or written. */
function settingLine(f: SysctlFlags, key: string, value: string): string {
  if (f.names) return `${key}\n`;
  if (f.values) return f.binary ? value : `${value}\n`;
  return `${key} = ${value}\n`;
}

/** `.` and `/` swapped, as procps' slashdot() does: a key's separators become the path's and back. */
const swapSeparators = (key: string): string => key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));

/**
 * A key as sysctl prints it and podnet's sysctl.set takes it: dots between the parts, a dot inside a part
 * (a device's, `flannel.1`) written as a slash. procps-ng's slashdot() leaves a key whose first separator is
 * a dot as it is and swaps `.` and `/` in one whose first is a slash (the path form): `net.ipv4.conf.a/1.x`
 * and `net/ipv4/conf/a.1/x` are both /proc/sys/net/ipv4/conf/a.1/x, printed as the first (measured:
 * scripts/sysctl-slash.sh).
 */
function sysctlName(key: string): string {
  const first = /[./]/.exec(key);
  return first !== null && first[0] === '/' ? swapSeparators(key) : key;
}

/**
 * `sysctl` as procps-ng 4.0.2 runs it against the keys podnet models (core model/sysctl.ts: ip_forward,
 * net.ipv4.conf.{all,default,<dev>}.{forwarding,rp_filter,proxy_arp,send_redirects,accept_redirects,
 * promote_secondaries}, icmp_ratelimit, icmp_ratemask, bridge-nf-call-iptables): reads, `-w` (or
 * KEY=VALUE) writes of any int the kernel takes, `-a`, `-n`, `-N`, `-q`, `-e`, `-b`, `-p FILE`. Messages
 * and exit statuses as measured (scripts/sysctl-formats.sh): a read of a missing key adds 1 to the status,
 * any failed write makes it at least 1, a bad option prints the usage on stdout and exits 0.
 * `readFile(path)` is a file of the shell (null: none there; 'dir': a directory), for `-p`.
 */
export function sysctl(sim: Simulator, ns: NetNs, args: readonly string[], writable: boolean, readFile: (path: string) => string | 'dir' | null = () => null): Output {
  const f: SysctlFlags = { all: false, write: false, values: false, names: false, quiet: false, ignore: false, binary: false, load: [] };
  const keys: string[] = [];
  if (args.length === 0) return err(SYSCTL_USAGE, 1);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') { keys.push(...args.slice(i + 1)); break; }
    if (a.startsWith('--')) {
      const [name, arg] = a.slice(2).split(/=(.*)/s) as [string, string | undefined];
      const short = Object.hasOwn(SYSCTL_LONG, name) ? SYSCTL_LONG[name] : undefined;
      if (short === 'r') {
        const v = arg ?? args[++i];
        if (v === undefined) return { stdout: SYSCTL_USAGE, stderr: `sysctl: option '--pattern' requires an argument\n`, status: 0 };
        f.pattern = v;
        continue;
      }
      if (short === undefined) return { stdout: SYSCTL_USAGE, stderr: `sysctl: unrecognized option '${a}'\n`, status: 0 };
      if (short === 'p') f.load.push(arg ?? '/etc/sysctl.conf');
      else if (short === 'h') return ok(SYSCTL_USAGE);
      else if (short === 'V') return ok('sysctl from procps-ng 4.0.2\n');
      else setFlag(f, short);
      continue;
    }
    if (!a.startsWith('-') || a === '-') { keys.push(a); continue; }
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!;
      if (c === 'p' || c === 'f') {
        // -p takes its file only joined to it (-pFILE) or as the next word that is not an option.
        const rest = a.slice(j + 1);
        if (rest) f.load.push(rest);
        else if (args[i + 1] !== undefined && !args[i + 1]!.startsWith('-')) f.load.push(args[++i]!);
        else f.load.push('/etc/sysctl.conf');
        break;
      }
      if (c === 'r') {
        // -r PATTERN (--pattern): an extended regular expression the listed keys' names must match.
        const v = j + 1 < a.length ? a.slice(j + 1) : args[++i];
        if (v === undefined) return { stdout: SYSCTL_USAGE, stderr: "sysctl: option requires an argument -- 'r'\n", status: 0 };
        f.pattern = v;
        break;
      }
      if (c === 'h' || c === 'd') return ok(SYSCTL_USAGE);
      if (c === 'V') return ok('sysctl from procps-ng 4.0.2\n');
      if (!'aAXbeNnqwox'.includes(c)) return { stdout: SYSCTL_USAGE, stderr: `sysctl: invalid option -- '${c}'\n`, status: 0 };
      setFlag(f, c);
    }
  }
  let stdout = '';
  let stderr = '';
  let status = 0;
  const set = (line: string): void => {
    const eq = line.indexOf('=');
    const key = sysctlName(line.slice(0, eq).trim());
    const value = line.slice(eq + 1).trim();
    if (readSysctl(ns, key) === null) {
      if (!f.ignore) { stderr += `sysctl: cannot stat /proc/sys/${swapSeparators(key)}: No such file or directory\n`; status |= 1; }
      return;
    }
    if (!writable) { stderr += `sysctl: setting key "${key}": Read-only file system\n`; status |= 1; return; }
    try {
      sim.apply({ op: 'sysctl.set', ns: ns.id, key, value }, `${ns.id}: sysctl -w ${key}=${value}`);
    } catch (e) {
      if (!isPodnetError(e)) throw e;
      stderr += `sysctl: setting key "${key}": Invalid argument\n`;
      status |= 1;
      return;
    }
    if (!f.quiet) stdout += settingLine(f, key, value);
  };
  if (f.load.length > 0) {
    for (const path of f.load) {
      const text = readFile(path);
      if (text === null) { stderr += `sysctl: cannot open "${path}": No such file or directory\n`; status |= 1; continue; }
      if (text === 'dir') continue; // measured: `sysctl -p /etc` prints nothing and exits 0
      // procps reads the whole file before it writes: its syntax errors come first (measured).
      const settings: string[] = [];
      text.split('\n').forEach((raw, n) => {
        const line = raw.trim().replace(/^-/, '');
        if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
        if (!line.includes('=')) { stderr += `sysctl: ${path}(${n + 1}): invalid syntax, continuing...\n`; status |= 1; return; }
        settings.push(line);
      });
      for (const line of settings) set(line);
    }
    return { stdout, stderr, status };
  }
  // Measured (procps-ng 4.0.2): `sysctl -a -r '^net.ipv4.ip_forw'` lists the keys whose name matches
  // (ip_forward, ip_forward_update_priority, ip_forward_use_pmtu); `sysctl net.ipv4.conf.all`, a directory,
  // lists every key under it (exit 0).
  const wanted = (k: string): boolean => {
    if (f.pattern === undefined) return true;
    try { return new RegExp(f.pattern).test(k); } catch { return false; }
  };
  if (f.all) return ok(sysctlKeys(ns).filter(wanted).map((k) => settingLine(f, k, String(readSysctl(ns, k)))).join(''));
  if (keys.length === 0) return err('sysctl: no variables specified\nTry `sysctl --help\' for more information.', 1);
  for (const k of keys) {
    if (f.write || k.includes('=')) {
      // procps takes a one-character word silently as a failed setting (measured: `sysctl -w x` exits 1 and
      // prints nothing), a longer one without `=` as a syntax error.
      if (!k.includes('=')) {
        if (k.trim().length > 1) stderr += 'sysctl: command line(0): invalid syntax, continuing...\n';
        status |= 1;
        continue;
      }
      set(k);
      continue;
    }
    const key = sysctlName(k);
    const v = readSysctl(ns, key);
    const under = v === null ? sysctlKeys(ns).filter((x) => x.startsWith(`${key}.`)) : [];
    if (under.length > 0) stdout += under.filter(wanted).map((x) => settingLine(f, x, String(readSysctl(ns, x)))).join('');
    else if (v === null) {
      if (!f.ignore) { stderr += `sysctl: cannot stat /proc/sys/${swapSeparators(key)}: No such file or directory\n`; status += 1; }
    } else if (wanted(key)) stdout += settingLine(f, key, String(v));
  }
  return { stdout, stderr, status };
}

function setFlag(f: SysctlFlags, c: string): void {
  if (c === 'a' || c === 'A' || c === 'X') f.all = true;
  else if (c === 'w') f.write = true;
  else if (c === 'n') f.values = true;
  else if (c === 'N') f.names = true;
  else if (c === 'q') f.quiet = true;
  else if (c === 'e') f.ignore = true;
  else if (c === 'b') f.binary = true;
  // -o and -x do nothing (procps).
}

function containersOf(sim: Simulator, node: string): { pod: Pod; name: string; image: string; id: string }[] {
  const pods = Object.values(sim.node(node).pods).sort((a, b) => b.created - a.created || (a.key < b.key ? -1 : 1));
  return pods.flatMap((p) => p.containers.map((c) => ({ pod: p, name: c.name, image: c.image, id: containerId(p, c.name) })));
}

function imageId(image: string): string {
  return containerIdLike(image).slice(0, 13);
}

function containerIdLike(seed: string): string {
  let h = 0x811c9dc5;
  let out = '';
  for (let i = 0; out.length < 64; i++) {
    for (const ch of `${seed}|${i}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
    out += (h >>> 0).toString(16).padStart(8, '0');
  }
  return out;
}

/** crictl's tables: tabwriter with minwidth 20, padding 3 (cri-tools' display). */
function crictlTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length + 3, 20)));
  return rows.map((r) => `${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('')}\n`).join('');
}

/** `crictl ps|pods|inspect ID|inspectp ID` on a node. */
export function crictl(sim: Simulator, node: string, args: readonly string[]): Output {
  const [sub, ...rest] = args;
  const now = sim.now();
  const ago = (t: number) => `${humanDuration(now - t).replace(/(\d+)s$/, '$1 seconds').replace(/(\d+)m$/, '$1 minutes').replace(/(\d+)h$/, '$1 hours')} ago`;
  if (sub === 'ps' || sub === 'pods') {
    const o = listOptions(sub, rest);
    if (typeof o === 'string') return err(o, 1);
    if (sub === 'ps') {
      const cs = containersOf(sim, node).filter((c) => matchesRegex(o.name, c.name) && matchesRegex(o.namespace, c.pod.namespace)
        && (o.pod === undefined || sandbox(c.pod).startsWith(o.pod)));
      if (o.quiet) return ok(cs.map((c) => `${c.id}\n`).join(''));
      const id = (x: string) => (o.noTrunc ? x : x.slice(0, 13));
      return ok(crictlTable([['CONTAINER', 'IMAGE', 'CREATED', 'STATE', 'NAME', 'ATTEMPT', 'POD ID', 'POD'],
        ...cs.map((c) => [id(c.id), imageId(c.image), ago(c.pod.created), 'Running', c.name, '0', id(sandbox(c.pod)), c.pod.name])]));
    }
    const pods = Object.values(sim.node(node).pods).sort((a, b) => b.created - a.created)
      .filter((p) => matchesRegex(o.name, p.name) && matchesRegex(o.namespace, p.namespace));
    if (o.quiet) return ok(pods.map((p) => `${sandbox(p)}\n`).join(''));
    return ok(crictlTable([['POD ID', 'CREATED', 'STATE', 'NAME', 'NAMESPACE', 'ATTEMPT', 'RUNTIME'],
      ...pods.map((p) => [o.noTrunc ? sandbox(p) : sandbox(p).slice(0, 13), ago(p.created), 'Ready', p.name, p.namespace, '0', '(default)'])]));
  }
  if (sub === 'inspect' || sub === 'inspectp') {
    // -o/--output json (the default) is all podnet prints; yaml, go-template and table say so rather than
    // taking the format's name for the ID.
    const ids: string[] = [];
    for (let i = 0; i < rest.length; i++) {
      const a = rest[i]!;
      const eq = a.indexOf('=');
      const flag = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
      if (flag === '-o' || flag === '--output' || flag === '--template') {
        const v = flag !== a ? a.slice(eq + 1) : rest[++i];
        if (flag === '--template' || (v !== undefined && v !== 'json')) return err(`crictl: podnet does not model crictl ${sub} ${flag} ${v ?? ''}: it prints JSON (crictl ${sub} ID | grep -i pid)`.replace(/ +:/, ':'), 1);
      } else if (a.startsWith('-')) return err(`crictl: podnet does not model crictl ${sub} ${flag}: it prints the JSON of one ID`, 1);
      else ids.push(a);
    }
    const id = ids[0];
    if (id === undefined) return err(`time="${rfc3339(now)}" level=fatal msg="ID cannot be empty"`);
    if (sub === 'inspect') {
      const matches = containersOf(sim, node).filter((c) => c.id.startsWith(id));
      if (matches.length !== 1) return err(`time="${rfc3339(now)}" level=fatal msg="getting the status of the container \\"${id}\\": rpc error: code = NotFound desc = an error occurred when try to find container \\"${id}\\": not found"`);
      const c = matches[0]!;
      return ok(`${JSON.stringify(inspectContainer(c.pod, c.name, c.image, c.id, sandbox(c.pod)), null, 2)}\n`);
    }
    const p = Object.values(sim.node(node).pods).find((x) => sandbox(x).startsWith(id));
    if (!p) return err(`time="${rfc3339(now)}" level=fatal msg="getting the pod sandbox status for \\"${id}\\": rpc error: code = NotFound desc = an error occurred when try to find sandbox: not found"`);
    return ok(`${JSON.stringify({ status: { id: sandbox(p), metadata: { name: p.name, namespace: p.namespace, uid: p.uid, attempt: 0 }, state: 'SANDBOX_READY', network: { ip: p.ip === null ? '' : formatIpv4(p.ip) } }, info: { runtimeSpec: { linux: { namespaces: namespacesOf(p) } } } }, null, 2)}\n`);
  }
  if (sub === undefined || sub === 'help' || sub === '--help') return ok('NAME:\n   crictl - client for CRI\n\nCOMMANDS (podnet):\n   ps         List containers\n   pods       List pods\n   inspect    Display the status of one or more containers\n   inspectp   Display the status of one or more pods\n');
  if (CRICTL_COMMANDS.includes(sub)) return err(`crictl: podnet does not model crictl ${sub}: it models ps, pods, inspect and inspectp (podnet runs no container processes or images)`, 1);
  return err(`No help topic for '${sub}'`, 3);
}

/** crictl's commands (cri-tools 1.31) that podnet does not model: said so, not `No help topic`. */
const CRICTL_COMMANDS = ['attach', 'create', 'exec', 'version', 'images', 'image', 'img', 'imagefsinfo', 'inspecti', 'logs', 'port-forward', 'pull', 'run', 'runp', 'rm', 'rmi', 'rmp', 'start', 'info', 'stop', 'stopp', 'update', 'config', 'stats', 'statsp', 'metricsp', 'metricdescs', 'checkpoint', 'events', 'update-runtime-config', 'completion'];

/**
 * The options `crictl ps` and `crictl pods` share, read as urfave/cli reads them (`--name X`, `--name=X`);
 * `--name` and `--namespace` are regular expressions matched anywhere in the name (cri-tools' matchesRegex:
 * a pattern that does not compile matches nothing). An option podnet does not model is said so.
 */
function listOptions(sub: 'ps' | 'pods', args: readonly string[]): { name: string; namespace: string; pod?: string; quiet: boolean; noTrunc: boolean } | string {
  const o: { name: string; namespace: string; pod?: string; quiet: boolean; noTrunc: boolean } = { name: '', namespace: '', quiet: false, noTrunc: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf('=');
    const flag = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const value = (): string | undefined => (flag !== a ? a.slice(eq + 1) : args[++i]);
    if (flag === '-q' || flag === '--quiet') o.quiet = true;
    else if (flag === '--no-trunc') o.noTrunc = true;
    else if (sub === 'ps' && (flag === '-a' || flag === '--all')) continue; // every container podnet has runs
    else if (flag === '--name' || flag === '--namespace' || (sub === 'ps' && (flag === '-p' || flag === '--pod'))) {
      const v = value();
      if (v === undefined) return `crictl: ${flag} needs a value (podnet's words: crictl's usage message is not modelled)`;
      if (flag === '--name') o.name = v;
      else if (flag === '--namespace') o.namespace = v;
      else o.pod = v;
    } else return `crictl: podnet does not model crictl ${sub} ${flag}: it models --name, --namespace, ${sub === 'ps' ? '--pod, -a, ' : ''}-q and --no-trunc`;
  }
  return o;
}

function matchesRegex(pattern: string, target: string): boolean {
  if (pattern === '') return true;
  try {
    return new RegExp(pattern).test(target);
  } catch {
    return false;
  }
}

function sandbox(p: Pod): string {
  return containerIdLike(`sandbox|${p.key}|${p.uid}|${p.created}`);
}

function namespacesOf(p: Pod): { type: string; path?: string }[] {
  const ns: { type: string; path?: string }[] = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];
  ns.splice(2, 0, p.netns ? { type: 'network', path: netnsPath(p) } : { type: 'network' });
  return p.hostNetwork ? ns.filter((n) => n.type !== 'network') : ns;
}

function inspectContainer(p: Pod, name: string, image: string, id: string, podSandbox: string): Record<string, unknown> {
  return {
    status: {
      id, metadata: { attempt: 0, name }, state: 'CONTAINER_RUNNING', createdAt: rfc3339(p.created), startedAt: rfc3339(p.created),
      image: { image }, imageRef: image, labels: { 'io.kubernetes.container.name': name, 'io.kubernetes.pod.name': p.name, 'io.kubernetes.pod.namespace': p.namespace, 'io.kubernetes.pod.uid': p.uid },
    },
    info: {
      sandboxID: podSandbox,
      pid: containerPid(id),
      runtimeSpec: { linux: { namespaces: namespacesOf(p) } },
    },
  };
}

/** The host PID `crictl inspect` gives a container (`info.pid`): made up from its ID, stable for a run. */
function containerPid(id: string): number {
  return 1000 + (parseInt(id.slice(0, 4), 16) % 60000);
}

/**
 * What runs as host PID `pid` on `node`, as `nsenter -t PID` finds it: `'host'` for 1 (the node's init, in
 * the node's namespaces), a container's pod for the PID `crictl inspect` shows, else undefined.
 */
export function podByPid(sim: Simulator, node: string, pid: number): Pod | 'host' | undefined {
  if (pid === 1) return 'host';
  return containersOf(sim, node).find((c) => containerPid(c.id) === pid)?.pod;
}

/** The pod whose network namespace is at `path` on `node` (`/var/run/netns/cni-…` or `/run/netns/…`). */
export function podByNetnsPath(sim: Simulator, node: string, path: string): Pod | undefined {
  const norm = path.replace(/^\/var\/run\//, '/run/');
  return Object.values(sim.node(node).pods).find((p) => p.netns && netnsPath(p).replace(/^\/var\/run\//, '/run/') === norm);
}


/**
 * `hostname [-s|-i|-I]`: the pod's or node's name; `-i`, the address the name resolves to (a pod's /etc/hosts,
 * written by the kubelet, maps its name to its IP; a node's name is its InternalIP); `-I`, every address of
 * the shell's network namespace but loopback's, in device order, each followed by a space (net-tools'
 * all-ip-addresses).
 */
export function hostname(sim: Simulator, place: Place, ns: NetNs, args: readonly string[]): Output {
  const name = place.kind === 'node' ? place.node : place.kind === 'pod' ? sim.pod(place.pod).name : '';
  const flag = args[0];
  if (args.length > 1 || (flag !== undefined && !['-s', '--short', '-i', '--ip-address', '-I', '--all-ip-addresses'].includes(flag))) {
    // Another word sets the name, which a container may not (no CAP_SYS_ADMIN in its UTS namespace).
    return err(`hostname: ${flag?.startsWith('-') ? `invalid option -- '${flag.replace(/^-+/, '')}'` : 'you must be root to change the host name'}`, 1);
  }
  if (flag === '-i' || flag === '--ip-address') {
    const ip = place.kind === 'node' ? sim.node(place.node).ip : place.kind === 'pod' ? sim.pod(place.pod).ip : null;
    return ip === null ? err('hostname: Name or service not known', 1) : ok(`${formatIpv4(ip)} \n`);
  }
  if (flag === '-I' || flag === '--all-ip-addresses') {
    const links = Object.values(ns.links).filter((l) => l.kind !== 'loopback').sort((a, b) => a.ifindex - b.ifindex);
    return ok(`${links.flatMap((l) => l.addrs.map((a) => `${formatIpv4(a.ip)} `)).join('')}\n`);
  }
  return ok(`${name}\n`);
}
