/**
 * What a student types beside the lesson's exact commands: the common variants of each tool, answered as the
 * real tool answers them or with a note saying podnet does not model them. Kernel and tool facts were
 * measured in network namespaces on kernel 6.18 with iproute2 6.1.0, util-linux 2.38.1 (nsenter) and
 * conntrack-tools 1.4.7 (session 37, scripts in the comments); kubectl's and crictl's from their sources.
 */
import { describe, expect, it } from 'vitest';
import { createSession } from './index.js';
import { humanNum } from './link-stats.js';

const DEBUG = 'kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin';

function onNode(): ReturnType<typeof createSession> {
  const s = createSession();
  s.run(DEBUG);
  return s;
}

describe('ip -o (-oneline)', () => {
  // Measured: `ip -o a` in a namespace with eth0 10.0.0.1/24 printed
  // `2: eth0    inet 10.0.0.1/24 scope global eth0\       valid_lft forever preferred_lft forever`
  // (no device lines, the bare name without @ifN, four spaces) and nothing for a device without an address.
  it('ip -o addr: one line an address, led by index and bare name', () => {
    const s = onNode();
    expect(s.run('ip -o -4 addr show eth0').stdout).toBe(
      '2: eth0    inet 192.168.1.11/24 brd 192.168.1.255 scope global eth0\\       valid_lft forever preferred_lft forever\n');
    const all = s.run('ip -o a').stdout.trimEnd().split('\n');
    expect(all.map((l) => l.split('    ')[0])).toEqual(['1: lo', '2: eth0', '3: flannel.1', '4: cni0']);
    expect(s.run('ip -oneline addr').stdout).toBe(s.run('ip -o a').stdout);
  });

  // Measured: `ip -o link` is `2: eth0@if2: <…> … qlen 1000\    link/ether … link-netns p37q-b`; `ip -o route
  // get 10.0.0.2` is `10.0.0.2 dev eth0 src 10.0.0.1 uid 0 \    cache `; `ip -o -s link` joins the counters'
  // lines the same way; `ip -o r`, `ip -o n`, `ip -o rule` print as without -o.
  it('ip -o link and route get join their continuation lines with a backslash', () => {
    const s = onNode();
    expect(s.run('ip -o link show eth0').stdout).toBe(
      '2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP mode DEFAULT group default qlen 1000\\    link/ether 0a:33:c8:d9:e8:39 brd ff:ff:ff:ff:ff:ff\n');
    expect(s.run('ip -o route get 10.244.3.9').stdout).toBe('10.244.3.9 via 10.244.3.0 dev flannel.1 src 10.244.1.0 uid 0 \\    cache \n');
    expect(s.run('ip -o -s link show eth0').stdout.split('\n')).toHaveLength(2);
    for (const c of ['ip r', 'ip n', 'ip rule']) expect(s.run(c.replace('ip ', 'ip -o ')).stdout).toBe(s.run(c).stdout);
  });

  // Measured: `ip -oa` → `Option "-oa" is unknown, try "ip -help".` (iproute2 does not cluster options).
  it('options do not cluster; -j says podnet does not model JSON', () => {
    const s = onNode();
    expect(s.run('ip -oa')).toMatchObject({ stderr: 'Option "-oa" is unknown, try "ip -help".\n', status: 255 });
    const j = s.run('ip -j a');
    expect(j.status).toBe(255);
    expect(j.stderr).toContain('podnet does not model ip\'s JSON output');
  });
});

