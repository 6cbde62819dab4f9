/**
 * Classic libpcap capture files (https://www.tcpdump.org/manpages/pcap-savefile.5.html), the format
 * `tcpdump -w` writes and Wireshark opens. Little-endian, microsecond timestamps, LINKTYPE_ETHERNET.
 *
 *   Global header (24 bytes)                 Record header (16 bytes), then incl_len bytes of frame
 *   +------------------------------+         +------------------------------+
 *   | magic 0xa1b2c3d4             |         | ts_sec   (seconds)           |
 *   +---------------+--------------+         +------------------------------+
 *   | major 2       | minor 4      |         | ts_usec  (microseconds)      |
 *   +---------------+--------------+         +------------------------------+
 *   | thiszone 0 (GMT offset)      |         | incl_len (bytes captured)    |
 *   +------------------------------+         +------------------------------+
 *   | sigfigs 0                    |         | orig_len (bytes on the wire) |
 *   +------------------------------+         +------------------------------+
 *   | snaplen 262144               |
 *   +------------------------------+
 *   | network 1 (LINKTYPE_ETHERNET)|
 *   +------------------------------+
 */
import { fail, shown } from '../errors.js';
import { need, within } from './bytes.js';
import { type ParseFrameOptions, emitFrame, parseFrame } from './frame.js';
import type { Frame } from './packet.js';

/** One captured frame, at a simulated time in milliseconds since the epoch (of the simulation). */
export interface PcapRecord {
  readonly timestampMs: number;
  readonly frame: Frame;
}

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
/** tcpdump's default snapshot length since 4.99: every frame podnet emits fits whole. */
export const PCAP_SNAPLEN = 262144;
/** LINKTYPE_ETHERNET: frames start with the Ethernet header. */
export const LINKTYPE_ETHERNET = 1;
const GLOBAL_HEADER_LEN = 24;
const RECORD_HEADER_LEN = 16;

/**
 * A pcap file holding `records` in order. Timestamps are rounded to the microsecond. Throws
 * `INVALID_PACKET` when a frame cannot be emitted, `INVALID_ARGUMENT` on a negative or non-finite
 * timestamp.
 */
export function writePcap(records: readonly PcapRecord[]): Uint8Array {
  if (!Array.isArray(records)) fail('INVALID_ARGUMENT', `writePcap takes a list of records { timestampMs, frame }, not ${shown(records)}`);
  records.forEach((r, i) => {
    if (r === null || typeof r !== 'object') fail('INVALID_ARGUMENT', `pcap record ${i} must be an object { timestampMs, frame }, not ${shown(r)}`, { index: i });
    if (typeof r.timestampMs !== 'number') fail('INVALID_ARGUMENT', `pcap record ${i}: timestampMs must be a number, not ${shown(r.timestampMs)}`, { index: i });
  });
  const frames = records.map((r, i) => within(`pcap record ${i}`, () => emitFrame(r.frame)));
  const out = new Uint8Array(GLOBAL_HEADER_LEN + frames.reduce((n, f) => n + RECORD_HEADER_LEN + f.length, 0));
  const v = new DataView(out.buffer);
  v.setUint32(0, MAGIC_US, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setInt32(8, 0, true);
  v.setUint32(12, 0, true);
  v.setUint32(16, PCAP_SNAPLEN, true);
  v.setUint32(20, LINKTYPE_ETHERNET, true);
  let at = GLOBAL_HEADER_LEN;
  records.forEach((record, i) => {
    const frame = frames[i]!;
    const us = Math.round(record.timestampMs * 1000);
    if (!Number.isFinite(us) || us < 0 || us >= 2 ** 32 * 1e6) {
      fail('INVALID_ARGUMENT', `pcap record ${i}: timestamp ${record.timestampMs} ms is not a time pcap can hold (0 to 2^32 s)`, { index: i, timestampMs: record.timestampMs });
    }
    v.setUint32(at, Math.floor(us / 1e6), true);
    v.setUint32(at + 4, us % 1e6, true);
    v.setUint32(at + 8, frame.length, true);
    v.setUint32(at + 12, frame.length, true);
    out.set(frame, at + RECORD_HEADER_LEN);
    at += RECORD_HEADER_LEN + frame.length;
  });
  return out;
}

/**
 * The records of a classic pcap file of Ethernet frames (either byte order, micro- or nanosecond
 * timestamps), each frame decoded by {@link parseFrame} with `options`. Throws `INVALID_PACKET` on a
 * bad magic, a link type other than Ethernet, a truncated file or record, a frame cut by the snapshot
 * length, or a frame that does not parse.
 */
export function readPcap(bytes: Uint8Array, options: ParseFrameOptions = {}): PcapRecord[] {
  need(bytes, GLOBAL_HEADER_LEN, 'pcap global header');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magicLe = v.getUint32(0, true);
  const magicBe = v.getUint32(0, false);
  const le = magicLe === MAGIC_US || magicLe === MAGIC_NS;
  if (!le && magicBe !== MAGIC_US && magicBe !== MAGIC_NS) {
    fail('INVALID_PACKET', `pcap magic 0x${magicBe.toString(16)} is not a classic pcap file (0xa1b2c3d4 or 0xa1b23c4d; pcapng is not supported)`, { magic: magicBe });
  }
  const nanos = (le ? magicLe : magicBe) === MAGIC_NS;
  const linktype = v.getUint32(20, le);
  if (linktype !== LINKTYPE_ETHERNET) {
    fail('INVALID_PACKET', `pcap link type ${linktype} is not supported (only LINKTYPE_ETHERNET, 1)`, { linktype });
  }
  const records: PcapRecord[] = [];
  for (let at = GLOBAL_HEADER_LEN; at < bytes.length; ) {
    const index = records.length;
    need(bytes.subarray(at), RECORD_HEADER_LEN, `pcap record ${index} header`);
    const sec = v.getUint32(at, le);
    const frac = v.getUint32(at + 4, le);
    const inclLen = v.getUint32(at + 8, le);
    const origLen = v.getUint32(at + 12, le);
    at += RECORD_HEADER_LEN;
    need(bytes.subarray(at), inclLen, `pcap record ${index}`);
    if (inclLen < origLen) {
      fail('INVALID_PACKET', `pcap record ${index} holds ${inclLen} of ${origLen} bytes (cut by the snapshot length)`, { index, inclLen, origLen });
    }
    // Exact for microseconds (sec * 1e6 + usec < 2^53); nanoseconds would overflow that, so add.
    const timestampMs = nanos ? sec * 1000 + frac / 1e6 : (sec * 1e6 + frac) / 1000;
    records.push({ timestampMs, frame: within(`pcap record ${index}`, () => parseFrame(bytes.subarray(at, at + inclLen), options)) });
    at += inclLen;
  }
  return records;
}
