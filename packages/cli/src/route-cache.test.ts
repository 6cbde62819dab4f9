import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { POD_A_NS } from './__fixtures__/shells.js';
import { createSession, type Session } from './index.js';

/**
 * What real iproute2 6.1 printed on Linux 6.18 (scripts/route-cache-formats.sh): per state (`### …`), per
 * command (`== ip …`), its output and exit status. The recording's sender A (10.0.0.2) has its default via R
 * (10.0.0.1), which reaches B (10.0.1.2) over a 1300-byte link and redirects A to R2 (10.0.0.3) for C
 * (10.0.2.2).
 */
const real = (() => {
  const text = readFileSync(join(__dirname, '__fixtures__', 'route-cache-formats.txt'), 'utf8');
  const out = new Map<string, { text: string; status: number }>();
  let state = '';
  let cmd: string | null = null;
  let lines: string[] = [];
  for (const line of text.split('\n')) {
    const s = /^### (.*)$/.exec(line);
    const c = /^== (.*)$/.exec(line);
    const rc = /^rc=(\d+)$/.exec(line);
    if (s) { state = s[1]!; cmd = null; }
    else if (c) { cmd = c[1]!; lines = []; }
    else if (rc && cmd !== null) {
      const key = `${state}|${cmd}`;
      if (!out.has(key)) out.set(key, { text: lines.map((l) => `${l}\n`).join(''), status: Number(rc[1]) });
      cmd = null;
    } else if (cmd !== null) lines.push(line);
  }
  return out;
})();

function kernel(state: string, cmd: string): { text: string; status: number } {
  const r = real.get(`${state}|${cmd}`);
  if (r === undefined) throw new Error(`not in the recording: ${state} / ${cmd}`);
  return r;
}

/**
 * The recording's addresses as the seed lab's: B (the path-MTU destination) is pod-c 10.244.2.3 behind
 * node-1's cni0 10.244.1.1 (R), C (the redirected destination) pod-b 10.244.1.5, which the redirect makes
 * its own gateway (R2); the path MTU 1300 is flannel.1's 1350.
 */
function asLab(text: string): string {
  return text
    .replace(/10\.0\.1\.0\/24/g, '10.244.2.0/24').replace(/10\.0\.1\.2\b/g, '10.244.2.3').replace(/10\.0\.0\.1\b/g, '10.244.1.1').replace(/10\.0\.0\.2\b/g, '10.244.1.4')
    .replace(/10\.0\.2\.2\b/g, '10.244.1.5').replace(/10\.0\.0\.3\b/g, '10.244.1.5').replace(/mtu 1300/g, 'mtu 1350');
}

/**
 * Output as a sorted list of its two-line records (`DST [via GW] dev DEV ` / `    cache …`), the expiry's
 * seconds left out: the kernel orders one next hop's exceptions by a hash of the destination, and the
 * seconds depend on how long the commands took.
 */
function records(text: string): string[] {
  const lines = text.replace(/expires \d+sec/g, 'expires Nsec').split('\n').filter((l) => l !== '');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) out.push(lines[i]!.startsWith('    ') || i + 1 >= lines.length ? lines[i]! : `${lines[i]}\n${lines[++i]}`);
  return out.sort();
}

/**
 * Lab 4 (mtu-black-hole) fixed on node-1 (flannel.1 at 1350), in a root shell on node-1 (chroot /host), with
 * pod-a's routes as the recording's sender had them: its `10.244.0.0/16 via 10.244.1.1` deleted, leaving the
 * default through the same gateway (the two share a next hop, so the kernel would list each exception twice).
 */
function mtuLab(): Session {
  const s = createSession();
  s.run('lab start 4');
  s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin');
  s.run('chroot /host');
  expect(s.run('ip link set flannel.1 mtu 1350').status).toBe(0);
  expect(inPod(s, 'ip route del 10.244.0.0/16').status).toBe(0);
  expect(inPod(s, 'ip route').text).toBe('default via 10.244.1.1 dev eth0\n10.244.1.0/24 dev eth0 proto kernel scope link src 10.244.1.4\n');
  return s;
}

/** `ip …` in pod-a's namespace, from the root shell on node-1. */
function inPod(s: Session, cmd: string): { text: string; status: number } {
  const o = s.run(`ip netns exec ${POD_A_NS} ${cmd}`);
  return { text: o.stdout + o.stderr, status: o.status };
}

