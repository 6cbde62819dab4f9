import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seedLabSpec, type ClusterSpecJson } from '@podnet/cni';
import { recordedCases, type RecordedStep } from './__fixtures__/recording.js';
import { createSession, nc, type NcHost, type Session } from './index.js';

/**
 * What netcat-openbsd 1.219 printed on the seed lab built by hand (Linux 6.18; scripts/nc-formats.sh): per case
 * (`### (x) …`), each command with the place it ran in (`(pa)` pod-a, `(pb)` pod-b, `(n1)` node-1), its output
 * (stdout and stderr together) and exit status, and the tcpdump captures taken meanwhile on the sender's eth0.
 */
const cases = recordedCases('nc-formats.txt');

/**
 * The recording's lab: the seed lab with pod-c listening on TCP 80 and UDP 53 (`nc -lk 80`, `nc -luk 53` there;
 * in podnet, its container's ports), node-1 dropping what goes to pod-d (`iptables -I FORWARD -d 10.244.2.7 -j
 * DROP`) and DNATing the ClusterIP 10.96.0.10:80 to pod-c as kube-proxy's PREROUTING rule does.
 */
function lab(): Session {
  const spec = seedLabSpec();
  const pods = spec.pods!.map((p) => (p.name === 'pod-c' ? { ...p, containers: [{ name: 'web', ports: [80, { port: 53, protocol: 'UDP' as const }] }] } : p));
  const s = createSession({ spec: { ...spec, pods } as ClusterSpecJson });
  s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin');
  for (const c of ['iptables -I FORWARD -d 10.244.2.7 -j DROP', 'iptables -t nat -A PREROUTING -d 10.96.0.10 -p tcp --dport 80 -j DNAT --to-destination 10.244.2.3']) expect(s.run(c).status).toBe(0);
  s.run('exit');
  return s;
}

const PLACES: Readonly<Record<string, (cmd: string) => string>> = {
  pa: (c) => `kubectl exec pod-a -- ${c}`,
  pb: (c) => `kubectl exec pod-b -- ${c}`,
  n1: (c) => `kubectl debug node/node-1 --image=nicolaka/netshoot --profile=netadmin -- ${c}`,
};

/** A recorded command as `== CMD (where)`: the command and where it ran. */
function parsed(step: RecordedStep): { cmd: string; where: string } | null {
  const m = /^(.*) \((pa|pb|n1)\)$/.exec(step.cmd);
  return m ? { cmd: m[1]!, where: m[2]! } : null;
}

/**
 * A tcpdump line as podnet can print it: TCP options (mss, sackOK, TS, wscale) are not modelled, so they go, and
 * an ICMP error quoting a SYN is 20 bytes shorter (the options); ephemeral source ports and initial sequence
 * numbers are the kernel's random ones, masked in both; podnet's tcpdump does not decode DNS, so a 1-byte
 * datagram to port 53 prints as `UDP, length 1`.
 */
function packetLine(l: string): string {
  return l.replace(/^[\d:.]+ /, '').replace(/, options \[[^\]]*\]/, '').replace(/\.\d{5}\b/g, '.PORT').replace(/(seq|ack) \d{6,}/g, '$1 N')
    .replace(/domain \[length 1 < 12\] \(invalid\)/, 'UDP, length 1').replace(/(ICMP .* unreachable), length 68/, '$1, length 48');
}

function lines(t: string): string[] {
  return t.split('\n').filter((l) => l.trim() !== '');
}

/**
 * Replays case `id` in a fresh lab: every nc command's output and exit status, and each capture's packets, the
 * same. `skip` names commands podnet answers otherwise, each with its reason in the test.
 */
