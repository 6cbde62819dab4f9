/**
 * Packet captures, the same on both sides: tcpdump -w on an interface of the kernel rendering, and
 * the frames podnet's trace shows crossing the same interface (its `transmit` and `receive` steps),
 * both reduced to the header fields that must agree.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatIpv4, readPcap, type Frame, type Ipv4Packet, type Trace } from '@podnet/core';
import { inNs, track } from './kernel.js';

/**
 * The headers of one IPv4 frame as compared: MACs, addresses, TTL, DF, protocol and length, ICMP type
 * and code, UDP ports (not a VXLAN packet's source port: the kernel derives it from a hash of the inner
 * flow), the VNI and the inner frame of VXLAN, the inner packet of IPIP. The IP identification,
 * checksums and ICMP echo identifiers are left out: the kernel picks them at random or per socket.
 */
export function frameHeaders(f: Frame): string {
  if (f.payload.kind !== 'ipv4') return `${f.eth.src} > ${f.eth.dst} arp`;
  return `${f.eth.src} > ${f.eth.dst} ${packetHeaders(f.payload)}`;
}

function packetHeaders(p: Ipv4Packet): string {
  const h = p.header;
  const head = `${formatIpv4(h.src)} > ${formatIpv4(h.dst)} ttl ${h.ttl}${h.df ? ' DF' : ''} proto ${h.protocol} length ${h.totalLength}`;
  const pl = p.payload;
  switch (pl.kind) {
    case 'icmp':
      return `${head} icmp ${pl.type}/${pl.code}${pl.data.kind === 'ipv4' ? ` [quote ${formatIpv4(pl.data.header.src)} > ${formatIpv4(pl.data.header.dst)}]` : ''}`;
    case 'udp':
      if (pl.payload.kind === 'vxlan') return `${head} udp dport ${pl.dstPort} vxlan vni ${pl.payload.vni} { ${frameHeaders(pl.payload.inner)} }`;
      return `${head} udp ${pl.srcPort} > ${pl.dstPort}`;
    case 'tcp':
      return `${head} tcp ${pl.srcPort} > ${pl.dstPort}`;
    case 'ipv4':
      return `${head} ipip { ${packetHeaders(pl)} }`;
    default:
      return head;
  }
}

/**
 * The IPv4 frames podnet's traces show crossing `dev` of namespace `ns`, in order: those it receives there,
 * and those that leave it onto the wire (the `veth` or `segment` step; a frame held for ARP resolution
 * leaves without a `transmit` step of its own once the neighbour answers).
 */
export function podnetCapture(traces: readonly Trace[], ns: string, dev: string): string[] {
  const out: string[] = [];
  for (const t of traces) {
    for (const s of t.steps) {
      if (s.ns !== ns || s.dev !== dev || !s.frame || s.frame.payload.kind !== 'ipv4') continue;
      if (s.kind === 'segment' || s.kind === 'veth' || s.kind === 'receive') out.push(frameHeaders(s.frame));
    }
  }
  return out;
}

/**
 * Captures IPv4 frames on `dev` inside kernel namespace `k` while `during` runs: tcpdump starts, says
 * it is listening, `during` runs, and tcpdump is stopped once it has `expected` frames (or 5 s later) and
 * 300 ms more (it is bounded by a timeout as well).
 */
export async function kernelCapture(k: string, dev: string, during: () => Promise<unknown>, expected = 0): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'pno-cap-'));
  const file = join(dir, 'cap.pcap');
  try {
    const [cmd, ...pre] = inNs(k);
    const child = track(spawn(cmd!, [...pre, 'timeout', '20', 'tcpdump', '--immediate-mode', '-i', dev, '-n', '-U', '-s', '0', '-c', '200', '-w', file, 'ip and not igmp'], { stdio: ['ignore', 'ignore', 'pipe'] }));
    const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
    const ready = new Promise<boolean>((resolve) => {
      let err = '';
      const timer = setTimeout(() => resolve(false), 10_000);
      child.stderr!.setEncoding('utf8').on('data', (d: string) => {
        err += d;
        if (err.includes('listening on')) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      child.on('close', () => { clearTimeout(timer); resolve(false); });
    });
    if (!(await ready)) {
      child.kill('SIGKILL');
      throw new Error(`tcpdump did not start on ${dev} in ${k}`);
    }
    await during();
    // Frames still in flight (the reply's last hops) reach the capture within a moment; on a loaded
    // machine tcpdump itself may take longer to write them (it writes each frame as it comes, -U): wait
    // up to 5 s for as many frames as podnet saw, then 300 ms more for any beyond them.
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    for (const until = Date.now() + 5000; expected > 0 && Date.now() < until; await sleep(50)) {
      const n = await readFile(file).then((b) => readPcap(new Uint8Array(b)).length).catch(() => 0);
      if (n >= expected) break;
    }
    await sleep(300);
    child.kill('SIGINT');
    await closed;
    const bytes = new Uint8Array(await readFile(file));
    return readPcap(bytes).map((r) => frameHeaders(r.frame));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
