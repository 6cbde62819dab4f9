import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { icmpEcho, icmpErrorQuote, IPPROTO_ICMP, IPPROTO_TCP, ipv4, parseIpv4, pseudoHeaderSum, TCP_SYN } from '@podnet/core';
import { createSession, describeFrame } from './index.js';

/** Real tcpdump on a VXLAN ping between two namespaces (scripts/tcpdump-formats.sh), by section. */
const real = (() => {
  const sections = new Map<string, string[]>();
  let cur: string[] = [];
  for (const line of readFileSync(join(__dirname, '__fixtures__', 'tcpdump-formats.txt'), 'utf8').split('\n')) {
    const m = /^== (.*)$/.exec(line);
    if (m) sections.set(m[1]!, (cur = []));
    else if (line) cur.push(line);
  }
  return sections;
})();

/** What differs between runs: times, MACs, source ports, echo identifiers. */
const shape = (l: string) => l
  .replace(/^\d\d:\d\d:\d\d\.\d{6} /, 'T ')
  .replace(/([0-9a-f]{2}:){5}[0-9a-f]{2}/g, 'MAC')
  .replace(/\.\d+ > (\S+)\.8472/, '.PORT > $1.8472')
  .replace(/id \d+/, 'id N');

describe('tcpdump lines match real tcpdump -n', () => {
  it('node-1 pings node-2\'s flannel.1: ARP, then VXLAN decoded as OTV with the inner packet, on eth0 and flannel.1', () => {
    const s = createSession();
    s.run('kubectl debug node/node-2 -it --image=nicolaka/netshoot');
    const started = s.run('tcpdump -n -i eth0 -c 4 arp or udp &');
    expect(started.stderr).toBe(real.get('stderr')!.slice(0, 2).map((l) => `${l}\n`).join(''));
    s.run('tcpdump -n -i flannel.1 -c 2 icmp &');
    s.run('exit');
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot');
    const r = s.run('ping -c 1 10.244.2.0');
    const lines = r.stdout.split('\n').filter((l) => /^\d\d:\d\d|^IP /.test(l));
    const under = real.get('tcpdump -n -i eth0 arp or udp (underlay)')!;
    const vx = real.get('tcpdump -n -i flannel.1 icmp')!;
    // Two captures print in wire-time order, interleaved as two terminals would show them.
    expect(lines.map(shape).filter((l) => l.includes('OTV') || l.startsWith('T ARP') || !l.startsWith('T '))).toEqual(under.map(shape));
    expect(lines.map(shape).filter((l) => l.startsWith('T IP 10.'))).toEqual(vx.map(shape));
    expect(r.stdout).toMatch(/\[1\]- {2}Done {20}tcpdump -n -i eth0 -c 4 arp or udp\n\[2\]\+ {2}Done {20}tcpdump -n -i flannel\.1 -c 2 icmp\n$/);
    expect(r.stderr).toBe(`${real.get('stderr')!.slice(2).join('\n')}\n2 packets captured\n2 packets received by filter\n0 packets dropped by kernel\n`);
  });
});

/**
 * Real tcpdump -v, -vv, -e -v and -x/-xx/-X on the seed lab built in namespaces with podnet's MACs and
 * addresses (scripts/tcpdump-verbose.sh): run → capture title → packets (a packet's lines joined by \n).
 */
const verbose = (() => {
  const runs = new Map<string, Map<string, string[]>>();
  let run = new Map<string, string[]>();
  let cur: string[] = [];
  for (const line of readFileSync(join(__dirname, '__fixtures__', 'tcpdump-verbose.txt'), 'utf8').split('\n')) {
    const r = /^#### run (\d+)$/.exec(line);
    const m = /^== (.*)$/.exec(line);
    if (r) runs.set(r[1]!, (run = new Map()));
    else if (m) run.set(m[1]!, (cur = []));
    else if (/^\d\d:\d\d:\d\d\.\d{6} /.test(line)) cur.push(line);
    else if (line) cur[cur.length - 1] += `\n${line}`;
  }
  return runs;
})();

