/**
 * Hairpin mode on the seed lab's bridge ports, replayed against what Linux 6.18 and iproute2 6.1 did on the
 * same lab built by hand (scripts/hairpin-formats.sh → __fixtures__/hairpin-formats.txt): `bridge [-d] link
 * show`, `ip -d link show`, `bridge link set … hairpin` and `ip link set … type bridge_slave hairpin` with
 * their errors, and what tcpdump in pod-a and pod-b shows of pod-a's ARP requests and of a unicast frame
 * the bridge sends back to the port it came in by, hairpin on and off. Then the input source check on the same
 * lab (scripts/own-source-formats.sh → __fixtures__/own-source-formats.txt): the hairpin DNAT without its
 * MASQUERADE, accept_local, a DNAT of the node's own address, and a pod sending from the node's address.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatIpv4, getNs, hostNsId, icmpEcho, parseIpv4, send } from '@podnet/core';
import { createSession, type Session } from './index.js';

interface Section { readonly phase: string; readonly title: string; readonly lines: readonly string[] }

/** The fixture's sections in order, each under the `####` phase it was recorded in. */
const sections: Section[] = (() => {
  const out: { phase: string; title: string; lines: string[] }[] = [];
  let phase = '';
  let cur: string[] | null = null;
  for (const line of readFileSync(join(__dirname, '__fixtures__', 'hairpin-formats.txt'), 'utf8').split('\n')) {
    if (line.startsWith('#### ')) {
      phase = line.slice(5);
      cur = null; // what a phase prints before its first section (a sysctl's status) is no section's
    } else if (line.startsWith('== ')) out.push({ phase, title: line.slice(3), lines: (cur = []) });
    else if (line !== '' && cur !== null) cur.push(line);
  }
  return out;
})();

function section(phase: string, title: string): readonly string[] {
  const s = sections.find((x) => x.phase.startsWith(phase) && x.title === title);
  if (!s) throw new Error(`no section "${title}" in phase "${phase}"`);
  return s.lines;
}

/** A command's recorded output and status (`rc=N`, the section's last line). */
function recorded(phase: string, title: string): { out: string[]; rc: number } {
  const lines = section(phase, title);
  return { out: lines.slice(0, -1) as string[], rc: Number(/^rc=(\d+)$/.exec(lines[lines.length - 1]!)![1]) };
}

/** What varies from run to run: capture times, echo identifiers, the bridge's forward-delay timer, the netns name. */
const norm = (l: string) => l
  .replace(/^\d\d:\d\d:\d\d\.\d{6} /, '')
  .replace(/id \d+/, 'id N')
  .replace(/forward_delay_timer +[\d.]+/, 'forward_delay_timer T')
  .replace(/link-netns \S+/, 'link-netns NS');

const PA = 'veth19fd34b4';
const PB = 'veth1cfd396d';

/** A root shell on node-1 (CAP_NET_ADMIN) of a fresh seed lab. */
function node1(): Session {
  const s = createSession();
  s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin');
  s.run('chroot /host');
  return s;
}

/** `cmd` run on node-1 as the script ran it: its output lines and status. */
function run(s: Session, cmd: string): { out: string[]; rc: number } {
  const o = s.run(cmd);
  return { out: (o.stdout + o.stderr).split('\n').filter((l) => l !== ''), rc: o.status };
}