describe('ip listing words and filters', () => {
  // Measured: `ip link ls`, `ip addr ls`, `ip route ls`, `ip r lst`, `ip neigh ls`, `ip rule ls` all list
  // (iproute2 matches the verb against show, list and lst).
  it('ls and lst list as show does', () => {
    const s = onNode();
    for (const [short, full] of [['ip link ls', 'ip link show'], ['ip addr ls', 'ip addr show'], ['ip route ls', 'ip route show'], ['ip r lst', 'ip r show'], ['ip neigh ls', 'ip neigh show'], ['ip rule ls', 'ip rule show']]) {
      expect(s.run(short!)).toEqual(s.run(full!));
    }
  });

  // Measured: with a PERMANENT and a REACHABLE entry, `ip neigh show nud permanent` lists the first alone,
  // `nud reachable` the second, `nud all` both (and IPv6's NOARP multicast entries); `nud bogus` →
  // `Error: argument "bogus" is wrong: nud state is bad` (255); `nud` alone → `Command line is not complete`.
  it('ip neigh show nud STATE filters by state (it filtered everything out)', () => {
    const s = onNode();
    const all = s.run('ip neigh show').stdout;
    expect(all).toContain('PERMANENT');
    expect(s.run('ip neigh show nud all').stdout).toBe(all);
    expect(s.run('ip neigh show nud permanent').stdout).toBe(all);
    expect(s.run('ip neigh show nud reachable').stdout).toBe('');
    expect(s.run('ip neigh show nud bogus')).toEqual({ stdout: '', stderr: 'Error: argument "bogus" is wrong: nud state is bad\n', status: 255 });
    expect(s.run('ip neigh show nud').status).toBe(255);
  });

  // Measured: `ip addr show scope host` is lo alone; `ip addr show dev eth0 scope global` eth0 with its global
  // address; `scope bogus` → `Error: argument "bogus" is wrong: invalid "scope"` (255); 253 is link.
  it('ip addr show scope S lists that scope\'s addresses and their devices', () => {
    const s = onNode();
    expect(s.run('ip addr show scope host').stdout.match(/^\d+: \S+/gm)).toEqual(['1: lo:']);
    expect(s.run('ip addr show dev cni0 scope global').stdout).toContain('inet 10.244.1.1/24');
    expect(s.run('ip addr show scope 253').stdout).toBe('');
    expect(s.run('ip addr show scope bogus')).toEqual({ stdout: '', stderr: 'Error: argument "bogus" is wrong: invalid "scope"\n', status: 255 });
  });
});

describe('nsenter -t PID -n', () => {
  const pidOf = (s: ReturnType<typeof createSession>, pod: string): string => {
    const id = s.run(`crictl ps --name app -q`).stdout.split('\n').find((c) => s.run(`crictl inspect ${c}`).stdout.includes(`"io.kubernetes.pod.name": "${pod}"`))!;
    return /"pid": (\d+)/.exec(s.run(`crictl inspect ${id}`).stdout)![1]!;
  };

  // Measured (util-linux 2.38.1): `nsenter -t PID -n CMD`, `-tPID -n`, `--target=PID --net`, `--target PID
  // -n`, `-n -t PID -- CMD` and `--net=/proc/PID/ns/net` all run CMD in PID's network namespace.
  it('enters a container\'s network namespace by the PID crictl inspect shows, in every spelling', () => {
    const s = onNode();
    s.run('chroot /host');
    const pid = pidOf(s, 'pod-a');
    for (const line of [`nsenter -t ${pid} -n hostname -I`, `nsenter -t${pid} -n hostname -I`, `nsenter --target=${pid} --net hostname -I`,
      `nsenter --target ${pid} -n hostname -I`, `nsenter -n -t ${pid} -- hostname -I`, `nsenter --net=/proc/${pid}/ns/net hostname -I`]) {
      expect(s.run(line), line).toEqual({ stdout: '10.244.1.4 \n', stderr: '', status: 0 });
    }
    // PID 1 is the node's init: the node's own namespace.
    expect(s.run('nsenter -t 1 -n hostname -I').stdout).toBe('192.168.1.11 10.244.1.0 10.244.1.1 \n');
  });

  // Measured: `-t 999999 -n` → `nsenter: cannot open /proc/999999/ns/net: No such file or directory` (1);
  // `-t abc` → `nsenter: failed to parse pid: 'abc'`; `-t` alone → `option requires an argument -- 't'` and
  // the Try line; `--net /var/run/netns/X` (a separate word) → `neither filename nor target pid supplied for
  // ns/net`, since --net's file is optional and joined; `-t PID CMD` with no namespace runs CMD where it is.
  it('refuses as util-linux does', () => {
    const s = onNode();
    expect(s.run('nsenter -t 999999 -n true')).toEqual({ stdout: '', stderr: 'nsenter: cannot open /proc/999999/ns/net: No such file or directory\n', status: 1 });
    expect(s.run('nsenter -t abc -n true').stderr).toBe("nsenter: failed to parse pid: 'abc'\n");
    expect(s.run('nsenter -t').stderr).toBe("nsenter: option requires an argument -- 't'\nTry 'nsenter --help' for more information.\n");
    expect(s.run('nsenter -x').stderr).toBe("nsenter: invalid option -- 'x'\nTry 'nsenter --help' for more information.\n");
    expect(s.run('nsenter --net /host/var/run/netns/x hostname').stderr).toBe('nsenter: neither filename nor target pid supplied for ns/net\n');
    expect(s.run('nsenter -t 1 hostname')).toEqual({ stdout: 'node-1\n', stderr: '', status: 0 });
    expect(s.run('nsenter -t 1 -m -n hostname').stderr).toContain('podnet does not model nsenter -m');
    // In a pod PID 1 is its own process: the file opens, setns needs CAP_SYS_ADMIN the pod lacks.
    const pod = createSession();
    expect(pod.run('kubectl exec pod-a -- nsenter -t 1 -n ip a').stderr).toBe("nsenter: reassociate to namespace 'ns/net' failed: Operation not permitted\n");
    expect(pod.run('kubectl exec pod-a -- nsenter -t 4242 -n ip a').stderr).toBe('nsenter: cannot open /proc/4242/ns/net: No such file or directory\n');
  });
});