/** The packets of a lab-shell transcript: from the first capture line to bash's first job notice. */
function packetsOf(stdout: string): string[] {
  const out: string[] = [];
  let on = false;
  for (const line of stdout.split('\n')) {
    if (/^\d\d:\d\d:\d\d\.\d{6} /.test(line)) { on = true; out.push(line); }
    else if (/^\[\d+\]/.test(line)) on = false;
    else if (on && line) out[out.length - 1] += `\n${line}`;
  }
  return out;
}

/**
 * What the kernel picks at random, run to run (the fixture's two runs differ in these only): the time, IP
 * ids (__ip_select_ident: a hash with a boot secret and a per-bucket counter; the DF-marked echo requests'
 * too), ping's identifier, traceroute's and VXLAN's source ports (the latter a flow hash with a boot
 * secret), and the UDP checksums that cover those ports. Relations between them (the same id on every
 * hop) are tested apart. (TCP's captures, with the ISN and checksums over it, are replayed on their own.)
 */
const norm = (p: string) => p
  .replace(/^\d\d:\d\d:\d\d\.\d{6} /, 'T ')
  .replace(/, id \d+, offset/g, ', id ID, offset')
  .replace(/ICMP echo (request|reply), id \d+/g, 'ICMP echo $1, id PID')
  .replace(/\.\d+ > (\d+\.\d+\.\d+\.\d+)\.(8472|3343\d|80):/g, '.PORT > $1.$2:')
  // The checksum a probe should have covers its random source port (see offloaded).
  .replace(/(\[bad udp cksum 0x[0-9a-f]{4} -> )0x[0-9a-f]{4}!\]/g, '$1SUM!]');

/**
 * The kernel's UDP checksum as tcpdump sees it on a veth: still partial (CHECKSUM_PARTIAL, left for an
 * offload that veth never does), the field holding only the pseudo-header's sum, so tcpdump -vv says
 * `[bad udp cksum 0x83eb -> 0x049e!]`, the second number being the checksum the wire would carry. podnet
 * puts that complete checksum in its bytes, which tcpdump prints `[udp sum ok]` (the test below checks
 * every such field is the pseudo-header sum, so this replaces nothing else).
 */
const offloaded = (p: string) => p.replace(/\[bad udp cksum 0x[0-9a-f]{4} -> (0x[0-9a-f]{4}|SUM)!\]/g, '[udp sum ok]');

const PLACES: Readonly<Record<string, string>> = { pa: 'pod-a', pc: 'pod-c', pd: 'pod-d', n1: 'node-1', n2: 'node-2' };

/** Runs the fixture's capture `title` in a fresh lab shell with the traffic the script sent, and returns its packets. */
function replay(title: string): string[] {
  const m = /^tcpdump (.*) \((\w+)\)$/.exec(title)!;
  const [args, where] = [m[1]!, PLACES[m[2]!]!];
  const s = createSession();
  const start = where.startsWith('node-') ? `kubectl debug node/${where} -it --image=nicolaka/netshoot -- tcpdump ${args} &` : `kubectl exec ${where} -- tcpdump ${args} &`;
  expect(s.run(start).status).toBe(0);
  const traffic = args.endsWith(' arp') ? 'kubectl exec pod-d -- ping -c 1 10.244.2.3'
    : args.endsWith('icmp or udp') ? 'kubectl exec pod-a -- traceroute -n -q 1 10.244.3.9'
      : 'kubectl exec pod-a -- ping -c 1 10.244.2.3';
  const out = s.run(traffic).stdout + s.run('kill %1').stdout;
  return packetsOf(out);
}

const TITLES = [...verbose.get('1')!.keys()].filter((t) => !t.includes(' tcp ('));

