import { describe, expect, it } from 'vitest';
import { recordedCases } from './__fixtures__/recording.js';
import { POD_A_NS } from './__fixtures__/shells.js';
import { createSession } from './index.js';

/**
 * What the kernel did with secondary addresses (Linux 6.18, iproute2 6.1; scripts/secondary-addr-formats.sh):
 * per case (`### (x) …`), the commands (`== ip …` in namespace A, `== sysctl …` there, `== peer …` at the other
 * end of d1's veth) in order, each with its output and exit status.
 */
const cases = recordedCases('secondary-addr-formats.txt');

/**
 * The recording's namespace A as node-1, d1 as cni0 (192.0.2.1/24 → 10.244.1.1/24) and its peer B as pod-a
 * (192.0.2.2 → 10.244.1.4, on cni0's bridge). node-1's default route is deleted, as A had none; the other
 * prefixes of the recording (10.0/8 scope host, here 9/8; 10.1–10.3, 198.51.100/24, 203.0.113/24) are not the lab's.
 * `fresh` in the script made a new pair per case; here each case starts from a new lab, promote_secondaries
 * set as the case's `fresh 0|1` set it (the lab's default is 1: systemd's, Sysctls.promoteSecondaries).
 */
function place(promote: 0 | 1 | null) {
  const s = createSession();
  s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin');
  s.run('chroot /host');
  expect(s.run('ip route del default').status).toBe(0);
  if (promote !== null) expect(s.run(`sysctl -w net.ipv4.conf.all.promote_secondaries=${promote}`).status).toBe(0);
  const map = (t: string): string => t
    // 10.0.0.1/8 scope host as 9.0.0.1/8: the lab's 10.244.1.0/24 lies inside 10/8, and the recording's order of
    // 10/8 before 192.0.2/24 is 9/8's before 10.244.1/24.
    .replace(/\b10\.0\.0\.([01])\b/g, '9.0.0.$1').replace(/\b10\.255\.255\.255\b/g, '9.255.255.255')
    .replace(/192\.0\.2\.(\d+)/g, (_, o: string) => `10.244.1.${OCTETS[o] ?? o}`)
    .replace(/\bd1\b/g, 'cni0');
  const run = (cmd: string): { text: string; status: number } => {
    const o = s.run(cmd);
    return { text: o.stdout + o.stderr, status: o.status };
  };
  return { s, run, map };
}

/** The recording's last octets in 192.0.2.0/24 as the lab's in 10.244.1.0/24 (pod-a is .4, pod-b .5; .2 is pod-a, B). */
const OCTETS: Record<string, string> = { 2: '4', 5: '55', 6: '56', 7: '77', 9: '99' };

/** The cases' promote_secondaries, as their `fresh` set it (null: the namespace's own). */
const PROMOTE: Record<string, 0 | 1 | null> = { a: null, b: null, c: 0, d: 1, e: 0, f: 0, g: 1 };

function lines(t: string): string[] {
  return t.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
}

/**
 * Replays case `id`: every command's exit status, and of what it prints what podnet models — `ip route`'s
 * routes on cni0 (the lab's other devices have routes of their own), the local table's routes on cni0, `ip
 * route get` whole, error messages whole, the `inet` lines of `ip -4 addr show dev` in order (iproute2 prints
 * `brd` only when asked for, as the CNI plugins do; podnet for every global address: compared without it).
 * Of the recording's `sysctl` lines, the value of `all` (a device's own is 0 in both).
 */
