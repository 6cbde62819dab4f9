import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CT_ICMP_TIMEOUT_MS, CT_TCP_SYN_SENT_TIMEOUT_MS, CT_TCP_TIMEOUTS_MS, CT_UDP_STREAM_TIMEOUT_MS, CT_UDP_TIMEOUT_MS, ctLive, ctMatches, ctNew, ctTouch } from './conntrack.js';

const A = 0x0a000102; // 10.0.1.2
const B = 0x0a000202; // 10.0.2.2
const R = 0x0a000201; // 10.0.2.1

describe('conntrack entries live by their protocol\'s timeout (measured, conntrack-tools 1.4.7 on Linux 6.18)', () => {
  it('ICMP: 30 s after the last packet, either direction; never ASSURED', () => {
    const c = ctNew(1, A, B, B, R, 'echo 4660', 1000);
    expect(c.expires).toBe(1000 + CT_ICMP_TIMEOUT_MS);
    expect(ctLive(c, 30_999)).toBe(true);
    expect(ctLive(c, 31_000)).toBe(false);
    const r = ctTouch(c, 6000, true);
    expect(r).toMatchObject({ replied: true, assured: false, expires: 36_000 });
  });

  it('UDP: 30 s, answered or not; a packet of an answered flow more than 2 s after its first makes it a stream (120 s, ASSURED)', () => {
    const c = ctNew(17, A, B, B, R, '7>40001', 0);
    expect(c.expires).toBe(CT_UDP_TIMEOUT_MS);
    const replied = ctTouch(c, 100, true);
    expect(replied).toMatchObject({ replied: true, assured: false, expires: 100 + CT_UDP_TIMEOUT_MS });
    expect(ctTouch(replied, 2000, false)).toMatchObject({ assured: false, expires: 2000 + CT_UDP_TIMEOUT_MS });
    // The recording: the same flow answered again 3 s later showed 119 and [ASSURED].
    expect(ctTouch(replied, 3000, false)).toMatchObject({ assured: true, expires: 3000 + CT_UDP_STREAM_TIMEOUT_MS });
    // Unanswered, it stays a 30 s flow however long it lasts.
    expect(ctTouch(c, 10_000, false)).toMatchObject({ replied: false, assured: false, expires: 10_000 + CT_UDP_TIMEOUT_MS });
  });

  it('TCP: a SYN nobody answered lives 120 s (SYN_SENT)', () => {
    expect(ctNew(6, A, B, B, R, '80>41003', 0).expires).toBe(CT_TCP_SYN_SENT_TIMEOUT_MS);
  });

  it('property: a touch never shortens an entry\'s life, keeps its tuple, and an entry is live exactly before it expires', () => {
    fc.assert(fc.property(fc.constantFrom(1, 6, 17), fc.array(fc.tuple(fc.integer({ min: 0, max: 200_000 }), fc.boolean()), { maxLength: 12 }), (proto, touches) => {
      let c = ctNew(proto, A, B, B, R, proto === 1 ? 'echo 9' : '80>40000', 0);
      let now = 0;
      for (const [dt, reply] of touches) {
        now += dt;
        const before = c;
        c = ctTouch(c, now, reply);
        expect(c.expires).toBeGreaterThan(now);
        expect(c.expires).toBeGreaterThanOrEqual(now + Math.min(CT_ICMP_TIMEOUT_MS, CT_UDP_TIMEOUT_MS));
        expect([c.protocol, c.origSrc, c.origDst, c.replySrc, c.replyDst, c.replyL4, c.created]).toEqual([before.protocol, before.origSrc, before.origDst, before.replySrc, before.replyDst, before.replyL4, before.created]);
        expect(ctLive(c, c.expires - 1) && !ctLive(c, c.expires)).toBe(true);
      }
    }));
  });
});

describe('conntrack filters (-p, -s, -d, -n, -g)', () => {
  const masq = ctNew(1, A, B, B, R, 'echo 1', 0);
  const plain = ctNew(17, A, B, B, A, '7>40000', 0);
  it('select by protocol, original source and destination prefix, and the translated source or destination', () => {
    expect(ctMatches(masq, {})).toBe(true);
    expect(ctMatches(masq, { protocol: 17 })).toBe(false);
    expect(ctMatches(masq, { src: { addr: 0x0a000100, len: 24 } })).toBe(true);
    expect(ctMatches(masq, { dst: { addr: A, len: 32 } })).toBe(false);
    expect(ctMatches(masq, { srcNat: R })).toBe(true);
    expect(ctMatches(plain, { srcNat: A })).toBe(false);
    expect(ctMatches(masq, { dstNat: B })).toBe(false);
  });
});

describe('a TCP flow\'s conntrack state', () => {
  it('follows a connect check: SYN_SENT, SYN_RECV, ESTABLISHED (assured), FIN_WAIT, LAST_ACK, TIME_WAIT', () => {
    // The segments of `nc -z` to a listening port (scripts/nc-formats.sh): S, S. (reply), ., F., F. (reply), .
    // Measured states and timeouts (scripts/conntrack-formats.sh): `118 TIME_WAIT … [ASSURED]` for a connection
    // both sides closed, `431998 ESTABLISHED … [ASSURED]` for one left open.
    let c = ctNew(6, A, B, B, R, '80>40000', 0, 0x02);
    const seen: string[] = [c.tcp!];
    for (const [reply, flags] of [[true, 0x12], [false, 0x10], [false, 0x11], [true, 0x11], [false, 0x10]] as const) {
      c = ctTouch(c, 1000, reply, flags);
      seen.push(c.tcp!);
      if (c.tcp === 'ESTABLISHED') expect(c).toMatchObject({ assured: true, expires: 1000 + CT_TCP_TIMEOUTS_MS.ESTABLISHED });
    }
    expect(seen).toEqual(['SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'LAST_ACK', 'TIME_WAIT']);
    expect(c).toMatchObject({ replied: true, assured: true, expires: 1000 + 120_000 });
  });

  it('a RST closes it (10 s); a flow picked up without its SYN is ESTABLISHED (nf_conntrack_tcp_loose)', () => {
    expect(ctTouch(ctNew(6, A, B, B, R, '80>40000', 0, 0x02), 5, true, 0x14)).toMatchObject({ tcp: 'CLOSE', expires: 5 + 10_000 });
    expect(ctNew(6, A, B, B, R, '80>40000', 0, 0x10)).toMatchObject({ tcp: 'ESTABLISHED' });
    expect(ctNew(17, A, B, B, R, '53>40000', 0)).toMatchObject({ tcp: null });
  });
});
