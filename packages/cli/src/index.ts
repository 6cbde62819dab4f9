/**
 * @podnet/cli — the podnet lab shell as a library: a {@link Session} takes command lines (kubectl, ip,
 * bridge, crictl, nsenter, ping, traceroute, tcpdump, grep…) and returns what a terminal shows, over a
 * simulated cluster. No I/O: the `podnet` binary and a browser terminal both drive it.
 */
export type { Output, Place } from './types.js';
export type { SessionOptions } from './session.js';
export { createSession, Session } from './session.js';
export type { Parsed, Pipeline, Words } from './words.js';
export { parseLine, quoteWord } from './words.js';
export { evaluateJsonPath, JsonPathError } from './jsonpath.js';
export type { CniDaemonSet } from './kube.js';
export type { KubectlHost } from './kubectl.js';
export { cniDaemonSet } from './kube.js';
export type { Filter, FilterDirection, PrintOptions } from './tcpdump.js';
export { describeFrame, FilterError, matchFilter, parseFilter, TcpConversations } from './tcpdump.js';
export type { NcHost } from './nc.js';
export { nc } from './nc.js';
export { humanDuration, tabwrite } from './format.js';
export type { Lab, LabVerdict } from './labs.js';
export { findLab, LABS } from './labs.js';
export type { LabCheckSpec, LabFile } from './labfile.js';
export { labFromFile } from './labfile.js';