describe('bridge link and ip -d link show hairpin mode as iproute2 does', () => {
  for (const state of ['on', 'off'] as const) {
    it(`hairpin ${state}: bridge link show, bridge -d link show, bridge link show dev, ip -d link show dev`, () => {
      const s = node1();
      // The seed lab's ports are as flannel's bridge plugin leaves them (hairpin on), as the script's were.
      if (state === 'off') {
        expect(run(s, `bridge link set dev ${PA} hairpin off`)).toEqual(recorded('setting', `bridge link set dev ${PA} hairpin off`));
        expect(run(s, `ip link set dev ${PB} type bridge_slave hairpin off`)).toEqual(recorded('setting', `ip link set dev ${PB} type bridge_slave hairpin off`));
        expect(run(s, `bridge link set dev ${PA} hairpin off`)).toEqual(recorded('setting', `bridge link set dev ${PA} hairpin off (again)`));
      }
      const phase = state === 'on' ? 'hairpin on' : 'hairpin off';
      for (const [cmd, title] of [
        ['bridge link show', `bridge link show (${state})`], ['bridge -d link show', `bridge -d link show (${state})`],
        [`bridge link show dev ${PA}`, `bridge link show dev ${PA} (${state})`], [`ip -d link show dev ${PA}`, `ip -d link show dev ${PA} (${state})`],
      ] as const) {
        const want = recorded(phase, title);
        const got = run(s, cmd);
        expect(got.out.map(norm), cmd).toEqual(want.out.map(norm));
        expect(got.rc, cmd).toBe(want.rc);
      }
    });
  }

  it('the errors: a device that is no bridge port, an unknown one, a bad or missing value, nothing to set', () => {
    const s = node1();
    const cmds = [
      'bridge link set dev cni0 hairpin on', 'bridge link set dev eth0 hairpin on', 'bridge link set dev nosuch hairpin on',
      `bridge link set dev ${PA} hairpin maybe`, `bridge link set dev ${PA} hairpin`, 'bridge link show dev nosuch', 'bridge link show dev eth0',
      'bridge -d link show dev cni0', `bridge link set dev ${PA}`,
      'ip link set dev cni0 type bridge_slave hairpin on', 'ip link set dev eth0 type bridge_slave hairpin on', 'ip link set dev nosuch type bridge_slave hairpin on',
      `ip link set dev ${PA} type bridge_slave hairpin maybe`, `ip link set dev ${PA} type bridge_slave hairpin`,
    ];
    const before = s.sim.state;
    for (const cmd of cmds) expect(run(s, cmd), cmd).toEqual(recorded('setting', cmd));
    // None of them changed anything.
    expect(s.sim.state).toBe(before);
  });

  it('a port that leaves cni0 and joins again has hairpin off', () => {
    const s = node1();
    run(s, `ip link set dev ${PA} nomaster`);
    run(s, `ip link set dev ${PA} master cni0`);
    const want = recorded('a port that leaves', `bridge -d link show dev ${PA} (nomaster, master cni0)`);
    expect(run(s, `bridge -d link show dev ${PA}`).out.map(norm)).toEqual(want.out.map(norm));
  });

  it('without CAP_NET_ADMIN, `bridge link set` is refused and nothing changes', () => {
    const s = createSession();
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot');
    s.run('chroot /host');
    const before = s.sim.state;
    expect(run(s, `bridge link set dev ${PA} hairpin off`)).toEqual({ out: ['RTNETLINK answers: Operation not permitted'], rc: 255 });
    expect(s.sim.state).toBe(before);
  });
});

/**
 * The packets `tcpdump -n -e -i eth0 FILTER` in `pod` prints while pod-a runs `traffic`, on a fresh seed lab
 * made ready by `setup` (commands on node-1's root shell).
 */
function capture(pod: string, filter: string, setup: readonly string[], traffic: string, prepare?: (s: Session) => void): { packets: string[]; ping: string } {
  const s = node1();
  for (const c of setup) expect(s.run(c).status, c).toBe(0);
  prepare?.(s);
  s.run('exit');
  s.run('exit');
  expect(s.run(`kubectl exec ${pod} -- tcpdump -n -e -i eth0 ${filter} &`).status).toBe(0);
  const out = s.run(`kubectl exec pod-a -- ${traffic}`).stdout + s.run('kill %1').stdout;
  const ping = /^\d+ packets transmitted, \d+ received, [\d.]+% packet loss/m.exec(out)?.[0] ?? '';
  return { packets: out.split('\n').filter((l) => /^\d\d:\d\d:\d\d\.\d{6} /.test(l)).map(norm), ping };
}