/** The recording's command in pod-a (its addresses as the lab's) and in the recording: records and exit statuses. */
function both(s: Session, state: string, cmd: string): [unknown, unknown] {
  const ours = inPod(s, asLab(cmd));
  const theirs = kernel(state, cmd);
  return [{ records: records(ours.text), status: ours.status }, { records: records(asLab(theirs.text)), status: theirs.status }];
}

/** A big ping with DF from pod-a to pod-c: the first one learns node-1's path MTU (Frag needed). */
const BIG = 'ping -M do -s 1400 -c1 10.244.2.3';

describe('ip route show cache / flush cache replay what the kernel printed (route-cache-formats.txt)', () => {
  it('no exceptions: show cache, a destination, -4, list print nothing; route get shows a bare `cache `', () => {
    const s = mtuLab();
    for (const cmd of ['route show cache', 'route show cache 10.0.1.2', '-4 route show cache', 'route list cache', 'route get 10.0.1.2']) {
      const [ours, theirs] = both(s, 'none', `ip ${cmd}`);
      expect(ours, cmd).toEqual(theirs);
    }
  });

  it('a path MTU via a gateway: not listed until a lookup used it, then in every spelling; a /24 selects nothing', () => {
    const s = mtuLab();
    expect(inPod(s, BIG).text).toContain('From 10.244.1.1 icmp_seq=1 Frag needed and DF set (mtu = 1350)');
    // Learnt by the packet that met the small MTU; nothing has looked it up since: the kernel lists nothing.
    for (const cmd of ['route show cache', 'route show cache 10.0.1.2']) {
      const [ours, theirs] = both(s, 'one path MTU, learnt, not yet looked up', `ip ${cmd}`);
      expect(ours, cmd).toEqual(theirs);
    }
    // `ip route get` looks it up, as in the recording: from then on it is listed.
    expect(both(s, 'one path MTU, learnt, not yet looked up', 'ip route get 10.0.1.2')[0]).toEqual(both(s, 'one path MTU, learnt, not yet looked up', 'ip route get 10.0.1.2')[1]);
    for (const cmd of ['route show cache', 'route show cache 10.0.1.2', 'route show cache 10.0.2.2', 'route show cache 10.0.1.0/24', '-4 route show cache', 'route list cache', 'r s cache', 'route get 10.0.1.2']) {
      const [ours, theirs] = both(s, 'one path MTU, via a gateway', `ip ${cmd}`);
      expect(ours, cmd).toEqual(theirs);
    }
    expect(inPod(s, 'ip route show cache').text).toMatch(/^10\.244\.2\.3 via 10\.244\.1\.1 dev eth0 \n {4}cache expires 59\dsec mtu 1350 \n$/);
  });

  it('a path MTU on a route without a gateway: `DST dev DEV`, no via (node-1 answers ARP for pod-c: proxy_arp)', () => {
    const s = mtuLab();
    expect(s.run('sysctl -w net.ipv4.conf.cni0.proxy_arp=1').status).toBe(0);
    expect(inPod(s, 'ip route add 10.244.2.0/24 dev eth0').status).toBe(0);
    expect(inPod(s, BIG).text).toContain('From 10.244.1.1 icmp_seq=1 Frag needed and DF set (mtu = 1350)');
    for (const cmd of ['route show cache', 'route show cache 10.0.1.2', 'route get 10.0.1.2']) {
      const [ours, theirs] = both(s, 'one path MTU, route without a gateway, learnt', `ip ${cmd}`);
      expect(ours, cmd).toEqual(theirs);
    }
    for (const cmd of ['route show cache', 'route show cache 10.0.1.2']) {
      const [ours, theirs] = both(s, 'one path MTU, route without a gateway', `ip ${cmd}`);
      expect(ours, cmd).toEqual(theirs);
    }
    // Two more routes with the same next hop (a dev route beside it and one inside the pod's subnet): the
    // kernel lists the exception with each of them.
    expect(inPod(s, 'ip route add 10.244.7.0/24 dev eth0').status).toBe(0);
    expect(inPod(s, 'ip route add 10.244.1.128/25 dev eth0').status).toBe(0);
    for (const cmd of ['route show cache', 'route show cache 10.0.1.2']) {
      const [ours, theirs] = both(s, 'two more routes on the same next hop', `ip ${cmd}`);
      expect(ours, cmd).toEqual(theirs);
    }
    expect(records(inPod(s, 'ip route show cache').text)).toHaveLength(3);
  });

  it('a pod\'s routes (default and the cluster CIDR via one gateway: one next hop) list the exception once each', () => {
    const s = mtuLab();
    expect(inPod(s, 'ip route add 10.244.0.0/16 via 10.244.1.1 dev eth0').status).toBe(0);
    expect(inPod(s, 'ping -M do -s 1400 -c2 10.244.2.3').text).toContain('ping: local error: message too long, mtu=1350');
    for (const cmd of ['route show cache', 'route show cache 10.0.1.2']) {
      const [ours, theirs] = both(s, 'default and 10.0.0.0/8 via one gateway', `ip ${cmd}`);
      expect(ours, cmd).toEqual(theirs);
    }
    expect(records(inPod(s, 'ip route show cache').text)).toHaveLength(2);
  });

  it('a redirect beside the path MTU: two destinations, the redirected one `via` its new gateway, listed once looked up', () => {
    const s = mtuLab();
    inPod(s, BIG);
    inPod(s, BIG);
    // pod-a's subnet route deleted: pod-b 10.244.1.5 goes by the default, and node-1 (cni0) redirects it.
    expect(inPod(s, 'ip route del 10.244.1.0/24 dev eth0').status).toBe(0);
    // podnet's node-1 redirects the second echo (the kernel, in the recording, the first): learnt by it,
    // not looked up since.
    expect(inPod(s, 'ping -c2 10.244.1.5').text).toContain('From 10.244.1.1: icmp_seq=2 Redirect Host(New nexthop: 10.244.1.5)');
    for (const cmd of ['route show cache', 'route show cache 10.0.2.2']) {
      const [ours, theirs] = both(s, 'a redirect, learnt, not yet looked up', `ip ${cmd}`);
      expect(ours, cmd).toEqual(theirs);
    }
    inPod(s, 'ping -c1 10.244.1.5');
    const state = 'a redirect and a path MTU, two destinations';
    for (const cmd of ['route show cache', 'route show cache 10.0.2.2', 'route show cache 10.0.1.2', 'route get 10.0.2.2']) {
      const [ours, theirs] = both(s, state, `ip ${cmd}`);
      expect(ours, cmd).toEqual(theirs);
    }
  });

  it('flush cache drops them all (the kernel does, through /proc/sys/net/ipv4/route/flush) and prints nothing; the next big ping learns the MTU again', () => {
    const s = mtuLab();
    inPod(s, BIG);
    inPod(s, BIG);
    inPod(s, 'ip route del 10.244.1.0/24 dev eth0');
    inPod(s, 'ping -c2 10.244.1.5');
    inPod(s, 'ping -c1 10.244.1.5');
    expect(records(inPod(s, 'ip route show cache').text)).toHaveLength(2);
    const [ours, theirs] = both(s, 'flush', 'ip route flush cache');
    expect(ours).toEqual(theirs);
    const state = 'after ip route flush cache';
    for (const cmd of ['route show cache', 'route show cache 10.0.2.2', 'route get 10.0.1.2', 'route get 10.0.2.2']) {
      const [o, t] = both(s, state, `ip ${cmd}`);
      expect(o, cmd).toEqual(t);
    }
    expect(both(s, state, 'ip -4 route flush cache')[0]).toEqual(both(s, state, 'ip -4 route flush cache')[1]);
    // A destination after `cache` does not narrow it (iproute2 writes the same file): rc 0, nothing printed.
    inPod(s, 'ping -M do -s 1400 -c2 10.244.2.3');
    expect(records(inPod(s, 'ip route show cache').text)).toHaveLength(1);
    expect(both(s, 'errors', 'ip route flush cache 10.0.1.2')[0]).toEqual(both(s, 'errors', 'ip route flush cache 10.0.1.2')[1]);
    expect(inPod(s, 'ip route show cache').text).toBe('');
    expect(inPod(s, BIG).text).toContain('Frag needed and DF set (mtu = 1350)');
    // The recording's ping after the flush met the router's MTU again too.
    expect(real.has('flush|ip route flush cache')).toBe(true);
    expect(readFileSync(join(__dirname, '__fixtures__', 'route-cache-formats.txt'), 'utf8')).toMatch(/after the flush\nFrom 10\.0\.0\.1 icmp_seq=1 Frag needed and DF set \(mtu = 1300\)/);
  });

  it('the route.flushCache action drops one namespace\'s exceptions only, and the shell\'s flush is that action', () => {
    const s = mtuLab();
    inPod(s, BIG);
    const pmtu = () => Object.keys(s.sim.pod('pod-a').netns!.pmtu).length;
    expect(pmtu()).toBe(1);
    s.sim.apply({ op: 'route.flushCache', ns: 'pod/default/pod-b' });
    expect(pmtu()).toBe(1);
    expect(() => s.sim.apply({ op: 'route.flushCache', ns: 'pod/default/nope' })).toThrow(/no network namespace/);
    expect(inPod(s, 'ip route flush cache')).toEqual({ text: '', status: 0 });
    expect(pmtu()).toBe(0);
  });

  it('a wrong selector is refused as iproute2 refuses it', () => {
    const s = mtuLab();
    const [ours, theirs] = both(s, 'errors', 'ip route show cache nosuch');
    expect(ours).toEqual(theirs);
    expect(inPod(s, 'ip route show cache nosuch').text).toBe('Error: any valid prefix is expected rather than "nosuch".\n');
  });
});