describe('crictl ps and pods filters', () => {
  // cri-tools' getSandboxesList / matchesRegex: --name and --namespace are regular expressions matched
  // anywhere; -q prints the full IDs; a pattern that does not compile matches nothing. They were ignored.
  it('crictl pods --name, --namespace, -q, --no-trunc', () => {
    const s = onNode();
    s.run('chroot /host');
    const rows = s.run('crictl pods --name pod-a').stdout.trimEnd().split('\n');
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatch(/^[0-9a-f]{13} .* pod-a {2,}default/);
    const ids = s.run('crictl pods --name=pod -q').stdout.trimEnd().split('\n');
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(s.run(`crictl inspectp ${ids[0]}`).status).toBe(0);
    expect(s.run('crictl pods --namespace kube-system').stdout).toMatch(/kube-proxy/);
    expect(s.run('crictl pods --namespace kube-system').stdout).not.toMatch(/pod-a/);
    expect(s.run('crictl pods --no-trunc --name pod-b').stdout).toMatch(/^[0-9a-f]{64} /m);
  });

  it('crictl ps --name (regex), --pod, and a bad pattern', () => {
    const s = onNode();
    s.run('chroot /host');
    expect(s.run('crictl ps --name "("')).toEqual({ stdout: 'CONTAINER           IMAGE               CREATED             STATE               NAME                ATTEMPT             POD ID              POD\n', stderr: '', status: 0 });
    const podA = s.run('crictl pods --name pod-a -q').stdout.slice(0, 13);
    const rows = s.run(`crictl ps --pod ${podA}`).stdout.trimEnd().split('\n');
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatch(/pod-a$/);
    expect(s.run('crictl ps --name kube-').stdout).toMatch(/kube-proxy/);
  });

  it('crictl\'s real commands podnet does not model say so; an unknown one is crictl\'s', () => {
    const s = onNode();
    s.run('chroot /host');
    expect(s.run('crictl images')).toMatchObject({ status: 1 });
    expect(s.run('crictl images').stderr).toContain('podnet does not model crictl images');
    expect(s.run('crictl pods --state ready').stderr).toContain('podnet does not model crictl pods --state');
    expect(s.run('crictl bogus')).toEqual({ stdout: '', stderr: "No help topic for 'bogus'\n", status: 3 });
    // `-o go-template --template '{{.info.pid}}' ID` took "go-template" for the ID (not found).
    const id = s.run('crictl ps --name app -q').stdout.split('\n')[0]!;
    expect(s.run(`crictl inspect -o go-template --template '{{.info.pid}}' ${id}`).stderr).toContain('podnet does not model crictl inspect -o go-template');
    expect(s.run(`crictl inspect -o json ${id}`)).toEqual(s.run(`crictl inspect ${id}`));
  });
});

