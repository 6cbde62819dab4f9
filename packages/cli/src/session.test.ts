import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSimulator, readPcap } from '@podnet/core';
import { flannel } from '@podnet/cni';
import { createSession } from './index.js';

/** Runs lines in order on one session; returns each line's output. */
function runAll(lines: string[]) {
  const s = createSession();
  return { s, out: lines.map((l) => s.run(l)) };
}

describe('the lesson, command by command, on the seed lab', () => {
  it('1. the jsonpath command prints exactly the lesson\'s three lines', () => {
    const s = createSession();
    const r = s.run(`kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name}{"\\t"}{.spec.podCIDR}{"\\n"}{end}'`);
    expect(r).toEqual({ stdout: 'node-1\t10.244.1.0/24\nnode-2\t10.244.2.0/24\nnode-3\t10.244.3.0/24\n', stderr: '', status: 0 });
  });

  it('2. kubectl get pods -A -o wide lists every pod with its IP and node, agents on the node IP', () => {
    const r = createSession().run('kubectl get pods -A -o wide');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('NAMESPACE      NAME                    READY   STATUS    RESTARTS   AGE   IP             NODE     NOMINATED NODE   READINESS GATES');
    expect(lines[1]).toBe('default        pod-a                   1/1     Running   0          10m   10.244.1.4     node-1   <none>           <none>');
    expect(lines.filter((l) => l.startsWith('kube-flannel   kube-flannel-ds-'))).toHaveLength(3);
    expect(lines.filter((l) => /^kube-system +kube-proxy-\w{5} .* 192\.168\.1\.1[123] +node-/.test(l))).toHaveLength(3);
  });

  it('3. the lesson\'s grep finds the CNI: flannel lives in kube-flannel, so -A shows it and -n kube-system does not', () => {
    const s = createSession();
    const inSystem = s.run("kubectl -n kube-system get pods | grep -E 'calico|cilium|flannel|weave|aws-node'");
    expect(inSystem).toEqual({ stdout: '', stderr: '', status: 1 });
    const all = s.run("kubectl get pods -A | grep -E 'calico|cilium|flannel|weave|aws-node' | wc -l");
    expect(all.stdout).toBe('3\n');
  });

  it('3. ls /etc/cni/net.d/ needs node access: on the laptop it is refused, on the node it lists the conflist', () => {
    const { out } = runAll(['ls /etc/cni/net.d/', 'kubectl debug node/node-1 -it --image=nicolaka/netshoot', 'ls /etc/cni/net.d/', 'ls /host/etc/cni/net.d/', 'chroot /host', 'ls /etc/cni/net.d/']);
    expect(out[0]!.status).toBe(127);
    expect(out[1]!.stdout).toMatch(/^Creating debugging pod node-debugger-node-1-\w{5} with container debugger on node node-1\.\nIf you don't see a command prompt, try pressing enter\.\n$/);
    expect(out[2]!.stderr).toBe("ls: cannot access '/etc/cni/net.d/': No such file or directory\n");
    expect(out[3]!.stdout).toBe('10-flannel.conflist\n');
    expect(out[5]!.stdout).toBe('10-flannel.conflist\n');
  });

  it('flanneld\'s lease on the node: /run/flannel/subnet.env with the node\'s subnet and the VXLAN MTU', () => {
    const s = createSession();
    s.run('kubectl debug node/node-2 -it --image=nicolaka/netshoot');
    expect(s.run('cat /host/run/flannel/subnet.env').stdout).toBe('FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.2.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n');
  });

  it('4. kubectl run, exec ping across nodes, and tcpdump on the target shows the sender\'s pod IP (no NAT)', () => {
    const { out } = runAll([
      'kubectl run netcheck --image=nicolaka/netshoot --restart=Never -- sleep 3600',
      'kubectl get pod netcheck -o wide',
      'kubectl exec pod-c -- tcpdump -n -i eth0 icmp &',
      'kubectl exec netcheck -- ping -c 3 10.244.2.3',
      'kill %1',
    ]);
    expect(out[0]!.stdout).toBe('pod/netcheck created\n');
    const ip = /(10\.244\.\d+\.\d+)/.exec(out[1]!.stdout)![1]!;
    expect(out[2]!.stdout).toBe('[1] 4201\n');
    expect(out[2]!.stderr).toBe('tcpdump: verbose output suppressed, use -v[v]... for full protocol decode\nlistening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n');
    const [ping, ...captured] = out[3]!.stdout.split('\n\n--- 10.244.2.3 ping statistics ---\n3 packets transmitted, 3 received, 0% packet loss\n');
    expect(ping).toBe('PING 10.244.2.3 (10.244.2.3) 56(84) bytes of data.\n64 bytes from 10.244.2.3: icmp_seq=1 ttl=62\n64 bytes from 10.244.2.3: icmp_seq=2 ttl=62\n64 bytes from 10.244.2.3: icmp_seq=3 ttl=62');
    const lines = captured.join('').trimEnd().split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(new RegExp(`^09:10:00\\.\\d{6} IP ${ip.replace(/\./g, '\\.')} > 10\\.244\\.2\\.3: ICMP echo request, id \\d+, seq 1, length 64$`));
    expect(lines[5]).toMatch(new RegExp(`^09:10:02\\.\\d{6} IP 10\\.244\\.2\\.3 > ${ip.replace(/\./g, '\\.')}: ICMP echo reply, id \\d+, seq 3, length 64$`));
    expect(out[4]!.stdout).toBe('[1]+  Terminated              tcpdump -n -i eth0 icmp\n');
    expect(out[4]!.stderr).toBe('6 packets captured\n6 packets received by filter\n0 packets dropped by kernel\n');
  });

  it('the wiring on a node: conflist, veths, bridge ports, routes, ping a local pod', () => {
    const { out } = runAll([
      'kubectl debug node/node-1 -it --image=nicolaka/netshoot',
      'cat /host/etc/cni/net.d/10-flannel.conflist',
      'ip link show type veth',
      'bridge link show',
      'ip route',
      'ping -c 2 10.244.1.4',
    ]);
    expect(JSON.parse(out[1]!.stdout)).toMatchObject({ name: 'cbr0', plugins: [{ type: 'flannel' }, { type: 'portmap' }] });
    const veth = out[2]!.stdout.trimEnd().split('\n');
    expect(veth).toHaveLength(4);
    expect(veth[0]).toMatch(/^\d+: veth[0-9a-f]{8}@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue master cni0 state UP mode DEFAULT group default qlen 1000$/);
    // In the debug pod iproute2 cannot name the pods' namespaces (/var/run/netns is the container's): ids.
    expect(veth[1]).toMatch(/^    link\/ether ([0-9a-f]{2}:){5}[0-9a-f]{2} brd ff:ff:ff:ff:ff:ff link-netnsid 0$/);
    expect(veth[3]).toMatch(/ link-netnsid 1$/);
    expect(out[3]!.stdout.trimEnd().split('\n').map((l) => l.replace(/^\d+: veth\w+@/, 'N: vethX@'))).toEqual([
      // iproute2 ends each line with a space (__fixtures__/iproute2-formats.txt, `bridge link`).
      'N: vethX@eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 master cni0 state forwarding priority 32 cost 2 ',
      'N: vethX@eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 master cni0 state forwarding priority 32 cost 2',
    ]);
    expect(out[4]!.stdout).toBe([
      'default via 192.168.1.1 dev eth0',
      '10.244.1.0/24 dev cni0 proto kernel scope link src 10.244.1.1',
      '10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink',
      '10.244.3.0/24 via 10.244.3.0 dev flannel.1 onlink',
      '192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.11', ''].join('\n'));
    expect(out[5]!.stdout).toContain('64 bytes from 10.244.1.4: icmp_seq=2 ttl=64\n');
    expect(out[5]!.status).toBe(0);
  });

  it('crictl ps | grep, crictl inspect | grep -i netns, nsenter --net=PATH ip addr shows the pod\'s eth0', () => {
    const s = createSession();
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin');
    expect(s.run('crictl ps').status).toBe(127);
    s.run('chroot /host');
    const ps = s.run('crictl ps | grep pod-a');
    expect(ps.stdout).toMatch(/^[0-9a-f]{13} {7}[0-9a-f]{13} {7}10 minutes ago {6}Running {13}app {17}0 {19}[0-9a-f]{13} {7}pod-a\n$/);
    const id = ps.stdout.slice(0, 13);
    const netns = s.run(`crictl inspect ${id} | grep -i netns`);
    const path = /"path": "(\/var\/run\/netns\/cni-[0-9a-f-]+)"/.exec(netns.stdout)![1]!;
    const addr = s.run(`nsenter --net=${path} ip addr`);
    expect(addr.stdout).toContain('    inet 10.244.1.4/24 brd 10.244.1.255 scope global eth0\n');
    expect(addr.stdout).toMatch(/^2: eth0@if\d+: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UP group default qlen 1000\n    link\/ether \S+ brd ff:ff:ff:ff:ff:ff link-netnsid 0$/m);
  });

  it('nsenter needs CAP_SYS_ADMIN: the default debug profile is refused as the kernel refuses it', () => {
    const s = createSession();
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot');
    s.run('chroot /host');
    const path = /"path": "([^"]+)"/.exec(s.run(`crictl inspect ${s.run('crictl ps -q').stdout.split('\n')[0]}`).stdout)![1]!;
    expect(s.run(`nsenter --net=${path} ip addr`)).toEqual({ stdout: '', stderr: "nsenter: reassociate to namespace 'ns/net' failed: Operation not permitted\n", status: 1 });
  });

  it('describe node shows allocatable pods against non-terminated pods; describe pod shows the scheduler\'s events', () => {
    const s = createSession();
    const node = s.run('kubectl describe node node-1').stdout;
    expect(node).toContain('Allocatable:\n  pods:               110\n');
    expect(node).toContain('Non-terminated Pods:          (4 in total)\n');
    s.run('kubectl run big --image=nginx');
    const pod = s.run('kubectl describe pod big').stdout;
    expect(pod).toMatch(/Node: +node-\d\/192\.168\.1\.1\d/);
    expect(pod).toMatch(/Normal +Scheduled +0s +default-scheduler +Successfully assigned default\/big to node-\d/);
  });
});