describe('tcpdump -v, -vv, -e -v and -x/-xx/-X match real tcpdump on the seed lab', () => {
  it('the fixture\'s two runs differ only where the kernel picks at random (what the comparisons normalise)', () => {
    expect([...verbose.get('2')!.keys()]).toEqual([...verbose.get('1')!.keys()]);
    for (const title of TITLES) expect(verbose.get('2')!.get(title)!.map(norm), title).toEqual(verbose.get('1')!.get(title)!.map(norm));
  });

  it('every UDP checksum tcpdump calls bad is the pseudo-header sum alone: a partial checksum, not a wrong one', () => {
    let seen = 0;
    for (const packets of verbose.values()) {
      for (const p of [...packets.values()].flat()) {
        for (const m of p.matchAll(/length (\d+)\)\n\s+(\d+\.\d+\.\d+\.\d+)\.\d+ > (\d+\.\d+\.\d+\.\d+)\.\d+: \[bad udp cksum 0x([0-9a-f]{4})/g)) {
          expect(Number.parseInt(m[4]!, 16)).toBe(pseudoHeaderSum(parseIpv4(m[2]!), parseIpv4(m[3]!), 17, Number(m[1]) - 20));
          seen++;
        }
      }
    }
    expect(seen).toBeGreaterThan(20);
  });

  it.each(TITLES)('%s', (title) => {
    const kernel = verbose.get('1')!.get(title)!;
    const ours = replay(title);
    // The seed lab's ports have hairpin mode on, in the kernel's recording (seed-lab-netns.sh) as in podnet
    // (flannel's bridge plugin): pod-d's ARP request comes back to it, and both captures show it twice.
    const want = kernel.map((p) => offloaded(norm(p)));
    expect(ours.map(norm)).toEqual(want);
  });
});

