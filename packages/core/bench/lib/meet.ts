/**
 * A long session's memos on a fresh state: every node's first pod probes the next node's first pod once, so
 * each host's tables (view, route table, FDB and neighbour indexes, the bridge's flood plan) are built, as
 * they are on a state a session has used for a while. Used by `run.ts` (the long-session rows) and
 * `regime.ts`.
 */
import type { Core } from './builds.js';

type State = ReturnType<Core['buildClusterState']>;

/** Probes, for each node in shard order, its first running pod to the next node's; answers the probes sent. */
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
