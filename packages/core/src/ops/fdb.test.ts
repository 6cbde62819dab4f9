/**
 * `fdb.add`, `fdb.append`, `fdb.replace` and `fdb.del` as core actions, against what Linux 6.18 and iproute2
 * 6.1 did (packages/cli/scripts/bridge-fdb-formats.sh; the lab shell's replay is bridge-fdb.test.ts): the
 * entry each makes, the errors, and a refused action leaving the state as it was.
 */
import { describe, expect, it } from 'vitest';
import { isPodnetError } from '../errors.js';
import { addNodeState, createClusterState } from '../model/cluster.js';
import { getNs } from '../model/lookup.js';
import { bare } from '../cni/testing/bare.js';
import type { ClusterState, FdbEntry } from '../model/types.js';
import { applyActions, type Action } from './actions.js';
import { describeAction } from './describe.js';
import { bridgeFdb } from '../query/render.js';

const NS = 'node/node-a';
/** node-a with br0 and two ports (v0, v1, veths to node-b) and a VXLAN device vx0. */
const start: ClusterState = applyActions(
  ['a', 'b'].reduce((s, n) => addNodeState(s, { name: `node-${n}` }, bare).state, createClusterState({ podCidr: '10.244.0.0/16' }, bare)),
  [
    { op: 'link.add', ns: NS, name: 'br0', kind: 'bridge', up: true },
    { op: 'link.add', ns: NS, name: 'v0', kind: 'veth', up: true, master: 'br0', peer: { ns: 'node/node-b', name: 'w0', up: true } },
    { op: 'link.add', ns: NS, name: 'v1', kind: 'veth', up: true, master: 'br0', peer: { ns: 'node/node-b', name: 'w1', up: true } },
    { op: 'link.add', ns: NS, name: 'vx0', kind: 'vxlan', up: true, vxlan: { vni: 1, local: '192.168.1.11', dstPort: 8472, dev: 'eth0', learning: false } },
  ],
);

const fdb = (s: ClusterState): Readonly<Record<string, FdbEntry>> => getNs(s, NS).fdb;
/** The error code and message an action is refused with, or 'accepted'. */
const refusal = (s: ClusterState, a: Action): string => {
  try {
    applyActions(s, [a]);
    return 'accepted';
  } catch (e) {
    if (!isPodnetError(e)) throw e;
    return `${e.code} ${e.message}`;
  }
};

