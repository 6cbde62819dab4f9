import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { simulatorFromSpec } from '@podnet/cni';
import { createSession } from './index.js';

/** What real iproute2 printed (scripts/iproute2-formats.sh), by section title. */
const real = (() => {
  const text = readFileSync(join(__dirname, '__fixtures__', 'iproute2-formats.txt'), 'utf8');
  const sections = new Map<string, string[]>();
  let cur: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^== (.*)$/.exec(line);
    if (m) sections.set(m[1]!, (cur = []));
    else if (line) cur.push(line);
  }
  return sections;
})();

/** Replaces what differs between runs (ifindexes, MACs, netns and veth names) and iproute2's trailing spaces. */
function shape(line: string): string {
  return line
    .replace(/([0-9a-f]{2}:){5}[0-9a-f]{2}/g, 'MAC')
    .replace(/^\d+: /, 'N: ').replace(/@if\d+/, '@ifN')
    .replace(/link-netns \S+/, 'link-netns NS')
    .replace(/veth[0-9a-f]+/g, 'vethX')
    .trimEnd();
}

function onNode(lines: string[]) {
  const s = createSession();
  s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot');
  return lines.map((l) => s.run(l).stdout.trimEnd().split('\n'));
}

describe('formats match real iproute2 (recorded in namespaces)', () => {
  it('ip link show type veth: a host-side veth on cni0', () => {
    // On the node itself (chroot /host), where iproute2 finds the namespaces' names in /var/run/netns.
    const [, ours] = onNode(['chroot /host', 'ip link show type veth']);
    const kernel = real.get('ip link show type veth')!.filter((l) => !l.includes('eth0@'));
    const kernelVeth = kernel.findIndex((l) => l.includes('veth1234'));
    expect(ours!.slice(0, 2).map(shape)).toEqual(kernel.slice(kernelVeth, kernelVeth + 2).map(shape));
  });

  it('ip link of lo, flannel.1 and cni0 (physical eth0 is a veth in the recording, so it is left out)', () => {
    const [ours] = onNode(['ip link']);
    const kernel = real.get('ip link (node)')!;
    for (const dev of ['lo', 'flannel.1', 'cni0']) {
      const i = kernel.findIndex((l) => new RegExp(`^\\d+: ${dev.replace('.', '\\.')}:`).test(l));
      const j = ours!.findIndex((l) => new RegExp(`^\\d+: ${dev.replace('.', '\\.')}:`).test(l));
      expect(ours!.slice(j, j + 2).map(shape), dev).toEqual(kernel.slice(i, i + 2).map(shape));
    }
  });

  it('ip addr: the inet lines of cni0 and flannel.1 (iproute2 adds brd when netlink sets it, as the CNI plugins do)', () => {
    const [ours] = onNode(['ip addr']);
    const kernel = real.get('ip addr (node)')!;
    expect(ours).toContain('    inet 10.244.1.0/32 scope global flannel.1');
    expect(kernel).toContain('    inet 10.244.1.0/32 scope global flannel.1');
    expect(ours).toContain('       valid_lft forever preferred_lft forever');
    expect(kernel.filter((l) => /^ {4}inet 127/.test(l))).toEqual(ours!.filter((l) => /^ {4}inet 127/.test(l)));
  });

  it('ip route, ip neigh (the flannel entries), bridge link and the VXLAN fdb entry', () => {
    const [route, neigh, blink, fdb] = onNode(['ip route', 'ip neigh', 'bridge link show', 'bridge fdb show']);
    for (const l of real.get('ip route (node)')!) expect(route).toContain(l.trimEnd());
    const perm = real.get('ip neigh (node)')!.find((l) => l.includes('PERMANENT'))!.trimEnd();
    expect(neigh).toContain(perm.replace(/lladdr \S+/, `lladdr ${/10\.244\.2\.0 dev flannel\.1 lladdr (\S+)/.exec(neigh!.join('\n'))![1]}`));
    expect(blink!.map(shape)[0]).toBe(shape(real.get('bridge link')![0]!));
    const vx = real.get('bridge fdb')!.find((l) => l.includes('dst 192.168.1.12'))!;
    expect(fdb!.map(shape)).toContain(shape(vx));
  });

  it('a pod\'s eth0 as seen inside the pod (link-netnsid 0: the host namespace has no name there)', () => {
    const s = createSession();
    const ours = s.run('kubectl exec pod-a -- ip link show eth0').stdout.trimEnd().split('\n');
    const kernel = real.get('ip link show eth0')!.filter((l) => !l.startsWith('Error'));
    expect(ours.map(shape)).toEqual(kernel.map((l) => shape(l).replace('link-netns NS', 'link-netnsid 0')));
  });
});