describe('kubectl', () => {
  // kubectl's printer appends LABELS (labels.FormatLabels: k=v sorted by key, commas; <none>).
  it('get --show-labels adds the LABELS column, after -o wide\'s', () => {
    const s = createSession();
    s.run('kubectl run netcheck --image=nicolaka/netshoot --restart=Never -- sleep 3600');
    const rows = s.run('kubectl get pods -o wide --show-labels').stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/READINESS GATES +LABELS$/);
    expect(rows.find((r) => r.startsWith('netcheck '))).toMatch(/ run=netcheck$/);
    expect(rows.find((r) => r.startsWith('pod-a '))).toMatch(/ <none>$/);
    expect(s.run('kubectl get nodes --show-labels').stdout).toContain('kubernetes.io/arch=amd64,kubernetes.io/hostname=node-1,kubernetes.io/os=linux');
  });

  // kubectl's label selector: `k` (exists), `!k`, `k!=v` (also true without k), `k==v`. `-l app` matched every
  // pod WITHOUT app (it compared app's value with undefined).
  it('-l reads existence, negation and != as kubectl does', () => {
    const s = createSession();
    s.run('kubectl run netcheck --image=nicolaka/netshoot --restart=Never -- sleep 3600');
    const names = (sel: string) => s.run(`kubectl get pods -l '${sel}' -o name`).stdout.trimEnd().split('\n').filter(Boolean);
    expect(names('run')).toEqual(['pod/netcheck']);
    expect(names('app')).toEqual([]);
    expect(names('run==netcheck')).toEqual(['pod/netcheck']);
    expect(names('!run')).not.toContain('pod/netcheck');
    expect(names('run!=netcheck')).toContain('pod/pod-a');
    expect(s.run("kubectl get pods -l 'run in (netcheck)'").stderr).toContain('set-based label selectors');
  });

  it('a resource type a real cluster serves says podnet does not model it; an unknown type is kubectl\'s error', () => {
    const s = createSession();
    for (const t of ['svc', 'services', 'endpoints', 'ep', 'events', 'deploy', 'cm', 'ns']) {
      const r = s.run(`kubectl get ${t} -A`);
      expect(r.status, t).toBe(1);
      expect(r.stderr, t).toMatch(/^podnet: \S+ are not modelled/);
    }
    expect(s.run('kubectl get widgets').stderr).toBe('error: the server doesn\'t have a resource type "widgets"\n');
  });
});

describe('the shell\'s expansions', () => {
  // bash would run $(…) and replace $NAME; passing them on as words answered another command (crictl looked
  // for a container named "$(crictl").
  it('command substitution and variables are refused with a note; a $ bash leaves alone is kept', () => {
    const s = createSession();
    expect(s.run('kubectl get pod $(echo pod-a)').stderr).toContain('command substitution');
    expect(s.run('kubectl get pod `echo pod-a`').stderr).toContain('command substitution');
    expect(s.run('kubectl get pod "$POD"').stderr).toContain('variables ($NAME) are not supported');
    expect(s.run("kubectl get pods | grep 'a$'").status).toBe(1);
    expect(s.run('kubectl get pods | grep "pod-a "').stdout).toMatch(/^pod-a /);
  });
});

describe('conntrack -C', () => {
  // Measured (conntrack-tools 1.4.7): `conntrack -C` prints the number of entries (2 after two pings; 0 in a
  // fresh namespace); `-C -p icmp` → `Illegal option \`--protonum' with this command` (2), `-C -p icmp -s A`
  // names --src first; `-L -C` → `Invalid commands combination`; as nobody (setpriv) it prints ctnetlink's
  // refusal, then the count from /proc, and exits 1.
  it('counts the entries and refuses filters as conntrack does', () => {
    const s = createSession();
    s.run(DEBUG);
    expect(s.run('conntrack -C')).toEqual({ stdout: '0\n', stderr: '', status: 0 });
    expect(s.run('conntrack --count').stdout).toBe('0\n');
    expect(s.run('conntrack -C -p icmp')).toEqual({ stdout: '', stderr: "conntrack v1.4.7 (conntrack-tools): Illegal option `--protonum' with this command\nTry `conntrack -h' or 'conntrack --help' for more information.\n", status: 2 });
    expect(s.run('conntrack -C -p icmp -s 10.0.0.1').stderr).toContain("Illegal option `--src'");
    expect(s.run('conntrack -L -C').stderr).toContain('Invalid commands combination');
    s.run('exit');
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=netadmin');
    s.run('exit');
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot');
    expect(s.run('conntrack -C')).toEqual({ stdout: '0\n', stderr: 'conntrack v1.4.7 (conntrack-tools): Operation failed: sorry, you must be root or get CAP_NET_ADMIN capability to do this\n', status: 1 });
  });

  it('counts live entries after traffic that conntrack tracks', () => {
    const s = createSession();
    s.run(DEBUG);
    // A MASQUERADE keeps conntrack in use for pod-a's pings (as conntrack.test.ts does).
    s.run('iptables -t nat -I POSTROUTING 1 -s 10.244.1.0/24 -o flannel.1 -j MASQUERADE');
    s.run('exit');
    s.run('kubectl exec pod-a -- ping -c 1 10.244.3.9');
    s.run('kubectl exec pod-b -- ping -c 1 10.244.3.9');
    s.run(DEBUG);
    expect(s.run('conntrack -L').stdout.split('\n').filter(Boolean)).toHaveLength(2);
    expect(s.run('conntrack -C').stdout).toBe('2\n');
  });
});