describe('fdb.add | append | replace on a bridge port', () => {
  const M = '02:00:00:00:00:01';

  it('static, permanent (local) and dynamic entries, as `bridge fdb … master STATE` lists them', () => {
    const s1 = applyActions(start, [{ op: 'fdb.add', ns: NS, dev: 'v0', mac: M, master: true, state: 'static' }]);
    expect(fdb(s1)[`br0|${M}`]).toMatchObject({ dev: 'br0', port: 'v0', permanent: true, local: false });
    const s2 = applyActions(s1, [{ op: 'fdb.replace', ns: NS, dev: 'v1', mac: M, state: 'permanent' }]);
    expect(fdb(s2)[`br0|${M}`]).toMatchObject({ port: 'v1', permanent: true, local: true });
    const s3 = applyActions(s2, [{ op: 'fdb.append', ns: NS, dev: 'v1', mac: M, state: 'dynamic' }]);
    expect(fdb(s3)[`br0|${M}`]).toMatchObject({ port: 'v1', permanent: false, local: false });
  });

  it('add of a MAC the bridge has is File exists, on any port; the state is the one it was given', () => {
    const s1 = applyActions(start, [{ op: 'fdb.add', ns: NS, dev: 'v0', mac: M }]);
    const before = JSON.stringify(fdb(s1));
    for (const dev of ['v0', 'v1']) {
      expect(refusal(s1, { op: 'fdb.add', ns: NS, dev, mac: M, state: 'static' })).toBe(`FDB_EXISTS RTNETLINK answers: File exists (fdb ${M} dev ${dev})`);
    }
    expect(JSON.stringify(fdb(s1))).toBe(before);
    expect(fdb(s1)[`br0|${M}`]).toMatchObject({ port: 'v0', permanent: true, local: false });
  });

  it('refuses what the kernel or iproute2 refuses, and leaves the state as it was', () => {
    const cases: [Action, string][] = [
      [{ op: 'fdb.add', ns: NS, dev: 'eth0', mac: M, master: true }, 'INVALID_ARGUMENT RTNETLINK answers: Operation not supported (eth0 is not a bridge port: `master` adds a port\'s entry in its bridge)'],
      [{ op: 'fdb.add', ns: NS, dev: 'br0', mac: M, master: true }, 'INVALID_ARGUMENT RTNETLINK answers: Operation not supported (br0 is not a bridge port: `master` adds a port\'s entry in its bridge)'],
      [{ op: 'fdb.add', ns: NS, dev: 'v0', mac: M, master: false, state: 'static' }, 'INVALID_ARGUMENT RTNETLINK answers: Invalid argument (v0\'s own FDB takes only permanent entries)'],
      [{ op: 'fdb.add', ns: NS, dev: 'br0', mac: M, state: 'dynamic' }, 'INVALID_ARGUMENT RTNETLINK answers: Invalid argument (br0\'s own FDB takes only permanent entries)'],
      [{ op: 'fdb.add', ns: NS, dev: 'vx0', mac: M }, 'INVALID_ARGUMENT RTNETLINK answers: Invalid argument (vx0 has no default remote: a VXLAN FDB entry needs dst)'],
      [{ op: 'fdb.add', ns: NS, dev: 'v0', mac: M, state: 'sticky' as 'static' }, 'INVALID_ARGUMENT fdb.add\'s state is static, permanent or dynamic, not sticky'],
      [{ op: 'fdb.add', ns: NS, dev: 'v0', mac: M, master: 'yes' as unknown as boolean }, 'INVALID_ARGUMENT fdb.add.master must be true or false, not "yes"'],
    ];
    for (const [a, want] of cases) {
      expect(refusal(start, a), JSON.stringify(a)).toBe(want);
    }
    expect(refusal(start, { op: 'fdb.add', ns: NS, dev: 'v0', mac: '02:00:00:00:00' })).toMatch(/^INVALID_MAC /);
    expect(refusal(start, { op: 'fdb.add', ns: NS, dev: 'nosuch', mac: M })).toMatch(/^LINK_NOT_FOUND /);
    expect(refusal(start, { op: 'fdb.add', ns: NS, dev: 'vx0', mac: M, dst: '192.168.1.300' })).toMatch(/^INVALID_IP /);
    // A refused batch leaves the state it was given untouched (a refused action's batch is not applied).
    const before = JSON.stringify(fdb(start));
    expect(() => applyActions(start, [{ op: 'fdb.add', ns: NS, dev: 'v0', mac: M }, { op: 'fdb.add', ns: NS, dev: 'v1', mac: M }])).toThrow();
    expect(JSON.stringify(fdb(start))).toBe(before);
  });

  it('self on a veth is its own unicast list, apart from the bridge; add of one there is File exists, append nothing', () => {
    const s1 = applyActions(start, [{ op: 'fdb.add', ns: NS, dev: 'v0', mac: M, master: false }]);
    expect(fdb(s1)[`v0|${M}`]).toMatchObject({ dev: 'v0', port: null, dst: null, permanent: true, local: false });
    expect(fdb(s1)[`br0|${M}`]).toBeUndefined();
    expect(bridgeFdb(s1, NS)).toContain(`${M} dev v0 self permanent`);
    expect(refusal(s1, { op: 'fdb.add', ns: NS, dev: 'v0', mac: M, master: false })).toMatch(/^FDB_EXISTS /);
    expect(fdb(applyActions(s1, [{ op: 'fdb.append', ns: NS, dev: 'v0', mac: M, master: false }]))).toEqual(fdb(s1));
    expect(fdb(applyActions(s1, [{ op: 'fdb.del', ns: NS, dev: 'v0', mac: M }]))).toEqual(fdb(start));
  });
});

