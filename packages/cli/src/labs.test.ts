import { describe, expect, it } from 'vitest';
import { createSession } from './index.js';

/** Starts a lab, checks that it is not solved, runs the fix, and returns the final check. */
function solve(lab: number, fix: string[]) {
  const s = createSession();
  expect(s.run(`lab start ${lab}`).status).toBe(0);
  const before = s.run('lab check');
  for (const line of fix) {
    const r = s.run(line);
    expect(r.stderr.replace(/^Creating debugging pod.*\n|^If you don't see.*\n/gm, ''), line).toBe('');
  }
  return { before, after: s.run('lab check'), s };
}

const onEveryNode = (cmd: string) => ['node-1', 'node-2', 'node-3'].flatMap((n) => [`kubectl debug node/${n} -it --image=nicolaka/netshoot --profile=sysadmin`, cmd, 'exit']);

describe('labs: check probes the cluster, not the words typed', () => {
  it('lab list names the five exercises', () => {
    expect(createSession().run('lab list').stdout).toMatch(/1 {2}verify-the-model[\s\S]*2 {2}broken-route[\s\S]*3 {2}ip-exhaustion[\s\S]*4 {2}mtu-black-hole[\s\S]*5 {2}source-nat/);
  });

  it('1. verify the model: solved once netcheck runs and reaches every node without NAT', () => {
    const { before, after } = solve(1, ['kubectl run netcheck --image=nicolaka/netshoot --restart=Never -- sleep 3600']);
    expect(before.status).toBe(1);
    expect(after.stdout).toContain("(netcheck's own IP: no NAT)");
    expect(after.status).toBe(0);
  });

  it('2. broken route: node-1 sends node-3\'s subnet out of eth0; the flannel route fixes it', () => {
    const { before, after } = solve(2, ['kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin', 'ip route replace 10.244.3.0/24 via 10.244.3.0 dev flannel.1 onlink']);
    expect(before.stdout).toContain('FAIL pod-a (node-1) → pod-e 10.244.3.2 (node-3): Destination Host Unreachable');
    expect(after.stdout).toMatch(/Lab 2 solved\.\n$/);
  });

  it('2. restarting flanneld on node-1 (deleting its pod: the DaemonSet makes another) fixes it too: flanneld replaces its routes at start', () => {
    const s = createSession();
    s.run('lab start 2');
    const old = s.sim.pods().find((p) => p.namespace === 'kube-flannel' && p.node === 'node-1')!.name;
    expect(s.run(`kubectl -n kube-flannel delete pod ${old}`).stdout).toBe(`pod "${old}" deleted\n`);
    const now = s.sim.pods().filter((p) => p.namespace === 'kube-flannel' && p.node === 'node-1');
    expect(now.map((p) => p.name)).toHaveLength(1);
    expect(now[0]!.name).not.toBe(old);
    expect(s.run('kubectl -n kube-flannel get pods').stdout).toMatch(new RegExp(`${now[0]!.name} +1/1 +Running +0 +0s`));
    expect(s.run('lab check').stdout).toMatch(/Lab 2 solved\.\n$/);
    // kube-proxy's pod comes back too, and nothing else happens (podnet has no Services).
    const proxy = s.sim.pods().find((p) => p.name.startsWith('kube-proxy-') && p.node === 'node-2')!.name;
    const before = s.sim.node('node-2').host;
    s.run(`kubectl -n kube-system delete pod ${proxy}`);
    expect(s.sim.pods().filter((p) => p.name.startsWith('kube-proxy-') && p.node === 'node-2')).toHaveLength(1);
    expect(s.sim.node('node-2').host).toBe(before);
  });

  it('2. deleting the override leaves node-1 with no route to node-3\'s pods, as on a real node; a detour through node-2 is masqueraded there', () => {
    // The fault's `ip route replace` took the place of flannel's route (the kernel keeps one route per prefix
    // and metric), so `ip route del` leaves none: flanneld's VXLAN backend puts routes back only on subnet
    // events, not by polling.
    const del = solve(2, ['kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin', 'ip route del 10.244.3.0/24']);
    expect(del.s.run('ip route').stdout).not.toContain('10.244.3.0/24');
    expect(del.after.status).not.toBe(0);
    expect(del.after.stdout).toContain('FAIL pod-a (node-1) → pod-e 10.244.3.2 (node-3)');
    // Via node-2's VTEP: node-2 decapsulates and forwards to node-3 (ip_forward = 1), as Linux would. But
    // flanneld's FLANNEL-POSTRTG on node-2 RETURNs only traffic from or to node-2's own lease: pod-a's packet
    // to pod-e is neither, and its MASQUERADE rewrites the source to node-2's flannel.1 address.
    const detour = solve(2, ['kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin', 'ip route replace 10.244.3.0/24 via 10.244.2.0 dev flannel.1 onlink', 'exit']);
    expect(detour.after.status).toBe(1);
    expect(detour.after.stdout).toContain('ok   pod-a (node-1) → pod-e 10.244.3.2 (node-3): reply');
    expect(detour.after.stdout).toContain('FAIL [no-nat] a packet from pod IP 10.244.1.4 to pod IP 10.244.3.2 carries source 10.244.2.0 at node/node-2 flannel.1');
    expect(detour.s.run('kubectl exec pod-a -- traceroute -n 10.244.3.2').stdout).toBe('traceroute to 10.244.3.2 (10.244.3.2), 30 hops max, 60 byte packets\n 1  10.244.1.1\n 2  10.244.2.0\n 3  10.244.3.0\n 4  10.244.3.2\n');
  });

  it('3. IP exhaustion: api is Pending with the scheduler\'s message until finished batch pods make room', () => {
    const s = createSession();
    s.run('lab start 3');
    s.run('kubectl run api --image=nginx');
    expect(s.run('kubectl describe pod api').stdout).toContain('Warning  FailedScheduling  0s    default-scheduler  0/3 nodes are available: 3 Too many pods.');
    expect(s.run('kubectl describe node node-1').stdout).toContain('Non-terminated Pods:          (11 in total)');
    expect(s.run('lab check').status).toBe(1);
    s.run('kubectl delete pod web-0');
    expect(s.run('lab check').stdout).toContain('FAIL only 17 of the 18 web pods run');
    s.run('lab reset');
    s.run('kubectl run api --image=nginx');
    s.run('kubectl delete pod batch-0');
    expect(s.run('lab check').status).toBe(0);
  });

  it('3. prefix delegation alone does not raise max pods on the nodes that run: the kubelet keeps the flag it booted with, as on EKS', () => {
    const s = createSession();
    s.run('lab start 3');
    s.run('kubectl run api --image=nginx');
    expect(s.run('kubectl set env daemonset aws-node -n kube-system ENABLE_PREFIX_DELEGATION=true')).toEqual({ stdout: 'daemonset.apps/aws-node env updated\n', stderr: '', status: 0 });
    expect(s.run('kubectl set env ds aws-node -n kube-system --list').stdout).toContain('\nENABLE_PREFIX_DELEGATION=true\n');
    expect(s.run('kubectl describe node node-1').stdout).toContain('Allocatable:\n  pods:               11\n');
    expect(s.run('kubectl get pod api').stdout).toContain('Pending');
    const check = s.run('lab check');
    expect(check.status).toBe(1);
    expect(check.stdout).toContain('FAIL api is Pending: 0/3 nodes are available: 3 Too many pods.');
  });

  it('3. the prefix-delegation fix by commands: aws-node\'s env, then a new node group whose kubelet allows 110 pods', () => {
    const { before, after, s } = solve(3, [
      'kubectl run api --image=nginx',
      'kubectl set env daemonset/aws-node -n kube-system ENABLE_PREFIX_DELEGATION=true',
      'eksctl create nodegroup --cluster podnet-lab --name ng-prefix --node-type t3.small --nodes 1',
    ]);
    expect(before.status).toBe(1);
    const node = 'ip-192-168-1-14.us-west-2.compute.internal';
    expect(s.run('kubectl get pod api -o wide').stdout).toMatch(new RegExp(`api +1/1 +Running .* ${node.replace(/\./g, '\\.')} `));
    expect(s.run(`kubectl describe node ${node}`).stdout).toContain('Allocatable:\n  pods:               110\n');
    expect(after.stdout).toMatch(/ok {3}prefix delegation: 192\.168\.1\.\d+ comes from 192\.168\.1\.\d+\/28, delegated to eni-[0-9a-f]{17} on ip-192-168-1-14/);
    expect(after.stdout).toContain(`ok   ${node} joined with max pods 110 (the secondary-IP limit of t3.small is 11)`);
    expect(after.stdout).toContain('ok   node-1: 11/11 pods');
    expect(after.status).toBe(0);
    // The old nodes cordoned, new work lands on the new node only; the running pods stay where they are.
    expect(s.run('kubectl cordon node-1 node-2 node-3').stdout).toBe('node/node-1 cordoned\nnode/node-2 cordoned\nnode/node-3 cordoned\n');
    s.run('kubectl delete pod batch-0');
    s.run('kubectl run extra --image=nginx');
    expect(s.sim.pod('extra').node).toBe(node);
    expect(s.run('lab check').status).toBe(0);
  });

  it('4. MTU black hole: full-size packets vanish until flannel.1 fits the path; then PMTU discovery works', () => {
    const { before, after } = solve(4, onEveryNode('ip link set flannel.1 mtu 1350'));
    expect(before.stdout).toContain('no reply, no error: the packet vanished');
    expect(after.stdout).toContain('ICMP fragmentation needed came back (path MTU discovery works)');
    expect(after.status).toBe(0);
  });

  it('4. fixing one node only leaves the black hole elsewhere', () => {
    const { after } = solve(4, onEveryNode('ip link set flannel.1 mtu 1350').slice(0, 3));
    expect(after.status).toBe(1);
  });

  it('5. source NAT: a stray MASQUERADE before flanneld\'s chain; the ledger sees 10.244.2.0 until it is deleted', () => {
    const debug = 'kubectl debug node/node-2 -it --image=nicolaka/netshoot --profile=sysadmin';
    const { before, after, s } = solve(5, [debug, 'iptables -t nat -D POSTROUTING 1']);
    expect(before.status).toBe(1);
    // Across nodes the source is flannel.1's address; on the node's own bridge (br_netfilter) cni0's.
    expect(before.stdout).toContain('FAIL pod-c → pod-e (node-3): reply; the target saw source 10.244.2.0\n');
    expect(before.stdout).toContain('FAIL pod-c → pod-d (same node, node-2): reply; the target saw source 10.244.2.1\n');
    expect(before.stdout).toContain('ok   pod-a → pod-c (node-2): reply; the target saw source 10.244.1.4 (pod-a\'s own IP: no NAT)\n');
    expect(before.stdout).toMatch(/FAIL \[no-nat\] a packet from pod IP 10\.244\.2\.3 to pod IP 10\.244\.3\.2 carries source 10\.244\.2\.0 at node\/node-2 flannel\.1/);
    expect(after.stdout).toContain('ok   pod-c (node-2) → the outside, router 192.168.1.1: reply');
    expect(after.stdout).toMatch(/Lab 5 solved\.\n$/);
    // What the student sees on the way: the ledger's capture, and the rule in front of flanneld's jump.
    s.run('lab reset');
    s.run('kubectl exec pod-e -- tcpdump -n -i eth0 icmp &');
    expect(s.run('kubectl exec pod-c -- ping -c 1 10.244.3.2').stdout).toMatch(/IP 10\.244\.2\.0 > 10\.244\.3\.2: ICMP echo request/);
    s.run(debug);
    expect(s.run('iptables -t nat -S POSTROUTING').stdout).toBe('-P POSTROUTING ACCEPT\n-A POSTROUTING -s 10.244.2.0/24 -m comment --comment "temporary: egress for the batch job (OPS-1432)" -j MASQUERADE\n-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG\n');
  });

  it('5. replacing the stray rule by one that spares the pod CIDR (iptables -R) is a fix too', () => {
    const { after, s } = solve(5, ['kubectl debug node/node-2 -it --image=nicolaka/netshoot --profile=sysadmin', 'iptables -t nat -R POSTROUTING 1 -s 10.244.2.0/24 ! -d 10.244.0.0/16 -j MASQUERADE']);
    expect(after.stdout).toMatch(/Lab 5 solved\.\n$/);
    expect(s.run('iptables -t nat -S POSTROUTING').stdout).toContain('-A POSTROUTING -s 10.244.2.0/24 ! -d 10.244.0.0/16 -j MASQUERADE\n');
  });

  it('5. flushing POSTROUTING fixes the pods\' sources but cuts node-2\'s pods off from the outside until flanneld puts its rules back', () => {
    const { after } = solve(5, ['kubectl debug node/node-2 -it --image=nicolaka/netshoot --profile=sysadmin', 'iptables -t nat -F POSTROUTING']);
    expect(after.status).toBe(1);
    expect(after.stdout).toContain('ok   the three guarantees hold');
    expect(after.stdout).toContain('FAIL pod-c (node-2) → the outside, router 192.168.1.1: no reply: the router has no route back to a pod address');
    expect(after.stdout).toContain('ok   pod-a (node-1) → the outside, router 192.168.1.1: reply');
    // flanneld's resync loop (every 5 s) appends its jump again: the flush was a fix after all, a heavy one.
    const s = createSession();
    for (const line of ['lab start 5', 'kubectl debug node/node-2 -it --image=nicolaka/netshoot --profile=sysadmin', 'iptables -t nat -F POSTROUTING', 'sleep 5']) s.run(line);
    expect(s.run('iptables -t nat -S POSTROUTING').stdout).toBe('-P POSTROUTING ACCEPT\n-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG\n');
    expect(s.run('lab check').stdout).toMatch(/Lab 5 solved\.\n$/);
  });

  it('hints come one at a time; lab check without a lab says how to start one', () => {
    const s = createSession();
    expect(s.run('lab check')).toEqual({ stdout: '', stderr: 'lab: no lab started (lab start N)\n', status: 2 });
    s.run('podnet lab start 4');
    expect(s.run('lab hint').stdout).toMatch(/^Hint 1\/3: /);
    expect(s.run('lab hint').stdout).toMatch(/^Hint 2\/3: /);
    s.run('lab start 3');
    expect(s.run('lab hint').stdout).toMatch(/^Hint 1\/5: /);
  });
});
