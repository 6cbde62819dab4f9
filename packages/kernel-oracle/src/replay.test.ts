import { createClusterState, type CniDesign } from '@podnet/core';
import { flannel, seedLabSpec } from '@podnet/cni';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildRecorded } from './oracle.js';
import { recording } from './record.js';
import { NoKernelRendering, Renderer } from './replay.js';
import { DESIGNS, topologyArb } from './scenarios.js';

const PREFIX = 'pno4242-t-';
const bare = { name: 'bare' } as unknown as CniDesign;

function render(topo: Parameters<typeof buildRecorded>[1]): Renderer {
  const { rec } = buildRecorded(DESIGNS[0]!, topo);
  const r = new Renderer(PREFIX);
  r.underlay(createClusterState(topo.settings, bare).underlay);
  for (const x of rec.log) r.reaction(x);
  return r;
}

const seedLab = () => {
  const { nodes, pods, cni: _cni, ...settings } = seedLabSpec();
  return { label: 'seed lab', settings, nodes, pods };
};

/** The namespace a script line runs in, or null when it names none (which must never happen). */
function nsOfLine(shell: string): string | null {
  const m = /^(?:ip|bridge) -n (\S+) |^ip netns (?:exec|add|del) (\S+)/.exec(shell);
  return m ? (m[1] ?? m[2])! : null;
}

describe('rendering a recorded cluster as kernel commands', () => {
  it('the seed lab: every command runs inside a namespace of this topology, none in the root namespace', () => {
    const r = render(seedLab());
    expect(r.lines.length).toBeGreaterThan(100);
    for (const l of r.lines) expect(nsOfLine(l.shell), l.shell).toMatch(/^pno4242-t-[a-z0-9]+$/);
  });

  it('replays what flannel did with the interface names podnet uses', () => {
    const r = render(seedLab());
    const host = r.names.of('node/node-1');
    const shells = r.lines.map((l) => l.shell);
    expect(shells).toContain(`ip -n ${host} link set flannel.1 up`);
    expect(shells).toContain(`ip -n ${host} route replace 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink`);
    expect(shells.some((s) => new RegExp(`^ip -n ${host} link add veth[0-9a-f]{8} .* peer name eth0 address \\S+ mtu 1450 netns ${r.names.of('pod/default/pod-a')}$`).test(s))).toBe(true);
    expect(shells).toContain(`ip -n ${r.names.of('underlay')} addr add 192.168.1.1/24 dev rack-a`);
  });

  it('property: the batched script runs each namespace\'s commands in the recorded order', () => {
    fc.assert(fc.property(topologyArb(), (t) => {
      const r = render({ ...t, label: 'x' });
      const script = r.script();
      // Rebuild per-namespace sequences from the script (batch bodies belong to their header's namespace).
      const seen = new Map<string, string[]>();
      let batchNs: string | null = null;
      let batchTool = '';
      for (const line of script.split('\n')) {
        const head = /^(ip|bridge)(?: -n (\S+))?(?: -force)? -batch - /.exec(line);
        if (head) { batchNs = head[2] ?? ''; batchTool = head[1]!; continue; }
        if (line === 'ORACLE_EOF') { batchNs = null; continue; }
        if (batchNs !== null) {
          const key = batchNs === '' ? (/^netns add (\S+)/.exec(line)?.[1] ?? '') : batchNs;
          seen.set(key, [...(seen.get(key) ?? []), batchNs === '' ? `ip ${line}` : `${batchTool} -n ${batchNs} ${line}`]);
        } else if (/\|\| fail \d+$/.test(line)) {
          const shell = line.replace(/ \|\| fail \d+$/, '');
          const ns = nsOfLine(shell);
          if (ns) seen.set(ns, [...(seen.get(ns) ?? []), shell]);
        }
      }
      const want = new Map<string, string[]>();
      for (const l of r.lines) {
        const ns = nsOfLine(l.shell)!;
        want.set(ns, [...(want.get(ns) ?? []), l.shell]);
      }
      expect(seen).toEqual(want);
    }), { numRuns: 15 });
  });

  it('a listener on the ports traceroute probes has no kernel rendering, and says so instead of being skipped', () => {
    const inner = flannel();
    const listening: CniDesign = {
      ...inner,
      nodeAdded: (st, n) => {
        const r = inner.nodeAdded(st, n);
        return { ...r, actions: [...r.actions, { op: 'listen', ns: `node/${n.name}`, protocol: 'udp', port: 33435 }] };
      },
    };
    const t = seedLab();
    const { rec } = buildRecorded({ name: 'listening', make: () => listening, needs: [] }, t);
    const r = new Renderer(PREFIX);
    r.underlay(createClusterState(t.settings, bare).underlay);
    expect(() => { for (const x of rec.log) r.reaction(x); }).toThrow(NoKernelRendering);
  });

  it('recording: every reaction in order, and a rolled-back change forgotten', () => {
    const rec = recording(flannel());
    const t = seedLab();
    const { sim } = buildRecorded({ name: 'f', make: () => rec.design, needs: [] }, t);
    void sim;
    expect(rec.log.map((x) => x.kind)).toEqual([...t.nodes.map(() => 'nodeAdded'), ...t.pods.map(() => 'podAdded')]);
    rec.rollback(3);
    expect(rec.log).toHaveLength(3);
  });
});