describe('fdb.* on a VXLAN device', () => {
  const M = '02:00:00:00:00:09';
  const Z = '00:00:00:00:00:00';
  const dstOf = (s: ClusterState, mac: string) => getNs(s, NS).fdb[`vx0|${mac}`]?.dst;

  it('add, add again (File exists, another dst too), append (nothing), replace (the dst changes), del by dst', () => {
    const s1 = applyActions(start, [{ op: 'fdb.add', ns: NS, dev: 'vx0', mac: M, dst: '192.168.1.99' }]);
    expect(dstOf(s1, M)).toBe(0xc0a80163);
    expect(refusal(s1, { op: 'fdb.add', ns: NS, dev: 'vx0', mac: M, dst: '192.168.1.98' })).toMatch(/^FDB_EXISTS RTNETLINK answers: File exists/);
    expect(dstOf(applyActions(s1, [{ op: 'fdb.append', ns: NS, dev: 'vx0', mac: M, dst: '192.168.1.98' }]), M)).toBe(0xc0a80163);
    const s2 = applyActions(s1, [{ op: 'fdb.replace', ns: NS, dev: 'vx0', mac: M, dst: '192.168.1.97' }]);
    expect(dstOf(s2, M)).toBe(0xc0a80161);
    expect(dstOf(applyActions(s2, [{ op: 'fdb.del', ns: NS, dev: 'vx0', mac: M, dst: '192.168.1.98' }]), M)).toBe(0xc0a80161);
    expect(dstOf(applyActions(s2, [{ op: 'fdb.del', ns: NS, dev: 'vx0', mac: M, dst: '192.168.1.97' }]), M)).toBeUndefined();
  });

  it('a second dst for 00:00:00:00:00:00 is refused as not modelled (the kernel keeps both)', () => {
    const s1 = applyActions(start, [{ op: 'fdb.append', ns: NS, dev: 'vx0', mac: Z, dst: '192.168.1.12' }]);
    expect(refusal(s1, { op: 'fdb.append', ns: NS, dev: 'vx0', mac: Z, dst: '192.168.1.13' })).toBe(
      'UNSUPPORTED podnet keeps one dst per MAC on a VXLAN device: 00:00:00:00:00:00 has dst 192.168.1.12 on vx0 (Linux appends a second one to 00:00:00:00:00:00 and multicast MACs)');
    expect(dstOf(applyActions(s1, [{ op: 'fdb.append', ns: NS, dev: 'vx0', mac: Z, dst: '192.168.1.12' }]), Z)).toBe(0xc0a8010c);
  });
});

describe('describeAction prints the bridge fdb command an action is', () => {
  it.each([
    [{ op: 'fdb.add', ns: NS, dev: 'v0', mac: '02:00:00:00:00:01', state: 'permanent' }, 'bridge fdb add 02:00:00:00:00:01 dev v0 master permanent'],
    [{ op: 'fdb.replace', ns: NS, dev: 'v0', mac: '02:00:00:00:00:01' }, 'bridge fdb replace 02:00:00:00:00:01 dev v0 master static'],
    [{ op: 'fdb.append', ns: NS, dev: 'vx0', mac: '02:00:00:00:00:09', dst: '192.168.1.12' }, 'bridge fdb append 02:00:00:00:00:09 dev vx0 dst 192.168.1.12 self permanent'],
    [{ op: 'fdb.add', ns: NS, dev: 'v0', mac: '02:00:00:00:00:01', master: false }, 'bridge fdb add 02:00:00:00:00:01 dev v0 self permanent'],
    [{ op: 'fdb.del', ns: NS, dev: 'vx0', mac: '02:00:00:00:00:09', dst: '192.168.1.12' }, 'bridge fdb del 02:00:00:00:00:09 dev vx0 dst 192.168.1.12'],
  ] as [Action, string][])('%o', (a, cmd) => {
    expect(describeAction(a)[0]!.command).toBe(cmd);
  });
});