describe('tcpdump in the pods shows what the bridge sends back, as Linux does', () => {
  const PODS: Readonly<Record<string, string>> = { pa: 'pod-a', pb: 'pod-b' };
  for (const state of ['on', 'off'] as const) {
    for (const target of ['10.244.1.1', '10.244.1.5']) {
      it(`hairpin ${state}: pod-a ARPs for ${target}`, () => {
        const setup = state === 'off' ? [`bridge link set dev ${PA} hairpin off`, `bridge link set dev ${PB} hairpin off`] : [];
        for (const [where, pod] of Object.entries(PODS)) {
          const kernel = sections.filter((x) => x.phase === (state === 'on' ? 'hairpin on (seed_lab_pod sets it, as flannel\'s bridge plugin does)' : 'hairpin off')
            && x.title === `tcpdump -n -e -i eth0 arp (${where})`);
          // The script captured each pod twice per phase: for the gateway, then for pod-b.
          const want = kernel[target === '10.244.1.1' ? 0 : 1]!.lines.map(norm);
          expect(capture(pod, 'arp', setup, `ping -c 1 ${target}`).packets, `${where} ${target}`).toEqual(want);
        }
      });
    }
  }

  for (const state of ['off', 'on'] as const) {
    it(`hairpin ${state}: pod-b's MAC pinned to pod-a's port, pod-a's ping to pod-b ${state === 'on' ? 'comes back to pod-a' : 'is dropped by the bridge'}`, () => {
      // `bridge fdb replace 4a:4c:bf:0c:45:a0 dev veth19fd34b4 master static` in the script; podnet's lab shell
      // has no `bridge fdb replace`, so the test applies the same entry as the action it stands for.
      const pin = (s: Session) => {
        const mac = getNs(s.sim.state, 'pod/default/pod-b').links['eth0']!.mac;
        expect(mac).toBe('4a:4c:bf:0c:45:a0');
        s.sim.apply({ op: 'fdb.append', ns: hostNsId('node-1'), dev: PA, mac });
      };
      const setup = [`bridge link set dev ${PA} hairpin ${state}`];
      const phase = `unicast, hairpin ${state}`;
      const warm = (s: Session) => {
        // The script's pod-a had pod-b's entry (it ARPed for it before): warm it the same way, then pin.
        s.run('exit'); s.run('exit');
        s.run('kubectl exec pod-a -- ping -c 1 10.244.1.5');
        s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin'); s.run('chroot /host');
        pin(s);
      };
      for (const [where, pod] of Object.entries(PODS)) {
        const got = capture(pod, 'icmp', setup, 'ping -c 1 -W 1 10.244.1.5', warm);
        expect(got.packets, where).toEqual(section(phase, `tcpdump -n -e -i eth0 icmp (${where})`).map(norm));
        expect(section(phase, 'ping -c 1 -W 1 10.244.1.5 (pa)')[0]).toContain(got.ping);
      }
    });
  }

  it('hairpin off: a pod\'s ping to a DNAT on its node that sends it back to itself is lost; on, it comes back to the pod', () => {
    const setup = (state: string) => [
      'sysctl -w net.bridge.bridge-nf-call-iptables=1',
      'iptables -t nat -A PREROUTING -d 10.96.0.10 -p icmp -j DNAT --to-destination 10.244.1.4',
      'iptables -t nat -I POSTROUTING 1 -s 10.244.1.4 -d 10.244.1.4 -j MASQUERADE',
      `bridge link set dev ${PA} hairpin ${state}`,
    ];
    const off = capture('pod-a', 'icmp', setup('off'), 'ping -c 1 -W 1 10.96.0.10');
    expect(off.packets).toEqual(section('DNAT to itself, hairpin off', 'tcpdump -n -e -i eth0 icmp (pa)').map(norm));
    expect(section('DNAT to itself, hairpin off', 'ping -c 1 -W 1 10.96.0.10 (pa)')[0]).toContain(off.ping);
    // On: the request comes back to pod-a from its own MAC to its own MAC (the bridged DNAT keeps the sender's
    // MAC), masqueraded to the bridge's address (POSTROUTING sees the connection's first packet though its
    // DNATed tuple, pod-a → pod-a, is its own reverse), pod-a's reply goes to 10.244.1.1, and comes back
    // translated by both (one conntrack entry for the DNAT and the MASQUERADE): the four packets the kernel printed.
    const on = capture('pod-a', 'icmp', setup('on'), 'ping -c 1 -W 1 10.96.0.10');
    expect(on.packets).toEqual(section('DNAT to itself, hairpin on', 'tcpdump -n -e -i eth0 icmp (pa)').map(norm));
    expect(on.ping).toBe('1 packets transmitted, 1 received, 0% packet loss');
  });
});

