/** The shapes every lab-shell command shares. */
import type { NsId, Simulator } from '@podnet/core';

/** What a command printed and its exit status, as a terminal would show them. */
export interface Output {
  readonly stdout: string;
  readonly stderr: string;
  /** The exit status (`$?`): 0 for success. */
  readonly status: number;
}

/**
 * Where a command runs:
 * - `client`: your workstation, where kubectl talks to the cluster;
 * - `node`: a shell on a node — `debug` is the `kubectl debug node/…` pod (host network, the node's files
 *   under /host); after `chroot /host` it is the node itself (`debug: false`). `admin`: the shell holds
 *   CAP_NET_ADMIN and may change the node's network (`--profile=sysadmin` or `netadmin`);
 * - `pod`: inside a pod (`kubectl exec -it POD -- sh`), in its network namespace.
 */
export type Place =
  | { readonly kind: 'client' }
  | { readonly kind: 'node'; readonly node: string; readonly debug: boolean; readonly admin: boolean }
  | { readonly kind: 'pod'; readonly pod: string };

/** What a command sees: the session, where it runs, its standard input, and its network namespace. */
export interface Ctx {
  readonly sim: Simulator;
  readonly place: Place;
  /** The network namespace of `place` (or of an `nsenter --net`), null on the client. */
  readonly ns: NsId | null;
  readonly stdin: string;
  /** True when the command runs in the background (`&`). */
  readonly background: boolean;
}

/** Success with this stdout. */
export const ok = (stdout = ''): Output => ({ stdout, stderr: '', status: 0 });
/** Failure with this stderr. */
export const err = (stderr: string, status = 1): Output => ({ stdout: '', stderr: stderr.endsWith('\n') || stderr === '' ? stderr : `${stderr}\n`, status });