function replay(id: string, s: Session = lab(), skip: readonly string[] = []): { s: Session; elapsed: number[] } {
  const steps = cases.get(id);
  if (steps === undefined) throw new Error(`no case (${id}) in the recording`);
  let capture: string[] = [];
  let last: string | null = null;
  const elapsed: number[] = [];
  for (const step of steps) {
    const p = parsed(step);
    if (p === null) continue;
    if (p.cmd.startsWith('tcpdump')) {
      // A -v capture's IPv4 headers carry the kernel's ids and option lengths: the test of the case reads it.
      if (p.cmd.includes(' -v ')) continue;
      const got = capture.map(packetLine);
      // The listener's kernel ACKs the client's FIN by itself when the application's close comes after its ACK
      // timer (one recording in four: `Flags [.]` from the listener, then its `Flags [F.]`); podnet's listener
      // answers with the FIN/ACK at once.
      const want = lines(step.text).map(packetLine).filter((l, i, all) => !(/^IP [\d.]+\.(80|53) > .*Flags \[\.\]/.test(l) && all[i + 1]?.includes('Flags [F.]')));
      // With -w N the kernel's retransmission at N s races nc's poll timeout of N s: the recording may hold one
      // SYN more than podnet, which stops at the deadline.
      if (last !== null && / -w [1-9]/.test(last)) {
        expect(got.length, `${id}: ${step.cmd}`).toBeGreaterThanOrEqual(Math.max(1, want.length - 1));
        expect(want.slice(0, got.length), `${id}: ${step.cmd}`).toEqual(got);
      }
      else expect(got, `${id}: ${step.cmd}`).toEqual(want);
      continue;
    }
    if (skip.includes(p.cmd)) continue;
    // The capture runs as the recording's did, on the sender's eth0 (its filter: the next tcpdump step's).
    const next = steps[steps.indexOf(step) + 1];
    const filter = next !== undefined && next.cmd.startsWith('tcpdump') ? /tcpdump -n -i eth0 (.*) \(/.exec(next.cmd)![1]! : null;
    const place = PLACES[p.where]!;
    if (filter !== null) s.run(`${place(`tcpdump -n -i eth0 ${filter}`)} &`);
    const before = s.sim.now();
    last = p.cmd;
    const out = s.run(place(p.cmd));
    elapsed.push(s.sim.now() - before);
    const printed = filter !== null ? out.stdout.split('\n').filter((l) => /^\d\d:/.test(l)) : [];
    const continued = (l: string): boolean => /^\s/.test(l);
    if (filter !== null) s.run('kill %1');
    capture = printed;
    // kubectl debug says which pod it made, on stdout; the recording ran in the node's namespace directly.
    const own = out.stdout.split('\n').filter((l) => l !== '' && !/^\d\d:/.test(l) && !continued(l) && !l.startsWith('Creating debugging pod')).map((l) => `${l}\n`).join('');
    expect(own + out.stderr, `${id}: ${p.cmd}`).toBe(step.text);
    expect(out.status, `${id}: ${p.cmd} status`).toBe(step.status);
  }
  return { s, elapsed };
}

describe('nc -z as netcat-openbsd prints it (scripts/nc-formats.sh)', () => {
  it('a port that listens: connected, the handshake and nc\'s close on the wire', () => {
    const { s } = replay('open');
    // The SYN/ACK the listener's kernel sends: id 0 and DF, ttl 62 after two routers (the -v capture), in both.
    const v = lines(cases.get('open')!.find((x) => x.cmd.startsWith('tcpdump -n -i eth0 -v tcp'))!.text);
    const header = /ttl 62, id 0, offset 0, flags \[DF\], proto TCP \(6\)/;
    expect(v[v.findIndex((l) => l.includes('Flags [S.]')) - 1]).toMatch(header);
    s.run('kubectl exec pod-a -- tcpdump -n -v -i eth0 tcp &');
    const got = s.run('kubectl exec pod-a -- nc -zv 10.244.2.3 80').stdout.split('\n');
    expect(got[got.findIndex((l) => l.includes('Flags [S.]')) - 1]).toMatch(header);
  });

  it('a closed port: Connection refused, from the RST', () => { replay('closed'); });
  it('a port range and a list: one line each, status 0 when one connected', () => { replay('range'); });
  it('-z without -v: silent, the status says', () => { replay('quiet'); });
  it('ports by service name, -n prints * for the service', () => { replay('svcname'); });

  it('a destination a router drops: -w N times out after N seconds, SYNs retransmitted at 1 s', () => {
    const { elapsed } = replay('filtered');
    expect(elapsed.map((ms) => Math.round(ms / 1000))).toEqual([1, 1, 131, 2]);
  });

  it('a neighbour that does not answer ARP: No route to host after 3 s (the sender\'s own, or a router\'s ICMP)', () => {
    const steps = cases.get('arp')!;
    const s = lab();
    // The sender's own ARP: what goes on the wire is ARP, never the SYN (queued until the neighbour fails).
    const own = steps.find((x) => x.cmd.startsWith('nc -zv 10.244.1.99'))!;
    s.run('kubectl exec pod-a -- tcpdump -n -i eth0 tcp &');
    const t0 = s.sim.now();
    const out = s.run('kubectl exec pod-a -- nc -zv 10.244.1.99 80');
    expect(out.stdout.split('\n').filter((l) => /^\d\d:/.test(l))).toEqual([]);
    s.run('kill %1');
    expect(out.stderr).toBe(own.text);
    expect(out.status).toBe(own.status);
    const took = steps.filter((x) => x.cmd === 'elapsed').map((x) => Number(/^(\d+) s/.exec(x.text)![1]));
    expect(Math.round((s.sim.now() - t0) / 1000)).toBe(took[0]);
    // Behind node-3: the SYN at 0, 1, 2 and 3 s, the ICMP host unreachable from node-3, the error after 3 s. The
    // kernel answered the three SYNs it had queued when ARP failed (3 ICMP); podnet answers each SYN as it comes (4).
    const router = steps[steps.findIndex((x) => x.cmd.startsWith('nc -zv 10.244.3.99')) + 1]!;
    s.run('kubectl exec pod-a -- tcpdump -n -i eth0 tcp or icmp &');
    const t1 = s.sim.now();
    const r = s.run('kubectl exec pod-a -- nc -zv 10.244.3.99 80');
    s.run('kill %1');
    const got = r.stdout.split('\n').filter((l) => /^\d\d:/.test(l)).map(packetLine);
    const want = lines(router.text).map(packetLine);
    expect(got.filter((l) => l.includes('Flags [S]'))).toEqual(want.filter((l) => l.includes('Flags [S]')));
    expect(new Set(got.filter((l) => l.includes('ICMP')))).toEqual(new Set(want.filter((l) => l.includes('ICMP'))));
    expect(r.stderr).toBe('nc: connect to 10.244.3.99 port 80 (tcp) failed: No route to host\n');
    expect(Math.round((s.sim.now() - t1) / 1000)).toBe(took[1]);
    // With -w 1 the error has not come yet when nc gives up.
    const w = steps.find((x) => x.cmd.startsWith('nc -zv -w 1 10.244.3.99'))!;
    const o = s.run('kubectl exec pod-a -- nc -zv -w 1 10.244.3.99 80');
    expect(o.stderr).toBe(w.text);
    expect(o.status).toBe(w.status);
  });

  it('a ClusterIP: kube-proxy\'s DNAT on node-1 connects to pod-c; the reply comes from the ClusterIP', () => {
    // Port 81 has no DNAT rule: the SYN follows node-1's default route to 192.168.1.1. The recording's gateway was
    // a bridge namespace that does not forward (silence: `Connection timed out`); podnet's underlay gateway is a
    // router without a route there, which answers ICMP net unreachable. Not compared; it does not connect.
    const { s, elapsed } = replay('svc', lab(), ['nc -zv 10.96.0.10 81']);
    expect(elapsed[0]).toBeLessThan(1000);
    expect(s.run('kubectl exec pod-a -- nc -zv -w 1 10.96.0.10 81').status).toBe(1);
    // node-1's conntrack holds the closed connection as a real node does: TIME_WAIT, assured, 120 s (the
    // line's shape as scripts/conntrack-formats.sh measured it: `tcp      6 118 TIME_WAIT src=… [ASSURED] mark=0 use=1`).
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=netadmin');
    const ct = s.run('conntrack -L -p tcp').stdout.split('\n').find((l) => l.includes(' dport=80 '));
    expect(ct).toMatch(/^tcp {6}6 11[89] TIME_WAIT src=10\.244\.1\.4 dst=10\.96\.0\.10 sport=(\d+) dport=80 src=10\.244\.2\.3 dst=10\.244\.1\.4 sport=80 dport=\1 \[ASSURED\] mark=0 use=1$/);
  });

  it('UDP: succeeded when nothing refuses, nothing printed for an ICMP port unreachable, nothing sent without -v', () => {
    const { elapsed } = replay('udp');
    // udptest waits 3 s (or -w) while it writes, once a second.
    expect(elapsed.map((ms) => Math.round(ms / 1000))).toEqual([3, 0, 0, 0, 3, 1, 3]);
  });

  it('names: NXDOMAIN is Name or service not known; localhost is 127.0.0.1', () => {
    // `web` was a line of the recording's /etc/hosts; podnet's pods have no such file. `localhost` is tried on
    // ::1 first in a pod whose lo has IPv6 (the recording's first line); podnet is IPv4 only.
    const s = replay('names', lab(), ['nc -zv web 80', 'nc -zv localhost 80']).s;
    const local = cases.get('names')!.find((x) => x.cmd.startsWith('nc -zv localhost'))!;
    const out = s.run('kubectl exec pod-a -- nc -zv localhost 80');
    expect(out.stderr).toBe(lines(local.text).filter((l) => !l.includes('::1')).map((l) => `${l}\n`).join(''));
    expect(out.status).toBe(local.status);
  });

  it('no route: on the sender at once, at a router by its ICMP net unreachable', () => {
    const s = lab();
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=netadmin');
    expect(s.run('ip route del default').status).toBe(0);
    s.run('exit');
    replay('noroute', s);
  });

  it('argument errors: the texts and statuses netcat prints', () => { replay('args'); });

  it('no -w: the kernel\'s SYN retries at 0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67 s, and Connection timed out at 131 s', () => {
    const step = cases.get('timeout')!;
    const rec = step.find((x) => x.cmd.startsWith('nc -zv 10.244.2.7 80'))!;
    const cap = lines(step.find((x) => x.cmd.startsWith('tcpdump'))!.text);
    const measured = cap.map((l) => /^\s*(\d\d):(\d\d):(\d\d)\.(\d+)/.exec(l)!).map((m) => Number(m[2]) * 60 + Number(m[3]) + Number(`0.${m[4]}`));
    const s = lab();
    s.run('kubectl exec pod-b -- tcpdump -n -i eth0 tcp &');
    const t0 = s.sim.now();
    const out = s.run('kubectl exec pod-b -- nc -zv 10.244.2.7 80');
    const at = out.stdout.split('\n').filter((l) => /^\d\d:/.test(l)).map((l) => /^(\d\d):(\d\d):(\d\d)\.(\d+)/.exec(l)!).map((m) => Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) + Number(`0.${m[4]}`));
    const rel = at.map((x) => x - at[0]!);
    // The same number of SYNs, each at its time or up to the kernel timers' slack later (1.5 s after a minute).
    expect(rel).toHaveLength(measured.length);
    rel.forEach((x, i) => expect(measured[i]! - x).toBeGreaterThanOrEqual(-0.01));
    rel.forEach((x, i) => expect(measured[i]! - x).toBeLessThan(2));
    expect(out.stderr).toBe(rec.text);
    expect(out.status).toBe(rec.status);
    // Measured 133 to 134 s (the timers' slack again); podnet gives up at 131 s.
    const elapsed = Number(/^(\d+) s/.exec(step.find((x) => x.cmd === 'elapsed')!.text)![1]);
    const took = (s.sim.now() - t0) / 1000;
    expect(Math.round(took)).toBe(131);
    expect(elapsed - took).toBeGreaterThanOrEqual(0);
    expect(elapsed - took).toBeLessThan(4);
  });
});

