/**
 * The seed lesson's commands, as a student breaks and debugs the cluster, against what the real tools
 * printed for the same situation. The kernel side is scripts/seed-lab-kernel.sh: the seed lab built by
 * hand in network namespaces (three nodes on one wire, cni0, veths, flannel.1 with flannel's routes,
 * neighbours and fdb entries) with podnet's own MACs and veth names, so lines compare character for
 * character. Measured on Linux 6.18, iproute2 6.1, iputils 20221126, traceroute 2.1.2, tcpdump 4.99.
 * What podnet leaves out on purpose is removed from the real lines before comparing, and named where it
 * happens: round-trip times and `, time Nms` (no latency model), iproute2's trailing spaces, IPv6.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSession } from './index.js';

function onNode1(...lines: string[]) {
  const s = createSession();
  s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin');
  const out = lines.map((l) => s.run(l));
  return { s, out };
}

describe('traceroute: three probes per hop', () => {
  it('a hop that never answers prints one * per probe (-q, default 3)', () => {
    // Kernel: node-1's route to node-3's pods deleted, so pod-a's probes follow the default route to a
    // gateway that does not forward.
    //   # ip netns exec POD-A traceroute -n -m 5 -w 1 10.244.3.9
    //   traceroute to 10.244.3.9 (10.244.3.9), 5 hops max, 60 byte packets
    //    1  10.244.1.1  0.045 ms  0.008 ms  0.006 ms
    //    2  * * *
    //    3  * * *   (and 4, 5 alike)
    //   # ... traceroute -n -q 1 -m 3 -w 1 10.244.3.9        # ... -q 2 ...
    //    2  *                                                  2  * *
    const { s } = onNode1('ip route del 10.244.3.0/24');
    s.run('exit');
    const three = s.run('kubectl exec pod-a -- traceroute -n -m 5 10.244.3.9').stdout.split('\n');
    expect(three.slice(0, 6)).toEqual([
      'traceroute to 10.244.3.9 (10.244.3.9), 5 hops max, 60 byte packets',
      ' 1  10.244.1.1', // the kernel adds three round-trip times here
      ' 2  * * *', ' 3  * * *', ' 4  * * *', ' 5  * * *',
    ]);
    expect(s.run('kubectl exec pod-a -- traceroute -n -q 1 -m 3 10.244.3.9').stdout.split('\n')[2]).toBe(' 2  *');
    expect(s.run('kubectl exec pod-a -- traceroute -n -q 2 -m 3 10.244.3.9').stdout.split('\n')[3]).toBe(' 3  * *');
  });

  it('-q outside 1..10 and a non-number are refused as traceroute refuses them', () => {
    // Kernel: `traceroute -q 11 …` and `-q 0` print "no more than 10 probes per hop" (exit 2);
    // `-q x` prints "Cannot handle `-q' option with arg `x' (argc 2)" (exit 2).
    const s = createSession();
    expect(s.run('kubectl exec pod-a -- traceroute -q 11 10.244.3.9')).toMatchObject({ stderr: 'no more than 10 probes per hop\n', status: 2 });
    expect(s.run('kubectl exec pod-a -- traceroute -q 0 10.244.3.9')).toMatchObject({ stderr: 'no more than 10 probes per hop\n', status: 2 });
    expect(s.run('kubectl exec pod-a -- traceroute -q x 10.244.3.9')).toMatchObject({ stderr: "Cannot handle `-q' option with arg `x' (argc 2)\n", status: 2 });
  });
});

describe('ping: the summary\'s second line when nothing came back', () => {
  it('a failed ARP on node-1: `pipe N` (requests held by the unresolved neighbour)', () => {
    // Kernel: `ip route replace 10.244.3.0/24 dev eth0` on node-1 (lab 2's mistake), then from pod-a:
    //   # ping -c 3 10.244.3.9
    //   From 10.244.1.1 icmp_seq=1 Destination Host Unreachable     (… seq 2, seq 3)
    //
    //   --- 10.244.3.9 ping statistics ---
    //   3 packets transmitted, 0 received, +3 errors, 100% packet loss, time 2054ms
    //   pipe 3
    // and -c 1: `…, time 0ms` then an empty line; -c 2: pipe 2; -c 4: pipe 4; -c 5: pipe 4.
    const { s } = onNode1('ip route replace 10.244.3.0/24 dev eth0', 'ip route del 10.244.3.0/24 via 10.244.3.0 dev flannel.1');
    s.run('exit');
    const tail = (n: number) => s.run(`kubectl exec pod-a -- ping -c ${n} 10.244.3.9`).stdout.split('\n').slice(-3).join('\n');
    expect(tail(3)).toBe(`3 packets transmitted, 0 received, +3 errors, 100% packet loss\npipe 3\n`);
    expect(tail(1)).toBe(`1 packets transmitted, 0 received, +1 errors, 100% packet loss\n\n`);
    expect(tail(2)).toBe(`2 packets transmitted, 0 received, +2 errors, 100% packet loss\npipe 2\n`);
    expect(tail(5)).toBe(`5 packets transmitted, 0 received, +5 errors, 100% packet loss\npipe 4\n`);
  });

  it('requests lost without an answer: an empty line', () => {
    // Kernel (route to node-3's pods deleted, default gateway not forwarding):
    //   --- 10.244.3.9 ping statistics ---
    //   3 packets transmitted, 0 received, 100% packet loss, time 2036ms
    //   (empty line)
    const { s } = onNode1('ip route del 10.244.3.0/24');
    s.run('exit');
    expect(s.run('kubectl exec pod-a -- ping -c 3 10.244.3.9').stdout).toBe(
      'PING 10.244.3.9 (10.244.3.9) 56(84) bytes of data.\n\n--- 10.244.3.9 ping statistics ---\n3 packets transmitted, 0 received, 100% packet loss\n\n');
  });

  it('replies received: no second line (the kernel\'s is the rtt line, which podnet does not print)', () => {
    const s = createSession();
    expect(s.run('kubectl exec pod-a -- ping -c 2 10.244.2.3').stdout.endsWith('2 packets transmitted, 2 received, 0% packet loss\n')).toBe(true);
  });
});

describe('tcpdump -e: the link-level header', () => {
  it('on pod-c\'s eth0: node-2\'s cni0 MAC to pod-c, ethertype, frame length, and no `IP ` label', () => {
    // Kernel: # ip netns exec POD-C tcpdump -n -e -i eth0 icmp   (pod-a pings 10.244.2.3)
    //   05:39:53.734730 22:9c:f0:70:80:78 > 12:aa:a8:05:ca:6b, ethertype IPv4 (0x0800), length 98: 10.244.1.4 > 10.244.2.3: ICMP echo request, id 16253, seq 1, length 64
    //   05:39:53.734746 12:aa:a8:05:ca:6b > 22:9c:f0:70:80:78, ethertype IPv4 (0x0800), length 98: 10.244.2.3 > 10.244.1.4: ICMP echo reply, id 16253, seq 1, length 64
    const s = createSession();
    s.run('kubectl exec pod-c -- tcpdump -n -e -i eth0 icmp -c 2 &');
    const lines = s.run('kubectl exec pod-a -- ping -c 1 10.244.2.3').stdout.split('\n').filter((l) => /^\d\d:/.test(l));
    expect(lines.map((l) => l.replace(/^\S+ /, '').replace(/id \d+/, 'id N'))).toEqual([
      '22:9c:f0:70:80:78 > 12:aa:a8:05:ca:6b, ethertype IPv4 (0x0800), length 98: 10.244.1.4 > 10.244.2.3: ICMP echo request, id N, seq 1, length 64',
      '12:aa:a8:05:ca:6b > 22:9c:f0:70:80:78, ethertype IPv4 (0x0800), length 98: 10.244.2.3 > 10.244.1.4: ICMP echo reply, id N, seq 1, length 64',
    ]);
  });

  it('on node-2\'s eth0: the outer and the inner Ethernet headers of the VXLAN packet', () => {
    // Kernel: # ip netns exec NODE-2 tcpdump -n -e -i eth0 udp
    //   05:39:55.215673 0a:33:c8:d9:e8:39 > 02:e5:5b:7a:61:32, ethertype IPv4 (0x0800), length 148: 192.168.1.11.41878 > 192.168.1.12.8472: OTV, flags [I] (0x08), overlay 0, instance 1
    //   56:bd:ce:ac:9b:ae > 5a:bd:d3:65:b2:19, ethertype IPv4 (0x0800), length 98: 10.244.1.4 > 10.244.2.3: ICMP echo request, id 16334, seq 1, length 64
    const s = createSession();
    s.run('kubectl debug node/node-2 --image=nicolaka/netshoot -- tcpdump -n -e -i eth0 -c 1 udp &');
    const out = s.run('kubectl exec pod-a -- ping -c 1 10.244.2.3').stdout.split('\n');
    const at = out.findIndex((l) => l.includes('OTV'));
    expect(out[at]!.replace(/^\S+ /, '').replace(/\.\d+ > /, '.PORT > ')).toBe(
      '0a:33:c8:d9:e8:39 > 02:e5:5b:7a:61:32, ethertype IPv4 (0x0800), length 148: 192.168.1.11.PORT > 192.168.1.12.8472: OTV, flags [I] (0x08), overlay 0, instance 1');
    expect(out[at + 1]!.replace(/id \d+/, 'id N')).toBe(
      '56:bd:ce:ac:9b:ae > 5a:bd:d3:65:b2:19, ethertype IPv4 (0x0800), length 98: 10.244.1.4 > 10.244.2.3: ICMP echo request, id N, seq 1, length 64');
  });

  it('ARP with -e: no `ARP, ` label, 42-byte frames', () => {
    // Kernel: # ip netns exec POD-D tcpdump -n -e -i eth0   (pod-d pings pod-c, its neighbour table flushed)
    //   66:85:1a:61:b5:9d > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 10.244.2.3 tell 10.244.2.7, length 28
    //   66:85:1a:61:b5:9d > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 10.244.2.3 tell 10.244.2.7, length 28
    //   12:aa:a8:05:ca:6b > 66:85:1a:61:b5:9d, ethertype ARP (0x0806), length 42: Reply 10.244.2.3 is-at 12:aa:a8:05:ca:6b, length 28
    // The request twice: the port has hairpin mode on (flannel's bridge plugin), so cni0 floods it back
    // to pod-d too (__fixtures__/tcpdump-verbose.txt, `tcpdump -n -e -v -i eth0 arp (pd)`).
    const s = createSession();
    s.run('kubectl exec pod-d -- tcpdump -n -e -i eth0 arp -c 3 &');
    const lines = s.run('kubectl exec pod-d -- ping -c 1 10.244.2.3').stdout.split('\n').filter((l) => /^\d\d:/.test(l)).map((l) => l.replace(/^\S+ /, ''));
    expect(lines).toEqual([
      '66:85:1a:61:b5:9d > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 10.244.2.3 tell 10.244.2.7, length 28',
      '66:85:1a:61:b5:9d > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 10.244.2.3 tell 10.244.2.7, length 28',
      '12:aa:a8:05:ca:6b > 66:85:1a:61:b5:9d, ethertype ARP (0x0806), length 42: Reply 10.244.2.3 is-at 12:aa:a8:05:ca:6b, length 28',
    ]);
  });

  it('-v and -w: tcpdump names itself on the listening line and says nothing of verbosity', () => {
    // Kernel: tcpdump -n -v -i eth0 icmp   ->  tcpdump: listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes
    //         tcpdump -i eth0 -w x.pcap    ->  tcpdump: listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes
    const s = createSession();
    const v = s.run('kubectl exec pod-c -- tcpdump -n -v -i eth0 icmp &');
    expect(v.stderr).toBe('tcpdump: listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n');
    s.run('kill %1');
    const w = s.run('kubectl exec pod-c -- tcpdump -i eth0 -w lab28-unused.pcap icmp &');
    expect(w.stderr).toBe('tcpdump: listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n');
    s.files.delete('lab28-unused.pcap');
  });
});

describe('bridge fdb show as the kernel dumps it', () => {
  // Kernel, node-1 after pod-a pinged pod-c and node-1 pinged pod-a (IPv6 33:33:… rows left out;
  // iproute2 ends the learned row with a space):
  const KERNEL_NODE1 = [
    '01:00:5e:00:00:01 dev eth0 self permanent',
    '5a:bd:d1:d2:c8:84 dev flannel.1 dst 192.168.1.13 self permanent',
    '5a:bd:d3:65:b2:19 dev flannel.1 dst 192.168.1.12 self permanent',
    '01:00:5e:00:00:6a dev cni0 self permanent',
    '01:00:5e:00:00:01 dev cni0 self permanent',
    '26:9c:f5:29:3d:37 dev cni0 master cni0 permanent',
    'a2:d8:7f:1d:63:ef dev veth19fd34b4 master cni0',
    '7a:0d:09:3b:59:ad dev veth19fd34b4 master cni0 permanent',
    '01:00:5e:00:00:01 dev veth19fd34b4 self permanent',
    'e2:a6:53:4e:40:3a dev veth1cfd396d master cni0 permanent',
    '01:00:5e:00:00:01 dev veth1cfd396d self permanent',
  ];

  it('node-1: device by device, multicast self rows, the bridge\'s own MAC, learned pod MACs newest first', () => {
    const s = createSession();
    s.run('kubectl exec pod-a -- ping -c 3 10.244.2.3');
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin');
    s.run('ping -c 2 10.244.1.4');
    expect(s.run('bridge fdb show').stdout).toBe(KERNEL_NODE1.map((l) => `${l}\n`).join(''));
  });

  it('a port set down leaves its multicast group; learned rows age out after 300 s', () => {
    // Kernel: `ip link set veth1cfd396d down` on node-1 -> `e2:a6:53:4e:40:3a dev veth1cfd396d master cni0
    // permanent` stays, its `01:00:5e:00:00:01 … self permanent` row goes. The bridge's ageing_time is
    // 30000 (centiseconds: `ip -d link show cni0`).
    const s = createSession();
    s.run('kubectl exec pod-a -- ping -c 3 10.244.2.3');
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin');
    s.run('ping -c 2 10.244.1.4');
    s.run('ip link set veth1cfd396d down');
    expect(s.run('bridge fdb show | grep veth1cfd396d').stdout).toBe('e2:a6:53:4e:40:3a dev veth1cfd396d master cni0 permanent\n');
    s.sim.advance(301_000);
    expect(s.run('bridge fdb show | grep veth19fd34b4').stdout).toBe(
      '7a:0d:09:3b:59:ad dev veth19fd34b4 master cni0 permanent\n01:00:5e:00:00:01 dev veth19fd34b4 self permanent\n');
  });

  it('inside a pod: the pod\'s eth0 joined 224.0.0.1', () => {
    // Kernel: # ip netns exec POD-A bridge fdb show  ->  01:00:5e:00:00:01 dev eth0 self permanent
    expect(createSession().run('kubectl exec pod-a -- bridge fdb show').stdout).toBe('01:00:5e:00:00:01 dev eth0 self permanent\n');
  });
});

describe('ip -d link show: the details line of each kind', () => {
  /** Real `ip -d link show` (src/__fixtures__/seed-lab-ip-d.txt), by section, as line pairs per device. */
  const real = (() => {
    const sections = new Map<string, string[]>();
    let cur: string[] = [];
    for (const line of readFileSync(join(__dirname, '__fixtures__', 'seed-lab-ip-d.txt'), 'utf8').split('\n')) {
      const m = /^== (.*?) \(/.exec(line);
      if (m) sections.set(line.slice(3), (cur = []));
      else if (line) cur.push(line);
    }
    return [...sections.values()];
  })();
  /** One device's lines (its header to the next header). */
  const device = (lines: readonly string[], name: string) => {
    const at = lines.findIndex((l) => new RegExp(`^\\d+: ${name.replace('.', '\\.')}[:@]`).test(l));
    const end = lines.findIndex((l, i) => i > at && /^\d+: /.test(l));
    return lines.slice(at, end < 0 ? undefined : end);
  };
  /** What differs between the two runs by nature: the netns's name, timers that run. */
  const shape = (l: string) => l.replace(/link-netns \S+/, 'link-netns NS').replace(/(forward_delay_timer|gc_timer) +\d+\.\d\d/, '$1 T');

  it('lo, flannel.1 (vxlan), cni0 (bridge) and a pod\'s port (veth + bridge_slave) on node-1, and a pod\'s eth0', () => {
    const s = createSession();
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot');
    s.run('chroot /host');
    const ours = s.run('ip -d link show').stdout.split('\n').slice(0, -1);
    const [node, pod, nic] = real;
    expect(device(ours, 'lo')).toEqual(device(node!, 'lo'));
    // flannel.1 inherits its TSO limit from its underlay: a veth where it was measured, a virtio NIC
    // (65536) in podnet's nodes.
    expect(device(ours, 'flannel.1').map(shape)).toEqual(device(node!, 'flannel.1').map((l) => shape(l).replace('tso_max_size 524280', 'tso_max_size 65536')));
    expect(device(ours, 'cni0').map(shape)).toEqual(device(node!, 'cni0').map(shape));
    expect(device(ours, 'veth19fd34b4').map(shape)).toEqual(device(node!, 'veth19fd34b4').map(shape));
    expect(device(ours, 'veth1cfd396d').map(shape)).toEqual(device(node!, 'veth1cfd396d').map(shape));
    // The node's NIC: the virtio line (the measuring machine's mtu, qdisc, MAC and ifindex differ), without
    // the parent bus and device podnet does not model.
    const virtio = device(nic!, 'eth0').map((l) => l.replace(/^\d+: /, '2: ').replace(/mtu \d+ qdisc \S+/, 'mtu 1500 qdisc fq_codel')
      .replace(/ether \S+/, 'ether 0a:33:c8:d9:e8:39').replace(/parentbus \S+ parentdev \S+ $/, ''));
    expect(device(ours, 'eth0')).toEqual(virtio);
    // The pod's eth0 sees the host's namespace unnamed (link-netnsid 0), where the hand-built one is named.
    s.run('exit');
    s.run('exit');
    const podEth0 = s.run('kubectl exec pod-a -- ip -d link show eth0').stdout.split('\n').slice(0, -1);
    expect(podEth0.map((l) => l.replace('link-netnsid 0', 'link-netns NS'))).toEqual(device(pod!, 'eth0').map(shape));
  });

  it('a port set down is `disabled`; -d also details ip addr', () => {
    // Kernel: `ip link set veth1cfd396d down`, then `ip -d link show veth1cfd396d`:
    //   bridge_slave state disabled priority 32 cost 2 hairpin on …
    const s = createSession();
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=netadmin');
    s.run('ip link set veth1cfd396d down');
    expect(s.run('ip -d link show veth1cfd396d').stdout).toContain('\n    bridge_slave state disabled priority 32 cost 2 hairpin on ');
    expect(s.run('ip -d addr show dev flannel.1').stdout.split('\n')[2]).toMatch(/^ {4}vxlan id 1 local 192\.168\.1\.11 dev eth0 srcport 0 0 dstport 8472 nolearning /);
  });
});

