/**
 * What a cluster goes through, as plain values: the cluster spec it starts from and the events that
 * follow (nodes joining and leaving, pods created, deleted and rescheduled, packets, faults). Events
 * name nodes and pods by position among the live ones (modulo their number), so every generated
 * sequence is valid by construction, and shrinking an index towards 0 keeps it valid.
 */
import { shown, type ClusterSettings } from '@podnet/core';
import fc from 'fast-check';

/** A cluster spec without nodes and pods: pod CIDR, node mask, underlay segments. */
export interface ClusterShape extends ClusterSettings {
  readonly podCidr: string;
  readonly nodeCidrMaskSize: number;
  readonly underlay: {
    readonly segments: readonly { readonly name: string; readonly cidr: string; readonly gateway: string; readonly mtu: number }[];
    readonly router?: 'linux' | 'vpc';
  };
}

/** One end of a packet: a live pod, a node's host namespace, or outside the cluster (an underlay gateway). */
export type EndpointRef =
  | { readonly kind: 'pod'; readonly index: number }
  | { readonly kind: 'node'; readonly index: number }
  | { readonly kind: 'outside'; readonly index: number };

/** A fault a person (or a bad day) inflicts on a node. */
export type Fault =
  | { readonly kind: 'linkDown'; readonly node: number; readonly link: number }
  | { readonly kind: 'routeDel'; readonly node: number; readonly route: number }
  | { readonly kind: 'mtu'; readonly node: number; readonly link: number; readonly mtu: number };

/** One event of a cluster's life. */
export type ClusterEvent =
  | { readonly type: 'addNode'; readonly segment: number }
  | { readonly type: 'removeNode'; readonly node: number }
  /** A pod created with `node` (as nodeName), or left to the scheduler when null. */
  | { readonly type: 'addPod'; readonly node: number | null }
  | { readonly type: 'deletePod'; readonly pod: number }
  /** The pod is deleted and created again by its controller, wherever the scheduler puts it. */
  | { readonly type: 'reschedulePod'; readonly pod: number }
  /** One packet: small, or exactly as large as the sender's interface MTU (with DF set). */
  | { readonly type: 'send'; readonly from: EndpointRef; readonly to: EndpointRef; readonly protocol: 'icmp' | 'udp' | 'tcp'; readonly size: 'small' | 'mtu' }
  | { readonly type: 'fault'; readonly fault: Fault };

/** Options of the arbitraries. */
export interface ShapeOptions {
  /** Underlay segments to draw from (1 or 2; default 1 to 2). */
  readonly segments?: 1 | 2 | { readonly min: 1 | 2; readonly max: 1 | 2 };
  /**
   * What joins the segments (see `underlay.router` of the cluster spec): `linux` (default), `vpc` (a cloud
   * VPC's router, which keeps the TTL), or `both` to draw either (shrinking towards `linux`).
   */
  readonly router?: 'linux' | 'vpc' | 'both';
}

/**
 * The underlay segments a shape draws from, in order: one object each, shared by every shape (a shape is
 * read, never changed; each run's simulator parses its own copy of the spec).
 */
const SEGMENTS: readonly ClusterShape['underlay']['segments'][number][] = [0, 1].map((i) => Object.freeze({ name: `rack-${'ab'[i]}`, cidr: `192.168.${i + 1}.0/24`, gateway: `192.168.${i + 1}.1`, mtu: 1500 }));

/**
 * Cluster shapes: a /16 pod CIDR (10.x.0.0/16), node blocks of /22 to /26, one or two underlay segments
 * (192.168.1.0/24 and 192.168.2.0/24 behind one router), MTU 1500. Shrinks towards 10.0.0.0/16, /24 and
 * one segment.
 */
export function clusterShapeArb(options: ShapeOptions = {}): fc.Arbitrary<ClusterShape> {
  const seg = options.segments ?? { min: 1, max: 2 };
  const range = typeof seg === 'number' ? { min: seg, max: seg } : seg;
  const router = options.router ?? 'linux';
  if (router !== 'linux' && router !== 'vpc' && router !== 'both') throw new RangeError(`router must be linux, vpc or both, not ${String(router)}`);
  // Only a drawn router is part of the record: shapes (and so seeds and shrunk counterexamples) of the
  // default are what they were before routers could be chosen.
  const shape = { second: fc.integer({ min: 0, max: 255 }), mask: fc.constantFrom(24, 22, 23, 25, 26), segments: fc.integer({ min: range.min, max: range.max }) };
  const drawn = router === 'both' ? fc.record({ ...shape, vpc: fc.boolean() }) : fc.record(shape);
  return drawn.map((r): ClusterShape => {
    const segments = SEGMENTS.slice(0, r.segments);
    // Two literals, not a conditional spread (a literal gaining keys through a spread is V8's slow path; every run draws a shape).
    const underlay = router === 'vpc' || ('vpc' in r && r.vpc) ? { segments, router: 'vpc' as const } : { segments };
    return { podCidr: `10.${r.second}.0.0/16`, nodeCidrMaskSize: r.mask, underlay };
  });
}