describe('nc in the lab shell', () => {
  it('breaks when a DROP or a broken route is put in the way, and works again when it goes', () => {
    const s = lab();
    expect(s.run('kubectl exec pod-a -- nc -zv -w 1 10.244.2.3 80').status).toBe(0);
    s.run('kubectl debug node/node-2 -it --image=nicolaka/netshoot --profile=sysadmin');
    s.run('iptables -I FORWARD -d 10.244.2.3 -p tcp --dport 80 -j DROP');
    s.run('exit');
    const dropped = s.run('kubectl exec pod-a -- nc -zv -w 1 10.244.2.3 80');
    expect(dropped.stderr).toBe('nc: connect to 10.244.2.3 port 80 (tcp) timed out: Operation now in progress\n');
    expect(dropped.status).toBe(1);
    // UDP 53 is not dropped by that rule.
    expect(s.run('kubectl exec pod-a -- nc -zvu -w 1 10.244.2.3 53').status).toBe(0);
    s.run('kubectl debug node/node-2 -it --image=nicolaka/netshoot --profile=sysadmin');
    s.run('iptables -D FORWARD 1');
    s.run('exit');
    expect(s.run('kubectl exec pod-a -- nc -zv -w 1 10.244.2.3 80').status).toBe(0);
    // A broken route: node-1 loses its route to node-2's pods.
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=netadmin');
    expect(s.run('ip route del 10.244.2.0/24').status).toBe(0);
    s.run('exit');
    const lost = s.run('kubectl exec pod-a -- nc -zv -w 1 10.244.2.3 80');
    expect(lost.status).toBe(1);
    expect(lost.stderr).toMatch(/^nc: connect to 10\.244\.2\.3 port 80 \(tcp\) (timed out: Operation now in progress|failed: .*)\n$/);
  });

  it('runs on a node and in a pod\'s namespace entered from it; tcpdump on the listener sees the handshake', () => {
    const s = lab();
    s.run('kubectl exec pod-c -- tcpdump -n -i eth0 tcp &');
    const out = s.run('kubectl debug node/node-1 --image=nicolaka/netshoot -- nc -zv 10.244.2.3 80');
    expect(out.stderr).toBe('Connection to 10.244.2.3 80 port [tcp/http] succeeded!\n');
    const seen = out.stdout.split('\n').filter((l) => /^\d\d:/.test(l)).map(packetLine);
    expect(seen.map((l) => /Flags \[([^\]]+)\]/.exec(l)![1])).toEqual(['S', 'S.', '.', 'F.', 'F.', '.']);
    // From node-1 the source is flannel.1's address (the route to 10.244.2.0/24 leaves by it).
    expect(seen[0]).toMatch(/^IP 10\.244\.1\.0\.PORT > 10\.244\.2\.3\.80:/);
  });

  it('as its @example says: the library function on a simulator of one\'s own', () => {
    const sim = lab().sim;
    const out = nc({ sim, from: 'default/pod-a', ns: 'pod/default/pod-a', wait: (ms) => sim.advance(ms) }, ['-zv', '10.244.2.3', '80']);
    expect(out).toEqual({ stdout: '', stderr: 'Connection to 10.244.2.3 80 port [tcp/http] succeeded!\n', status: 0 });
  });

  it('refuses a host that is not one, with a typed error', () => {
    expect(() => nc(null as unknown as NcHost, ['-zv', '10.244.2.3', '80'])).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    const s = lab();
    expect(nc({ sim: s.sim, from: 'default/pod-a', ns: 'pod/default/pod-a', wait: (ms) => s.sim.advance(ms) }, 'x' as unknown as string[])).toMatchObject({ status: 1 });
  });

  it('says what it does not model: listening, carrying data, other options', () => {
    const s = lab();
    expect(s.run('kubectl exec pod-a -- nc -lk 80')).toMatchObject({ status: 1, stderr: expect.stringMatching(/^nc: not modelled by podnet: listening/) });
    expect(s.run('kubectl exec pod-a -- nc 10.244.2.3 80')).toMatchObject({ status: 1, stderr: expect.stringMatching(/^nc: not modelled by podnet: carrying data/) });
    expect(s.run('kubectl exec pod-a -- nc -zv -p 5000 10.244.2.3 80')).toMatchObject({ status: 1, stderr: expect.stringMatching(/^nc: not modelled by podnet: -p/) });
    expect(s.run('kubectl exec pod-a -- nc -zvr 10.244.2.3 80')).toMatchObject({ status: 1, stderr: expect.stringMatching(/^nc: not modelled by podnet: random port order/) });
    // glibc's getopt takes options after the operands.
    expect(s.run('kubectl exec pod-a -- nc 10.244.2.3 80 -zv')).toMatchObject({ status: 0, stderr: 'Connection to 10.244.2.3 80 port [tcp/http] succeeded!\n' });
    expect(s.run('nc -zv 10.244.2.3 80')).toMatchObject({ status: 127 });
  });
});

describe('docs/lab-shell.md, "nc: does the port answer?"', () => {
  it('the transcript is what the shell prints, in the lab it describes', () => {
    const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'lab-shell.md'), 'utf8');
    const block = /## nc: does the port answer\?[\s\S]*?```text\n([\s\S]*?)```/.exec(doc)![1]!.split('\n').slice(0, -1);
    const prompt = /^you@laptop:~\$ (.*)$/;
    const s = lab();
    let ran = 0;
    for (let i = 0; i < block.length;) {
      const m = prompt.exec(block[i]!);
      expect(m, block[i]).not.toBeNull();
      const out: string[] = [];
      for (i++; i < block.length && !prompt.test(block[i]!); i++) out.push(block[i]!);
      const r = s.run(m![1]!);
      expect((r.stdout + r.stderr).split('\n').filter((l) => l !== ''), m![1]).toEqual(out);
      ran++;
    }
    expect(ran).toBe(3);
  });
});