describe('the debug pod cannot name the pods\' namespaces; the node can', () => {
  // Kernel: node-1's namespace with /var/run/netns hidden by an empty tmpfs (the debug pod's view: its
  // /var/run/netns is the container's; the node's is under /host):
  //   # ip link show type veth        ->  … link-netnsid 1   (… link-netns lab28-pa with the directory)
  //   # ip netns                      ->  (nothing, exit 0)
  //   # ip netns exec lab28-pa ip -br addr  ->  Cannot open network namespace "lab28-pa": No such file or directory (exit 255)
  // and with the directory: `ip netns exec lab28-pa ip -br addr` runs there; `ip netns exec` ->
  // "No netns name specified" (1); `ip netns exec NAME` -> "No command specified" (1); without
  // CAP_SYS_ADMIN -> 'setting the network namespace "lab28-pa" failed: Operation not permitted' (255).
  const NS = 'cni-9b4b2bd3-00c8-562e-6521-fd6c27e3a3a9';

  it('in the debug pod: link-netnsid N, an empty ip netns, ip netns exec finds nothing', () => {
    const s = createSession();
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin');
    expect(s.run('ip link show veth1cfd396d').stdout.split('\n')[1]).toBe('    link/ether e2:a6:53:4e:40:3a brd ff:ff:ff:ff:ff:ff link-netnsid 1');
    expect(s.run('ip netns')).toMatchObject({ stdout: '', status: 0 });
    expect(s.run(`ip netns exec ${NS} ip -br addr`)).toMatchObject({ stderr: `Cannot open network namespace "${NS}": No such file or directory\n`, status: 255 });
  });

  it('on the node (chroot /host): names, ip netns exec runs the command in the pod\'s namespace', () => {
    const s = createSession();
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin');
    s.run('chroot /host');
    expect(s.run('ip link show veth19fd34b4').stdout.split('\n')[1]).toBe(`    link/ether 7a:0d:09:3b:59:ad brd ff:ff:ff:ff:ff:ff link-netns ${NS}`);
    expect(s.run(`ip netns exec ${NS} ip -br addr`).stdout).toBe('lo               UNKNOWN        127.0.0.1/8 \neth0@if5         UP             10.244.1.4/24 \n');
    expect(s.run('ip netns exec')).toMatchObject({ stderr: 'No netns name specified\n', status: 1 });
    expect(s.run(`ip netns exec ${NS}`)).toMatchObject({ stderr: 'No command specified\n', status: 1 });
    expect(s.run('ip netns exec nosuch ip a')).toMatchObject({ stderr: 'Cannot open network namespace "nosuch": No such file or directory\n', status: 255 });
  });

  it('without privileges setns is refused', () => {
    const s = createSession();
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot');
    s.run('chroot /host');
    expect(s.run(`ip netns exec ${NS} ip -br addr`)).toMatchObject({ stderr: `setting the network namespace "${NS}" failed: Operation not permitted\n`, status: 255 });
  });
});

