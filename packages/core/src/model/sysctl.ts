/**
 * The sysctls podnet models, as a table of rows plus pure lookups: which keys exist in a namespace, the
 * integer each reads as, and what the forwarding code makes of the per-device IPv4 settings
 * (net.ipv4.conf.{all,default,<dev>}.*), as include/linux/inetdevice.h combines `all` and the device:
 *
 *   IN_DEV_FORWARD(in_dev)        the device's own forwarding     (IN_DEV_CONF_GET)
 *   IN_DEV_RPFILTER(in_dev)       max(all, dev) rp_filter         (IN_DEV_MAXCONF)
 *   IN_DEV_PROXY_ARP(in_dev)      all || dev proxy_arp            (IN_DEV_ORCONF)
 *   IN_DEV_TX_REDIRECTS(in_dev)   all || dev send_redirects       (IN_DEV_ORCONF)
 *   IN_DEV_PROMOTE_SECONDARIES    all || dev promote_secondaries  (IN_DEV_ORCONF)
 *   IN_DEV_NET_ROUTE_LOCALNET     all || dev route_localnet       (IPV4_DEVCONF_ALL_RO || IN_DEV_CONF_GET)
 *   IN_DEV_LOG_MARTIANS           all || dev log_martians         (IN_DEV_ORCONF)
 *   IN_DEV_ACCEPT_LOCAL           all || dev accept_local         (IN_DEV_ORCONF)
 *   IN_DEV_BFORWARD               all && dev bc_forwarding        (IN_DEV_ANDCONF)
 *
 * Every value is a C int the kernel takes as written (proc_dointvec): any integer in -2^31..2^31-1, in base
 * 0 (0x10 is 16, 010 is 8), and "non-zero" is what the macros test — `sysctl -w net.ipv4.ip_forward=2`
 * forwards, rp_filter 5 or -1 is loose (fib_validate_source tests `rpf == 1` for strict), proxy_arp 7
 * answers. Measured on Linux 6.18 with ping through a router: packages/cli/scripts/sysctl-formats.sh,
 * cases (f)–(h); for route_localnet, accept_local and log_martians (all 1 or -1 alone, the device's 1 or 5
 * alone) with frames into a router: packages/cli/scripts/conf-default-formats.sh, cases (d)–(f).
 */
import { fail, shown } from '../errors.js';
import type { NetNs, Sysctls } from './types.js';

/**
 * The per-device IPv4 settings podnet models: net.ipv4.conf.{all,default,<dev>}.NAME. One store holds the
 * integers written to them all ({@link Sysctls.conf}); those no other field says (CONF_ONLY) live only there.
 */
export const DEVCONF_NAMES = [
  'forwarding', 'rp_filter', 'proxy_arp', 'send_redirects', 'accept_redirects', 'promote_secondaries', 'route_localnet', 'log_martians', 'accept_local',
  'bc_forwarding',
] as const;
/** One of {@link DEVCONF_NAMES}. */
export type DevconfName = (typeof DEVCONF_NAMES)[number];

/**
 * The names no other {@link Sysctls} field says: 0 for every scope until written, and {@link Sysctls.conf}
 * holds every value written to them.
 */
export const CONF_ONLY: ReadonlySet<DevconfName> = new Set<DevconfName>(['route_localnet', 'log_martians', 'accept_local', 'bc_forwarding']);

/**
 * How writing `conf.default.NAME` reaches the devices that exist (devinet.c's table): `copy` entries
 * (DEVINET_SYSCTL_RW_ENTRY, devinet_conf_proc) copy the value to every device whose own value was never set
 * — a device that ever had an IPv4 address has them all set (ipv4_devconf_setall), so in practice the
 * devices without an address; `none` reach only devices made later (forwarding's devinet_sysctl_forward,
 * promote_secondaries' and route_localnet's ipv4_doint_and_flush). Either way a device made later takes
 * default's values as its own (inetdev_init copies them with their "set" bits), and later writes of default
 * pass it by. Measured: sysctl-formats.sh cases (c) and (e); conf-default-formats.sh cases (b), (c), (g).
 */
const DEFAULT_REACHES: Readonly<Record<DevconfName, 'copy' | 'none'>> = {
  forwarding: 'none', rp_filter: 'copy', proxy_arp: 'copy', send_redirects: 'copy', accept_redirects: 'copy', promote_secondaries: 'none',
  route_localnet: 'none', log_martians: 'copy', accept_local: 'copy', bc_forwarding: 'copy',
};

/** Whether writing conf.default.`name` copies the value to the devices that never set their own. */
export function defaultCopiesToDevices(name: DevconfName): boolean {
  return DEFAULT_REACHES[name] === 'copy';
}

