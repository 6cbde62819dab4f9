/**
 * The large cluster the bench tools compare builds on, and what they do to it: flannel VXLAN, 30 pods per
 * node, pod CIDR 10.0.0.0/8 with /24 node blocks and a 172.16.0.0/16 underlay (what run.ts's bulk build
 * uses); pod adds and deletes each followed by the simulator's sampled check; and a long session's memos
 * made on a fresh state. Used by `ab.ts`, `regime.ts` and `run.ts`.
 */
import type { Cni, Core } from './builds.js';

type State = ReturnType<Core['buildClusterState']>;

export const SETTINGS = { podCidr: '10.0.0.0/8', nodeCidrMaskSize: 24, underlay: { segments: [{ name: 'dc', cidr: '172.16.0.0/16', gateway: '172.16.0.1', mtu: 1500 }] } };

/** The node and pod specs of `nodes` nodes (`node-<i>`) with 30 pods each (`p-<i>-<j>`). */
export function specs(nodes: number): { nodes: { name: string }[]; pods: { name: string; node: string }[] } {
  const ns: { name: string }[] = [];
  const ps: { name: string; node: string }[] = [];
  for (let i = 0; i < nodes; i++) {
    ns.push({ name: `node-${i}` });
    for (let j = 0; j < 30; j++) ps.push({ name: `p-${i}-${j}`, node: `node-${i}` });
  }
  return { nodes: ns, pods: ps };
}

/** The median of `x` (the mean of the middle two when their number is even). */
export function median(x: readonly number[]): number {
  const s = [...x].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** CPU microseconds of `f`, all threads. */
export function cpuUs(f: () => void): number {
  const c = process.cpuUsage();
  f();
  const d = process.cpuUsage(c);
  return d.user + d.system;
}

/**
 * `count` pods added on random nodes of `state` (of `nodes` nodes, drawn with `random`) and deleted again,
 * each change followed by its sampled check (sample 4, as the simulator's `checks: 'sampled'`) unless
 * `checked` is false: the CPU µs of each add (with its check) and each delete (with its check), and of each
 * add's check alone (`addCheck`, empty unless checked).
 */
export function churn(core: Core, design: ReturnType<Cni['flannel']>, state: State, nodes: number, count: number, random: () => number, tag: string, checked = true): { add: number[]; del: number[]; addCheck: number[] } {
  const add: number[] = [];
  const del: number[] = [];
  const addCheck: number[] = [];
  for (let i = 0; i < count; i++) {
    const node = `node-${Math.floor(random() * nodes)}`;
    let a: ReturnType<Core['addPodState']> | undefined;
    let memory = core.EMPTY_MEMORY;
    add.push(cpuUs(() => {
      a = core.addPodState(state, { name: `${tag}-${i}`, node }, design);
      if (checked) addCheck.push(cpuUs(() => { memory = core.sampledCheck(a!.state, core.EMPTY_MEMORY, core.diffScope(state, a!.state), 4, random).memory; }));
    }));
    del.push(cpuUs(() => {
      const d = core.deletePodState(a!.state, a!.pod.key, design);
      if (checked) core.sampledCheck(d.state, memory, core.diffScope(a!.state, d.state), 4, random);
    }));
  }
  return { add, del, addCheck };
}

/**
 * A long session's memos on a fresh state: every node's first pod probes the next node's first pod once, so
 * each host's tables (view, route table, FDB and neighbour indexes, the bridge's flood plan) are built, as
 * they are on a state a session has used for a while. Answers the probes sent.
 */
export function meetEveryNode(core: Pick<Core, 'shardValues' | 'send' | 'icmpEcho'>, state: State): number {
  const firsts: { key: string; ip: number }[] = [];
  for (const n of core.shardValues(state.nodes)) {
    for (const k in n.pods) {
      const p = n.pods[k]!;
      if (p.netns && p.ip !== null) { firsts.push({ key: p.key, ip: p.ip }); break; }
    }
  }
  for (let i = 0; i < firsts.length; i++) {
    const to = firsts[(i + 1) % firsts.length]!;
    core.send(state, `pod/${firsts[i]!.key}`, core.icmpEcho(to.ip), { record: false, commit: false });
  }
  return firsts.length;
}