describe('kubectl describe pod in kubectl\'s layout (staging/src/k8s.io/kubectl/pkg/describe/describe.go)', () => {
  // describe.go writes through one text/tabwriter with padding 2: runs of lines with a tab share the width of
  // their first cell, and a line without a tab (a container's name, `Args:`) ends a run. So with no args the
  // container's values sit 2 past `    Restart Count:` (column 20), as `    Container ID:   containerd://…`
  // shows on a real cluster; `Args:` splits the run (Container ID…Host Port at 19, State…Mounts at 20).
  it('a running pod: Container ID, Image ID, Port/Host Port, Environment, Mounts; the kubelet\'s five conditions; QoS, tolerations', () => {
    const out = createSession().run('kubectl describe pod pod-a').stdout;
    expect(out).toMatch(/\nContainers:\n  app:\n    Container ID:   containerd:\/\/[0-9a-f]{64}\n    Image:          registry\.k8s\.io\/pause:3\.10\n    Image ID:       registry\.k8s\.io\/pause:3\.10\n    Port:           <none>\n    Host Port:      <none>\n    State:          Running\n      Started:      .*\n    Ready:          True\n    Restart Count:  0\n    Environment:    <none>\n    Mounts:         <none>\n/);
    expect(out).toContain([
      'Conditions:',
      '  Type                        Status',
      '  PodReadyToStartContainers   True ',
      '  Initialized                 True ',
      '  Ready                       True ',
      '  ContainersReady             True ',
      '  PodScheduled                True ',
      'Volumes:                      <none>',
      'QoS Class:                    BestEffort',
      'Node-Selectors:               <none>',
      'Tolerations:                  node.kubernetes.io/not-ready:NoExecute op=Exists for 300s',
      '                              node.kubernetes.io/unreachable:NoExecute op=Exists for 300s',
      'Events:',
    ].join('\n'));
  });

  it('Args split the run; a pod waiting for its sandbox shows empty IDs, Waiting/ContainerCreating and its conditions False', () => {
    const s = createSession();
    s.run('kubectl run netcheck --image=nicolaka/netshoot --restart=Never -- sleep 3600');
    expect(s.run('kubectl describe pod netcheck').stdout).toMatch(/    Container ID:  containerd:\/\/[0-9a-f]{64}\n    Image:         nicolaka\/netshoot\n(.*\n){3}    Args:\n      sleep\n      3600\n    State:          Running\n/);
    // A /30 leaves host-local one address after the gateway: the second pod's sandbox fails.
    const sim = createSimulator({ podCidr: '10.244.0.0/16', cni: flannel({ backend: 'vxlan' }), nodes: [{ name: 'node-1', podCidr: '10.244.1.0/30' }], pods: [{ name: 'a', node: 'node-1' }, { name: 'b', node: 'node-1' }] });
    const out = createSession({ sim, agents: false }).run('kubectl describe pod b').stdout;
    expect(out).toContain('Status:           Pending\n');
    expect(out).toContain(['    Container ID:   ', '    Image:          registry.k8s.io/pause:3.10', '    Image ID:       ', '    Port:           <none>', '    Host Port:      <none>',
      '    State:          Waiting', '      Reason:       ContainerCreating', '    Ready:          False'].join('\n'));
    expect(out).toContain(['  PodReadyToStartContainers   False ', '  Initialized                 True ', '  Ready                       False ', '  ContainersReady             False ', '  PodScheduled                True '].join('\n'));
    expect(out).toMatch(/Warning +FailedCreatePodSandBox .*no IP addresses available/);
  });

  it('a pod no node can take has the scheduler\'s condition alone', () => {
    const sim = createSimulator({ podCidr: '10.244.0.0/16', cni: flannel({ backend: 'vxlan' }), pods: [{ name: 'a' }] });
    const out = createSession({ sim, agents: false }).run('kubectl describe pod a').stdout;
    expect(out).toContain('Node:             <none>\n');
    expect(out).not.toContain('Container ID:');
    expect(out).toContain(['Conditions:', '  Type           Status', '  PodScheduled   False ', 'Volumes:         <none>'].join('\n'));
  });
});

