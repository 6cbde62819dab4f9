/**
 * `bridge fdb add | append | replace | del` and `bridge fdb show [dev X] [br X]` in the lab shell, replayed
 * against what Linux 6.18 and iproute2 6.1 did on the seed lab built by hand (scripts/bridge-fdb-formats.sh →
 * __fixtures__/bridge-fdb-formats.txt), and what forwarding then does.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { createSession, type Session } from './index.js';

interface Section { readonly phase: string; readonly title: string; readonly lines: readonly string[] }

/** The fixture's sections in order, each under the `####` phase it was recorded in. */
const sections: Section[] = (() => {
  const out: { phase: string; title: string; lines: string[] }[] = [];
  let phase = '';
  let cur: string[] | null = null;
  for (const line of readFileSync(join(__dirname, '__fixtures__', 'bridge-fdb-formats.txt'), 'utf8').split('\n')) {
    if (line.startsWith('#### ')) {
      phase = line.slice(5);
      cur = null;
    } else if (line.startsWith('== ')) out.push({ phase, title: line.slice(3), lines: (cur = []) });
    else if (line !== '' && cur !== null) cur.push(line);
  }
  return out;
})();

/**
 * A kernel row as podnet prints it: IPv6's `33:33:…` groups are not modelled (podnet is IPv4 only), and
 * podnet ends a learned (`dynamic`) row without iproute2's trailing space.
 */
const norm = (lines: readonly string[]): string[] => lines.filter((l) => !l.includes('33:33:')).map((l) => l.trimEnd());

/** A root shell on node-1 (CAP_NET_ADMIN) of a fresh seed lab. */
function node1(): Session {
  const s = createSession();
  s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin');
  s.run('chroot /host');
  return s;
}

/** A recorded command's output lines (stdout and stderr, as the script captured them) and its status. */
function recorded(phase: string, title: string, nth = 0): { out: string[]; rc: number } {
  const x = sections.filter((y) => y.phase.startsWith(phase) && y.title === title)[nth];
  if (!x) throw new Error(`no section "${title}" (#${nth}) in phase "${phase}"`);
  return { out: norm(x.lines.slice(0, -1)), rc: Number(/^rc=(\d+)$/.exec(x.lines[x.lines.length - 1]!)![1]) };
}

const lines = (r: { stdout: string; stderr: string }): string[] => (r.stdout + r.stderr).split('\n').filter((l) => l !== '');

const PA = 'veth19fd34b4';
const PB = 'veth1cfd396d';
const MB = '4a:4c:bf:0c:45:a0';
const PING_PB = 'kubectl exec pod-a -- ping -c 1 -W 1 10.244.1.5';

/**
 * The script's commands podnet answers otherwise, each with why (its title and which occurrence of it): a
 * second dst for 00:00:00:00:00:00 (podnet keeps one dst per MAC on a VXLAN device, and says so), the two
 * commands whose kernel answer follows from it, and `self` and `master` in one command (the kernel makes
 * both entries; podnet refuses), with the full `show` that lists that entry.
 */
const NOT_MODELLED: ReadonlySet<string> = new Set([
  'bridge fdb append 00:00:00:00:00:00 dev flannel.1 dst 192.168.1.13 self permanent#0',
  'bridge fdb show dev flannel.1#10',
  'bridge fdb show dev flannel.1#11',
  'bridge fdb del 00:00:00:00:00:00 dev flannel.1#0',
  'bridge fdb add 02:00:00:00:00:09 dev flannel.1 dst 192.168.1.99 self permanent master#0',
  'bridge fdb show#0',
]);

