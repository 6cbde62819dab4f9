import fc from 'fast-check';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseIpv4 as ip } from '../addr/ipv4.js';
import { emitFrame, icmpErrorQuote } from './frame.js';
import type { Frame, Ipv4Packet } from './packet.js';
import { readPcap, writePcap } from './pcap.js';
import { frameArb, withBytes } from './testing/arbitraries.js';

const hex = (s: string) => Uint8Array.from(s.split(/\s+/).filter(Boolean), (b) => parseInt(b, 16));

// Pod 10.244.1.4 on node 192.168.1.11 pings pod 10.244.2.3 on node 192.168.1.12, through flannel's
// VXLAN device (VNI 1, UDP 8472).
const innerEcho: Frame = {
  eth: { dst: '02:42:0a:f4:02:01', src: '02:42:0a:f4:01:04', ethertype: 0x0800 },
  payload: {
    kind: 'ipv4',
    header: { tos: 0, totalLength: 84, id: 0x5a1e, df: true, ttl: 63, protocol: 1, src: ip('10.244.1.4'), dst: ip('10.244.2.3') },
    payload: { kind: 'icmp', type: 8, code: 0, rest: 0x002a0001, data: { kind: 'raw', length: 56, bytes: Uint8Array.from({ length: 56 }, (_, i) => i) } },
  },
};
const vxlanEcho: Frame = {
  eth: { dst: '52:54:00:00:01:12', src: '52:54:00:00:01:11', ethertype: 0x0800 },
  payload: {
    kind: 'ipv4',
    header: { tos: 0, totalLength: 20 + 8 + 8 + 14 + 84, id: 0x1234, df: false, ttl: 64, protocol: 17, src: ip('192.168.1.11'), dst: ip('192.168.1.12') },
    payload: { kind: 'udp', srcPort: 51234, dstPort: 8472, payload: { kind: 'vxlan', vni: 1, inner: innerEcho } },
  },
};