describe('tools of the netshoot image podnet does not model say so', () => {
  it('iptables on a node lists the CNI\'s rules; nft and conntrack are not modelled (the netshoot image has them), and say where to look instead', () => {
    const s = createSession();
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin');
    expect(s.run('iptables -t nat -S POSTROUTING').stdout).toBe('-P POSTROUTING ACCEPT\n-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG\n');
    const r = s.run('nft list ruleset');
    expect(r.status).toBe(127);
    expect(r.stderr).toBe("bash: nft: not modelled by podnet (the netshoot image has it): podnet lists and changes netfilter rules with iptables (nf_tables) and iptables-save only; see a translation's effect with tcpdump on the receiving pod (the source address it shows)\n");
    expect(s.run('nosuchtool').stderr).toBe('bash: nosuchtool: command not found\n');
  });
});

describe('ip route get through a route that is not unicast', () => {
  it('answers with the route type\'s error, as the kernel does', () => {
    // Kernel, on node-1: ip route add unreachable 10.9.1.0/24; … blackhole 10.9.2.0/24; … prohibit
    // 10.9.3.0/24; then `ip route get` to each and, the default route deleted, to an address no route covers:
    //   RTNETLINK answers: No route to host / Invalid argument / Permission denied / Network is unreachable (exit 2)
    const { s } = onNode1('ip route add unreachable 10.9.1.0/24', 'ip route add blackhole 10.9.2.0/24', 'ip route add prohibit 10.9.3.0/24');
    const get = (d: string) => s.run(`ip route get ${d}`);
    expect(get('10.9.1.1')).toMatchObject({ stderr: 'RTNETLINK answers: No route to host\n', status: 2 });
    expect(get('10.9.2.1')).toMatchObject({ stderr: 'RTNETLINK answers: Invalid argument\n', status: 2 });
    expect(get('10.9.3.1')).toMatchObject({ stderr: 'RTNETLINK answers: Permission denied\n', status: 2 });
    s.run('ip route del default');
    expect(get('10.9.9.9')).toMatchObject({ stderr: 'RTNETLINK answers: Network is unreachable\n', status: 2 });
  });
});