describe('bridge fdb add | append | replace | del replayed against the kernel', () => {
  it('each command of the script, in order on one node, prints what iproute2 printed and exits as it did', () => {
    const s = node1();
    const seen = new Map<string, number>();
    let compared = 0;
    for (const x of sections) {
      if (!['bridge port: master', 'bridge port: self (no master)', 'errors', 'flannel.1'].includes(x.phase)) continue;
      const nth = seen.get(x.title) ?? 0;
      seen.set(x.title, nth + 1);
      const r = s.run(x.title);
      if (NOT_MODELLED.has(`${x.title}#${nth}`)) continue;
      const want = { out: norm(x.lines.slice(0, -1)), rc: Number(/^rc=(\d+)$/.exec(x.lines[x.lines.length - 1]!)![1]) };
      expect({ out: norm(lines(r)), rc: r.status }, `${x.title} (#${nth})`).toEqual(want);
      compared++;
    }
    // Every section but the six listed above was compared.
    expect(compared).toBe(sections.filter((x) => ['bridge port: master', 'bridge port: self (no master)', 'errors', 'flannel.1'].includes(x.phase)).length - NOT_MODELLED.size);
  });

  it('what podnet does not model it refuses, saying so, and the table stays as it was', () => {
    const s = node1();
    expect(s.run('bridge fdb append 00:00:00:00:00:00 dev flannel.1 dst 192.168.1.12 self permanent').status).toBe(0);
    const before = s.run('bridge fdb show').stdout;
    const state = s.sim.state;
    const second = s.run('bridge fdb append 00:00:00:00:00:00 dev flannel.1 dst 192.168.1.13 self permanent');
    expect(second).toMatchObject({ status: 255, stderr: 'Error: podnet keeps one dst per MAC on a VXLAN device: 00:00:00:00:00:00 has dst 192.168.1.12 on flannel.1\n' });
    const both = s.run('bridge fdb add 02:00:00:00:00:09 dev flannel.1 dst 192.168.1.99 self permanent master');
    expect(both).toMatchObject({ status: 255, stderr: 'Error: podnet does not model "self" and "master" together: give one of them.\n' });
    expect(s.sim.state).toBe(state);
    expect(s.run('bridge fdb show').stdout).toBe(before);
  });

  it('a refused command leaves the state as it was: File exists, no such entry, no port, no dst, a bad MAC', () => {
    const s = node1();
    expect(s.run(`bridge fdb add 02:00:00:00:00:01 dev ${PA} master static`).status).toBe(0);
    const state = s.sim.state;
    for (const [cmd, stderr] of [
      [`bridge fdb add 02:00:00:00:00:01 dev ${PB} master static`, 'RTNETLINK answers: File exists'],
      [`bridge fdb del 02:00:00:00:00:01 dev ${PB} master`, 'RTNETLINK answers: No such file or directory'],
      ['bridge fdb add 02:00:00:00:00:01 dev eth0 master static', 'RTNETLINK answers: Operation not supported'],
      ['bridge fdb add 02:00:00:00:00:09 dev flannel.1 self permanent', 'RTNETLINK answers: Invalid argument'],
      [`bridge fdb add 02:00:00:00:00:02 dev ${PA} self static`, 'RTNETLINK answers: Invalid argument'],
      ['bridge fdb add 5a:bd:d3:65:b2:19 dev flannel.1 dst 192.168.1.99 self permanent', 'RTNETLINK answers: File exists'],
      [`bridge fdb add 02:00:00:00:00 dev ${PA} master static`, 'Invalid mac address 02:00:00:00:00'],
    ] as const) {
      expect(s.run(cmd), cmd).toMatchObject({ status: 255, stderr: `${stderr}\n` });
      expect(s.sim.state, cmd).toBe(state);
    }
  });

  it('a pod\'s shell may not change the FDB (no CAP_NET_ADMIN)', () => {
    const s = createSession();
    const r = s.run(`kubectl exec pod-a -- bridge fdb add 02:00:00:00:00:01 dev eth0`);
    expect(r).toMatchObject({ status: 255, stderr: 'RTNETLINK answers: Operation not permitted\n' });
  });
});

