/**
 * Network configuration as the CNI spec and libcni read it (SPEC.md "Section 1: Network configuration
 * format", libcni conf.go NetworkConfFromBytes / ConfListFromConf, skel's config validation):
 *
 * - a configuration list (`.conflist`: `{cniVersion, name, plugins: [...]}`) or a single plugin
 *   configuration (`.conf`: `{cniVersion, name, type, ...}`), which libcni turns into a one-plugin list;
 * - `name` must match `^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$`; `plugins` is a non-empty list of objects, each with
 *   a string `type`; `cniVersion` (or the highest usable entry of 1.1's `cniVersions`) must be one the
 *   plugins support, 0.1.0 … 1.1.0; an absent `cniVersion` means 0.1.0; `disableCheck` / `disableGC` are
 *   booleans or the strings "true" / "false".
 *
 * Failures are CNI error objects. Where the spec defines the code it is used (1 incompatible version,
 * 6 decoding failure, 7 invalid network configuration); libcni's own parse errors have no code in Go
 * and are reported here under 7 with libcni's text.
 */
import type { CniError } from '@podnet/core';

/** The CNI spec versions the reference plugins support (pkg/version All). */
export const SUPPORTED_CNI_VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;

/** The spec's well-known error codes (SPEC.md "Error codes"), plus skel's 999 for plain plugin errors. */
export const CNI_ERROR_CODES = {
  INCOMPATIBLE_VERSION: 1,
  UNSUPPORTED_FIELD: 2,
  UNKNOWN_CONTAINER: 3,
  INVALID_ENVIRONMENT: 4,
  IO_FAILURE: 5,
  DECODING_FAILURE: 6,
  INVALID_NETWORK_CONFIG: 7,
  TRY_AGAIN_LATER: 11,
  PLUGIN_NOT_AVAILABLE: 50,
  PLUGIN_NOT_AVAILABLE_DEGRADED: 51,
  INTERNAL: 999,
} as const;

/** One plugin's configuration as written in the file (the JSON object, `type` checked to be a string). */
export type PluginConfig = Readonly<Record<string, unknown>> & { readonly type: string };

/** A parsed network configuration list. */
export interface NetworkConfigList {
  /** The version plugins are run with: the file's `cniVersion`, or `0.1.0` when it names none. */
  readonly cniVersion: string;
  readonly name: string;
  readonly disableCheck: boolean;
  readonly disableGC: boolean;
  readonly plugins: readonly PluginConfig[];
  /** `conflist` for a list, `conf` for a single plugin configuration libcni converted. */
  readonly format: 'conflist' | 'conf';
  /** The text as given. */
  readonly text: string;
}

/** The answer of {@link parseNetworkConfig}. */
export type ParsedNetworkConfig = { readonly ok: true; readonly config: NetworkConfigList } | { readonly ok: false; readonly error: CniError };

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** Go's %T of a decoded JSON value (what libcni's messages print). */
export function goType(v: unknown): string {
  if (v === null) return '<nil>';
  if (Array.isArray(v)) return '[]interface {}';
  switch (typeof v) {
    case 'number': return 'float64';
    case 'boolean': return 'bool';
    case 'string': return 'string';
    default: return 'map[string]interface {}';
  }
}

/** Compares two dotted versions; NaN parts make it unordered (null). */
function cmpVersion(a: string, b: string): number | null {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  if (pa.length !== 3 || pb.length !== 3 || [...pa, ...pb].some((n) => !Number.isInteger(n) || n < 0)) return null;
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return 0;
}

/**
 * Answers by minimum, then by version (a CNI ADD asks three or four times): keyed by the two texts as
 * given, without building a `version>=min` text to look up each time. Bounded like textMemo.
 */
const atLeastMemo = new Map<string, Map<string, boolean>>();

/** True when `version` is at least `min` (both dotted triples). */
export function versionAtLeast(version: string, min: string): boolean {
  let byVersion = atLeastMemo.get(min);
  if (byVersion === undefined) {
    if (atLeastMemo.size >= 100) atLeastMemo.clear();
    atLeastMemo.set(min, (byVersion = new Map()));
  }
  let v = byVersion.get(version);
  if (v === undefined) {
    if (byVersion.size >= 1000) byVersion.clear();
    const c = cmpVersion(version, min);
    byVersion.set(version, (v = c !== null && c >= 0));
  }
  return v;
}

/** A CNI error object. */
export function cniError(cniVersion: string, code: number, msg: string, details?: string): CniError {
  return details === undefined || details === '' ? { cniVersion, code, msg } : { cniVersion, code, msg, details };
}

/**
 * Reads a network configuration (a `.conflist`, or a single `.conf` which becomes a one-plugin list as
 * libcni's ConfListFromConf makes it) and validates it as libcni and the plugins' skel do.
 *
 * @example
 * const parsed = parseNetworkConfig('{"cniVersion":"1.0.0","name":"mynet","type":"bridge"}');
 * parsed.ok && parsed.config.plugins[0].type; // 'bridge'
 */