describe('errors in the real tools\' words, never a stack', () => {
  it.each([
    ['foo', 'bash: foo: command not found\n', 127],
    ['kubectl get pods --foo', "error: unknown flag: --foo\nSee 'kubectl get --help' for usage.\n", 1],
    ['kubectl get widgets', 'error: the server doesn\'t have a resource type "widgets"\n', 1],
    ['kubectl get pod nosuch', 'Error from server (NotFound): pods "nosuch" not found\n', 1],
    ['kubectl frob', 'error: unknown command "frob" for "kubectl"\n', 1],
    // A word that is a property of every object is no command (a table lookup once answered its function's source).
    ['kubectl constructor', 'error: unknown command "constructor" for "kubectl"\n', 1],
    ['kubectl exec pod-a -- constructor', 'bash: constructor: command not found\n', 127],
    ['kubectl exec pod-a -- toString', 'bash: toString: command not found\n', 127],
    // kubectl has these: podnet says it does not model them, and what to use instead.
    ['kubectl logs -n kube-flannel ds/kube-flannel-ds', expect.stringMatching(/^podnet: kubectl logs is not modelled: podnet runs no container processes.* ip route/), 1],
    ['kubectl port-forward pod/pod-a 8080:80', expect.stringMatching(/^podnet: kubectl port-forward is not modelled: podnet has no Services/), 1],
    ["echo 'open", "bash: unexpected EOF while looking for matching `''\n", 2],
    ['| grep x', "bash: syntax error near unexpected token `|'\n", 2],
  ])('%s', (line, stderr, status) => {
    expect(createSession().run(line)).toEqual({ stdout: '', stderr, status });
  });

  it('hostname: the name; -i the address it resolves to; -I every address but loopback\'s, each followed by a space', () => {
    const s = createSession();
    expect(s.run('kubectl exec pod-a -- hostname').stdout).toBe('pod-a\n');
    expect(s.run('kubectl exec pod-a -- hostname -i').stdout).toBe('10.244.1.4 \n');
    expect(s.run('kubectl exec pod-a -- hostname -I').stdout).toBe('10.244.1.4 \n');
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot');
    expect(s.run('hostname -i').stdout).toBe('192.168.1.11 \n');
    // eth0, flannel.1, cni0: device order, as getifaddrs lists them.
    expect(s.run('hostname -I').stdout).toBe('192.168.1.11 10.244.1.0 10.244.1.1 \n');
    expect(s.run('hostname -x')).toEqual({ stdout: '', stderr: "hostname: invalid option -- 'x'\n", status: 1 });
  });

  it.each([
    ['ip foo', 'Object "foo" is unknown, try "ip help".\n', 1],
    ['ip link foo', 'Command "foo" is unknown, try "ip link help".\n', 255],
    ['ip link set nosuch down', 'Cannot find device "nosuch"\n', 1],
    ['ip route del 10.9.0.0/16', 'RTNETLINK answers: No such process\n', 2],
    ['ip route add 10.9.0.0/16 via 172.16.0.1', 'Error: Nexthop has invalid gateway.\n', 2],
    // procps adds 1 to the status per key it cannot read (sysctl-formats.txt case d).
    ['sysctl net.ipv4.nosuch', 'sysctl: cannot stat /proc/sys/net/ipv4/nosuch: No such file or directory\n', 1],
    ['tcpdump -i nosuch', 'tcpdump: nosuch: No such device exists\n(SIOCGIFHWADDR: No such device)\n', 1],
    ['tcpdump host', 'tcpdump: syntax error in filter expression\n', 1],
  ])('on a node (sysadmin): %s', (line, stderr, status) => {
    const s = createSession();
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin');
    expect(s.run(line)).toEqual({ stdout: '', stderr, status });
  });
});