/**
 * A source that is an address of the namespace taking the packet in (fib_validate_source), where NAT moves
 * addresses about, pinned to scripts/own-source-formats.sh (__fixtures__/own-source-formats.txt) on the
 * same lab: the phases (`#### (x) …`), their tcpdump and ping sections, and per spoofed packet (`case src=…
 * dst=…`) what the counters of pod-a, node-1 and pod-c moved.
 */
const OWN = readFileSync(join(__dirname, '__fixtures__', 'own-source-formats.txt'), 'utf8').split('\n#### ').map((p) => p.replace(/^#### /, ''));
const ownPhase = (tag: string): string => OWN.find((p) => p.startsWith(`(${tag}) `)) ?? (() => { throw new Error(`no phase (${tag})`); })();
/** The lines of section `== title` of phase `tag`. */
const ownSection = (tag: string, title: string): string[] => {
  const body = ownPhase(tag).split(`\n== ${title}\n`)[1];
  if (body === undefined) throw new Error(`no section "${title}" in (${tag})`);
  return body.split('\n== ')[0]!.split('\n').filter((l) => l !== '');
};
/** What the kernel made of pod-a's spoofed echo request from node-1's 10.244.1.1 to `dst`, from the counters. */
function ownCase(tag: string, dst: string): { n1: 'delivered' | 'forwarded' | 'dropped'; pc: boolean } {
  const lines = ownPhase(tag).split(`case src=10.244.1.1 dst=${dst}\n`)[1]!.split('\n');
  const n = (who: string, name: string) => Number(new RegExp(`${name}\\+(\\d+)`).exec(lines.find((l) => l.startsWith(`  ${who}: `)) ?? '')?.[1] ?? 0);
  return { n1: n('n1', 'IcmpInEchos') > 0 ? 'delivered' : n('n1', 'IpForwDatagrams') > 0 ? 'forwarded' : 'dropped', pc: n('pc', 'IcmpInEchos') > 0 };
}

describe('a packet whose source is an address of the namespace taking it in is a martian, as Linux drops it', () => {
  const dnatToItself = ['sysctl -w net.bridge.bridge-nf-call-iptables=1', 'iptables -t nat -A PREROUTING -d 10.96.0.10 -p icmp -j DNAT --to-destination 10.244.1.4'];

  it('(a) the hairpin DNAT without its MASQUERADE: the request comes back to pod-a from its own address, and pod-a drops it', () => {
    const got = capture('pod-a', 'icmp', dnatToItself, 'ping -c 1 -W 1 10.96.0.10');
    expect(got.packets).toEqual(ownSection('a', 'tcpdump -n -e -i eth0 icmp (pa)').map(norm));
    expect(got.packets[1]).toContain('10.244.1.4 > 10.244.1.4: ICMP echo request');
    expect(ownSection('a', 'ping -c 1 -W 1 10.96.0.10 (pa)')[0]).toContain(got.ping);
    expect(got.ping).toBe('1 packets transmitted, 0 received, 100% packet loss');
  });

  it('(b) with accept_local 1 in pod-a, pod-a takes it and answers itself over lo: the ping is answered', () => {
    const acceptLocal = (s: Session) => s.sim.apply({ op: 'sysctl.set', ns: 'pod/default/pod-a', key: 'net.ipv4.conf.all.accept_local', value: '1' });
    const got = capture('pod-a', 'icmp', dnatToItself, 'ping -c 1 -W 1 10.96.0.10', acceptLocal);
    expect(got.packets).toEqual(ownSection('b', 'tcpdump -n -e -i eth0 icmp (pa)').map(norm));
    expect(ownSection('b', 'ping -c 1 -W 1 10.96.0.10 (pa)')[0]).toContain(got.ping);
    expect(got.ping).toBe('1 packets transmitted, 1 received, 0% packet loss');
  });

  it('(c) a DNAT of the node\'s own address to a pod: the reply is checked on the source it comes in with (the pod\'s), not the de-DNATed one', () => {
    // The kernel: node-1 forwarded both (IpForwDatagrams+2) and node-2's ping was answered. The reply's
    // de-DNAT to 192.168.1.11 (node-1's own) is POSTROUTING's, after the input route's source check.
    expect(ownSection('c', 'counters')).toContain('  n1: IpInReceives+2 IpForwDatagrams+2');
    expect(ownSection('c', 'ping -c 1 -W 1 192.168.1.11 (n2)')[0]).toBe('1 packets transmitted, 1 received, 0% packet loss, time 0ms');
    const s = node1();
    expect(s.run('iptables -t nat -A PREROUTING -d 192.168.1.11 -p icmp -j DNAT --to-destination 10.244.1.4').status).toBe(0);
    const t = send(s.sim.state, hostNsId('node-2'), icmpEcho(parseIpv4('192.168.1.11'), { seq: 1 })).trace;
    const replies = t.fates.filter((f) => f.role === 'echo-reply');
    expect(t.fates.find((f) => f.role === 'original')).toMatchObject({ ns: 'pod/default/pod-a', disposition: 'delivered' });
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatchObject({ ns: hostNsId('node-2'), disposition: 'delivered' });
    // It reached node-2 from the address node-2 pinged, as ping wants it.
    const last = t.steps.filter((x) => x.packet === replies[0]!.packet && x.ip !== null).at(-1)!;
    expect(formatIpv4(last.ip!.header.src)).toBe('192.168.1.11');
  });

  for (const [tag, sysctls] of [
    ['d', []], ['e', ['net.ipv4.conf.all.accept_local=1']], ['f', ['net.ipv4.conf.cni0.accept_local=1']], ['g', ['net.ipv4.conf.eth0.accept_local=1']],
  ] as const) {
    for (const dst of ['10.244.1.1', '10.244.2.3']) {
      const kernel = ownCase(tag, dst);
      it(`(${tag}) node-1's 10.244.1.1 sent by pod-a to ${dst}${sysctls.length ? `, ${sysctls[0]}` : ''}: ${kernel.n1}${kernel.pc ? ', pod-c answers' : ''}, as the kernel`, () => {
        const s = node1();
        for (const c of sysctls) expect(s.run(`sysctl -w ${c}`).status).toBe(0);
        const t = send(s.sim.state, 'pod/default/pod-a', icmpEcho(parseIpv4(dst), { src: parseIpv4('10.244.1.1'), seq: 1 })).trace;
        const orig = t.fates.find((f) => f.role === 'original')!;
        const n1 = orig.ns !== hostNsId('node-1') ? 'forwarded' : orig.disposition === 'delivered' ? 'delivered' : 'dropped';
        expect({ n1, pc: t.fates.some((f) => f.ns === 'pod/default/pod-c' && f.disposition === 'delivered' && f.role === 'original') }).toEqual(kernel);
        if (kernel.n1 === 'dropped') expect(orig.disposition).toBe('martianSource');
      });
    }
  }
});