describe('ip rule and routing tables (what iproute2 6.1 printed in namespaces, kernel 6.18)', () => {
  function debugger_(): ReturnType<typeof createSession> {
    const s = createSession();
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin');
    return s;
  }

  it('ip rule lists the kernel\'s rules and added ones; a rule without a priority gets one less than the first above 0', () => {
    const s = debugger_();
    expect(s.run('ip rule').stdout).toBe('0:\tfrom all lookup local\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n');
    for (const l of ['ip rule add from 10.0.0.5 lookup 2', 'ip rule add to 10.0.0.5 lookup main priority 512', 'ip ru add from 10.0.0.0/24 lookup 3']) expect(s.run(l).status).toBe(0);
    expect(s.run('ip rule show').stdout).toBe([
      '0:\tfrom all lookup local', '511:\tfrom 10.0.0.0/24 lookup 3', '512:\tfrom all to 10.0.0.5 lookup main',
      '32765:\tfrom 10.0.0.5 lookup 2', '32766:\tfrom all lookup main', '32767:\tfrom all lookup default', '',
    ].join('\n'));
    expect(s.run('ip rule add from 10.0.0.5 lookup 2 priority 32765')).toMatchObject({ status: 2, stderr: 'RTNETLINK answers: File exists\n' });
    expect(s.run('ip rule del from 10.9.9.9')).toMatchObject({ status: 2, stderr: 'RTNETLINK answers: No such file or directory\n' });
  });

  it('ip route … table N: a table of its own, in the kernel\'s order; one never made does not exist', () => {
    const s = debugger_();
    expect(s.run('ip route add 192.168.1.1 dev eth0 scope link table 2').status).toBe(0);
    expect(s.run('ip route add default via 192.168.1.1 dev eth0 table 2').status).toBe(0);
    // iproute2 ends each route line with a space; podnet's lines carry none (the other tests trim them too).
    expect(s.run('ip route show table 2').stdout).toBe('default via 192.168.1.1 dev eth0\n192.168.1.1 dev eth0 scope link\n');
    expect(s.run('ip route add default via 192.168.1.1 dev eth0 table 2')).toMatchObject({ status: 2, stderr: 'RTNETLINK answers: File exists\n' });
    expect(s.run('ip route show table 9')).toMatchObject({ status: 2, stderr: 'Error: ipv4: FIB table does not exist.\nDump terminated\n' });
    expect(s.run('ip route').stdout).not.toContain('192.168.1.1 dev eth0 scope link');
  });

  it('without --profile the debugger may look but not change the rules', () => {
    const s = createSession();
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot');
    expect(s.run('ip rule').status).toBe(0);
    expect(s.run('ip rule add from 10.0.0.5 lookup 2')).toMatchObject({ status: 2, stderr: 'RTNETLINK answers: Operation not permitted\n' });
  });
});

describe('ip -br (brief), as iproute2 6.1 printed it in namespaces (IPv6 left out: podnet models IPv4)', () => {
  // Kernel: "lo               UNKNOWN        127.0.0.1/8 ::1/128 " and "eth0@if2         UP             10.244.1.4/24 fe80::…/64 "
  it('ip -br addr in a pod: name@ifN in 16 columns, state in 14, each address followed by a space', () => {
    const s = createSession();
    expect(s.run('kubectl exec pod-a -- ip -br addr').stdout).toBe('lo               UNKNOWN        127.0.0.1/8 \neth0@if5         UP             10.244.1.4/24 \n');
  });

  it('ip -br link on a node: the MAC and the flags; a filter (dev) works as without -br', () => {
    const s = createSession();
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot');
    const lines = s.run('ip -br link').stdout.split('\n');
    expect(lines[0]).toBe('lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP> ');
    expect(lines.find((l) => l.startsWith('cni0'))).toMatch(/^cni0 {13}UP {13}([0-9a-f]{2}:){5}[0-9a-f]{2} <BROADCAST,MULTICAST,UP,LOWER_UP> $/);
    expect(s.run('ip -br -4 addr show dev cni0').stdout).toBe('cni0             UP             10.244.1.1/24 \n');
  });
});

