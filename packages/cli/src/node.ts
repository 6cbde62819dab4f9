/**
 * What a shell on a node or in a pod sees besides `ip`: files (/etc/cni/net.d, /var/run/netns,
 * /run/flannel/subnet.env, /proc/sys), crictl, sysctl.
 */
import { formatCidr, formatIpv4, netnsPath, type NetNs, type Pod, type Simulator } from '@podnet/core';
import { humanDuration, rfc3339 } from './format.js';
import { linkNamed } from './ip.js';
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
  files.set('/proc/sys/net/ipv4/ip_forward', `${n.host.sysctl.ipForward ? 1 : 0}\n`);
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

function listing(sim: Simulator, place: Place, path: string): { kind: 'dir'; entries: string[] } | { kind: 'file'; text: string } | null {
  const p = path.replace(/\/+$/, '') || '/';
  if (place.kind === 'node' && place.debug && p === '/') return { kind: 'dir', entries: CONTAINER_ROOT };
  if (place.kind === 'pod' && p === '/') return { kind: 'dir', entries: CONTAINER_ROOT.filter((d) => d !== 'host') };
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

/** `ls [-1] [-l] [PATH…]` over the modelled files. */
export function ls(sim: Simulator, place: Place, args: readonly string[], piped: boolean): Output {
  const paths = args.filter((a) => !a.startsWith('-'));
  const long = args.some((a) => a.startsWith('-') && a.includes('l'));
  const one = piped || long || args.some((a) => a.startsWith('-') && a.includes('1'));
  let stdout = '';
  let stderr = '';
  for (const path of paths.length ? paths : ['/']) {
    const l = listing(sim, place, path);
    if (l === null) { stderr += `ls: cannot access '${path}': No such file or directory\n`; continue; }
    const names = l.kind === 'file' ? [path] : l.entries;
    if (paths.length > 1 && l.kind === 'dir') stdout += `${path}:\n`;
    if (long) stdout += names.map((n) => `-rw-r--r--    1 root     root           ${String(l.kind === 'file' ? l.text.length : 0).padStart(4)} Jan  5 09:00 ${n}\n`).join('');
    else if (names.length) stdout += one ? names.map((n) => `${n}\n`).join('') : `${names.join('  ')}\n`;
  }
  return { stdout, stderr, status: stderr ? 2 : 0 };
}

/** `cat FILE…`. */
export function cat(sim: Simulator, place: Place, args: readonly string[], stdin: string): Output {
  if (args.length === 0) return ok(stdin);
  let stdout = '';
  let stderr = '';
  for (const path of args) {
    const l = listing(sim, place, path);
    if (l === null) stderr += `cat: ${path}: No such file or directory\n`;
    else if (l.kind === 'dir') stderr += `cat: ${path}: Is a directory\n`;
    else stdout += l.text;
  }
  return { stdout, stderr, status: stderr ? 1 : 0 };
}

const SYSCTLS = ['net.ipv4.ip_forward', 'net.ipv4.conf.all.rp_filter', 'net.ipv4.icmp_ratelimit', 'net.ipv4.icmp_ratemask', 'net.bridge.bridge-nf-call-iptables'];

function sysctlValue(ns: NetNs, key: string): string | null {
  if (key === 'net.ipv4.ip_forward') return ns.sysctl.ipForward ? '1' : '0';
  if (key === 'net.ipv4.conf.all.rp_filter') return String(ns.sysctl.rpFilter);
  if (key === 'net.bridge.bridge-nf-call-iptables') return ns.sysctl.bridgeNfCallIptables ? '1' : '0';
  // The kernel's defaults while unset (measured in a new namespace, Linux 6.18: 1000 and 6168).
  if (key === 'net.ipv4.icmp_ratelimit') return String(ns.sysctl.icmpRatelimit ?? 1000);
  if (key === 'net.ipv4.icmp_ratemask') return String(ns.sysctl.icmpRatemask ?? 6168);
  // all 1 and each device 0 while unset (systemd's 50-default.conf on the node: Sysctls.promoteSecondaries).
  const ps = /^net\.ipv4\.conf\.([^.]+)\.promote_secondaries$/.exec(key);
  if (ps && ps[1] === 'all') return ns.sysctl.promoteSecondaries?.all ?? true ? '1' : '0';
  if (ps && linkNamed(ns, ps[1]!)) return ns.sysctl.promoteSecondaries?.dev[ps[1]!] === true ? '1' : '0';
  // 0 while unset, all and each device (the kernel's defaults: Sysctls.routeLocalnet, Sysctls.logMartians).
  const or = /^net\.ipv4\.conf\.([^.]+)\.(route_localnet|log_martians)$/.exec(key);
  if (or) {
    const sw = or[2] === 'route_localnet' ? ns.sysctl.routeLocalnet : ns.sysctl.logMartians;
    if (or[1] === 'all') return sw?.all === true ? '1' : '0';
    if (linkNamed(ns, or[1]!)) return sw?.dev[or[1]!] === true ? '1' : '0';
  }
  const m = /^net\.ipv4\.conf\.([^.]+)\.proxy_arp$/.exec(key);
  if (m && (linkNamed(ns, m[1]!) || m[1] === 'all' || m[1] === 'default')) return Object.prototype.hasOwnProperty.call(ns.sysctl.proxyArp, m[1]!) && ns.sysctl.proxyArp[m[1]!] ? '1' : '0';
  return null;
}

/** `sysctl KEY…`, `sysctl -w KEY=VALUE`, `sysctl -a` (the keys podnet models). */
export function sysctl(sim: Simulator, ns: NetNs, args: readonly string[], writable: boolean): Output {
  const write = args.includes('-w');
  const all = args.includes('-a');
  const keys = args.filter((a) => !a.startsWith('-')).map((k) => k.replace(/\//g, '.'));
  const bad = args.find((a) => a.startsWith('-') && !['-w', '-a', '-n', '-q'].includes(a));
  if (bad) return err(`sysctl: invalid option -- '${bad.slice(1, 2)}'\nUsage:\n sysctl [options] [variable[=value] ...]`, 2);
  const valueOnly = args.includes('-n');
  if (all) {
    const perDev = ['log_martians', 'promote_secondaries', 'route_localnet'];
    const list = [...SYSCTLS, ...perDev.map((k) => `net.ipv4.conf.all.${k}`), ...Object.keys(ns.links).flatMap((d) => [...perDev, 'proxy_arp'].map((k) => `net.ipv4.conf.${d}.${k}`))].sort();
    return ok(list.map((k) => (valueOnly ? `${sysctlValue(ns, k)}\n` : `${k} = ${sysctlValue(ns, k)}\n`)).join(''));
  }
  if (keys.length === 0) return err('sysctl: no variables specified\nTry `sysctl --help\' for more information.', 2);
  let stdout = '';
  let stderr = '';
  for (const k of keys) {
    const eq = k.indexOf('=');
    if (write || eq >= 0) {
      if (eq < 0) { stderr += `sysctl: "${k}" must be of the form name=value\n`; continue; }
      const key = k.slice(0, eq).trim();
      const value = k.slice(eq + 1).trim();
      if (sysctlValue(ns, key) === null) { stderr += `sysctl: cannot stat /proc/sys/${key.replace(/\./g, '/')}: No such file or directory\n`; continue; }
      if (!writable) { stderr += `sysctl: setting key "${key}": Read-only file system\n`; continue; }
      try {
        sim.apply({ op: 'sysctl.set', ns: ns.id, key, value }, `${ns.id}: sysctl -w ${key}=${value}`);
      } catch {
        stderr += `sysctl: setting key "${key}": Invalid argument\n`;
        continue;
      }
      stdout += `${key} = ${value}\n`;
    } else {
      const v = sysctlValue(ns, k);
      if (v === null) stderr += `sysctl: cannot stat /proc/sys/${k.replace(/\./g, '/')}: No such file or directory\n`;
      else stdout += valueOnly ? `${v}\n` : `${k} = ${v}\n`;
    }
  }
  return { stdout, stderr, status: stderr ? (stdout ? 1 : 255) : 0 };
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
  if (sub === 'ps') {
    const name = rest.find((a) => a.startsWith('--name='))?.slice(7) ?? (rest.includes('--name') ? rest[rest.indexOf('--name') + 1] : undefined);
    const quiet = rest.includes('-q') || rest.includes('--quiet');
    const cs = containersOf(sim, node).filter((c) => name === undefined || new RegExp(name).test(c.name));
    if (quiet) return ok(cs.map((c) => `${c.id}\n`).join(''));
    return ok(crictlTable([['CONTAINER', 'IMAGE', 'CREATED', 'STATE', 'NAME', 'ATTEMPT', 'POD ID', 'POD'],
      ...cs.map((c) => [c.id.slice(0, 13), imageId(c.image), ago(c.pod.created), 'Running', c.name, '0', sandbox(c.pod).slice(0, 13), c.pod.name])]));
  }
  if (sub === 'pods') {
    const pods = Object.values(sim.node(node).pods).sort((a, b) => b.created - a.created);
    return ok(crictlTable([['POD ID', 'CREATED', 'STATE', 'NAME', 'NAMESPACE', 'ATTEMPT', 'RUNTIME'],
      ...pods.map((p) => [sandbox(p).slice(0, 13), ago(p.created), 'Ready', p.name, p.namespace, '0', '(default)'])]));
  }
  if (sub === 'inspect' || sub === 'inspectp') {
    const id = rest.find((a) => !a.startsWith('-'));
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
  return err(`No help topic for '${sub}'`, 3);
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
      pid: 1000 + (parseInt(id.slice(0, 4), 16) % 60000),
      runtimeSpec: { linux: { namespaces: namespacesOf(p) } },
    },
  };
}

/** The pod whose network namespace is at `path` on `node` (`/var/run/netns/cni-…` or `/run/netns/…`). */
export function podByNetnsPath(sim: Simulator, node: string, path: string): Pod | undefined {
  const norm = path.replace(/^\/var\/run\//, '/run/');
  return Object.values(sim.node(node).pods).find((p) => p.netns && netnsPath(p).replace(/^\/var\/run\//, '/run/') === norm);
}