describe('changing a node as a student would break it', () => {
  it('ip link set cni0 down on node-2 makes pods there unreachable; up again fixes it', () => {
    const s = createSession();
    s.run('kubectl debug node/node-2 -it --image=nicolaka/netshoot --profile=sysadmin');
    expect(s.run('ip link set cni0 down')).toEqual({ stdout: '', stderr: '', status: 0 });
    expect(s.run('ip link show cni0').stdout).toMatch(/^\d+: cni0: <BROADCAST,MULTICAST> mtu 1450 qdisc noqueue state DOWN mode DEFAULT/);
    s.run('exit');
    expect(s.run('kubectl exec pod-a -- ping -c 1 10.244.2.3').status).not.toBe(0);
    s.run('kubectl debug node/node-2 -it --image=nicolaka/netshoot --profile=sysadmin');
    s.run('ip link set cni0 up');
    s.run('exit');
    expect(s.run('kubectl exec pod-a -- ping -c 1 10.244.2.3').status).toBe(0);
  });

  it('without NET_ADMIN (pods, the default debug profile) changes are refused', () => {
    const s = createSession();
    expect(s.run('kubectl exec pod-a -- ip link set eth0 down')).toEqual({ stdout: '', stderr: 'RTNETLINK answers: Operation not permitted\n', status: 2 });
    expect(s.run('kubectl exec pod-a -- sysctl -w net.ipv4.ip_forward=0').stderr).toBe('sysctl: setting key "net.ipv4.ip_forward": Read-only file system\n');
  });

  it('ip route del of a flannel route breaks that path only; sysctl -w ip_forward=0 stops forwarding', () => {
    const s = createSession();
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin');
    s.run('ip route del 10.244.3.0/24');
    expect(s.run('ip route').stdout).not.toContain('10.244.3.0/24');
    s.run('exit');
    expect(s.run('kubectl exec pod-a -- ping -c 1 10.244.3.2').status).not.toBe(0);
    expect(s.run('kubectl exec pod-a -- ping -c 1 10.244.2.3').status).toBe(0);
    s.run('kubectl debug node/node-2 -it --image=nicolaka/netshoot --profile=sysadmin');
    expect(s.run('sysctl -w net.ipv4.ip_forward=0').stdout).toBe('net.ipv4.ip_forward = 0\n');
    s.run('exit');
    expect(s.run('kubectl exec pod-a -- ping -c 1 10.244.2.3').status).not.toBe(0);
  });
});

