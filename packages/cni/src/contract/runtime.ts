/**
 * A configuration list executed as libcni executes it (api.go AddNetworkList, DelNetworkList,
 * CheckNetworkList):
 *
 * - ADD runs the plugins in order; each gets the list's `name` and `cniVersion` and, after the first, the
 *   previous plugin's result as `prevResult`; the first error stops the list (nothing of it is applied:
 *   the runtime's DEL after a failed ADD leaves the node as it was, which a pure ADD gets by applying
 *   nothing). The last result, printed in the list's version, is the list's.
 * - DEL runs them in reverse order with the ADD's result as `prevResult` (from 0.4.0 on); every plugin
 *   must succeed when what it would remove is already gone, so DEL twice, or DEL of what was never
 *   added, succeeds.
 * - CHECK runs them in order with the ADD's result as `prevResult`; lists older than 0.4.0 are refused
 *   ("configuration version … does not support the CHECK command"), `disableCheck` skips the plugins.
 */
import type { Action, CniError, CniResult } from '@podnet/core';
import { YoungWeakMap } from '@podnet/core';
import { cniError, versionAtLeast, type NetworkConfigList } from './config.js';
import { execPlugin, passesOnAdd, type CniCommand, type CniInvocation, type IpamStores, type PluginInput } from './plugins.js';
import { currentOf, printResult, type CurrentResult } from './result.js';
import { withKey } from '../util/record.js';

/** What a list run answers: the actions, the IPAM stores after it, and for ADD the list's result. */
export type ListOutcome =
  | { readonly ok: true; readonly result: CniResult | null; readonly actions: readonly Action[]; readonly stores: IpamStores }
  | { readonly ok: false; readonly error: CniError; readonly plugin: string };

const NO_ACTIONS: readonly Action[] = Object.freeze([]);

/** Each plugin's input without a prevResult, built once per list: it is the same for every pod. */
const bareInputs = new YoungWeakMap<NetworkConfigList, PluginInput[]>();

/**
 * The configuration plugin `i` of the list is run with: its own keys (a `prevResult` in the file is
 * dropped), then `type`, the list's `name` and `cniVersion`, then the previous result when there is one.
 */
function input(list: NetworkConfigList, i: number, prev: CurrentResult | null): PluginInput {
  let cached = bareInputs.get(list);
  if (!cached) bareInputs.set(list, (cached = []));
  const bare = (cached[i] ??= build(list, i));
  // The rest-pattern that drops the file's prevResult runs once per list; the copy that gains prevResult
  // is withKey's (a spread gaining a key is V8's slow path).
  return prev === null ? bare : withKey<unknown>(bare, 'prevResult', prev) as PluginInput;
}

function build(list: NetworkConfigList, i: number): PluginInput {
  const p = list.plugins[i]!;
  const { prevResult: _ignored, ...rest } = p as Record<string, unknown>;
  return { ...rest, type: p.type, name: list.name, cniVersion: list.cniVersion } as PluginInput;
}

const ID_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/**
 * What every plugin's skel checks in its environment before running (code 4, "invalid necessary
 * environment variables"): CNI_CONTAINERID, CNI_IFNAME (utils.ValidateContainerID,
 * utils.ValidateInterfaceName) and, for ADD and CHECK, CNI_NETNS.
 */
export function validateInvocation(cmd: CniCommand, inv: CniInvocation, cniVersion: string): CniError | null {
  const bad = (msg: string, details = '') => cniError(cniVersion, 4, msg, details);
  if (inv.containerId === '') return bad('missing containerID');
  if (!ID_RE.test(inv.containerId)) return bad('invalid characters in containerID', inv.containerId);
  if (inv.ifname === '') return bad('interface name is empty');
  if (inv.ifname.length > 15) return bad('interface name is too long', `interface name should be less than 16 characters`);
  if (inv.ifname === '.' || inv.ifname === '..') return bad('interface name is . or ..');
  if (/[/:\s]/.test(inv.ifname)) return bad('interface name contains / or : or whitespace characters');
  if (cmd !== 'DEL' && inv.netns === '') return bad('required env variables [CNI_NETNS] missing');
  return null;
}