export function parseNetworkConfig(text: string): ParsedNetworkConfig {
  const bad = (code: number, msg: string, details?: string, v = ''): ParsedNetworkConfig => ({ ok: false, error: cniError(v, code, msg, details) });
  if (typeof text !== 'string') return bad(CNI_ERROR_CODES.DECODING_FAILURE, 'error parsing configuration list', `the configuration must be JSON text, not ${goType(text)}`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return bad(CNI_ERROR_CODES.DECODING_FAILURE, 'error parsing configuration list', (e as Error).message);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return bad(CNI_ERROR_CODES.DECODING_FAILURE, 'error parsing configuration list', `json: cannot unmarshal ${Array.isArray(raw) ? 'array' : typeof raw} into Go value of type map[string]interface {}`);
  }
  const o = raw as Record<string, unknown>;
  const format: 'conflist' | 'conf' = 'plugins' in o || !('type' in o) ? 'conflist' : 'conf';
  if (format === 'conf' && typeof o['type'] !== 'string') return bad(7, 'error parsing configuration: missing \'type\'');
  // ConfListFromConf: {name, cniVersion, plugins: [the whole conf]}; a missing name becomes "".
  const list: Record<string, unknown> = format === 'conf' ? { name: o['name'] ?? '', cniVersion: o['cniVersion'] ?? '', plugins: [o] } : o;
  if (!('name' in list)) return bad(7, 'error parsing configuration list: no name');
  const name = list['name'];
  if (typeof name !== 'string') return bad(7, `error parsing configuration list: invalid name type ${goType(name)}`);
  let version = '';
  if (list['cniVersion'] !== undefined) {
    if (typeof list['cniVersion'] !== 'string') return bad(7, `error parsing configuration list: invalid cniVersion type ${goType(list['cniVersion'])}`);
    version = list['cniVersion'];
  }
  if (list['cniVersions'] !== undefined) {
    const vs = list['cniVersions'];
    if (!Array.isArray(vs)) return bad(7, `error parsing configuration list: invalid type for cniVersions: ${goType(vs)}`);
    const usable: string[] = version === '' ? [] : [version];
    for (let i = 0; i < vs.length; i++) {
      if (typeof vs[i] !== 'string') return bad(7, `error parsing configuration list: invalid type for cniVersions index ${i}: ${goType(vs[i])}`);
      const c = cmpVersion(vs[i] as string, '1.1.0');
      if (c === null) return bad(7, `error parsing configuration list: invalid cniVersions entry ${String(vs[i])} at index ${i}`);
      if (c <= 0) usable.push(vs[i] as string);
    }
    usable.sort((a, b) => cmpVersion(a, b) ?? 0);
    if (usable.length > 0) version = usable[usable.length - 1]!;
  }
  const flag = (key: string): boolean | ParsedNetworkConfig => {
    const v = list[key];
    if (v === undefined || typeof v === 'boolean') return v === true;
    if (typeof v !== 'string') return bad(7, `error parsing configuration list: invalid type ${goType(v)} for ${key}`);
    if (v.toLowerCase() === 'true') return true;
    if (v.toLowerCase() === 'false') return false;
    return bad(7, `error parsing configuration list: invalid value "${v.toLowerCase()}" for ${key}`);
  };
  const disableCheck = flag('disableCheck');
  if (typeof disableCheck !== 'boolean') return disableCheck;
  const disableGC = flag('disableGC');
  if (typeof disableGC !== 'boolean') return disableGC;
  const plugins = list['plugins'];
  if (plugins === undefined) return bad(7, 'no plugin configs found');
  if (!Array.isArray(plugins)) return bad(7, `error parsing configuration list: invalid 'plugins' type ${goType(plugins)}`);
  if (plugins.length === 0) return bad(7, 'error parsing configuration list: no plugins in list');
  for (let i = 0; i < plugins.length; i++) {
    const p = plugins[i] as unknown;
    if (p === null || typeof p !== 'object' || Array.isArray(p)) {
      return bad(7, `failed to parse plugin config ${i}: error parsing configuration: json: cannot unmarshal ${goType(p)} into Go value of type types.PluginConf`);
    }
    const t = (p as Record<string, unknown>)['type'];
    if (t === undefined || t === '') return bad(7, `failed to parse plugin config ${i}: error parsing configuration: missing 'type'`);
    if (typeof t !== 'string') return bad(7, `failed to parse plugin config ${i}: error parsing configuration: json: cannot unmarshal ${goType(t)} into Go struct field PluginConf.type of type string`);
  }
  // What every plugin's skel checks before running (the list's name and version are given to each plugin).
  const effective = version === '' ? '0.1.0' : version;
  if (!(SUPPORTED_CNI_VERSIONS as readonly string[]).includes(effective)) {
    return bad(CNI_ERROR_CODES.INCOMPATIBLE_VERSION, 'incompatible CNI versions',
      `config is "${effective}", plugin supports [${SUPPORTED_CNI_VERSIONS.map((v) => `"${v}"`).join(' ')}]`, effective);
  }
  if (name === '') return bad(7, 'missing network name:', undefined, effective);
  if (!NAME_RE.test(name)) return bad(7, 'invalid characters found in network name', name, effective);
  return {
    ok: true,
    config: { cniVersion: effective, name, disableCheck, disableGC, plugins: plugins as PluginConfig[], format, text },
  };
}