/** Options of {@link clusterEventArb}. */
export interface EventOptions {
  /** Include faults (link down, route deleted, MTU changed). Default false: a working design survives the rest. */
  readonly faults?: boolean;
  /** Include packets. Default true. */
  readonly packets?: boolean;
}

const index = fc.nat({ max: 15 });
const endpointArb: fc.Arbitrary<EndpointRef> = fc.oneof(
  { weight: 4, arbitrary: index.map((i) => ({ kind: 'pod' as const, index: i })) },
  { weight: 1, arbitrary: index.map((i) => ({ kind: 'node' as const, index: i })) },
  { weight: 1, arbitrary: fc.nat({ max: 1 }).map((i) => ({ kind: 'outside' as const, index: i })) },
);

/** The event arbitraries one by one (what the model-based commands are built from). */
export const eventArbs = {
  addNode: fc.nat({ max: 1 }).map((segment): ClusterEvent => ({ type: 'addNode', segment })),
  removeNode: index.map((node): ClusterEvent => ({ type: 'removeNode', node })),
  addPod: fc.option(index, { nil: null, freq: 3 }).map((node): ClusterEvent => ({ type: 'addPod', node })),
  deletePod: index.map((pod): ClusterEvent => ({ type: 'deletePod', pod })),
  reschedulePod: index.map((pod): ClusterEvent => ({ type: 'reschedulePod', pod })),
  send: fc.record({
    from: endpointArb, to: endpointArb,
    protocol: fc.constantFrom('icmp' as const, 'udp' as const, 'tcp' as const),
    size: fc.constantFrom('small' as const, 'mtu' as const),
  // Its fields written out, in the record's order, not spread after `type` (a literal gaining keys through a spread is V8's slow path).
  }).map((s): ClusterEvent => ({ type: 'send', from: s.from, to: s.to, protocol: s.protocol, size: s.size })),
  fault: fc.oneof(
    fc.record({ node: index, link: index }).map(({ node, link }): Fault => ({ kind: 'linkDown', node, link })),
    fc.record({ node: index, route: index }).map(({ node, route }): Fault => ({ kind: 'routeDel', node, route })),
    fc.record({ node: index, link: index, mtu: fc.constantFrom(1280, 1400, 9000) }).map(({ node, link, mtu }): Fault => ({ kind: 'mtu', node, link, mtu })),
  ).map((fault): ClusterEvent => ({ type: 'fault', fault })),
} as const;

/** Any one event (faults and packets as the options say). */
export function clusterEventArb(options: EventOptions = {}): fc.Arbitrary<ClusterEvent> {
  checkEventOptions(options);
  const arbs: fc.WeightedArbitrary<ClusterEvent>[] = [
    { weight: 3, arbitrary: eventArbs.addNode },
    { weight: 1, arbitrary: eventArbs.removeNode },
    { weight: 5, arbitrary: eventArbs.addPod },
    { weight: 2, arbitrary: eventArbs.deletePod },
    { weight: 1, arbitrary: eventArbs.reschedulePod },
  ];
  if (options.packets !== false) arbs.push({ weight: 3, arbitrary: eventArbs.send });
  if (options.faults) arbs.push({ weight: 1, arbitrary: eventArbs.fault });
  return fc.oneof(...arbs);
}

/** Throws a TypeError unless `options` is an object whose `faults` and `packets` are booleans when given. */
export function checkEventOptions(options: EventOptions): void {
  if (options === null || typeof options !== 'object') throw new TypeError(`event options must be an object, not ${describeValue(options)}`);
  for (const k of ['faults', 'packets'] as const) {
    if (options[k] !== undefined && typeof options[k] !== 'boolean') throw new TypeError(`${k} must be true or false, not ${describeValue(options[k])}`);
  }
}

/** A value in an error message, whatever it is: a string quoted, anything else as core's `shown` gives it. */
export function describeValue(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : shown(v);
}