describe('ip route show cache in a lab session', () => {
  it('lab 4 fixed: after a big ping with DF from pod-a (two packets: the second uses what the first learnt) it lists the path MTU', () => {
    const s = createSession();
    s.run('lab start 4');
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin');
    s.run('ip link set flannel.1 mtu 1350');
    s.run('exit');
    expect(s.run('kubectl exec pod-a -- ip route show cache')).toEqual({ stdout: '', stderr: '', status: 0 });
    expect(s.run('kubectl exec pod-a -- ping -c 2 -s 1400 -M do 10.244.2.3').stdout).toContain('Frag needed and DF set (mtu = 1350)');
    // pod-a's default and 10.244.0.0/16 both go via 10.244.1.1 with the same attributes: one next hop,
    // whose exceptions the kernel dumps with each route (measured: the same with a recorded sender whose default and 10.0.0.0/8 go via one gateway).
    const shown = s.run('kubectl exec pod-a -- ip route show cache');
    expect(shown.stdout).toMatch(/^(10\.244\.2\.3 via 10\.244\.1\.1 dev eth0 \n {4}cache expires 59\dsec mtu 1350 \n){2}$/);
    expect(s.run('kubectl exec pod-a -- ip r s cache 10.244.2.3').stdout).toBe(shown.stdout);
    expect(s.run('kubectl exec pod-a -- ip route show cache 10.244.2.4').stdout).toBe('');
    // A pod may not write /proc/sys: iproute2 says so, exits 0, and the exception stays (measured with
    // /proc/sys bind-mounted read-only, as a container has it).
    expect(s.run('kubectl exec pod-a -- ip route flush cache')).toEqual({ stdout: '', stderr: 'Cannot open "/proc/sys/net/ipv4/route/flush": Read-only file system\n', status: 0 });
    expect(s.run('kubectl exec pod-a -- ip route show cache').stdout).toBe(shown.stdout);
  });

  it('an exception past its expiry (600 s for a path MTU) is not listed, as the kernel skips it', () => {
    const s = createSession();
    s.run('lab start 4');
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin');
    s.run('ip link set flannel.1 mtu 1350');
    s.run('exit');
    s.run('kubectl exec pod-a -- ping -c 2 -s 1400 -M do 10.244.2.3');
    expect(s.run('kubectl exec pod-a -- ip route show cache').stdout).not.toBe('');
    s.sim.advance(595_000);
    expect(s.run('kubectl exec pod-a -- ip route show cache').stdout).toMatch(/cache expires [1-5]sec mtu 1350 \n$/);
    s.sim.advance(6_000);
    expect(s.run('kubectl exec pod-a -- ip route show cache')).toEqual({ stdout: '', stderr: '', status: 0 });
    expect(s.run('kubectl exec pod-a -- ip route get 10.244.2.3').stdout).toBe('10.244.2.3 via 10.244.1.1 dev eth0 src 10.244.1.4 uid 0 \n    cache \n');
  });
});