describe('what forwarding does with an entry a student changed', () => {
  const FWD = 'forwarding: pod-b\'s MAC static on pod-a\'s port';

  it('pod-b\'s MAC pinned static on pod-a\'s port (hairpin off): pod-a\'s ping to pod-b is lost, pod-b sees nothing', () => {
    const s = createSession();
    // As in the script: pod-a knows pod-b's MAC already (it pinged it), then the entry is pinned.
    expect(s.run(PING_PB).status).toBe(0);
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin');
    s.run('chroot /host');
    expect(s.run(`bridge link set dev ${PA} hairpin off`).status).toBe(0);
    const add = s.run(`bridge fdb add ${MB} dev ${PA} master static`);
    expect({ out: lines(add), rc: add.status }).toEqual(recorded(FWD, `bridge fdb add ${MB} dev ${PA} master static`));
    expect(s.run(`bridge fdb replace ${MB} dev ${PA} master static`).status).toBe(recorded(FWD, `bridge fdb replace ${MB} dev ${PA} master static`).rc);
    expect(s.run(`bridge fdb show dev ${PA}`).stdout.split('\n')[0]).toBe(recorded(FWD, `bridge fdb show dev ${PA}`).out[0]);
    s.run('exit'); s.run('exit');
    expect(s.run('kubectl exec pod-b -- tcpdump -n -e -i eth0 icmp &').status).toBe(0);
    const out = s.run(`${PING_PB}`).stdout;
    const seen = s.run('kill %1').stdout;
    const kernelPing = sections.find((x) => x.phase === FWD && x.title === 'ping -c 1 -W 1 10.244.1.5 (pa)')!.lines[0]!;
    expect(kernelPing).toBe('1 packets transmitted, 0 received, 100% packet loss, time 0ms');
    expect(out).toContain('1 packets transmitted, 0 received, 100% packet loss');
    expect(sections.find((x) => x.phase === FWD && x.title === 'tcpdump -n -e -i eth0 icmp (pb)')!.lines).toEqual([]);
    expect(seen).not.toMatch(/ICMP/);
  });

  it('pod-b\'s own traffic moves a static entry back to its port, and it stays static (br_fdb_update)', () => {
    const phase = 'does pod-b\'s own traffic move the static entry?';
    const s = node1();
    expect(s.run(`bridge fdb replace ${MB} dev ${PA} master static`).status).toBe(0);
    expect(s.run(`bridge fdb show dev ${PA}`).stdout).toContain(MB);
    s.run('exit'); s.run('exit');
    expect(s.run('kubectl exec pod-b -- ping -c 1 -W 1 10.244.1.1').stdout).toContain('1 packets transmitted, 1 received');
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin'); s.run('chroot /host');
    const row = `${MB} master cni0 static`;
    expect(recorded(phase, `bridge fdb show dev ${PB}`).out).toContain(row);
    expect(recorded(phase, `bridge fdb show dev ${PA}`).out.join('\n')).not.toContain(MB);
    expect(s.run(`bridge fdb show dev ${PB}`).stdout.split('\n')).toContain(row);
    expect(s.run(`bridge fdb show dev ${PA}`).stdout).not.toContain(MB);
  });

  it('pinned permanent, pod-b\'s MAC is the bridge\'s own: pod-a\'s frames go up to cni0, pod-b loses even its gateway, and the check names pod-a → pod-b', () => {
    const phase = 'pod-b\'s MAC permanent on pod-a\'s port';
    const s = createSession();
    // As in the script, pod-b knows its gateway's MAC (it pinged it before): no ARP, the lost reply is all.
    expect(s.run('kubectl exec pod-b -- ping -c 1 -W 1 10.244.1.1').status).toBe(0);
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin'); s.run('chroot /host');
    expect(s.run(`bridge fdb replace ${MB} dev ${PA} master permanent`).status).toBe(0);
    expect(s.run(`bridge fdb show dev ${PA}`).stdout.split('\n')[0]).toBe(recorded(phase, `bridge fdb show dev ${PA}`).out[0]);
    expect(s.run('tcpdump -n -e -i cni0 icmp &').status).toBe(0);
    s.run('exit'); s.run('exit');
    // The background capture's lines come out with the next command's output, as a job's do in a terminal.
    const ping = s.run('kubectl exec pod-a -- ping -c 1 -W 1 10.244.1.5').stdout;
    expect(ping).toContain('1 packets transmitted, 0 received, 100% packet loss');
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin'); s.run('chroot /host');
    const up = (ping + s.run('kill %1').stdout).split('\n').filter((l) => l.includes('ICMP')).map((l) => l.replace(/^[\d:.]+ /, '').replace(/id \d+/, 'id N'));
    const kernelUp = sections.find((x) => x.phase === phase && x.title === 'tcpdump -n -e -i cni0 icmp (n1)')!.lines.map((l) => l.replace(/id \d+/, 'id N'));
    expect(up).toEqual(kernelUp);
    s.run('exit'); s.run('exit');
    expect(s.run('kubectl exec pod-b -- ping -c 1 -W 1 10.244.1.1').stdout).toContain('1 packets transmitted, 0 received, 100% packet loss');
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin'); s.run('chroot /host');
    // Not moved by pod-b's traffic, as in the kernel.
    expect(recorded(phase, `bridge fdb show dev ${PA}`, 1).out).toContain(`${MB} master cni0 permanent`);
    expect(s.run(`bridge fdb show dev ${PA}`).stdout.split('\n')).toContain(`${MB} master cni0 permanent`);
    const v = s.sim.check().violations.find((x) => x.where.from === 'default/pod-a' && x.where.to === 'default/pod-b');
    expect(v?.explanation).toContain(`frame for ${MB}, not cni0's MAC`);
    // Deleting it gives pod-b its traffic back.
    expect(s.run(`bridge fdb del ${MB} dev ${PA} master`).status).toBe(0);
    s.run('exit'); s.run('exit');
    expect(s.run('kubectl exec pod-a -- ping -c 1 -W 1 10.244.1.5').stdout).toContain('1 packets transmitted, 1 received');
    expect(s.sim.check().violations).toEqual([]);
  });

  it('a wrong VTEP for node-2\'s flannel.1 MAC: nothing reaches node-2, pod-a → pod-c is lost and named; the right one mends it', () => {
    const phase = 'a wrong VTEP';
    const s = node1();
    expect(s.run('bridge fdb replace 5a:bd:d3:65:b2:19 dev flannel.1 dst 192.168.1.99 self permanent').status).toBe(0);
    expect(s.run('bridge fdb show dev flannel.1').stdout).toContain('5a:bd:d3:65:b2:19 dst 192.168.1.99 self permanent');
    s.run('exit'); s.run('exit');
    expect(sections.find((x) => x.phase.startsWith(phase) && x.title === 'ping -c 1 -W 1 10.244.2.3 (pa)')!.lines[0]).toContain('0 received');
    expect(s.run('kubectl exec pod-a -- ping -c 1 -W 1 10.244.2.3').stdout).toContain('1 packets transmitted, 0 received, 100% packet loss');
    expect(s.sim.check().violations.some((x) => x.where.from === 'default/pod-a' && x.where.to === 'default/pod-c')).toBe(true);
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin'); s.run('chroot /host');
    expect(s.run('bridge fdb replace 5a:bd:d3:65:b2:19 dev flannel.1 dst 192.168.1.12 self permanent').status).toBe(0);
    expect(sections.find((x) => x.phase.startsWith(phase) && x.title === 'ping -c 1 -W 1 10.244.2.3 (pa, dst put back)')!.lines[0]).toContain('1 received');
    s.run('exit'); s.run('exit');
    expect(s.run('kubectl exec pod-a -- ping -c 1 -W 1 10.244.2.3').stdout).toContain('1 packets transmitted, 1 received');
  });
});

