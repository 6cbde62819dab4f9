/**
 * Results in each spec version's shape (libcni's types/100, types/040, types/020 and their conversions):
 *
 * - 1.0.0 and 1.1.0: `{cniVersion, interfaces, ips: [{interface, address, gateway}], routes, dns}`;
 * - 0.3.0, 0.3.1 and 0.4.0: the same, every IP also carrying `version` ("4" or "6");
 * - 0.1.0 and 0.2.0: `{cniVersion, ip4: {ip, gateway, routes}, dns}` — no interfaces, one address per family.
 *
 * Plugins build results in the current (1.0.0) shape, as the Go plugins do, and print them in the
 * configuration's version.
 */
import type { CniResult } from '@podnet/core';
import { versionAtLeast } from './config.js';

/** A result in the current shape, before it is printed in a configuration's version. */
export type CurrentResult = Omit<CniResult, 'cniVersion'>;

/** A pre-0.3.0 result (types/020). */
export interface LegacyResult {
  readonly cniVersion: string;
  readonly ip4?: { readonly ip: string; readonly gateway?: string; readonly routes?: readonly { readonly dst: string; readonly gw?: string }[] };
  readonly dns: CniResult['dns'];
}

/** True for versions whose results have the 0.3.0+ shape (interfaces, ips, routes). */
export function hasRichResults(version: string): boolean {
  return versionAtLeast(version, '0.3.0');
}

/**
 * A result as a plugin prints it for `version` (types.PrintResult → GetAsVersion).
 *
 * @example
 * printResult({ interfaces: [], ips: [{ address: '10.1.0.5/16', gateway: '10.1.0.1' }], routes: [], dns: {} }, '0.3.1').ips[0]?.version; // '4'
 */
export function printResult(result: CurrentResult, version: string): CniResult;
export function printResult(result: CurrentResult, version: string): CniResult | LegacyResult;
export function printResult(result: CurrentResult, version: string): CniResult | LegacyResult {
  if (!hasRichResults(version)) {
    // types/020 keeps the first IPv4 address; routes go with it.
    const v4 = result.ips.find((i) => !i.address.includes(':'));
    const legacy: LegacyResult = {
      cniVersion: version,
      ...(v4 ? { ip4: { ip: v4.address, ...(v4.gateway ? { gateway: v4.gateway } : {}), ...(result.routes.length ? { routes: result.routes } : {}) } } : {}),
      dns: result.dns,
    };
    return legacy;
  }
  const withVersion = !versionAtLeast(version, '1.0.0');
  return {
    cniVersion: version,
    interfaces: result.interfaces,
    ips: result.ips.map((ip) => (withVersion ? versioned(ip) : ip)),
    routes: result.routes,
    dns: result.dns,
  };
}

/**
 * `{ version, ...ip }`, filled into an empty object: a literal with a spread keeps every field after the
 * first outside the object, one more allocation in every pod's stored result.
 */
function versioned(ip: CniResult['ips'][number]): CniResult['ips'][number] {
  const out: Record<string, unknown> = {};
  out['version'] = ip.address.includes(':') ? '6' : '4';
  return Object.assign(out, ip) as unknown as CniResult['ips'][number];
}

/** A stored result read back in the current shape (current.NewResultFromResult): `version` dropped. */
export function currentOf(result: CniResult): CurrentResult {
  return {
    interfaces: result.interfaces,
    ips: result.ips.map(({ version: _v, ...rest }) => rest),
    routes: result.routes,
    dns: result.dns,
  };
}
