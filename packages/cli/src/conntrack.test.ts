import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConntrackEntry } from '@podnet/core';
import { describe, expect, it } from 'vitest';
import { conntrackLine } from './conntrack.js';
import { onNode, POD_A_NS } from './__fixtures__/shells.js';
import type { Session } from './index.js';

/**
 * What conntrack-tools v1.4.7 printed and what the server saw (scripts/conntrack-formats.sh), in the order
 * it ran: a section per command (stdout, stderr, exit status) and the script's notes between them.
 */
type Item = { readonly note: string } | { readonly title: string; stdout: string; stderr: string; status: number };
const items = (() => {
  const text = readFileSync(join(__dirname, '__fixtures__', 'conntrack-formats.txt'), 'utf8');
  const out: Item[] = [];
  let cur: { title: string; stdout: string; stderr: string; status: number } | null = null;
  let inErr = false;
  for (const line of text.split('\n')) {
    const note = /^## NOTE (.*)$/.exec(line);
    if (note) { out.push({ note: note[1]! }); continue; }
    const m = /^== (.*)$/.exec(line);
    if (m) { cur = { title: m[1]!, stdout: '', stderr: '', status: -1 }; out.push(cur); inErr = false; continue; }
    const rc = /^rc=(\d+)$/.exec(line);
    if (rc && cur) { cur.status = Number(rc[1]); cur = null; continue; }
    if (cur === null) continue;
    if (line === '-- stderr') { inErr = true; continue; }
    if (inErr) cur.stderr += `${line}\n`;
    else cur.stdout += `${line}\n`;
  }
  return out;
})();
const sections = items.filter((i): i is Exclude<Item, { note: string }> => 'title' in i);
const section = (title: string, nth = 0): Exclude<Item, { note: string }> => sections.filter((s) => s.title === title)[nth]!;

/**
 * The recording's addresses as the seed lab's: the client 10.0.1.2 is pod-a (node-1), the server 10.0.2.2
 * is pod-c (node-2), and the router's address toward the server, which MASQUERADE took, is node-1's
 * flannel.1 (10.244.1.0); its MASQUERADE `-o to-s` is `-o flannel.1` there.
 */
const seedAddrs = (t: string): string => t.replaceAll('10.0.1.2', '10.244.1.4').replaceAll('10.0.2.2', '10.244.2.3').replaceAll('10.0.2.1', '10.244.1.0');

/** An entry as a listing line gives it, seen `now`, whose seconds left print as the line's. */
function entryOf(line: string, now: number): ConntrackEntry {
  const m = /^(?:ipv4 {5}2 )?(\w+) +(\d+) (\d+) (?:SYN_SENT )?src=(\S+) dst=(\S+) (.*?) (\[UNREPLIED\] )?src=(\S+) dst=(\S+) .*? (\[ASSURED\] )?mark=0 use=\d$/.exec(line)!;
  const ip = (s: string): number => s.split('.').reduce((a, b) => a * 256 + Number(b), 0);
  const id = /id=(\d+)/.exec(m[6]!);
  const ports = /sport=(\d+) dport=(\d+)/.exec(m[6]!);
  return {
    protocol: Number(m[2]), origSrc: ip(m[4]!), origDst: ip(m[5]!), replySrc: ip(m[8]!), replyDst: ip(m[9]!),
    replyL4: id ? `echo ${id[1]}` : `${ports![2]}>${ports![1]}`, created: 0, expires: now + Number(m[3]) * 1000 + 500,
    replied: m[7] === undefined, assured: m[10] !== undefined,
  };
}

