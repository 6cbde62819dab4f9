/**
 * Labs built from the lesson: each starts a cluster (some with a fault already in it), tells the student
 * what is wrong the way a ticket would, offers hints, and `check`s the fix by probing the simulated
 * cluster — never by reading what was typed.
 */
import { cidrContains, formatIpv4, parseCidr, type Action, type Simulator } from '@podnet/core';
import { awsEnis, awsInstanceType, awsMaxPods, seedLabSpec, vethName, type ClusterSpecJson } from '@podnet/cni';

/** The verdict of `lab check`. */
export interface LabVerdict {
  readonly ok: boolean;
  /** What the check looked at, one line per probe. */
  readonly lines: readonly string[];
}

/** One exercise. */
export interface Lab {
  readonly id: number;
  readonly name: string;
  readonly title: string;
  /** What the student reads when the lab starts. */
  readonly brief: string;
  /** The cluster, and the faults applied to it before the student arrives. */
  readonly spec: () => ClusterSpecJson;
  readonly faults: (sim: Simulator) => Action[];
  readonly hints: readonly string[];
  readonly check: (sim: Simulator) => LabVerdict;
}

function runningPods(sim: Simulator, namespace = 'default') {
  return sim.pods().filter((p) => p.namespace === namespace && p.status.phase === 'Running' && p.ip !== null && !p.hostNetwork);
}

/** Pings from one pod per node to one pod on every other node; each line says what happened. */
export function crossNodePings(sim: Simulator, size?: number): { ok: boolean; lines: string[] } {
  const pods = runningPods(sim);
  const perNode = new Map<string, (typeof pods)[number]>();
  for (const p of pods) if (!perNode.has(p.node!)) perNode.set(p.node!, p);
  const lines: string[] = [];
  let ok = true;
  for (const a of perNode.values()) {
    for (const b of perNode.values()) {
      if (a === b) continue;
      const dst = formatIpv4(b.ip!);
      const r = sim.ping(a.key, dst, size === undefined ? {} : { size });
      // Fragmentation needed came back, or was learned earlier (the sender then refuses locally): no silent loss.
      const frag = r.errors.some((e) => e.message.startsWith('Frag needed') || e.message.startsWith('local error: message too long'));
      const good = r.ok || (size !== undefined && frag);
      if (!good) ok = false;
      lines.push(`${good ? 'ok  ' : 'FAIL'} ${a.name} (${a.node}) → ${b.name} ${dst} (${b.node})${size !== undefined ? ` ${size + 28}-byte packet with DF` : ''}: ${r.ok ? 'reply' : frag ? 'ICMP fragmentation needed came back (path MTU discovery works)' : r.errors[0]?.message ?? 'no reply, no error: the packet vanished'}`);
    }
  }
  return { ok, lines };
}

type RunningPod = ReturnType<typeof runningPods>[number];

/**
 * A ping from pod `a` to pod `b`, and the source address `b` saw on the request (what
 * `kubectl exec b -- tcpdump -n -i eth0 icmp` prints): ok when a reply came back and the source was `a`'s own IP.
 */