/** A parsed devconf key: `net.ipv4.conf.SCOPE.NAME`, SCOPE `all`, `default` or a device. */
export interface DevconfKey {
  readonly scope: string;
  readonly name: DevconfName;
}

/**
 * The device (or `all`, `default`) a key's SCOPE names. procps' sysctl swaps `.` and `/` in a key, so a dot
 * inside a device name is written as a slash: `net.ipv4.conf.flannel/1.forwarding` is
 * /proc/sys/net/ipv4/conf/flannel.1/forwarding, and `net.ipv4.conf.flannel.1.forwarding` a path that does not
 * exist (measured: packages/cli/scripts/sysctl-slash.sh, procps-ng 4.0.2, kernel 6.18).
 */
export function confScopeDevice(scope: string): string {
  return scope.replaceAll('/', '.');
}

/**
 * `net.ipv4.conf.SCOPE.NAME` (or `net.ipv4.ip_forward`, which is conf.all.forwarding), else null. SCOPE is
 * the device's name, a dot in it written as a slash (as procps writes it: confScopeDevice).
 */
export function devconfKey(key: string): DevconfKey | null {
  if (typeof key !== 'string') return null;
  if (key === 'net.ipv4.ip_forward') return { scope: 'all', name: 'forwarding' };
  const m = /^net\.ipv4\.conf\.([^.]+)\.([a-z_]+)$/.exec(key);
  if (m === null || !(DEVCONF_NAMES as readonly string[]).includes(m[2]!)) return null;
  return { scope: confScopeDevice(m[1]!), name: m[2] as DevconfName };
}

const own = <T>(rec: Readonly<Record<string, T>> | undefined, k: string): T | undefined =>
  rec !== undefined && Object.prototype.hasOwnProperty.call(rec, k) ? rec[k] : undefined;
const bit = (b: boolean): number => (b ? 1 : 0);

/**
 * The integer `net.ipv4.conf.SCOPE.NAME` reads as. An integer written that the plain fields of
 * {@link Sysctls} cannot say is in {@link Sysctls.conf}; else the fields say it (a device's forwarding
 * follows `all`'s until set on its own, as writing ip_forward sets every device's).
 */
export function devconfValue(s: Sysctls, scope: string, name: DevconfName): number {
  const v = own(own(s.conf, scope), name);
  if (v !== undefined) return v;
  const r = s.redirects;
  switch (name) {
    case 'forwarding':
      return scope === 'all' ? bit(s.ipForward) : devconfValue(s, 'all', 'forwarding');
    case 'rp_filter':
      return scope === 'all' ? s.rpFilter : 0;
    case 'proxy_arp':
      return bit(own(s.proxyArp, scope) === true);
    case 'send_redirects':
      if (r === undefined) return 1;
      return bit(scope === 'all' ? r.sendAll : scope === 'default' ? r.sendDefault : own(r.send, scope) ?? true);
    case 'accept_redirects':
      // all: the opposite of forwarding as the last write of ip_forward left it (inet_forward_change), until set.
      if (scope === 'all') return r === undefined || r.acceptAll === null ? bit(devconfValue(s, 'all', 'forwarding') === 0) : bit(r.acceptAll);
      if (r === undefined) return 1;
      return bit(scope === 'default' ? r.acceptDefault : own(r.accept, scope) ?? true);
    case 'promote_secondaries':
      // all 1 while unset: systemd's 50-default.conf on the node (Sysctls.promoteSecondaries).
      if (scope === 'all') return bit(s.promoteSecondaries?.all ?? true);
      return scope === 'default' ? 0 : bit(own(s.promoteSecondaries?.dev, scope) === true);
    case 'route_localnet':
    case 'log_martians':
    case 'accept_local':
    case 'bc_forwarding':
      // 0 for all, default and every device while unset: the kernel's default, and a new namespace's
      // (measured: conf-default-formats.sh case (a)). Sysctls.conf holds every value written.
      return 0;
    default:
      return fail('INVALID_ARGUMENT', `"${shown(name)}" is not a devconf name podnet models`, { name }, `One of ${DEVCONF_NAMES.join(', ')}.`);
  }
}

/** IN_DEV_FORWARD: whether packets that come in by `dev` are forwarded (its own forwarding, non-zero). */
export function forwardsOn(s: Sysctls, dev: string): boolean {
  return s.conf === undefined ? s.ipForward : devconfValue(s, dev, 'forwarding') !== 0;
}

/** IN_DEV_RPFILTER: max(all, dev) rp_filter — 0 off, 1 strict, any other value loose. */
export function rpFilterOn(s: Sysctls, dev: string): number {
  return s.conf === undefined ? s.rpFilter : Math.max(devconfValue(s, 'all', 'rp_filter'), devconfValue(s, dev, 'rp_filter'));
}