/** libcni AddNetworkList. */
export function addNetworkList(list: NetworkConfigList, inv: CniInvocation, stores: IpamStores): ListOutcome {
  const invalid = validateInvocation('ADD', inv, list.cniVersion);
  if (invalid) return { ok: false, error: invalid, plugin: list.plugins[0]!.type };
  let prev: CurrentResult | null = null;
  let s = stores;
  // Mostly one plugin acts (the chained ones pass the result on): its list is the list's, not copied.
  let actions: readonly Action[] = NO_ACTIONS;
  for (let i = 0; i < list.plugins.length; i++) {
    // A chained plugin that hands prevResult on (portmap, bandwidth, tuning): its answer, without its input.
    if (prev !== null && passesOnAdd(list.plugins[i]!.type)) continue;
    const r = execPlugin('ADD', input(list, i, prev), inv, s);
    if (!r.ok) return { ok: false, error: r.error, plugin: list.plugins[i]!.type };
    if (r.actions.length > 0) actions = actions.length === 0 ? r.actions : actions.concat(r.actions);
    s = r.stores;
    prev = r.result;
  }
  return { ok: true, result: prev === null ? null : printResult(prev, list.cniVersion), actions, stores: s };
}

/** libcni DelNetworkList: reverse order, the ADD's result as prevResult from 0.4.0 on. */
export function delNetworkList(list: NetworkConfigList, inv: CniInvocation, stores: IpamStores, added: CniResult | null): ListOutcome {
  const prev = added && versionAtLeast(list.cniVersion, '0.4.0') ? currentOf(added) : null;
  return runEach('DEL', list, inv, stores, prev, order(list.plugins.length, true));
}

/** libcni CheckNetworkList. */
export function checkNetworkList(list: NetworkConfigList, inv: CniInvocation, stores: IpamStores, added: CniResult | null): ListOutcome {
  if (!versionAtLeast(list.cniVersion, '0.4.0')) {
    // libcni's own refusal: a Go error without a CNI code (0 here).
    return { ok: false, error: cniError(list.cniVersion, 0, `configuration version "${list.cniVersion}" does not support the CHECK command`), plugin: '' };
  }
  if (list.disableCheck) return { ok: true, result: null, actions: [], stores };
  if (!added) return { ok: false, error: cniError(list.cniVersion, 0, `failed to get network "${list.name}" cached result: no cached result`), plugin: '' };
  return runEach('CHECK', list, inv, stores, currentOf(added), order(list.plugins.length, false));
}

/** The plugins' indexes 0 … n − 1, or reversed: one frozen list per length and direction, not two arrays per pod DEL. */
function order(n: number, reversed: boolean): readonly number[] {
  const lists = reversed ? REVERSED : FORWARD;
  let o = lists[n];
  if (o === undefined) {
    const keys = Array.from({ length: n }, (_, i) => i);
    lists[n] = o = Object.freeze(reversed ? keys.reverse() : keys);
  }
  return o;
}
const FORWARD: (readonly number[])[] = [];
const REVERSED: (readonly number[])[] = [];

function runEach(cmd: CniCommand, list: NetworkConfigList, inv: CniInvocation, stores: IpamStores, prev: CurrentResult | null, order: readonly number[]): ListOutcome {
  const invalid = validateInvocation(cmd, inv, list.cniVersion);
  if (invalid) return { ok: false, error: invalid, plugin: list.plugins[order[0]!]!.type };
  let s = stores;
  const actions: Action[] = [];
  for (const i of order) {
    const r = execPlugin(cmd, input(list, i, prev), inv, s);
    if (!r.ok) return { ok: false, error: r.error, plugin: list.plugins[i]!.type };
    actions.push(...r.actions);
    s = r.stores;
  }
  return { ok: true, result: null, actions, stores: s };
}
