/**
 * A CNI design's configuration changed on a running cluster (`kubectl set env daemonset/aws-node …`): the
 * DaemonSet's pods restart with the new environment, and each node's agent does what it does at start.
 * Pods keep running with the addresses they have; nodes keep the max-pods their kubelet started with.
 */
import { castDraft, type Draft } from 'immer';
import type { CniDesign, DesignReaction } from '../cni/contract.js';
import { applyActionsToDraft } from '../ops/actions.js';
import { produce } from '../util/immer.js';
import { shardGet, shardValues } from '../util/shards.js';
import { listNodes } from './cluster.js';
import { fail, shown } from '../errors.js';
import { getNode } from './lookup.js';
import type { ClusterState } from './types.js';

/** A node agent's reaction applied in a transition: its actions, then the design's cluster and node state it returns. */
function applyReaction(d: Draft<ClusterState>, node: string, r: DesignReaction): void {
  applyActionsToDraft(d, r.actions);
  if ('clusterState' in r) d.cni = castDraft(r.clusterState);
  if ('nodeState' in r) shardGet(d.nodes, node)!.cni = castDraft(r.nodeState);
}

/**
 * Restarts `design`'s agent on every node (or on `nodes`), in name order, in one transition: its actions are
 * applied and its node and cluster state stored. A design without `agentRestarted` changes nothing. Throws
 * (and changes nothing) when an action fails.
 */
export function restartAgentsState(state: ClusterState, design: CniDesign, nodes?: readonly string[]): ClusterState {
  const restart = design.agentRestarted?.bind(design);
  if (!restart) return state;
  return produce(state, (d) => {
    for (const { name } of listNodes(state)) {
      if (nodes !== undefined && !nodes.includes(name)) continue;
      applyReaction(d, name, restart(d as ClusterState, getNode(d as ClusterState, name)));
    }
  });
}

/**
 * The clock moved forward by `ms` (> 0), with what the design's agents do meanwhile ({@link CniDesign.agentTick}:
 * their periodic loops), in one transition: each node's reaction is asked of the state with the new time, in
 * name order, and applied before the next node's is asked. The same state with only `now` changed when no
 * agent does anything. Throws (and changes nothing) when an action fails.
 */
export function advanceState(state: ClusterState, ms: number, design: CniDesign): ClusterState {
  const from = state.now;
  const timed: ClusterState = { ...state, now: from + ms };
  const tick = design.agentTick?.bind(design);
  if (!tick) return timed;
  // Most ticks find everything in place: ask every node first, in the shards' order (no sort, no lookup by
  // name), and draft only when some node has something to do.
  let firstName: string | null = null;
  let first: DesignReaction | null = null;
  for (const n of shardValues(timed.nodes)) {
    const r = tick(timed, n, from, timed.now);
    if ((r.actions.length > 0 || 'nodeState' in r || 'clusterState' in r) && (firstName === null || n.name < firstName)) {
      firstName = n.name;
      first = r;
    }
  }
  if (firstName === null) return timed;
  // In name order from the first node with something to do (those before it had nothing to do in this state).
  const names = listNodes(timed).map((n) => n.name);
  const i = names.indexOf(firstName);
  return produce(timed, (d) => {
    for (let j = i; j < names.length; j++) {
      const name = names[j]!;
      applyReaction(d, name, j === i ? first! : tick(d as ClusterState, getNode(d as ClusterState, name), from, timed.now));
    }
  });
}

/**
 * Sets a node's spec.unschedulable (`kubectl cordon` / `uncordon`): the scheduler then skips it; pods on it
 * keep running. Returns the same state when nothing changes; throws `NODE_NOT_FOUND`.
 */
export function setUnschedulableState(state: ClusterState, name: string, unschedulable: boolean): ClusterState {
  if (typeof unschedulable !== 'boolean') fail('INVALID_ARGUMENT', `unschedulable must be true or false, not ${shown(unschedulable)}`);
  const node = getNode(state, name);
  if ((node.unschedulable ?? false) === unschedulable) return state;
  return produce(state, (d) => {
    const n = shardGet(d.nodes, name)!;
    if (unschedulable) n.unschedulable = true;
    else delete n.unschedulable;
  });
}