describe('sysctl net.bridge.bridge-nf-call-iptables (br_netfilter)', () => {
  it('is 1 on a node, as br_netfilter leaves it in a new namespace; sysctl -w stores 1 for any non-zero int', () => {
    const s = createSession();
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin');
    expect(s.run('sysctl net.bridge.bridge-nf-call-iptables').stdout).toBe('net.bridge.bridge-nf-call-iptables = 1\n');
    expect(s.run('sysctl -a').stdout).toContain('net.bridge.bridge-nf-call-iptables = 1\n');
    expect(s.run('sysctl -w net.bridge.bridge-nf-call-iptables=x').stderr).toBe('sysctl: setting key "net.bridge.bridge-nf-call-iptables": Invalid argument\n');
    // brnf_sysctl_call_tables stores 1 for any non-zero int (measured: 5 reads back 1, sysctl-formats.txt case b).
    expect(s.run('sysctl -w net.bridge.bridge-nf-call-iptables=0').stdout).toBe('net.bridge.bridge-nf-call-iptables = 0\n');
    expect(s.run('sysctl -w net.bridge.bridge-nf-call-iptables=5').stdout).toBe('net.bridge.bridge-nf-call-iptables = 5\n');
    expect(s.run('sysctl -n net.bridge.bridge-nf-call-iptables').stdout).toBe('1\n');
    expect(s.run('sysctl -w net.bridge.bridge-nf-call-iptables=0').stdout).toBe('net.bridge.bridge-nf-call-iptables = 0\n');
    expect(s.run('sysctl -n net.bridge.bridge-nf-call-iptables').stdout).toBe('0\n');
  });
});

