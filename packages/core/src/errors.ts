/**
 * Errors are part of the API: every public function that rejects its input throws a {@link PodnetError}
 * with a stable {@link ErrorCode}, a message that says what was wrong and a hint that says how to fix it.
 * A function that throws leaves every state it was given exactly as it was.
 */

/** Every error code podnet can raise, with the hint shown to the user. One place, so tests can pin them. */
export const ERROR_HINTS = {
  INVALID_ARGUMENT: 'Check the argument against the TSDoc of the function you called.',
  INVALID_IP: 'Write an IPv4 address as four decimal octets, e.g. 10.244.1.4.',
  INVALID_CIDR: 'Write a prefix as address/length with no host bits set, e.g. 10.244.0.0/16.',
  INVALID_MAC: 'Write a MAC address as six hex octets separated by colons, e.g. 02:42:ac:11:00:02.',
  INVALID_NAME: 'Names are lower-case RFC 1123 labels (a-z, 0-9, "-"), at most 63 characters.',
  INVALID_IFNAME: 'Interface names are 1-15 characters, not "." or "..", with no "/", ":" or whitespace.',
  DUPLICATE_NAME: 'Pick a name that is not in use, or delete the existing object first.',
  NODE_NOT_FOUND: 'List the nodes with sim.nodes() and use one of their names.',
  POD_NOT_FOUND: 'List the pods with sim.pods() and use one of their names (namespace/name or name in "default").',
  POD_NOT_RUNNING: 'The pod has no network yet: see sim.pod(name).status for why (Pending: no node fits; ContainerCreating: CNI ADD failed) and fix that first.',
  NAMESPACE_NOT_FOUND: 'Network namespaces are named after their node ("node-1"), their pod ("default/pod-a") or "underlay".',
  LINK_NOT_FOUND: 'List the links of that namespace (ip link) and use one of their names.',
  LINK_EXISTS: 'Delete the existing link first, or choose another name.',
  ADDRESS_EXISTS: 'That address is already configured on this link.',
  ADDRESS_NOT_FOUND: 'List the addresses (ip addr) and delete one that exists.',
  ROUTE_EXISTS: 'Delete the existing route first, or use a different prefix or metric (ip route replace in Linux).',
  ROUTE_NOT_FOUND: 'List the routes (ip route) and delete one that exists.',
  TABLE_NOT_FOUND: 'A routing table exists once a route is added to it (ip route add … table N); ip rule show names the tables rules look up.',
  RULE_EXISTS: 'That policy routing rule is there already (ip rule show): give another priority, or delete it first.',
  RULE_NOT_FOUND: 'List the rules (ip rule show) and delete one that exists; the kernel\'s 0, 32766 and 32767 stay.',
  CHAIN_EXISTS: 'That iptables chain is there already (iptables -t TABLE -S lists the chains): pick another name, or use the one there.',
  CHAIN_NOT_FOUND: 'Make the chain first (iptables -t TABLE -N NAME), or name one that exists (iptables -t TABLE -S); chains live in one table.',
  CHAIN_IN_USE: 'A chain can be deleted only when it is empty (iptables -F NAME) and no rule jumps to it (delete those rules first); a jump may not lead back to its own chain.',
  INVALID_GATEWAY: 'A gateway must be reachable on the link: on a directly connected subnet, or add "onlink".',
  NEIGH_EXISTS: 'Delete the neighbour entry first, or replace it.',
  NEIGH_NOT_FOUND: 'List the neighbour table (ip neigh) and delete an entry that exists.',
  FDB_NOT_FOUND: 'List the forwarding database (bridge fdb) and delete an entry that exists.',
  FDB_EXISTS: 'That MAC has an entry there already (bridge fdb show): use `bridge fdb replace` to move or change it, or delete it first.',
  ROUTE_EXCEPTION_NOT_FOUND: 'Name a key of the namespace\'s NetNs.pmtu (exceptionKey of the destination and the route\'s nexthopKey); ip route show cache lists the cached ones.',
  MAP_KEY_NOT_FOUND: 'List the BPF map (cilium-dbg bpf endpoint list, cilium-dbg bpf tunnel list) and delete a key that exists.',
  LINK_DOWN: 'Bring the device up first (ip link set dev X up): Linux refuses routes through a device that is down.',
  NOT_A_BRIDGE: 'Only a bridge can be a master: create one with a link of type bridge.',
  CIDR_EXHAUSTED: 'The cluster pod CIDR has no free block left: use a larger podCidr or a larger nodeCidrMaskSize.',
  CIDR_OUTSIDE: 'Use a prefix inside the cluster pod CIDR.',
  CIDR_OVERLAP: 'Node pod CIDRs must not overlap: pick a free block, or let podnet allocate one.',
  CIDR_IN_USE: 'Another object already uses this prefix or address.',
  IP_OUTSIDE_RANGE: 'Pick an address inside the range it must come from: the segment for nodes; for pods, what the design hands out (the node podCIDR for host-local designs).',
  IP_IN_USE: 'Every address may be assigned once: pick a free address, or let podnet allocate one.',
  IP_EXHAUSTED: 'The range has no free address left: delete something, or use a larger range.',
  NO_POD_CIDR: 'Give the node a podCIDR (or let the cluster allocate one) before placing pods on it.',
  PORT_CONFLICT: 'Two containers of one pod share one network namespace: each port can be bound once. Change one port.',
  SEGMENT_NOT_FOUND: 'Name an underlay segment that the cluster spec declares.',
  UNKNOWN_ENDPOINT: 'A packet starts at a pod (name) or a node (name); its destination is an IPv4 address.',
  INVALID_PACKET: 'Build packets with the helpers in @podnet/core (icmpEcho, udp, tcp) or check each header field.',
  CNI_FAILED: 'The CNI design refused the change: read the message, which is the plugin error.',
  CNI_CONFIG_INVALID: 'The CNI configuration is refused as libcni and the plugins refuse it: fix the field the message names (details.cniError is the CNI error object).',
  PEERSET_NOT_FOUND: 'Create the shared peer set (peerset.put) before attaching a namespace to it.',
  NOTHING_TO_UNDO: 'There is no earlier state in the history.',
  NOTHING_TO_REDO: 'There is no later state in the history: redo follows an undo.',
  CLOCK_BACKWARDS: 'The simulated clock only moves forward: advance it by a non-negative number of milliseconds.',
  GUARANTEE_VIOLATED: 'Read violation.explanation and the trace in violation.trace to see which step broke the guarantee.',
  UNSUPPORTED: 'podnet does not model this yet: see docs/ for what is modelled.',
  INVALID_LAB: 'A lab (a file for `podnet lab start FILE`, or SessionOptions.labs) has name, title, brief and check, and may have id, cluster, faults and hints: docs/lab-shell.md, "Write your own lab", shows one.',
  INVALID_SETTING: 'A design setting is an environment variable of its agent\'s DaemonSet: a name of letters, digits, "_", "-" or "." not starting with a digit, with a string value (null unsets it); sim.design.settings lists the current ones.',
} as const;