function replay(id: string, from = 0, to = Infinity): void {
  const steps = cases.get(id);
  if (steps === undefined) throw new Error(`no case (${id}) in the recording`);
    const { run, map } = place(PROMOTE[id]!);
  for (const { cmd, text, status } of steps.slice(from, to)) {
    const line = map(cmd);
    let ours: { text: string; status: number };
    if (line.startsWith('peer ping ')) ours = run(`ip netns exec ${POD_A_NS} ping -c 1 -W 1 ${line.slice(10)}`);
    else if (line.startsWith('peer ip neigh')) ours = run(`ip netns exec ${POD_A_NS} ip neigh show dev eth0`);
    else if (line.startsWith('sysctl ')) ours = run(`sysctl -n ${line.slice(7)}`);
    else ours = run(line);
    const theirs = map(text);
    expect(ours.status, `(${id}) ${line}: ${ours.text}`).toBe(status);
    if (line.startsWith('peer ping')) continue;
    const words = cmd.split(' ').slice(1);
    let pick: (t: string) => string[];
    if (words[0] === 'route' && (words.length === 1 || words[1] === 'show')) pick = (t) => lines(t).filter((l) => l.includes(' dev cni0'));
    else if (words[0] === '-4' && words[1] === 'addr') pick = (t) => lines(t).filter((l) => l.startsWith('    inet ')).map((l) => l.replace(/ brd \S+/, ''));
    else if (line.startsWith('peer ip neigh')) pick = (t) => lines(t).map((l) => l.replace(/lladdr \S+/, 'lladdr MAC').replace(/ dev eth0/, ''));
    else pick = lines;
    expect(pick(ours.text), `(${id}) ${line}`).toEqual(pick(theirs));
  }
}

describe('secondary addresses replay the kernel (secondary-addr-formats.txt)', () => {
  it('(a) a second address of the prefix is secondary: no prefix route, the primary as source, answered by ARP; errors', () => replay('a'));
  it('(b) another length, prefix or scope makes a primary, placed by scope; secondaries at the end', () => replay('b'));
  it('(c) promote_secondaries 0: deleting the primary deletes its secondaries and the routes from them', () => replay('c'));
  it('(d) promote_secondaries 1: the first secondary becomes primary, moves after the last primary, gets the prefix route', () => replay('d'));
  it('(e) deleting a secondary touches nothing else', () => replay('e'));
  it('(f) down and up: only the primary\'s prefix route comes back', () => replay('f'));
  it('(g) promotion brings back a deleted prefix route; a noprefixroute primary\'s secondaries get none', () => {
    replay('g', 0, 7);
    const steps = cases.get('g')!;
    // The second half starts from a fresh pair with promote 0.
    PROMOTE['g2'] = 0;
    cases.set('g2', steps.slice(7));
    replay('g2');
  });
});

describe('secondary addresses: validation and the sysctl', () => {
  it('a secondary with another scope is refused with the kernel\'s words, and nothing changes', () => {
    const { run } = place(null);
    expect(run('ip addr add 10.244.1.50/24 dev cni0').status).toBe(0);
    const before = run('ip -4 addr show dev cni0').text;
    const r = run('ip addr add 10.244.1.51/24 dev cni0 scope link');
    expect(r.text).toContain('Error: ipv4: Invalid scope value.');
    expect(run('ip -4 addr show dev cni0').text).toBe(before);
  });
  it('promote_secondaries reads 1 for all and 0 for a device by default, and takes any int (sysctl-formats.txt)', () => {
    const { run } = place(null);
    expect(run('sysctl net.ipv4.conf.all.promote_secondaries').text).toBe('net.ipv4.conf.all.promote_secondaries = 1\n');
    expect(run('sysctl -n net.ipv4.conf.cni0.promote_secondaries').text).toBe('0\n');
    // The kernel takes any int (measured: 5 and -1, sysctl-formats.sh case b) and refuses what is not one.
    expect(run('sysctl -w net.ipv4.conf.all.promote_secondaries=1x').status).toBe(1);
    expect(run('sysctl -w net.ipv4.conf.all.promote_secondaries=2').status).toBe(0);
    expect(run('sysctl -n net.ipv4.conf.all.promote_secondaries').text).toBe('2\n');
    expect(run('sysctl -w net.ipv4.conf.cni0.promote_secondaries=1').status).toBe(0);
    expect(run('sysctl -n net.ipv4.conf.cni0.promote_secondaries').text).toBe('1\n');
  });
  it('a device\'s own promote_secondaries 1 promotes with all at 0', () => {
    const { run } = place(0);
    run('sysctl -w net.ipv4.conf.cni0.promote_secondaries=1');
    run('ip addr add 10.244.1.50/24 dev cni0');
    run('ip addr del 10.244.1.1/24 dev cni0');
    expect(lines(run('ip -4 addr show dev cni0').text).filter((l) => l.startsWith('    inet')).map((l) => l.replace(/ brd \S+/, ''))).toEqual(['    inet 10.244.1.50/24 scope global cni0']);
    expect(run('ip route').text).toContain('10.244.1.0/24 dev cni0 proto kernel scope link src 10.244.1.50');
  });
});
