/** Output helpers shared by the commands: kubectl's tables and ages, timestamps. */

/**
 * Aligns rows as kubectl's printers do: text/tabwriter with minwidth 6, padding 3, padchar ' '
 * (k8s.io/cli-runtime printers.GetNewTabWriter); `kubectl describe` tables use padding 2, minwidth 0
 * (k8s.io/kubectl describe.NewPrefixWriter). The last cell of a row is not padded.
 */
export function tabwrite(rows: readonly (readonly string[])[], padding = 3, minwidth = 6): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => { if (i < r.length - 1) widths[i] = Math.max(widths[i] ?? 0, c.length + padding, minwidth); });
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join(''));
}

/** kubectl's AGE (k8s.io/apimachinery/pkg/util/duration.HumanDuration). */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (d < 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  return `${Math.floor(d / 365)}y`;
}

/**
 * Wall-clock time of simulated time 0. The simulator's clock counts milliseconds from 0; the lab shell
 * shows it as a date (creationTimestamp, tcpdump's time of day) from this fixed point, so output is
 * the same on every run.
 */
export const SIM_EPOCH_MS = Date.UTC(2026, 0, 5, 9, 0, 0);

/** RFC 3339 time (Kubernetes' creationTimestamp) of a simulated time. */
export function rfc3339(simMs: number): string {
  return new Date(SIM_EPOCH_MS + simMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** tcpdump's default timestamp (time of day, microseconds) of a simulated time. */
export function timeOfDay(simMs: number): string {
  const d = new Date(SIM_EPOCH_MS + Math.floor(simMs));
  const us = Math.round((simMs - Math.floor(simMs)) * 1000) + d.getUTCMilliseconds() * 1000;
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(us, 6)}`;
}

/**
 * tcpdump's timestamp of a capture line by how many `-t` it was given (util-print.c ts_format): 0 the time of
 * day, 1 none, 2 seconds since the epoch (`1767603601.000120`), 3 the time since the previous line and 5 since
 * the first (` 00:00:00.000330`, a space before), 4 the date and time of day (`2026-01-05 09:10:00.000020`).
 * Measured with tcpdump 4.99.3 on lo in a namespace, a ping to 127.0.0.1 (tcpdump.test.ts). `prev` and `first` are the simulated times of the
 * job's previous and first lines (the line's own when it is the first). With the space that follows it.
 */
export function captureStamp(ts: number, simMs: number, prev: number, first: number): string {
  if (ts === 1) return '';
  if (ts === 2) {
    const us = Math.round((SIM_EPOCH_MS + simMs) * 1000);
    return `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')} `;
  }
  // The deltas come with a space before them too (measured, tcpdump 4.99.3: ` 00:00:00.000005 IP …`).
  if (ts === 3 || ts >= 5) return ` ${timeOfDay(simMs - (ts === 3 ? prev : first) - SIM_EPOCH_OFFSET_MS)} `;
  if (ts === 4) return `${new Date(SIM_EPOCH_MS + Math.floor(simMs)).toISOString().slice(0, 10)} ${timeOfDay(simMs)} `;
  return `${timeOfDay(simMs)} `;
}

/** The simulated time whose time of day is 00:00:00 (timeOfDay of a difference adds the epoch's 09:00:00 back). */
const SIM_EPOCH_OFFSET_MS = SIM_EPOCH_MS - Date.UTC(2026, 0, 5);

/** A deterministic 32-bit hash (FNV-1a) of a string. */
export function fnv(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * The random suffix Kubernetes gives generated names (DaemonSet pods: `kube-flannel-ds-7xk2p`), from the
 * alphabet of k8s.io/apimachinery/pkg/util/rand (no vowels, no confusable digits); derived from `seed`
 * so that a lab looks the same on every run.
 */
export function kubeSuffix(seed: string, length = 5): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let h = fnv(seed);
  let out = '';
  for (let i = 0; i < length; i++) {
    out += alphabet[h % alphabet.length];
    h = Math.imul(h ^ (h >>> 13), 0x5bd1e995) >>> 0;
  }
  return out;
}

/** Names of the days and months as C's ctime() writes them. */
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** C's `ctime()` of a simulated time, in UTC (`Mon Jan  5 09:00:00 2026`): what iptables-save dates its output with. */
export function ctime(simMs: number): string {
  const d = new Date(SIM_EPOCH_MS + simMs);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}
