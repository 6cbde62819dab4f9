/**
 * `ip -s link` and `ip -s -s link`: the counters block iproute2 6.1 prints under each device (print_stats64),
 * from the simulator's counters (what sends, pings and traceroutes moved: see core's dataplane/counters.ts). The
 * columns are sized as iproute2 sizes them (size_columns: each column as wide as its header or its widest
 * number), so a large counter widens its column as it does (measured, scripts/counters-formats.sh).
 */
import { devCountersOf, type DevCounters, type Link, type NsCounters } from '@podnet/core';

/** How many `-s` (`-stats`, `-statistics`) an `ip` command line has: 0, 1, or 2 and more (the error lines too). */
export function statsLevel(args: readonly string[]): number {
  return args.filter((a) => a === '-s' || a === '-stats' || a === '-statistics').length;
}

/** The `ip` options that ask for statistics. */
export const STATS_FLAGS: ReadonlySet<string> = new Set(['-s', '-stats', '-statistics']);

/**
 * A counter as `ip -h` prints it (iproute2 6.1's print_num): below 1000 (1024 with -iec) as it is, else divided
 * by the largest power that leaves it below 1000, with two decimals below 10, one below 100, none above, and
 * the prefix k, M, G, T, P, E (`Ki`… with -iec). Measured: 1762218 bytes and 1237 packets print `1.76M`,
 * `1.24k`.
 */
export function humanNum(n: number, mode: 'si' | 'iec'): string {
  const base = mode === 'iec' ? 1024 : 1000;
  if (n < base) return String(n);
  const prefixes = 'kMGTPE';
  let p = 0;
  let powi = 1;
  for (;;) {
    powi *= base;
    if (Math.floor(n / base) < powi || p === prefixes.length - 1) break;
    p++;
  }
  let precision = 2;
  for (let powj = 10; precision > 0; precision--, powj *= 10) if (Math.floor(n / powi) < powj) break;
  return `${(n / powi).toFixed(precision)}${prefixes[p]}${mode === 'iec' ? 'i' : ''}`;
}

/**
 * Carrier changes (`transns` of `ip -s -s`): 2 for a veth end, a bridge and a node's NIC once up (measured on
 * the seed lab: pod-a's eth0, cni0, and node-1's eth0, a veth there, showed 2), 0 for lo and a VXLAN device
 * (measured). podnet keeps no history of a link going down and up (the kernel's count grows by 2 each time:
 * pod-a's eth0 showed 4 after `ip link set eth0 down` and `up`).
 */
function carrierChanges(l: Link): number {
  return (l.kind === 'veth' || l.kind === 'bridge' || l.kind === 'physical') && l.up ? 2 : 0;
}

/**
 * The lines `ip -s link` prints under a device (`level` 1), with the error breakdowns (`level` 2 and more):
 * errors, missed, multicast and the error details are 0 in podnet (no faulty hardware, no multicast modelled).
 */
export function statsLines(counters: NsCounters, l: Link, level: number, human: 'si' | 'iec' | null = null): string[] {
  const c: DevCounters = devCountersOf(counters, l);
  const cc = carrierChanges(l);
  // Column widths: strlen("*X errors:"), "packets", "errors", "dropped", "heartbt", "overrun", "compressed".
  const cols = [10, 7, 6, 7, 7, 7, 10];
  // With -h the columns keep their headers' widths (size_columns skips the numbers when human_readable).
  const size = (...vals: number[]): void => vals.forEach((v, i) => { if (human === null) cols[i] = Math.max(cols[i]!, String(v).length); });
  size(c.rxBytes, c.rxPackets, 0, c.rxDropped, 0, 0, 0);
  if (level > 1) size(0, 0, 0, 0, 0, 0, 0);
  size(c.txBytes, c.txPackets, 0, c.txDropped, 0, 0, 0);
  // (iproute2 6.1 sizes the TX error row one column to the right of where it prints it: mirrored.)
  if (level > 1) size(0, 0, 0, 0, 0, 0, cc);
  const w = (i: number, s: string | number): string => String(s).padStart(cols[i]!);
  // print_num: each number right-aligned in its column, then a space.
  const nums = (start: number, vals: readonly number[]): string => vals.map((v, i) => `${w(start + i, human === null ? v : humanNum(v, human))} `).join('');
  const lines = [
    `    RX: ${w(0, 'bytes').slice(4)} ${w(1, 'packets')} ${w(2, 'errors')} ${w(3, 'dropped')} ${w(4, 'missed')} ${w(5, 'mcast')} ${' '.repeat(cols[6]!)}`,
    `    ${nums(0, [c.rxBytes, c.rxPackets, 0, c.rxDropped, 0, 0])}`,
  ];
  if (level > 1) {
    lines.push(`    RX errors:${' '.repeat(cols[0]! - 10)} ${w(1, 'length')} ${w(2, 'crc')} ${w(3, 'frame')} ${w(4, 'fifo')} ${w(5, 'overrun')}`);
    lines.push(`${' '.repeat(cols[0]! + 5)}${nums(1, [0, 0, 0, 0, 0])}`);
  }
  lines.push(`    TX: ${w(0, 'bytes').slice(4)} ${w(1, 'packets')} ${w(2, 'errors')} ${w(3, 'dropped')} ${w(4, 'carrier')} ${w(5, 'collsns')} ${' '.repeat(cols[6]!)}`);
  lines.push(`    ${nums(0, [c.txBytes, c.txPackets, 0, c.txDropped, 0, 0])}`);
  if (level > 1) {
    lines.push(`    TX errors:${' '.repeat(cols[0]! - 10)} ${w(1, 'aborted')} ${w(2, 'fifo')} ${w(3, 'window')} ${w(4, 'heartbt')} ${w(5, 'transns')}`);
    lines.push(`${' '.repeat(cols[0]! + 5)}${nums(1, [0, 0, 0, 0, cc])}`);
  }
  return lines;
}