describe('add then del gives back the table as it was', () => {
  const octet = fc.integer({ min: 0, max: 255 }).map((n) => n.toString(16).padStart(2, '0'));
  // Unicast, locally administered MACs the seed lab does not use (02:…).
  const mac = fc.tuple(octet, octet, octet, octet, octet).map((o) => `02:${o.join(':')}`);
  test.prop([mac, fc.constantFrom(PA, PB), fc.constantFrom('static', 'permanent', 'dynamic', ''), fc.constantFrom('add', 'append', 'replace')], { numRuns: 30 })(
    'a bridge port\'s entry', (m, port, state, verb) => {
      const s = node1();
      const before = s.run('bridge fdb show').stdout;
      expect(s.run(`bridge fdb ${verb} ${m} dev ${port} master ${state}`.trimEnd()).status).toBe(0);
      expect(s.run('bridge fdb show').stdout).not.toBe(before);
      expect(s.run(`bridge fdb del ${m} dev ${port} master`).status).toBe(0);
      expect(s.run('bridge fdb show').stdout).toBe(before);
    });
  test.prop([mac, fc.integer({ min: 1, max: 254 }), fc.constantFrom('add', 'append', 'replace')], { numRuns: 30 })(
    'a VXLAN device\'s remote VTEP', (m, host, verb) => {
      const s = node1();
      const before = s.run('bridge fdb show').stdout;
      expect(s.run(`bridge fdb ${verb} ${m} dev flannel.1 dst 192.168.1.${host} self permanent`).status).toBe(0);
      expect(s.run('bridge fdb show dev flannel.1').stdout).toContain(`${m} dst 192.168.1.${host} self permanent`);
      expect(s.run(`bridge fdb del ${m} dev flannel.1 dst 192.168.1.${host}`).status).toBe(0);
      expect(s.run('bridge fdb show').stdout).toBe(before);
    });
});