/**
 * IN_DEV_ORCONF: whether `all` or `dev` has `name` non-zero (proxy_arp, send_redirects, promote_secondaries,
 * route_localnet, log_martians, accept_local).
 */
export function devconfOr(s: Sysctls, dev: string, name: DevconfName): boolean {
  // CONF_ONLY names read 0 everywhere until written, and conf holds all they were written (every packet asks two).
  if (s.conf === undefined && CONF_ONLY.has(name)) return false;
  return devconfValue(s, 'all', name) !== 0 || devconfValue(s, dev, name) !== 0;
}

/** net.ipv4.icmp_ratelimit while unset, ms: the kernel's default (measured in a new namespace, Linux 6.18). */
export const ICMP_RATELIMIT_DEFAULT = 1000;
/** 6168 = 0x1818: destination unreachable 3, source quench 4, time exceeded 11, parameter problem 12. */
export const ICMP_RATEMASK_DEFAULT = 6168;

/**
 * The keys outside net.ipv4.conf that podnet models, each with how it reads. One row a key: a key added
 * to the model is a row here and a case in sysctl.set (ops/actions.ts).
 */
const GLOBAL_KEYS: Readonly<Record<string, (s: Sysctls) => number>> = {
  'net.ipv4.icmp_ratelimit': (s) => s.icmpRatelimit ?? ICMP_RATELIMIT_DEFAULT,
  'net.ipv4.icmp_ratemask': (s) => s.icmpRatemask ?? ICMP_RATEMASK_DEFAULT,
  // 1 while unset: the kernel's default (bcast-formats.txt (b): a broadcast echo is taken in, not answered).
  'net.ipv4.icmp_echo_ignore_broadcasts': (s) => bit(s.icmpEchoIgnoreBroadcasts ?? true),
  // br_netfilter stores 1 for any non-zero write (brnf_sysctl_call_tables; measured: 5 and -1 read back 1).
  'net.bridge.bridge-nf-call-iptables': (s) => bit(s.bridgeNfCallIptables),
};

/**
 * The integer `key` reads as in namespace `ns` (`sysctl KEY`), or null when /proc/sys has no such file
 * there: a key podnet does not model, or a device the namespace does not have.
 *
 * @example
 * readSysctl(ns, 'net.ipv4.conf.all.rp_filter'); // 0
 * readSysctl(ns, 'net.ipv4.conf.eth9.rp_filter'); // null: no eth9
 */
export function readSysctl(ns: NetNs, key: string): number | null {
  if (typeof key !== 'string') return null;
  const g = Object.prototype.hasOwnProperty.call(GLOBAL_KEYS, key) ? GLOBAL_KEYS[key] : undefined;
  if (g !== undefined) return g(ns.sysctl);
  const d = devconfKey(key);
  if (d === null) return null;
  if (d.scope !== 'all' && d.scope !== 'default' && !Object.prototype.hasOwnProperty.call(ns.links, d.scope)) return null;
  return devconfValue(ns.sysctl, d.scope, d.name);
}

/**
 * Every key podnet models in `ns`, sorted as `sysctl -a` lists them (by name): the global keys,
 * net.ipv4.ip_forward, and each devconf name for all, default and every device.
 */
export function sysctlKeys(ns: NetNs): string[] {
  // A device's dot is a slash in a key (confScopeDevice): flannel.1's keys are net.ipv4.conf.flannel/1.*.
  const devs = Object.keys(ns.links).map((d) => d.replaceAll('.', '/'));
  const scopes = ['all', 'default', ...devs];
  const keys = [...Object.keys(GLOBAL_KEYS), 'net.ipv4.ip_forward', ...scopes.flatMap((sc) => DEVCONF_NAMES.map((n) => `net.ipv4.conf.${sc}.${n}`))];
  return keys.sort();
}

/**
 * A value as proc_dointvec takes it: leading blanks, an optional `-`, a number in base 0 (0x… hex, 0…
 * octal, else decimal; no `+`), then the end or a blank (what follows a blank is ignored: `1 2` writes 1),
 * in -2^31..2^31-1. Null when the kernel answers EINVAL (measured: `abc`, `1x`, `+4`, ``, 2147483648).
 */
export function parseProcInt(text: string): number | null {
  if (typeof text !== 'string') return null;
  const m = /^[ \t\n]*(-?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)(?:[ \t\n][^]*)?$/.exec(text);
  if (m === null) return null;
  const digits = m[2]!;
  const mag = /^0[xX]/.test(digits) ? parseInt(digits.slice(2), 16) : digits.length > 1 && digits.startsWith('0') ? parseInt(digits, 8) : Number(digits);
  const v = m[1] === '-' ? -mag : mag;
  return v < -0x80000000 || v > 0x7fffffff ? null : v === 0 ? 0 : v;
}