describe('a device name that is a member of every object (constructor, toString, __proto__) names no device', () => {
  // The host namespace's links became a prototype-less record (core util/dict.ts) while a pod's stayed a
  // plain object: `ns.links[name]` then found `constructor` in a pod but not on the node. Both say what
  // the kernel says of a device that does not exist.
  const names = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__'];
  const shells = {
    pod: (s: ReturnType<typeof createSession>, line: string) => s.run(`kubectl exec pod-a -- ${line}`),
    node: (s: ReturnType<typeof createSession>, line: string) => {
      if (s.place.kind === 'client') s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin');
      return s.run(line);
    },
  };
  for (const [where, run] of Object.entries(shells)) {
    it(`in a ${where}: ip link show, ip route show dev, ip link set, sysctl, tcpdump -i`, () => {
      const s = createSession();
      for (const name of names) {
        expect(run(s, `ip link show ${name}`)).toEqual({ stdout: '', stderr: `Device "${name}" does not exist.\n`, status: 1 });
        expect(run(s, `ip route show dev ${name}`).stderr).toBe(`Cannot find device "${name}"\n`);
        expect(run(s, `sysctl net.ipv4.conf.${name}.proxy_arp`).stderr).toBe(`sysctl: cannot stat /proc/sys/net/ipv4/conf/${name}/proxy_arp: No such file or directory\n`);
        expect(run(s, `tcpdump -i ${name} -c 1`).stderr).toContain(`tcpdump: ${name}: No such device exists`);
      }
      if (where === 'node') expect(run(s, 'ip link set constructor up')).toEqual({ stdout: '', stderr: 'Cannot find device "constructor"\n', status: 1 });
    });
  }
});

describe('what core keeps, as the shell lists it', () => {
  it('ip route get shows a path MTU only through a route of the next hop it hangs on (RouteException.nh)', () => {
    // pod-a on a 9000-byte rack learns the router's 1500 towards rack-b (as kern30 measured in namespaces).
    const sim = simulatorFromSpec({
      podCidr: '10.244.0.0/16', nodeCidrMaskSize: 24,
      underlay: { segments: [{ name: 'rack-a', cidr: '192.168.1.0/24', gateway: '192.168.1.1', mtu: 9000 }, { name: 'rack-b', cidr: '192.168.2.0/24', gateway: '192.168.2.1', mtu: 1500 }] },
      nodes: [{ name: 'node-1', segment: 'rack-a' }, { name: 'node-3', segment: 'rack-b' }],
      pods: [{ name: 'pod-a', node: 'node-1' }],
    });
    const pod = 'pod/default/pod-a';
    sim.apply({ op: 'route.del', ns: pod, dst: '10.244.0.0/16' });
    const s = createSession({ sim });
    expect(s.run('kubectl exec pod-a -- ping -M do -s 2000 -c 1 192.168.2.11').stdout).toContain('Frag needed and DF set (mtu = 1500)');
    const get = () => s.run('kubectl exec pod-a -- ip route get 192.168.2.11').stdout.split('\n')[1];
    expect(get()).toMatch(/^ {4}cache expires \d+sec mtu 1500 $/);
    // A route of another next hop (metric 5) hides it: the kernel listed `cache ` alone.
    const gw = s.run('kubectl exec pod-a -- ip route').stdout.split(' ')[2]!;
    sim.apply({ op: 'route.add', ns: pod, dst: '192.168.2.0/24', via: gw, dev: 'eth0', metric: 5 });
    expect(get()).toBe('    cache ');
  });

  it('bridge fdb leaves out another node\'s FDB entry deleted here, as the engine does', () => {
    const s = createSession();
    const vtep2 = s.sim.node('node-2').host.links['flannel.1']!.mac;
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin');
    // `show` unfiltered: with `dev flannel.1` iproute2 leaves ` dev flannel.1` out of each row (bridge-fdb.test.ts).
    expect(s.run('bridge fdb show').stdout).toContain(`${vtep2} dev flannel.1 dst 192.168.1.12 self permanent`);
    s.sim.apply({ op: 'fdb.del', ns: 'node/node-1', dev: 'flannel.1', mac: vtep2 });
    expect(s.run('bridge fdb show').stdout).not.toContain(vtep2);
    expect(s.run('bridge fdb show').stdout).toContain('dev flannel.1 dst 192.168.1.13 self permanent');
  });
});