describe('files students read beside /proc/sys', () => {
  // Measured (kernel 6.18, under `ip netns exec`, which mounts a sysfs of the namespace): a veth's iflink is
  // its peer's ifindex (eth0, ifindex 2, `eth0@if4`: iflink 4; its peer veth0, ifindex 4: iflink 2); a
  // bridge's, a vxlan's (with `dev br0`) and lo's
  // are their own ifindex; operstate is `up`, `down` or `unknown` (vxlan up).
  it('/sys/class/net/DEV/{ifindex,iflink,mtu,address,operstate}: a pod\'s eth0 names its veth on the node', () => {
    const s = createSession();
    expect(s.run('kubectl exec pod-a -- cat /sys/class/net/eth0/iflink')).toEqual({ stdout: '5\n', stderr: '', status: 0 });
    expect(s.run('kubectl exec pod-a -- ls /sys/class/net').stdout).toBe('eth0  lo\n');
    s.run(DEBUG);
    expect(s.run('ip -o link').stdout).toMatch(/^5: veth[0-9a-f]+@if2: .*master cni0/m);
    expect(s.run('cat /sys/class/net/flannel.1/iflink /sys/class/net/flannel.1/ifindex').stdout).toBe('3\n3\n');
    expect(s.run('cat /sys/class/net/flannel.1/operstate /sys/class/net/cni0/operstate /sys/class/net/cni0/mtu').stdout).toBe('unknown\nup\n1450\n');
    expect(s.run('cat /sys/class/net/eth0/address').stdout).toBe(`${/link\/ether (\S+)/.exec(s.run('ip link show eth0').stdout)![1]}\n`);
    expect(s.run('cat /sys/class/net/eth0/speed').status).toBe(1);
  });

  // sysfs shows the namespace that mounted it: nsenter --net keeps the node's mounts, ip netns exec mounts
  // its own.
  it('/sys/class/net under nsenter is still the node\'s; under ip netns exec the pod\'s', () => {
    const s = onNode();
    s.run('chroot /host');
    const ns = s.run('ip netns').stdout.split(' ')[0]!;
    expect(s.run(`nsenter --net=/var/run/netns/${ns} ls /sys/class/net`).stdout).toContain('cni0');
    expect(s.run(`ip netns exec ${ns} ls /sys/class/net`).stdout).toBe('eth0  lo\n');
  });

  // kubelet_pods.go writes it (managedHostsHeader, then ensureHostsFile's lines and `IP\tNAME`).
  it('a pod\'s /etc/hosts is the kubelet\'s; its resolv.conf says podnet has no DNS', () => {
    const s = createSession();
    expect(s.run('kubectl exec pod-a -- cat /etc/hosts').stdout).toBe('# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n10.244.1.4\tpod-a\n');
    const r = s.run('kubectl exec pod-a -- cat /etc/resolv.conf');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('podnet does not model DNS');
  });
});