describe('pcap', () => {
  it('round-trips records (integer microseconds, frames as parseFrame returns them)', () => {
    const record = fc.record({ timestampMs: fc.integer({ min: 0, max: 2 ** 32 * 1e6 - 1 }).map((us) => us / 1000), frame: frameArb() });
    fc.assert(
      fc.property(fc.array(record, { maxLength: 5 }), (records) => {
        const read = readPcap(writePcap(records), { verifyChecksums: true });
        expect(read).toEqual(records.map((r) => ({ timestampMs: r.timestampMs, frame: withBytes(r.frame) })));
      }),
    );
  });

  it('writes the classic little-endian header: magic a1b2c3d4, v2.4, snaplen 262144, LINKTYPE_ETHERNET', () => {
    const bytes = writePcap([{ timestampMs: 1_700_000_000_123.456, frame: vxlanEcho }]);
    expect(bytes.subarray(0, 24)).toEqual(hex('d4 c3 b2 a1 02 00 04 00 00 00 00 00 00 00 00 00 00 00 04 00 01 00 00 00'));
    // ts_sec 1700000000 = 0x6553f100, ts_usec 123456 = 0x0001e240, lengths 148 = 0x94.
    expect(bytes.subarray(24, 40)).toEqual(hex('00 f1 53 65 40 e2 01 00 94 00 00 00 94 00 00 00'));
    expect(bytes.subarray(40)).toEqual(emitFrame(vxlanEcho));
  });

  it('reads big-endian and nanosecond files', () => {
    const frame = emitFrame(vxlanEcho);
    const file = new Uint8Array(24 + 16 + frame.length);
    const v = new DataView(file.buffer);
    v.setUint32(0, 0xa1b23c4d);
    v.setUint16(4, 2);
    v.setUint16(6, 4);
    v.setUint32(16, 65535);
    v.setUint32(20, 1);
    v.setUint32(24, 2);
    v.setUint32(28, 500_000_001);
    v.setUint32(32, frame.length);
    v.setUint32(36, frame.length);
    file.set(frame, 40);
    const [record] = readPcap(file);
    expect(record?.timestampMs).toBeCloseTo(2500.000001, 9);
    expect(record?.frame).toEqual(vxlanEcho);
  });

  it('rejects what it cannot read', () => {
    const good = writePcap([{ timestampMs: 0, frame: vxlanEcho }]);
    expect(() => readPcap(good.subarray(0, 23))).toThrow('pcap global header truncated: 23 bytes, need 24');
    expect(() => readPcap(Uint8Array.from([0x0a, 0x0d, 0x0d, 0x0a, ...good.subarray(4)]))).toThrow(/pcapng is not supported/);
    const raw = good.slice();
    raw[20] = 101; // LINKTYPE_RAW
    expect(() => readPcap(raw)).toThrow('pcap link type 101 is not supported (only LINKTYPE_ETHERNET, 1)');
    expect(() => readPcap(good.subarray(0, 30))).toThrow('pcap record 0 header truncated: 6 bytes, need 16');
    expect(() => readPcap(good.subarray(0, 100))).toThrow('pcap record 0 truncated: 60 bytes, need 148');
    const snapped = good.slice();
    snapped[36] = 0xff;
    expect(() => readPcap(snapped)).toThrow('pcap record 0 holds 148 of 255 bytes (cut by the snapshot length)');
    const corrupt = good.slice();
    const at = 40 + 14 + 20 + 8 + 8 + 14 + 10; // inner IPv4 checksum
    corrupt[at] = corrupt[at]! ^ 0xff;
    corrupt.fill(0, 40 + 14 + 20 + 6, 40 + 14 + 20 + 8); // outer UDP checksum 0 ("none"): the inner layer's error is reported
    expect(() => readPcap(corrupt, { verifyChecksums: true })).toThrow(/^pcap record 0: VXLAN inner frame: IPv4 header checksum/);
    expect(() => writePcap([{ timestampMs: -1, frame: vxlanEcho }])).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

// ------------------------------------------------------------------------------ cross-check with tshark

const tshark = spawnSync('tshark', ['--version'], { encoding: 'utf8' });
const hasTshark = tshark.status === 0;
const SKIPPED = hasTshark ? '' : ' [SKIPPED: tshark is not on PATH; apt-get install tshark to run it]';
if (!hasTshark) console.warn(`pcap.test.ts: tshark not found, the Wireshark cross-checks are skipped.`);

/** tshark with every checksum check on and flannel's port decoded as VXLAN. */
function runTshark(file: string, ...args: string[]): string {
  const checks = ['ip.check_checksum', 'udp.check_checksum', 'tcp.check_checksum'].flatMap((o) => ['-o', `${o}:TRUE`]);
  return execFileSync('tshark', ['-r', file, '-d', 'udp.port==8472,vxlan', ...checks, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

function withPcap<T>(records: { timestampMs: number; frame: Frame }[], fn: (file: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'podnet-wire-'));
  try {
    const file = join(dir, 'capture.pcap');
    writeFileSync(file, writePcap(records));
    return fn(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Fails on anything Wireshark flags: malformed packets, wrong checksums, expert errors and warnings. */
function expectClean(file: string): void {
  const verbose = runTshark(file, '-V');
  expect(verbose).not.toMatch(/\[Malformed|incorrect|Expert Info \((Error|Warning)/i);
  expect(runTshark(file, '-q', '-z', 'expert')).not.toMatch(/Errors|Warns/);
}

describe('Wireshark agrees', () => {
  it.skipIf(!hasTshark)(`tshark decodes a VXLAN-encapsulated ICMP echo: both layers, VNI 1, no errors${SKIPPED}`, () => {
    withPcap([{ timestampMs: 1000, frame: vxlanEcho }], (file) => {
      const fields = runTshark(file, '-T', 'fields', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'vxlan.vni', '-e', 'icmp.type');
      expect(fields.trim()).toBe('192.168.1.11,10.244.1.4\t192.168.1.12,10.244.2.3\t1\t8');
      // Checksum status: 1 Good. The outer UDP checksum is computed (Linux VXLAN's default, udpcsum); both
      // IPv4 headers and ICMP good.
      const status = runTshark(file, '-T', 'fields', '-e', 'udp.checksum.status', '-e', 'ip.checksum.status', '-e', 'icmp.checksum.status');
      expect(status.trim()).toBe('1\t1,1\t1');
      expectClean(file);
    });
  });

  it.skipIf(!hasTshark)(`the cleanliness check catches a corrupted checksum (it is not vacuous)${SKIPPED}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'podnet-wire-'));
    try {
      const file = join(dir, 'corrupt.pcap');
      const bytes = writePcap([{ timestampMs: 1000, frame: vxlanEcho }]);
      const at = 40 + 14 + 20 + 8 + 8 + 14 + 20 + 2; // inner ICMP checksum
      bytes[at] = bytes[at]! ^ 0xff;
      writeFileSync(file, bytes);
      expect(() => expectClean(file)).toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!hasTshark)(`readPcap reads what Wireshark's own writer (editcap) writes, in micro- and nanoseconds${SKIPPED}`, () => {
    const records = [{ timestampMs: 1_700_000_000_123.456, frame: vxlanEcho }, { timestampMs: 1_700_000_001_000, frame: innerEcho }];
    withPcap(records, (file) => {
      for (const format of ['pcap', 'nsecpcap']) {
        const out = `${file}.${format}`;
        execFileSync('editcap', ['-F', format, file, out], { stdio: 'ignore' });
        const read = readPcap(readFileSync(out), { verifyChecksums: true });
        expect(read.map((r) => r.frame)).toEqual(records.map((r) => r.frame));
        expect(read[0]?.timestampMs).toBeCloseTo(records[0]!.timestampMs, 3);
        expect(read[1]?.timestampMs).toBe(records[1]!.timestampMs);
      }
    });
  });

  it.skipIf(!hasTshark)(`tshark finds nothing wrong with every kind of frame podnet emits${SKIPPED}`, () => {
    const pod = (payload: Ipv4Packet['payload'], protocol: number, length: number, dst = '10.96.0.10'): Frame => ({
      eth: { dst: '02:42:0a:f4:01:01', src: '02:42:0a:f4:01:04', ethertype: 0x0800 },
      payload: { kind: 'ipv4', header: { tos: 0, totalLength: 20 + length, id: 7, df: true, ttl: 64, protocol, src: ip('10.244.1.4'), dst: ip(dst) }, payload },
    });
    const big = pod({ kind: 'udp', srcPort: 40000, dstPort: 9000, payload: { kind: 'raw', length: 1472 } }, 17, 1480).payload as Ipv4Packet;
    const frames: Frame[] = [
      vxlanEcho,
      { eth: { dst: 'ff:ff:ff:ff:ff:ff', src: '02:42:0a:f4:01:04', ethertype: 0x0806 }, payload: { kind: 'arp', op: 1, senderMac: '02:42:0a:f4:01:04', senderIp: ip('10.244.1.4'), targetMac: '00:00:00:00:00:00', targetIp: ip('10.244.1.1') } },
      pod({ kind: 'tcp', srcPort: 40000, dstPort: 443, seq: 1000, ack: 0, flags: 0x02, window: 64240, payload: { kind: 'raw', length: 0 } }, 6, 20),
      pod({ kind: 'udp', srcPort: 40001, dstPort: 9000, payload: { kind: 'raw', length: 13, bytes: new TextEncoder().encode('hello, world!') } }, 17, 21),
      pod({ kind: 'icmp', type: 3, code: 4, rest: 1450, data: icmpErrorQuote(big) }, 1, 8 + 548, '10.244.1.4'),
      pod(innerEcho.payload as Ipv4Packet, 4, 84, '10.244.2.3'),
    ];
    withPcap(frames.map((frame, i) => ({ timestampMs: 1000 + i, frame })), (file) => {
      const protocols = runTshark(file, '-T', 'fields', '-e', 'frame.protocols').trim().split('\n');
      expect(protocols).toEqual([
        'eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:icmp:data',
        'eth:ethertype:arp',
        'eth:ethertype:ip:tcp',
        'eth:ethertype:ip:udp:data',
        'eth:ethertype:ip:icmp:ip:udp:data',
        'eth:ethertype:ip:ip:icmp:data',
      ]);
      expectClean(file);
    });
  });
});