describe('sysctl net.ipv4.icmp_ratelimit and icmp_ratemask (the limit on ICMP errors)', () => {
  it("reads the kernel's defaults (1000, 6168); -w sets them and refuses what is not an integer", () => {
    const s = createSession();
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin');
    expect(s.run('sysctl net.ipv4.icmp_ratelimit net.ipv4.icmp_ratemask').stdout).toBe('net.ipv4.icmp_ratelimit = 1000\nnet.ipv4.icmp_ratemask = 6168\n');
    expect(s.run('sysctl -w net.ipv4.icmp_ratelimit=soon').stderr).toBe('sysctl: setting key "net.ipv4.icmp_ratelimit": Invalid argument\n');
    expect(s.run('sysctl -w net.ipv4.icmp_ratelimit=0').stdout).toBe('net.ipv4.icmp_ratelimit = 0\n');
    expect(s.run('sysctl -n net.ipv4.icmp_ratelimit').stdout).toBe('0\n');
  });
});

describe('tcpdump -w writes a pcap tshark decodes', () => {
  const tshark = (() => { try { execFileSync('tshark', ['-v'], { stdio: 'ignore' }); return true; } catch { return false; } })();

  it('a capture of a cross-node ping on node-1 eth0 holds VXLAN with the inner ICMP from the sender\'s pod IP', () => {
    const s = createSession();
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot');
    s.run('tcpdump -n -i eth0 -w /captures/vxlan.pcap udp port 8472 &');
    s.run('exit');
    s.run('kubectl exec pod-a -- ping -c 2 10.244.2.3');
    s.run('kill %1');
    const bytes = s.files.get('/captures/vxlan.pcap')!;
    const records = readPcap(bytes);
    expect(records).toHaveLength(4);
    if (!tshark) return;
    const dir = mkdtempSync(join(tmpdir(), 'podnet-cli-'));
    const file = join(dir, 'vxlan.pcap');
    writeFileSync(file, bytes);
    // Wireshark decodes UDP 4789 as VXLAN; flannel's 8472 is the Linux default, so ask for it as a user would.
    const fields = execFileSync('tshark', ['-r', file, '-d', 'udp.port==8472,vxlan', '-T', 'fields', '-E', 'separator=;', '-e', 'vxlan.vni', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'icmp.type'], { encoding: 'utf8' });
    expect(fields.trim().split('\n')).toEqual([
      '1;192.168.1.11,10.244.1.4;192.168.1.12,10.244.2.3;8',
      '1;192.168.1.12,10.244.2.3;192.168.1.11,10.244.1.4;0',
      '1;192.168.1.11,10.244.1.4;192.168.1.12,10.244.2.3;8',
      '1;192.168.1.12,10.244.2.3;192.168.1.11,10.244.1.4;0',
    ]);
  });

  it('printed, the same traffic shows tcpdump\'s OTV decoding of port 8472 with the inner packet', () => {
    const s = createSession();
    s.run('kubectl debug node/node-2 -it --image=nicolaka/netshoot');
    s.run('tcpdump -n -i eth0 -c 1 udp &');
    s.run('exit');
    const r = s.run('kubectl exec pod-a -- ping -c 1 10.244.2.3');
    expect(r.stdout).toMatch(/\n09:10:00\.\d{6} IP 192\.168\.1\.11\.\d+ > 192\.168\.1\.12\.8472: OTV, flags \[I\] \(0x08\), overlay 0, instance 1\nIP 10\.244\.1\.4 > 10\.244\.2\.3: ICMP echo request, id \d+, seq 1, length 64\n\[1\]\+  Done {20}tcpdump -n -i eth0 -c 1 udp\n$/);
    expect(r.stderr).toBe('1 packet captured\n1 packet received by filter\n0 packets dropped by kernel\n');
  });
});