describe('ip -4 addr: only devices with an IPv4 address, without their link line', () => {
  // Measured, iproute2 6.1 on Linux 6.18, in a namespace with lo up and a veth pair of which one end has
  // 192.0.2.1/24: `ip -4 addr` printed lo and that end, each as its header line and its inet lines (no
  // link/ether or link/loopback line); `ip -4 addr show dev` of the other end printed nothing and exited 0;
  // `ip -4 -br addr` left the other end out (plain `ip -br addr` listed it, with no address); `ip -4 -d addr`
  // printed the link/ether line and the detail lines.
  it('on a node: lo, eth0, flannel.1 and cni0, not the pods\' veth ends', () => {
    const s = createSession();
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot');
    const out = s.run('ip -4 addr');
    expect(out.status).toBe(0);
    const heads = out.stdout.split('\n').filter((l) => /^\d+: /.test(l)).map((l) => l.split(':')[1]!.trim());
    expect(heads).toEqual(['lo', 'eth0', 'flannel.1', 'cni0']);
    expect(out.stdout).not.toMatch(/link\//);
    expect(out.stdout.split('\n').filter((l) => l.startsWith('    inet '))).toHaveLength(4);
    // Without -4 every device is there, each with its link line.
    const all = s.run('ip addr').stdout;
    const veth = /^\d+: (veth[0-9a-f]+)@/m.exec(all)![1]!;
    expect(all).toMatch(/link\/ether/);
    expect(s.run(`ip -4 addr show dev ${veth}`)).toMatchObject({ status: 0, stdout: '' });
    expect(s.run(`ip addr show dev ${veth}`).stdout).toMatch(/link\/ether/);
    expect(s.run('ip -4 -br addr').stdout).not.toMatch(/^veth/m);
    expect(s.run('ip -br addr').stdout).toMatch(/^veth/m);
    expect(s.run('ip -4 -d addr show dev cni0').stdout.split('\n')[1]).toMatch(/^ {4}link\/ether \S+ brd ff:ff:ff:ff:ff:ff promiscuity 0/);
  });

  it('in a pod: the header and inet lines of lo and eth0', () => {
    const s = createSession();
    expect(s.run('kubectl exec pod-a -- ip -4 addr show dev eth0').stdout).toBe(
      '2: eth0@if5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UP group default qlen 1000\n' +
      '    inet 10.244.1.4/24 brd 10.244.1.255 scope global eth0\n       valid_lft forever preferred_lft forever\n',
    );
  });
});

describe('ip -6: IPv6 is not modelled, and says so', () => {
  it('ip -6 and -f inet6 are refused with a note, -f inet is -4', () => {
    const s = createSession();
    for (const line of ['kubectl exec pod-a -- ip -6 addr', 'kubectl exec pod-a -- ip -6 route', 'kubectl exec pod-a -- ip -f inet6 route', 'kubectl exec pod-a -- ip -family inet6 neigh']) {
      const r = s.run(line);
      expect(r.status, line).toBe(255);
      expect(r.stderr, line).toMatch(/^Error: podnet does not model IPv6 \("(-6|-f inet6|-family inet6)"\)/);
      expect(r.stdout, line).toBe('');
    }
    expect(s.run('kubectl exec pod-a -- ip -f inet addr show dev eth0').stdout).toBe(s.run('kubectl exec pod-a -- ip -4 addr show dev eth0').stdout);
    expect(s.run('kubectl exec pod-a -- ip -f link addr').stderr).toMatch(/does not model the address family "link"/);
    // Measured, iproute2 6.1: `ip -f` alone prints the usage, a family it does not know is named; both exit 255.
    expect(s.run('kubectl exec pod-a -- ip -f')).toMatchObject({ status: 255, stderr: expect.stringMatching(/^Usage: ip \[ OPTIONS \] OBJECT/) });
    expect(s.run('kubectl exec pod-a -- ip -f bogus addr')).toMatchObject({ status: 255, stderr: 'Error: argument "bogus" is wrong: invalid protocol family\n' });
  });
});

describe('bridge vlan: no VLAN entries on a bridge with vlan_filtering 0', () => {
  // Measured, iproute2 6.1 on Linux 6.18: a bridge made by `ip link add br0 type bridge` with two veth ports;
  // `bridge vlan show`, `bridge vlan` and `bridge vlan show dev v1` printed `port              vlan-id  ` alone;
  // `bridge vlan show dev nosuch`: `Cannot find device "nosuch"`, exit 255.
  it('prints the header alone, as for every bridge podnet makes', () => {
    const s = createSession();
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot');
    expect(s.run('bridge vlan show')).toEqual({ stdout: 'port              vlan-id  \n', stderr: '', status: 0 });
    expect(s.run('bridge vlan').stdout).toBe('port              vlan-id  \n');
    expect(s.run('bridge vlan show dev cni0').stdout).toBe('port              vlan-id  \n');
    expect(s.run('bridge vlan show dev nosuch')).toEqual({ stdout: '', stderr: 'Cannot find device "nosuch"\n', status: 255 });
    expect(s.run('bridge vlan add vid 5 dev cni0')).toMatchObject({ status: 255, stderr: expect.stringMatching(/^Error: podnet does not model bridge VLANs/) });
  });
});