describe('tcpdump long options', () => {
  // Measured (tcpdump 4.99.3): `--interface=lo`, `--interface lo`, `--inter lo` (a unique prefix) capture as
  // -i lo; `--bogus` → `tcpdump: unrecognized option '--bogus'` and the usage; `--interface` alone →
  // `option '--interface' requires an argument`; `--immediate-mode=1` → `doesn't allow an argument`.
  it('read as getopt_long reads them', () => {
    const s = onNode();
    const started = s.run('tcpdump --interface=cni0 -n -c 1 &');
    expect(started.stderr).toContain('listening on cni0, link-type EN10MB');
    expect(s.run('tcpdump --inter eth0 -n &').stderr).toContain('listening on eth0,');
    expect(s.run('tcpdump --snapshot-length 100 --immediate-mode -i eth0 &').status).toBe(0);
    expect(s.run('tcpdump --bogus')).toMatchObject({ status: 1, stderr: expect.stringMatching(/^tcpdump: unrecognized option '--bogus'\nUsage: tcpdump/) });
    expect(s.run('tcpdump --interface').stderr).toMatch(/^tcpdump: option '--interface' requires an argument\nUsage:/);
    expect(s.run('tcpdump --immediate-mode=1').stderr).toMatch(/^tcpdump: option '--immediate-mode' doesn't allow an argument\n/);
    expect(s.run('tcpdump --number -i eth0').stderr).toContain('podnet does not model --number');
  });
});

describe('sysctl directories and patterns', () => {
  // Measured (procps-ng 4.0.2, kernel 6.18): `sysctl net.ipv4.conf.all` lists every key under it (exit 0);
  // `sysctl -a -r '^net.ipv4.ip_forw'` and `sysctl -ar 'ip_forward$'` list the keys whose names match;
  // `sysctl -a --pattern 'conf.lo.*forwarding'` lists lo's bc_forwarding, forwarding, mc_forwarding.
  it('a directory lists its keys; -r/--pattern filters by name', () => {
    const s = onNode();
    const all = s.run('sysctl net.ipv4.conf.all');
    expect(all.status).toBe(0);
    expect(all.stdout).toContain('net.ipv4.conf.all.forwarding = 1\n');
    expect(all.stdout.split('\n').filter(Boolean).every((l) => l.startsWith('net.ipv4.conf.all.'))).toBe(true);
    expect(s.run("sysctl -ar 'ip_forward$'").stdout).toBe('net.ipv4.ip_forward = 1\n');
    expect(s.run("sysctl -a --pattern 'conf.lo.*forwarding'").stdout).toBe('net.ipv4.conf.lo.bc_forwarding = 0\nnet.ipv4.conf.lo.forwarding = 1\n');
    expect(s.run('sysctl -N net.ipv4.conf.lo').stdout).toContain('net.ipv4.conf.lo.rp_filter\n');
  });
});

describe('kubectl run --rm -it', () => {
  // kubectl 1.31 (run.go): --rm needs an attached container (`error: --rm should only be used for attached
  // containers`); attached, it deletes the pod when the session ends and prints `pod "NAME" deleted`.
  it('a throwaway shell pod, or a command, deleted when it ends', () => {
    const s = createSession();
    expect(s.run('kubectl run tmp --rm -it --image=nicolaka/netshoot -- bash').stdout).toBe("If you don't see a command prompt, try pressing enter.\n");
    expect(s.prompt()).toContain('tmp');
    expect(s.run('hostname -I').stdout).toMatch(/^10\.244\.\d+\.\d+ \n$/);
    expect(s.run('exit')).toEqual({ stdout: 'pod "tmp" deleted\n', stderr: '', status: 0 });
    expect(s.run('kubectl get pod tmp').stderr).toBe('Error from server (NotFound): pods "tmp" not found\n');
    const r = s.run('kubectl run tmp2 --image=nicolaka/netshoot -it --rm --restart=Never -- ping -c 1 10.244.1.4');
    expect(r.stdout).toMatch(/1 packets transmitted, 1 received[^\n]*\npod "tmp2" deleted\n$/);
    expect(s.run('kubectl get pod tmp2').status).toBe(1);
    expect(s.run('kubectl run tmp3 --rm --image=nginx')).toEqual({ stdout: '', stderr: "error: --rm should only be used for attached containers\nSee 'kubectl run -h' for help and examples\n", status: 1 });
  });
});

describe('bridge options and ip -s neigh', () => {
  // Measured (iproute2 6.1): `bridge -s link` prints as `bridge link`; `bridge -s fdb` adds `used A/B` timers;
  // `bridge -c fdb` colours; `bridge -x link` → `Option "-x" is unknown, try "bridge help".` (255); `ip -s
  // neigh` adds `ref 1 used 0/0/0probes 4` to each entry.
  it('bridge -s link and -c are taken; what needs timers podnet lacks says so', () => {
    const s = onNode();
    expect(s.run('bridge -s link')).toEqual(s.run('bridge link'));
    expect(s.run('bridge -c fdb show dev flannel.1')).toEqual(s.run('bridge fdb show dev flannel.1'));
    expect(s.run('bridge -x link')).toEqual({ stdout: '', stderr: 'Option "-x" is unknown, try "bridge help".\n', status: 255 });
    expect(s.run('bridge -s fdb').stderr).toContain('podnet does not model bridge -s fdb');
    expect(s.run('ip -s neigh')).toMatchObject({ stdout: '', status: 255 });
    expect(s.run('ip -s neigh').stderr).toContain('podnet does not model neighbour statistics');
  });
});

describe('kubectl get: custom columns, --no-headers, --watch', () => {
  // kubectl's CustomColumnsPrinter: HEADER:PATH pairs, `<none>` for a path with no value; a spec without `:`
  // is `error: unexpected custom-columns spec: …`. --no-headers drops the header line (and its widths).
  it('-o custom-columns and --no-headers print as kubectl does; -w says it is not modelled', () => {
    const s = createSession();
    expect(s.run('kubectl get pods -o custom-columns=NAME:.metadata.name,IP:.status.podIP,NODE:.spec.nodeName').stdout.split('\n').slice(0, 2))
      .toEqual(['NAME    IP           NODE', 'pod-a   10.244.1.4   node-1']);
    expect(s.run('kubectl get pods -o custom-columns=NAME:.metadata.name,L:.metadata.labels --no-headers').stdout.split('\n')[0]).toBe('pod-a   <none>');
    expect(s.run('kubectl get pods -o custom-columns=NAME').stderr).toBe('error: unexpected custom-columns spec: NAME, expected <header>:<json-path-expr>\n');
    expect(s.run('kubectl get nodes --no-headers').stdout.split('\n')[0]).toBe('node-1   Ready   <none>   10m   v1.31.4');
    expect(s.run('kubectl get pods -w').stderr).toContain('kubectl get --watch is not modelled');
    expect(s.run('kubectl get pods --sort-by=.status.podIP').stderr).toContain('--sort-by is not modelled');
    // The DaemonSet table took none of these and printed without them.
    for (const o of ['--show-labels', '--no-headers', '-o custom-columns=N:.metadata.name']) {
      expect(s.run(`kubectl get ds -A ${o}`), o).toMatchObject({ stdout: '', status: 1 });
    }
  });

  it('tracepath says it is not modelled and what to use', () => {
    expect(createSession().run('kubectl exec pod-a -- tracepath -n 10.244.3.9').stderr).toContain('tracepath: not modelled by podnet');
  });
});

describe('ip -h (-human)', () => {
  // Measured (iproute2 6.1): 1762218 bytes and 1237 packets print `1.76M` and `1.24k` with -h; 464 KB and 332
  // packets `464k` and `332`, with -h -iec `453ki`; the columns keep their headers' widths
  // (`         1.76M   1.24k      0`); -iec alone and -h without -s change nothing.
  it('prints counters as print_num does', () => {
    for (const [n, si, iec] of [[1762218, '1.76M', '1.68Mi'], [1237, '1.24k', '1.21ki'], [464000, '464k', '453ki'], [332, '332', '332'], [0, '0', '0']] as const) {
      expect(humanNum(n, 'si')).toBe(si);
      expect(humanNum(n, 'iec')).toBe(iec);
    }
    const s = createSession();
    s.run('kubectl exec pod-a -- ping -c 20 -s 1400 10.244.3.9');
    s.run(DEBUG);
    const plain = s.run('ip -s link show eth0').stdout.split('\n');
    const bytes = Number(plain[3]!.trim().split(/\s+/)[0]);
    expect(bytes).toBeGreaterThan(1000);
    const human = s.run('ip -h -s link show eth0').stdout.split('\n');
    expect(human[3]).toBe(`    ${humanNum(bytes, 'si').padStart(10)} ${plain[3]!.trim().split(/\s+/)[1]!.padStart(7)}      0       0       0       0 `);
    expect(s.run('ip -iec -s link show eth0').stdout).toBe(s.run('ip -s link show eth0').stdout);
    expect(s.run('ip -h link show eth0').stdout).toBe(s.run('ip link show eth0').stdout);
  });
});