describe('ip route show table local / table all', () => {
  // Kernel (scripts/seed-lab-kernel.sh, trailing spaces removed): node-1 and pod-a of the seed lab.
  const NODE1_LOCAL = [
    'local 10.244.1.0 dev flannel.1 proto kernel scope host src 10.244.1.0',
    'local 10.244.1.1 dev cni0 proto kernel scope host src 10.244.1.1',
    'broadcast 10.244.1.255 dev cni0 proto kernel scope link src 10.244.1.1',
    'local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1',
    'local 127.0.0.1 dev lo proto kernel scope host src 127.0.0.1',
    'broadcast 127.255.255.255 dev lo proto kernel scope link src 127.0.0.1',
    'local 192.168.1.11 dev eth0 proto kernel scope host src 192.168.1.11',
    'broadcast 192.168.1.255 dev eth0 proto kernel scope link src 192.168.1.11',
  ];

  it('lists the routes the kernel keeps for the namespace\'s own addresses, as the real node and pod do', () => {
    const { s, out } = onNode1('ip route show table local', 'ip route show table all', 'ip route show table local dev cni0');
    expect(out[0]!.stdout).toBe(`${NODE1_LOCAL.join('\n')}\n`);
    expect(out[1]!.stdout).toBe(`${[
      'default via 192.168.1.1 dev eth0',
      '10.244.1.0/24 dev cni0 proto kernel scope link src 10.244.1.1',
      '10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink',
      '10.244.3.0/24 via 10.244.3.0 dev flannel.1 onlink',
      '192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.11',
      ...NODE1_LOCAL.map((l) => l.replace(/ dev (\S+) /, ' dev $1 table local ')),
    ].join('\n')}\n`);
    expect(out[2]!.stdout).toBe(`${NODE1_LOCAL.filter((l) => l.includes(' dev cni0 ')).join('\n')}\n`);
    s.run('exit');
    expect(s.run('kubectl exec pod-a -- ip route show table local').stdout).toBe([
      'local 10.244.1.4 dev eth0 proto kernel scope host src 10.244.1.4',
      'broadcast 10.244.1.255 dev eth0 proto kernel scope link src 10.244.1.4',
      'local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1',
      'local 127.0.0.1 dev lo proto kernel scope host src 127.0.0.1',
      'broadcast 127.255.255.255 dev lo proto kernel scope link src 127.0.0.1',
      '',
    ].join('\n'));
  });

  it('a device that goes down keeps its local routes and loses its broadcast one; changing the table is refused', () => {
    // Kernel (a namespace with 192.168.1.11/24 on a veth): after `ip link set v0 down`, `local 192.168.1.11
    // dev v0 …` stays and `broadcast 192.168.1.255 dev v0 …` goes (see render.ts localTable).
    const { out } = onNode1('ip link set cni0 down', 'ip route show table local', 'ip route add 10.9.9.9 dev lo table local');
    expect(out[1]!.stdout).toBe(`${NODE1_LOCAL.filter((l) => !l.startsWith('broadcast 10.244.1.255')).join('\n')}\n`);
    expect(out[2]!.stderr).toContain('podnet does not model changes to the local table');
  });
});
