/**
 * Recording what a design does: a wrapper around a {@link CniDesign} that keeps, in order, every
 * reaction the simulator applied (the event, what core had created for it, and the design's
 * actions). Replaying that log on a kernel builds the same cluster podnet built.
 */
import type { Action, CniDesign, Link, NetNs, Node, NsId, Pod, Route } from '@podnet/core';

/** A link as core created it. */
export interface LinkSnapshot {
  readonly name: string;
  readonly kind: Link['kind'];
  readonly mtu: number;
  readonly mac: string;
  readonly up: boolean;
  readonly addrs: readonly { readonly ip: number; readonly len: number }[];
  /** The underlay segment a physical link is plugged into. */
  readonly segment?: string;
}

/** A namespace as core created it (before any design action), copied out of the draft it lives in. */
export interface NsSnapshot {
  readonly id: NsId;
  readonly links: readonly LinkSnapshot[];
  readonly routes: readonly Route[];
  readonly ipForward: boolean;
  readonly rpFilter: 0 | 1 | 2;
  /** net.bridge.bridge-nf-call-iptables as core set it (br_netfilter: bridged IPv4 frames pass iptables). */
  readonly bridgeNf: boolean;
}

/** One reaction of the design, as the simulator applied it. */
export type Reaction =
  | { readonly kind: 'clusterCreated'; readonly actions: readonly Action[] }
  | { readonly kind: 'nodeAdded'; readonly node: string; readonly host: NsSnapshot; readonly actions: readonly Action[] }
  | { readonly kind: 'nodeRemoved'; readonly node: string; readonly actions: readonly Action[] }
  | { readonly kind: 'podAdded'; readonly pod: string; readonly node: string; readonly netns: NsSnapshot | null; readonly actions: readonly Action[] }
  | { readonly kind: 'podDeleted'; readonly pod: string; readonly node: string; readonly actions: readonly Action[] }
  /**
   * A fault applied after the build (faults.ts): raw actions as a person types them. `refused` is podnet's
   * error when it refused them (the state unchanged): the kernel must refuse them too.
   */
  | { readonly kind: 'fault'; readonly what: string; readonly actions: readonly Action[]; readonly refused?: string };

/** Copies what core created in a namespace out of a (possibly draft) value. */
export function snapshotNs(ns: NetNs): NsSnapshot {
  return {
    id: ns.id,
    links: Object.values(ns.links).map((l) => ({
      name: l.name, kind: l.kind, mtu: l.mtu, mac: l.mac, up: l.up,
      addrs: l.addrs.map((a) => ({ ip: a.ip, len: a.len })),
      ...(l.kind === 'physical' ? { segment: l.segment } : {}),
    })),
    routes: ns.routes.map((r) => ({ ...r, dst: { ...r.dst } })),
    ipForward: ns.sysctl.ipForward,
    rpFilter: ns.sysctl.rpFilter,
    bridgeNf: ns.sysctl.bridgeNfCallIptables,
  };
}

const copy = (actions: readonly Action[]): readonly Action[] => JSON.parse(JSON.stringify(actions)) as Action[];

/** A recording design and its log. */
export interface Recording {
  readonly design: CniDesign;
  readonly log: Reaction[];
  /** Forgets reactions after `mark` (a change that threw was rolled back: its reactions never happened). */
  rollback(mark: number): void;
}

/**
 * Wraps a design so every reaction is logged in the order the simulator asks for it. The wrapper
 * answers exactly as the design does; failed CNI ADDs (which change nothing) are not logged. It has no
 * agent loops ({@link CniDesign.agentTick}): no flanneld, BIRD or felix runs in the oracle's namespaces, so
 * when the oracle moves podnet's clock between probes (REDIRECT_PAUSE_S in oracle.ts) nothing may put back
 * what a fault deleted (BIRD's scan would, within 2 s).
 */
export function recording(inner: CniDesign): Recording {
  if (inner === null || typeof inner !== 'object' || typeof inner.podAdded !== 'function') throw new TypeError('recording() needs a CNI design');
  const log: Reaction[] = [];
  const { agentTick: _loops, ...rest } = inner;
  const design: CniDesign = {
    ...rest,
    name: inner.name,
    nodeAdded(state, node: Node) {
      const r = inner.nodeAdded(state, node);
      log.push({ kind: 'nodeAdded', node: node.name, host: snapshotNs(node.host), actions: copy(r.actions) });
      return r;
    },
    nodeRemoved(state, node: Node) {
      const r = inner.nodeRemoved(state, node);
      log.push({ kind: 'nodeRemoved', node: node.name, actions: copy(r.actions) });
      return r;
    },
    podAdded(state, req) {
      const r = inner.podAdded(state, req);
      if (!('error' in r)) log.push({ kind: 'podAdded', pod: req.pod.key, node: req.node.name, netns: req.pod.netns ? snapshotNs(req.pod.netns) : null, actions: copy(r.actions) });
      return r;
    },
    podDeleted(state, pod: Pod, node: Node) {
      const r = inner.podDeleted(state, pod, node);
      log.push({ kind: 'podDeleted', pod: pod.key, node: node.name, actions: copy(r.actions) });
      return r;
    },
  };
  if (inner.clusterCreated) {
    const created = inner.clusterCreated.bind(inner);
    (design as { clusterCreated?: CniDesign['clusterCreated'] }).clusterCreated = (state) => {
      const r = created(state);
      log.push({ kind: 'clusterCreated', actions: copy(r.actions) });
      return r;
    };
  }
  return { design, log, rollback: (mark) => { log.length = mark; } };
}