describe('the podnet binary', () => {
  const bin = join(__dirname, '..', 'bin', 'podnet.js');

  it('podnet -c runs commands in order on one cluster', () => {
    const out = execFileSync(process.execPath, [bin, '-c', 'kubectl run x --image=busybox', '-c', 'kubectl get pods x -o name'], { encoding: 'utf8' });
    expect(out).toBe('pod/x created\npod/x\n');
  });

  it('--scenario reads a YAML spec', () => {
    const dir = mkdtempSync(join(tmpdir(), 'podnet-cli-'));
    const file = join(dir, 'two.yaml');
    writeFileSync(file, 'nodes:\n  - name: alpha\n  - name: beta\npods:\n  - name: web\n    node: alpha\n');
    const out = execFileSync(process.execPath, [bin, '--scenario', file, '-c', 'kubectl get nodes -o name', '-c', 'kubectl get pods -o wide | tail -n 1'], { encoding: 'utf8' });
    expect(out).toMatch(/^node\/alpha\nnode\/beta\nweb +1\/1 +Running +0 +10m +10\.244\.0\.\d+ +alpha +<none> +<none>\n$/);
  });

  const tmux = (() => { try { execFileSync('tmux', ['-V'], { stdio: 'ignore' }); return true; } catch { return false; } })();
  it.skipIf(!tmux)('the interactive shell in a terminal (tmux): prompt, a command, tab completion, moving to a node', async () => {
    const name = `podnet-test-${process.pid}`;
    const tm = (...a: string[]) => execFileSync('tmux', a, { encoding: 'utf8' });
    const screen = () => tm('capture-pane', '-p', '-t', name);
    const until = async (text: string) => {
      for (let i = 0; i < 100; i++) { if (screen().includes(text)) return; await new Promise((r) => setTimeout(r, 100)); }
      throw new Error(`timed out waiting for ${JSON.stringify(text)}:\n${screen()}`);
    };
    tm('new-session', '-d', '-s', name, '-x', '200', '-y', '50', process.execPath, bin);
    try {
      await until('you@laptop:~$');
      tm('send-keys', '-t', name, 'kubectl get no', 'Tab');
      await until('kubectl get node');
      tm('send-keys', '-t', name, 'C-u', 'kubectl get nodes', 'Enter');
      await until('node-3   Ready');
      tm('send-keys', '-t', name, 'kubectl debug node/node-2 -it --image=nicolaka/netshoot', 'Enter');
      await until('node-2 (node debugger):~#');
      tm('send-keys', '-t', name, 'ip route | grep 10.244.1', 'Enter');
      await until('10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink');
      // A capture in the foreground keeps running while the next command sends traffic; Ctrl-C stops it.
      tm('send-keys', '-t', name, 'tcpdump -n -i cni0 icmp', 'Enter');
      await until('listening on cni0');
      tm('send-keys', '-t', name, 'ping -c 1 10.244.2.7', 'Enter');
      await until('ICMP echo reply, id');
      tm('send-keys', '-t', name, 'C-c');
      await until('2 packets captured');
      tm('send-keys', '-t', name, 'exit', 'Enter', 'kubectl exec -it pod-a -- sh', 'Enter');
      await until('default/pod-a:/#');
    } finally {
      tm('kill-session', '-t', name);
    }
  });
});

void readFileSync;