describe('conntrack -L prints entries as conntrack-tools v1.4.7 did, replayed from the recording', () => {
  it('every ICMP, UDP and SYN_SENT TCP line of the recording (UNREPLIED, ASSURED, use=2, -o extended) comes out as printed', () => {
    let compared = 0;
    for (const s of sections) {
      for (const line of s.stdout.split('\n')) {
        if (!/^(ipv4 {5}2 )?(icmp|udp|tcp) /.test(line)) continue;
        // podnet has no sockets: its TCP flows are SYNs nobody answers (ESTABLISHED and TIME_WAIT are not modelled).
        if (/ (ESTABLISHED|TIME_WAIT) /.test(line)) continue;
        expect(conntrackLine(entryOf(line, 7000), 7000, line.startsWith('ipv4')), s.title).toBe(line);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(40);
  });

  it('refuses bad arguments with conntrack\'s words and exit status, and prints its help without a command', () => {
    const node = onNode();
    const titles = ['conntrack', 'conntrack -L -p foo', 'conntrack -L -s', 'conntrack -X', 'conntrack -L --bogus', 'conntrack -D', 'conntrack -L extra', 'conntrack -D -x', 'conntrack -L -n -g', 'conntrack -L -n 10.0.2.1'];
    for (const t of titles) {
      const s = section(t);
      const r = node.run(t);
      expect({ stdout: r.stdout, stderr: r.stderr, status: r.status }, t).toEqual({ stdout: s.stdout, stderr: s.stderr, status: s.status });
    }
    // An empty table: -L shows none, -F empties it, -D deletes none (exit status 1).
    expect(node.run('conntrack -F')).toMatchObject({ stdout: '', stderr: section('conntrack -F').stderr, status: 0 });
    expect(node.run('conntrack -D -s 10.0.9.9')).toMatchObject({ stdout: '', stderr: section('conntrack -D -s 10.0.9.9').stderr, status: 1 });
  });

  it('without CAP_NET_ADMIN (kubectl debug without a privileged profile) ctnetlink refuses; -F says it emptied the table first', () => {
    for (const t of ['conntrack -L', 'conntrack -F']) {
      const s = section(`no CAP_NET_ADMIN: ${t}`);
      const r = onNode(false).run(t);
      expect({ stdout: r.stdout, stderr: r.stderr, status: r.status }, t).toEqual({ stdout: s.stdout, stderr: s.stderr, status: s.status });
    }
  });
});

describe('a flow keeps the NAT its first packet was given until its entry times out or is deleted (measured in pnct31- namespaces)', () => {
  /** What the recording's server saw, in order ("server saw" notes), in the seed lab's addresses. */
  const seen = items.filter((i): i is { note: string } => 'note' in i && i.note.startsWith('server saw: ')).map((i) => seedAddrs(i.note.slice(12)));
  /** The lines a command printed, sorted (the kernel lists in its hash table's order), seconds left as `T`. */
  const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '').map((l) => l.replace(/^(\w+ +\d+) \d+ /, '$1 T ')).sort();

  it('the MASQUERADE deleted while flanneld\'s keeps conntrack in use: the same identifier stays masqueraded, a new one is not, and conntrack -D ends it', () => {
    const node = onNode();
    // A MASQUERADE of node-1's pods toward flannel.1, ahead of flanneld's RETURN for pod-to-pod traffic
    // (the recording's kept DNAT is flanneld's MASQUERADE here: a rule that keeps conntrack in use).
    node.run('iptables -t nat -I POSTROUTING 1 -s 10.244.1.0/24 -o flannel.1 -j MASQUERADE');
    const at = seen.indexOf('IP 10.244.1.0 > 10.244.2.3: ICMP echo request, id 4662');
    expect(pingFrom(node, 4662)).toEqual(seen.slice(at, at + 2));
    node.run('iptables -t nat -D POSTROUTING -s 10.244.1.0/24 -o flannel.1 -j MASQUERADE');
    node.run('sleep 2');
    expect(pingFrom(node, 4662)).toEqual(seen.slice(at + 2, at + 4));
    expect(pingFrom(node, 4663)).toEqual(seen.slice(at + 4, at + 6));
    // The masqueraded flow is listed; podnet does not track the untranslated 4663 (the kernel does, with
    // `dst=10.0.1.2` in its reply tuple), nor the recording's older pings.
    const want = lines(seedAddrs(sections.find((x) => x.title === 'conntrack -L -p icmp' && x.stdout.includes('id=4662'))!.stdout)).filter((l) => l.includes('id=4662'));
    expect(lines(node.run('conntrack -L -p icmp').stdout)).toEqual(want);
    expect(lines(node.run('conntrack -L -p icmp --src-nat').stdout)).toEqual(want);
    expect(lines(node.run('conntrack -L -p icmp -s 10.244.1.0/24').stdout)).toEqual(want);
    expect(lines(node.run('conntrack -L -p icmp -n 10.244.1.0').stdout)).toEqual(want);
    expect(node.run('conntrack -L -p icmp -s 10.244.1').stdout).toBe('');
    expect(node.run('conntrack -L -p udp').stdout).toBe('');
    // conntrack -D: the flow's next packet is a first packet again, and no rule of ours masquerades it now.
    const d = node.run('conntrack -D -p icmp -s 10.244.1.4 -d 10.244.2.3');
    expect(lines(d.stdout)).toEqual(want);
    expect(d.stderr).toBe('conntrack v1.4.7 (conntrack-tools): 1 flow entries have been deleted.\n');
    expect(pingFrom(node, 4662)).toEqual(seen.slice(at + 4, at + 6).map((l) => l.replace('4663', '4662')));
    expect(node.run('conntrack -L').stdout).toBe('');
  });

  it('an entry counts down from 30 s, each packet starts it again, and once it expires the next ping is a new flow', () => {
    const node = onNode();
    node.run('iptables -t nat -I POSTROUTING 1 -s 10.244.1.0/24 -o flannel.1 -j MASQUERADE');
    pingFrom(node, 4660);
    // The lab shell's ping -c 1 takes a second (it paces pings 1 s apart): 28 left, not the recording's 29.
    const left = (): number => Number(/^icmp +1 (\d+) /.exec(node.run('conntrack -L').stdout)?.[1] ?? -1);
    expect(left()).toBe(28);
    node.run('sleep 5');
    // The recording: 29, then 24 after `sleep 5`.
    expect(left()).toBe(23);
    pingFrom(node, 4660);
    expect(left()).toBe(28);
    node.run('iptables -t nat -D POSTROUTING 1');
    node.run('sleep 29');
    expect(left()).toBe(-1);
    expect(node.run('conntrack -L').stderr).toBe(section('conntrack -L').stderr);
    expect(pingFrom(node, 4660)).toEqual(['IP 10.244.1.4 > 10.244.2.3: ICMP echo request, id 4660', 'IP 10.244.2.3 > 10.244.1.4: ICMP echo reply, id 4660']);
  });

  it('conntrack -D and -F are changes undo takes back; a listing changes nothing', () => {
    const node = onNode();
    node.run('iptables -t nat -I POSTROUTING 1 -s 10.244.1.0/24 -o flannel.1 -j MASQUERADE');
    pingFrom(node, 4660);
    pingFrom(node, 4661);
    const before = node.sim.state;
    node.run('conntrack -L');
    expect(node.sim.state).toBe(before);
    expect(node.run('conntrack -D -p udp').status).toBe(1);
    expect(node.sim.state).toBe(before);
    node.run('conntrack -F');
    expect(node.run('conntrack -L').stdout).toBe('');
    node.sim.undo();
    expect(node.sim.state).toBe(before);
    expect(lines(node.run('conntrack -L').stdout)).toHaveLength(2);
  });
});

/** pod-a (in its namespace, from node-1's shell) pings pod-c with identifier `id`: what tcpdump on node-1's flannel.1 (what pod-c receives) showed. */
function pingFrom(node: Session, id: number): string[] {
  node.run('tcpdump -n -i flannel.1 icmp &');
  const out = node.run(`ip netns exec ${POD_A_NS} ping -c1 -e ${id} 10.244.2.3`);
  node.run('kill %1');
  return out.stdout.split('\n').filter((l) => l.includes('ICMP echo')).map((l) => l.replace(/^[\d:.]+ /, '').replace(/, seq.*/, ''));
}