/** A stable, machine-readable error code. */
export type ErrorCode = keyof typeof ERROR_HINTS;

/** The error every public podnet function throws on bad input. */
export class PodnetError extends Error {
  override readonly name = 'PodnetError';
  /** Stable code; switch on this, never on the message. */
  readonly code: ErrorCode;
  /** How to fix it. */
  readonly hint: string;
  /** Structured facts about the failure (the offending value, the object it collided with…). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, hint?: string) {
    super(message);
    this.code = code;
    this.hint = hint ?? ERROR_HINTS[code];
    this.details = Object.freeze({ ...details });
  }
}

/** Throws a {@link PodnetError}. Typed `never` so it can end an expression. */
export function fail(code: ErrorCode, message: string, details?: Record<string, unknown>, hint?: string): never {
  throw new PodnetError(code, message, details, hint);
}

/**
 * `String(v)` for an error message about a value a caller handed over, whatever it is: `String` throws for an
 * object without a prototype (`Object.create(null)`, what some parsers make) or whose `toString` throws, and
 * a template literal also for a symbol; such input must get the typed error, not a TypeError from the message.
 */
export function shown(v: unknown): string {
  try {
    return String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

/** True when `e` is a {@link PodnetError} (optionally with the given code). */
export function isPodnetError(e: unknown, code?: ErrorCode): e is PodnetError {
  return e instanceof PodnetError && (code === undefined || e.code === code);
}