describe('traceroute\'s options as traceroute 2.1.2 reads them', () => {
  // Measured, traceroute 2.1.2 in a namespace, to 127.0.0.1: `-w1` takes the rest of the word; `-nq 1` ends a
  // cluster with an option that takes the next word; `-nq1` and `-nw1` are refused ("Option `-q' (argc 1)
  // requires an argument: `-q nqueries'", exit 2); `-nx`: "Bad option `-x' (argc 1)"; `-m 0`, `-f 3 -m 2`, `-f0`:
  // "first hop out of range"; `-m abc`: "Cannot handle `-m' option with arg `abc' (argc 2)".
  const node = () => {
    const s = createSession();
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot');
    return s;
  };
  it.each([
    ['traceroute -nq1 10.244.2.3', "Option `-q' (argc 1) requires an argument: `-q nqueries'\n"],
    ['traceroute -nw1 10.244.2.3', "Option `-w' (argc 1) requires an argument: `-w MAX,HERE,NEAR'\n"],
    ['traceroute -nx 10.244.2.3', "Bad option `-x' (argc 1)\n"],
    ['traceroute -m 0 10.244.2.3', 'first hop out of range\n'],
    ['traceroute -f 3 -m 2 10.244.2.3', 'first hop out of range\n'],
    ['traceroute -f0 10.244.2.3', 'first hop out of range\n'],
    ['traceroute -m abc 10.244.2.3', "Cannot handle `-m' option with arg `abc' (argc 2)\n"],
  ])('%s', (line, stderr) => {
    expect(node().run(line)).toEqual({ stdout: '', stderr, status: 2 });
  });

  it('-nq 1 and -w1 run; -f 2 starts at the second hop', () => {
    const s = node();
    const full = s.run('traceroute -n 10.244.2.3').stdout;
    expect(full).toBe('traceroute to 10.244.2.3 (10.244.2.3), 30 hops max, 60 byte packets\n 1  10.244.2.0\n 2  10.244.2.3\n');
    expect(s.run('traceroute -nq 1 10.244.2.3').stdout).toBe(full);
    expect(s.run('traceroute -w1 -n 10.244.2.3').stdout).toBe(full);
    expect(s.run('traceroute -f 2 -n 10.244.2.3').stdout).toBe('traceroute to 10.244.2.3 (10.244.2.3), 30 hops max, 60 byte packets\n 2  10.244.2.3\n');
    expect(s.run('traceroute -s 192.168.1.11 10.244.2.3')).toMatchObject({ status: 2, stderr: expect.stringMatching(/^traceroute: podnet does not model -s/) });
  });
});

describe('ping\'s options as iputils 20221126 reads them (getopt)', () => {
  // Measured on lo in a namespace: `-qc1` and `-nc1` run; `-c1W1` gives -c the argument `1W1` (`ping: invalid
  // argument: '1W1'`, exit 1); `-cx`: `ping: invalid argument: 'x'`; `-c` as the last word: getopt's `option
  // requires an argument`; `-zc1`: `ping: invalid option -- 'z'` and the usage (exit 2); `-q`: the first line,
  // a blank line and the statistics.
  it.each([
    ['ping -c1W1 10.244.2.3', "ping: invalid argument: '1W1'\n", 1],
    ['ping -cx 10.244.2.3', "ping: invalid argument: 'x'\n", 1],
    ['ping -c0 10.244.2.3', "ping: invalid argument: '0': out of range: 1 <= value <= 9223372036854775807\n", 1],
    ['ping -zc1 10.244.2.3', "ping: invalid option -- 'z'\n\nUsage\n  ping [options] <destination>\n", 2],
    ['ping -c', "ping: option requires an argument -- 'c'\n\nUsage\n  ping [options] <destination>\n", 2],
  ])('%s', (line, stderr, status) => {
    expect(createSession().run(`kubectl exec pod-a -- ${line}`)).toEqual({ stdout: '', stderr, status });
  });

  it('-nc1 and -c1 print alike; -qc2 prints the first line and the summary', () => {
    const s = createSession();
    const plain = s.run('kubectl exec pod-a -- ping -c1 10.244.2.3').stdout;
    expect(s.run('kubectl exec pod-a -- ping -nc1 10.244.2.3').stdout).toBe(plain);
    expect(s.run('kubectl exec pod-a -- ping -4nc 1 10.244.2.3').stdout).toBe(plain);
    expect(s.run('kubectl exec pod-a -- ping -qc2 10.244.2.3').stdout).toBe(
      'PING 10.244.2.3 (10.244.2.3) 56(84) bytes of data.\n\n--- 10.244.2.3 ping statistics ---\n2 packets transmitted, 2 received, 0% packet loss\n',
    );
    expect(s.run('kubectl exec pod-a -- ping -q 10.244.2.3').stdout.split('\n').slice(0, 3)).toEqual(['PING 10.244.2.3 (10.244.2.3) 56(84) bytes of data.', '^C', '']);
    expect(s.run('kubectl exec pod-a -- ping -fc1 10.244.2.3')).toMatchObject({ status: 2, stderr: expect.stringMatching(/^ping: podnet does not model -f/) });
  });
});