function noNatPing(sim: Simulator, a: RunningPod, b: RunningPod, where = ` on ${b.node}`): { ok: boolean; line: string } {
  const r = sim.ping(a.key, formatIpv4(b.ip!));
  const seen = r.traces[0]?.steps.find((s) => s.kind === 'deliver' && s.ns === `pod/${b.key}`)?.ip?.header.src;
  const noNat = seen === a.ip;
  return {
    ok: r.ok && noNat,
    line: `${r.ok && noNat ? 'ok  ' : 'FAIL'} ${a.name} → ${b.name}${where}: ${r.ok ? 'reply' : 'no reply'}; the target saw source ${seen === undefined ? 'nothing' : formatIpv4(seen)}${noNat ? ` (${a.name}'s own IP: no NAT)` : ''}`,
  };
}

/** The full audit of the three guarantees as `lab check` lines (the first five violations). */
export function auditLines(sim: Simulator): { ok: boolean; lines: string[] } {
  const a = sim.check();
  return { ok: a.ok, lines: a.ok ? ['ok   the three guarantees hold (full audit: unique IPs, pod ↔ pod without NAT, node → its pods)'] : a.violations.slice(0, 5).map((v) => `FAIL [${v.guarantee}] ${v.explanation}`) };
}

/** The labs, in order. */
export const LABS: readonly Lab[] = [
  {
    id: 1,
    name: 'verify-the-model',
    title: 'Verify the network model on a new cluster',
    brief: [
      'You just joined this cluster. Before trusting it, verify the model as the lesson does:',
      '  1. which podCIDR each node holds (kubectl get nodes -o jsonpath=…);',
      '  2. every pod IP and its node (kubectl get pods -A -o wide), and which CNI runs;',
      '  3. deploy a debug pod: kubectl run netcheck --image=nicolaka/netshoot --restart=Never -- sleep 3600',
      '  4. from netcheck, ping a pod on every other node, and watch on the target that the source is',
      '     netcheck\'s own pod IP (kubectl exec <target> -- tcpdump -n -i eth0 icmp &).',
      'Then run `lab check`.',
    ].join('\n'),
    spec: seedLabSpec,
    faults: () => [],
    hints: [
      'The jsonpath command is in the lesson: kubectl get nodes -o jsonpath=\'{range .items[*]}{.metadata.name}{"\\t"}{.spec.podCIDR}{"\\n"}{end}\'',
      'flannel runs in the kube-flannel namespace nowadays: kubectl get pods -A | grep flannel',
      'Start the capture in the background with &, then ping: kubectl exec pod-e -- tcpdump -n -i eth0 icmp &  then  kubectl exec netcheck -- ping -c 3 10.244.3.2',
    ],
    check(sim) {
      const net = sim.pods().find((p) => p.key === 'default/netcheck');
      if (!net || net.status.phase !== 'Running') return { ok: false, lines: ['FAIL there is no Running pod default/netcheck yet (step 3)'] };
      const lines = [`ok   netcheck runs on ${net.node} with ${formatIpv4(net.ip!)}`];
      let ok = true;
      for (const n of sim.nodes()) {
        if (n.name === net.node) continue;
        const target = runningPods(sim).find((p) => p.node === n.name);
        if (!target) continue;
        const r = noNatPing(sim, net, target);
        ok &&= r.ok;
        lines.push(r.line);
      }
      const a = auditLines(sim);
      return { ok: ok && a.ok, lines: [...lines, ...a.lines] };
    },
  },
  {
    id: 2,
    name: 'broken-route',
    title: 'Pods on node-1 cannot reach pods on node-3',
    brief: [
      'Ticket: "Since this morning, pod-a and pod-b (on node-1) time out talking to pod-e and pod-f',
      '(on node-3). Everything else works." Someone changed something on a node.',
      'Find the broken path, fix it on the node (kubectl debug node/… -it --image=nicolaka/netshoot',
      '--profile=sysadmin gives a shell allowed to change the network), then run `lab check`.',
    ].join('\n'),
    spec: seedLabSpec,
    // A wrong route, as a hand-edited fix would leave it: node-3's pod subnet sent out of eth0 raw.
    faults: () => [{ op: 'route.replace', ns: 'node/node-1', dst: '10.244.3.0/24', dev: 'eth0' }],
    hints: [
      'Reproduce first: kubectl exec pod-a -- ping -c 1 10.244.3.2 — who answers "Destination Host Unreachable"?',
      'Compare the routing tables of node-1 and node-2 (ip route in a node debugger): how should 10.244.3.0/24 leave?',
      'flannel routes each other node\'s subnet via its VTEP address over flannel.1: ip route replace 10.244.3.0/24 via 10.244.3.0 dev flannel.1 onlink — or let flanneld do it: it replaces its routes when it starts, so delete node-1\'s kube-flannel-ds pod (kubectl -n kube-flannel get pods -o wide) and its DaemonSet starts a new one.',
    ],
    check(sim) {
      const p = crossNodePings(sim);
      const a = auditLines(sim);
      return { ok: p.ok && a.ok, lines: [...p.lines, ...a.lines] };
    },
  },
  {
    id: 3,
    name: 'ip-exhaustion',
    title: 'A new pod stays Pending on full EKS-style nodes',
    brief: [
      'An EKS-style cluster (eksctl cluster podnet-lab): three t3.small nodes with the AWS VPC CNI. Each may run',
      '3 ENIs × (4 IPs − 1) + 2 = 11 pods, and the two host-network agents (kube-proxy, aws-node) count too.',
      'A new deployment does not start:',
      '  kubectl run api --image=nginx        (try it)',
      'Find out why (kubectl describe pod api, kubectl describe node: Allocatable pods vs Non-terminated',
      'Pods) and get api Running without touching the web pods. Two fixes count: make room on the nodes',
      'you have, or the lasting one — prefix delegation (ENABLE_PREFIX_DELEGATION on the aws-node DaemonSet),',
      'with nodes whose kubelet really allows more pods. Then `lab check`.',
    ].join('\n'),
    // The AWS VPC CNI on t3.small nodes: max pods comes from the ENI formula, as EKS's bootstrap sets it.
    spec: () => ({
      ...seedLabSpec(),
      // A VPC subnet: jumbo frames (the ENIs' MTU, and so the pods', is 9001) and the VPC's own router,
      // which keeps the TTL (no traceroute hop).
      underlay: { segments: [{ name: 'subnet-a', cidr: '192.168.1.0/24', gateway: '192.168.1.1', mtu: 9001 }], router: 'vpc' },
      cni: { type: 'aws-vpc', instanceType: 't3.small' },
      pods: [
        ...Array.from({ length: 18 }, (_, i) => ({ name: `web-${i}`, node: `node-${(i % 3) + 1}` })),
        ...Array.from({ length: 9 }, (_, i) => ({ name: `batch-${i}`, node: `node-${(i % 3) + 1}`, labels: { job: 'nightly-report', done: 'true' } })),
      ],
    }),
    faults: () => [],
    hints: [
      'kubectl describe pod api shows the scheduler\'s event: "0/3 nodes are available: 3 Too many pods".',
      'kubectl describe node node-1: Allocatable pods 11, Non-terminated Pods (11 in total). The limit is per node, not the subnet.',
      'Quick fix: the batch-* pods finished their nightly report long ago (label done=true): kubectl get pods -l done=true, then kubectl delete pod …',
      'Lasting fix: kubectl set env daemonset aws-node -n kube-system ENABLE_PREFIX_DELEGATION=true. Then look at kubectl describe node node-1 again: max pods is the kubelet\'s flag, set when the node booted, so the old nodes stay at 11.',
      'On EKS new nodes pick the new max pods up: eksctl create nodegroup --cluster podnet-lab --name ng-prefix --node-type t3.small --nodes 1 (then kubectl describe node on it: Allocatable pods 110).',
    ],
    check(sim) {
      const api = sim.pods().find((p) => p.key === 'default/api');
      const lines: string[] = [];
      let ok = true;
      if (!api) { ok = false; lines.push('FAIL there is no pod default/api: run kubectl run api --image=nginx'); }
      else if (api.status.phase !== 'Running') { ok = false; lines.push(`FAIL api is ${api.status.phase}: ${api.status.message ?? ''}`); }
      else {
        lines.push(`ok   api runs on ${api.node} with ${formatIpv4(api.ip!)}`);
        // Which fix it was, read from the cluster: the address's source on the node's ENIs, and the node's max pods.
        const node = sim.node(api.node!);
        const prefix = awsEnis(node).flatMap((e) => e.slots.filter((x) => x.endsWith('/28') && cidrContains(parseCidr(x), api.ip!)).map((x) => ({ eni: e.id, prefix: x })))[0];
        const type = awsInstanceType(sim.design);
        const base = type === undefined ? undefined : awsMaxPods(type);
        if (prefix) lines.push(`ok   prefix delegation: ${formatIpv4(api.ip!)} comes from ${prefix.prefix}, delegated to ${prefix.eni} on ${node.name}`);
        if (base !== undefined && node.maxPods > base) lines.push(`ok   ${node.name} joined with max pods ${node.maxPods} (the secondary-IP limit of ${type} is ${base})`);
      }
      const web = sim.pods().filter((p) => p.name.startsWith('web-') && p.status.phase === 'Running').length;
      if (web < 18) { ok = false; lines.push(`FAIL only ${web} of the 18 web pods run: the web pods were not yours to delete`); }
      else lines.push('ok   the 18 web pods still run');
      for (const n of sim.nodes()) {
        const c = sim.capacity(n.name);
        if (c.nonTerminatedPods > c.allocatablePods) { ok = false; lines.push(`FAIL ${n.name} runs ${c.nonTerminatedPods} pods for ${c.allocatablePods} allocatable`); }
        else lines.push(`ok   ${n.name}: ${c.nonTerminatedPods}/${c.allocatablePods} pods`);
      }
      return { ok, lines };
    },
  },
  {
    id: 4,
    name: 'mtu-black-hole',
    title: 'Small requests work, large ones hang (VXLAN MTU)',
    brief: [
      'Ticket: "After the network team moved the racks onto a new link (its path MTU is 1400 bytes), health',
      'checks still pass but file uploads between pods on different nodes hang forever." The nodes\' NICs',
      'still say MTU 1500, and flannel sized its devices from them (1500 − 50 for VXLAN = 1450).',
      'Reproduce it (kubectl exec pod-a -- ping -c 1 -s 1400 -M do 10.244.2.3 vs -s 1300), fix it on the',
      'nodes, then `lab check`: every full-size packet must arrive or get an ICMP error back, never vanish.',
    ].join('\n'),
    spec: () => ({ ...seedLabSpec(), underlay: { segments: [{ name: 'rack-a', cidr: '192.168.1.0/24', gateway: '192.168.1.1', mtu: 1400 }] } }),
    // The NICs still at 1500, and flannel's devices sized from them: 1500 − 50.
    faults: (sim) => sim.nodes().flatMap((n) => [
      { op: 'link.set', ns: `node/${n.name}`, name: 'eth0', mtu: 1500 } as Action,
      { op: 'link.set', ns: `node/${n.name}`, name: 'flannel.1', mtu: 1450 } as Action,
      { op: 'link.set', ns: `node/${n.name}`, name: 'cni0', mtu: 1450 } as Action,
      ...Object.values(n.pods).filter((p) => p.netns).flatMap((p) => [
        { op: 'link.set', ns: `node/${n.name}`, name: vethName(p.key), mtu: 1450 } as Action,
        { op: 'link.set', ns: `pod/${p.key}`, name: 'eth0', mtu: 1450 } as Action,
      ]),
    ]),
    hints: [
      'ping -s 1400 -M do sends 1428 bytes: it fits flannel.1 (1450), and with VXLAN\'s 50 bytes the 1478-byte packet fits the node\'s eth0 (1500) — but not the 1400-byte path. The switch drops it and tells nobody.',
      'Find the largest size that gets through (ping -M do -s …): the path MTU minus VXLAN\'s 50 bytes is what flannel.1 may carry.',
      'flannel.1 must be at most the underlay MTU − 50. On every node: ip link set flannel.1 mtu 1350 (a shell with --profile=sysadmin). Pods then get "Frag needed" back and send smaller packets.',
    ],
    check(sim) {
      const podMtu = Math.max(...runningPods(sim).map((p) => p.netns?.links['eth0']?.mtu ?? 1450));
      const big = crossNodePings(sim, podMtu - 28);
      const small = crossNodePings(sim);
      return { ok: big.ok && small.ok, lines: [...big.lines, ...small.lines.filter((l) => l.startsWith('FAIL'))] };
    },
  },
  {
    id: 5,
    name: 'source-nat',
    title: 'The ledger sees node-2\'s pods with an address no pod has',
    brief: [
      'Ticket: "The ledger (pod-e, on node-3) only serves pod IPs on its allowlist. Since last night\'s change',
      'window it turns away pod-c and pod-d (on node-2): its log says their calls come from 10.244.2.0, an',
      'address no pod has. The other nodes\' pods are fine, and so is node-2\'s traffic to the outside."',
      'See what the ledger sees (kubectl exec pod-e -- tcpdump -n -i eth0 icmp &, then kubectl exec pod-c --',
      'ping -c 1 10.244.3.2), find what rewrites the source, fix it on the node, then `lab check`: every pod',
      'must be seen with its own IP, and every pod must still reach the outside (the router, 192.168.1.1).',
    ].join('\n'),
    spec: seedLabSpec,
    // A hand-made rule put in front of flanneld's: masquerade whatever node-2's pods send, to other pods too.
    faults: () => [{
      op: 'rule.insert', ns: 'node/node-2',
      rule: { table: 'nat', chain: 'POSTROUTING', src: '10.244.2.0/24', comment: 'temporary: egress for the batch job (OPS-1432)', target: 'MASQUERADE' },
    }],
    hints: [
      '10.244.2.0 is node-2\'s flannel.1 address. A packet that arrives with the address of the device it left its node by was masqueraded there: MASQUERADE writes in the source the address of the outgoing device.',
      'Open a node debugger (kubectl debug node/node-2 -it --image=nicolaka/netshoot --profile=sysadmin) and list the nat table: iptables -t nat -S POSTROUTING. Compare with node-1. Rules run top to bottom, and flanneld\'s own chain, FLANNEL-POSTRTG, RETURNs pod-to-pod traffic unmasqueraded — if the packet gets there.',
      'Delete only the stray rule: iptables -t nat -D POSTROUTING 1 (or -D with the rule as -S prints it), or make it leave pod traffic alone: iptables -t nat -R POSTROUTING 1 -s 10.244.2.0/24 ! -d 10.244.0.0/16 -j MASQUERADE. Flushing POSTROUTING takes flanneld\'s jump to FLANNEL-POSTRTG with it, and pods lose the outside until flanneld\'s resync loop puts its rules back (every 5 s: watch it with sleep 5) — and on a real node kube-proxy\'s rules would go too.',
    ],
    check(sim) {
      const pods = runningPods(sim);
      const lines: string[] = [];
      let ok = true;
      // One pod per node to one pod on every other node, and each pod to a neighbour on its own node (the
      // bridge: br_netfilter shows bridged frames to POSTROUTING too).
      const first = new Map<string, RunningPod>();
      for (const p of pods) if (!first.has(p.node!)) first.set(p.node!, p);
      for (const a of first.values()) {
        for (const b of first.values()) {
          if (a === b) continue;
          const r = noNatPing(sim, a, b, ` (${b.node})`);
          ok &&= r.ok;
          lines.push(r.line);
        }
        const mate = pods.find((p) => p.node === a.node && p !== a);
        if (mate) {
          const r = noNatPing(sim, a, mate, ` (same node, ${a.node})`);
          ok &&= r.ok;
          lines.push(r.line);
        }
      }
      // The outside: its router knows no pod subnet, so only a masqueraded request gets an answer.
      for (const a of first.values()) {
        const node = sim.node(a.node!);
        const gw = sim.state.underlay.segments[node.segment]!.gateway;
        const r = sim.ping(a.key, formatIpv4(gw));
        ok &&= r.ok;
        lines.push(`${r.ok ? 'ok  ' : 'FAIL'} ${a.name} (${a.node}) → the outside, router ${formatIpv4(gw)}: ${r.ok ? 'reply (masqueraded to the node\'s address on the way out)' : `${r.errors[0]?.message ?? 'no reply'}: the router has no route back to a pod address, so traffic leaving the cluster must be masqueraded (is flanneld's jump to FLANNEL-POSTRTG there? its resync loop puts it back within 5 s)`}`);
      }
      const a = auditLines(sim);
      return { ok: ok && a.ok, lines: [...lines, ...a.lines] };
    },
  },
];

/** The lab with this number or name. */
export function findLab(ref: string): Lab | undefined {
  return LABS.find((l) => String(l.id) === ref || l.name === ref);
}