describe('tcpdump -v in a student\'s session', () => {
  /** The echo request's and reply's TTL and IP id, as `tcpdump -n -v -i DEV icmp` prints them in `where`. */
  function seen(where: string, dev: string): { ttl: number[]; id: number[] } {
    const s = createSession();
    s.run(where.startsWith('node-') ? `kubectl debug node/${where} -it --image=nicolaka/netshoot -- tcpdump -n -v -i ${dev} -c 2 icmp &` : `kubectl exec ${where} -- tcpdump -n -v -i ${dev} -c 2 icmp &`);
    const ps = packetsOf(s.run('kubectl exec pod-a -- ping -c 1 10.244.2.3').stdout);
    expect(ps.map((p) => /ICMP echo (\w+)/.exec(p)![1])).toEqual(['request', 'reply']);
    return { ttl: ps.map((p) => Number(/ttl (\d+)/.exec(p)![1])), id: ps.map((p) => Number(/, id (\d+), offset/.exec(p)![1])) };
  }

  it('sees TTL 64 on the sender\'s eth0 and one less after each routed hop (node-1, then node-2), as the kernel', () => {
    const a = seen('pod-a', 'eth0');
    const tunnel = seen('node-1', 'flannel.1');
    const c = seen('pod-c', 'eth0');
    // The request leaves pod-a with 64, node-1 routes it into flannel.1 (63), node-2 routes it to cni0 (62);
    // the reply the other way round. Kernel: the fixture's pa, flannel.1 (n1) and pc captures.
    expect(a.ttl).toEqual([64, 62]);
    expect(tunnel.ttl).toEqual([63, 63]);
    expect(c.ttl).toEqual([62, 64]);
    const ttls = (t: string) => verbose.get('1')!.get(t)!.map((p) => Number(/ttl (\d+)/.exec(p)![1]));
    expect([ttls('tcpdump -n -v -i eth0 icmp (pa)'), ttls('tcpdump -n -v -i flannel.1 icmp (n1)'), ttls('tcpdump -n -v -i eth0 icmp (pc)')]).toEqual([a.ttl, tunnel.ttl, c.ttl]);
    // A router leaves the IP id alone: the same request and reply ids at both ends (the kernel's too).
    expect(c.id).toEqual(a.id);
    const ids = (t: string) => verbose.get('1')!.get(t)!.map((p) => /, id (\d+), offset/.exec(p)![1]);
    expect(ids('tcpdump -n -v -i eth0 icmp (pc)')).toEqual(ids('tcpdump -n -v -i eth0 icmp (pa)'));
  });

  it('VXLAN\'s outer source port, a hash of the inner flow, is the same both ways (the kernel orders the addresses)', () => {
    const port = (p: string) => /192\.168\.1\.1\d\.(\d+) > 192\.168\.1\.1\d\.8472/.exec(p)![1];
    const kernel = verbose.get('1')!.get('tcpdump -n -v -i eth0 udp (n2)')!;
    expect(kernel.map(port)).toEqual([port(kernel[0]!), port(kernel[0]!)]);
    const s = createSession();
    s.run('kubectl debug node/node-2 -it --image=nicolaka/netshoot -- tcpdump -n -v -i eth0 -c 2 udp &');
    const ours = packetsOf(s.run('kubectl exec pod-a -- ping -c 1 10.244.2.3').stdout);
    expect(ours).toHaveLength(2);
    expect(port(ours[1]!)).toBe(port(ours[0]!));
  });

  it('the RST for a SYN to a closed port prints as the kernel\'s, byte for byte: id 0, DF, its checksum', () => {
    for (const run of ['1', '2']) {
      for (const v of ['-v', '-vv']) {
        const [syn, rst] = verbose.get(run)!.get(`tcpdump -n ${v} -i eth0 tcp (pa)`)!;
        // The kernel's SYN (bash's /dev/tcp): its source port and ISN. podnet's SYN carries no options, so
        // only the answer is compared; the kernel's SYN checksum is partial, as UDP's above.
        const m = /10\.244\.1\.4\.(\d+) > 10\.244\.2\.3\.80: Flags \[S\], cksum 0x[0-9a-f]{4} \(incorrect -> 0x[0-9a-f]{4}\), seq (\d+), win (\d+)/.exec(syn!)!;
        const s = createSession();
        s.run(`kubectl exec pod-a -- tcpdump -n ${v} -i eth0 -c 2 tcp &`);
        s.sim.send('pod-a', ipv4(parseIpv4('10.244.2.3'), { kind: 'tcp', srcPort: Number(m[1]), dstPort: 80, seq: Number(m[2]), ack: 0, flags: TCP_SYN, window: Number(m[3]), payload: { kind: 'raw', length: 0 } }, IPPROTO_TCP, { src: parseIpv4('10.244.1.4'), df: true }));
        const ps = packetsOf(s.run('true').stdout);
        expect(ps).toHaveLength(2);
        expect(ps[0]).toMatch(/^\S+ IP \(tos 0x0, ttl 64, id \d+, offset 0, flags \[DF\], proto TCP \(6\), length 40\)\n {4}10\.244\.1\.4\.\d+ > 10\.244\.2\.3\.80: Flags \[S\], cksum 0x[0-9a-f]{4} \(correct\), seq \d+, win \d+, length 0$/);
        expect(rst).toContain(', id 0, offset 0, flags [DF]');
        expect(ps[1]!.replace(/^\S+ /, '')).toBe(rst!.replace(/^\S+ /, ''));
      }
    }
  });

  it('-v quotes a datagram an ICMP error holds cut (need to frag): its header decoded from the bytes kept', () => {
    const big = icmpEcho(parseIpv4('10.244.2.3'), { size: 1472, src: parseIpv4('10.244.1.4'), ident: 7, seq: 3, id: 9 });
    const err = ipv4(parseIpv4('10.244.1.4'), { kind: 'icmp', type: 3, code: 4, rest: 1450, data: icmpErrorQuote(big) }, IPPROTO_ICMP, { src: parseIpv4('10.244.1.1'), tos: 0xc0 });
    const frame = { eth: { dst: 'a2:d8:7f:1d:63:ef', src: '26:9c:f5:29:3d:37', ethertype: 0x0800 }, payload: err } as const;
    // The quote holds 548 of the request's 1500 bytes: its ICMP checksum cannot be verified, so none prints.
    expect(describeFrame(frame, { verbose: 2 })).toBe([
      'IP (tos 0xc0, ttl 64, id 0, offset 0, flags [none], proto ICMP (1), length 576)',
      '    10.244.1.1 > 10.244.1.4: ICMP 10.244.2.3 unreachable - need to frag (mtu 1450), length 556',
      '\tIP (tos 0x0, ttl 64, id 9, offset 0, flags [DF], proto ICMP (1), length 1500)',
      '    10.244.1.4 > 10.244.2.3: ICMP echo request, id 7, seq 3, length 1480',
    ].join('\n'));
  });

  it('-xx and -XX on any are refused (the cooked header is not modelled); bad print options are typed errors', () => {
    const s = createSession();
    const r = s.run('kubectl exec pod-a -- tcpdump -n -xx -i any');
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('tcpdump: podnet dumps Ethernet headers only: pick one interface (-i eth0) with -xx or -XX\n');
    const arp = { eth: { dst: 'ff:ff:ff:ff:ff:ff', src: '66:85:1a:61:b5:9d', ethertype: 0x0806 }, payload: { kind: 'arp', op: 1, senderMac: '66:85:1a:61:b5:9d', senderIp: parseIpv4('10.244.2.7'), targetMac: '00:00:00:00:00:00', targetIp: parseIpv4('10.244.2.3') } } as const;
    expect(describeFrame(arp, { verbose: 1 })).toBe('ARP, Ethernet (len 6), IPv4 (len 4), Request who-has 10.244.2.3 tell 10.244.2.7, length 28');
    expect(() => describeFrame(arp, { verbose: 4 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => describeFrame(arp, { hex: { ascii: 1 } as never })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('tcpdump options as getopt reads them, and -t … -ttttt', () => {
  // Measured, tcpdump 4.99.3 on Linux 6.18, `tcpdump $t -ni lo -c 2 icmp` in a namespace while it pinged
  // 127.0.0.1: -t no stamp; -tt `1795922662.058448 IP …`; -ttt ` 00:00:00.000000 IP …` then ` 00:00:00.000005`
  // (a space first); -tttt `2026-11-29 03:24:24.162914 IP …`; -ttttt as -ttt, from the first packet.
  function capture(flags: string): string[] {
    const s = createSession();
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot');
    expect(s.run(`tcpdump ${flags} -c 2 icmp &`).status).toBe(0);
    return s.run('ping -c 1 10.244.2.3').stdout.split('\n').filter((l) => /10\.244\.\d\.\d+ > 10\.244\./.test(l));
  }

  it('flags cluster and an option with an argument ends its cluster: -ni, -nei, -c2', () => {
    expect(capture('-ni flannel.1')).toHaveLength(2);
    expect(capture('-nei flannel.1')[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{6} [0-9a-f:]{17} > [0-9a-f:]{17}, ethertype IPv4/);
    const s = createSession();
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot');
    expect(s.run('tcpdump -ni')).toMatchObject({ status: 1, stderr: expect.stringMatching(/^tcpdump: option requires an argument -- 'i'\nUsage: tcpdump/) });
    expect(s.run('tcpdump -nk')).toMatchObject({ status: 1, stderr: expect.stringMatching(/^tcpdump: invalid option -- 'k'\nUsage: tcpdump/) });
    expect(s.run('tcpdump -nA -i eth0')).toMatchObject({ status: 1, stderr: expect.stringMatching(/^tcpdump: podnet does not model -A/) });
    expect(s.run('tcpdump -s abc')).toMatchObject({ status: 1, stderr: 'tcpdump: invalid snaplen abc\n' });
  });

  it('-t drops the stamp, -tt is epoch seconds, -ttt and -ttttt deltas with a space before, -tttt the date', () => {
    expect(capture('-tni flannel.1')[0]).toMatch(/^IP 10\.244\.1\.0 > 10\.244\.2\.3: ICMP echo request/);
    const [a, b] = capture('-ttni flannel.1');
    expect(a).toMatch(/^\d{10}\.\d{6} IP /);
    const [c, d] = capture('-tttni flannel.1');
    expect(c).toMatch(/^ 00:00:00\.000000 IP /);
    expect(d).toMatch(/^ 00:00:00\.\d{6} IP /);
    expect(Number(b!.split(' ')[0]) - Number(a!.split(' ')[0])).toBeCloseTo(Number(`0.${d!.slice(10, 16)}`), 6);
    expect(capture('-ttttni flannel.1')[0]).toMatch(/^2026-01-05 \d\d:\d\d:\d\d\.\d{6} IP /);
    expect(capture('-tttttni flannel.1')[1]).toBe(d);
  });
});
