/**
 * broken.mtuMismatch() against real Linux: packages/kernel-oracle/scripts/mtu-mismatch.sh built flannel VXLAN
 * on two nodes with pods, veths and cni0 at MTU 1500 above a 1450 flannel.1, and recorded what ping prints.
 * podnet's design of the same mistake must print the same, line for line.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createSimulator } from '@podnet/core';
import { describe, expect, it } from 'vitest';
import { broken } from './designs/broken.js';

interface Fixture {
  meta: { kernel: string };
  steps: Record<string, { cmd: string; rc: number; stdout: string; stderr: string }>;
}
const fixture = JSON.parse(readFileSync(fileURLToPath(new URL('../../core/src/__fixtures__/kernel-mtu-mismatch.json', import.meta.url)), 'utf8')) as Fixture;

/**
 * What both sides print, without timings (podnet has no latency model), sorted: the fixture keeps stdout and
 * stderr apart (`ping: local error…` goes to stderr), so their interleaving is not recorded.
 */
const comparable = (lines: readonly string[]) => lines
  .filter((l) => /^(PING |From |ping: )| bytes from |packets transmitted/.test(l))
  .map((l) => l.replace(/ time=.*$/, '').replace(/, time \d+ms$/, ''))
  .sort();

describe(`broken.mtuMismatch() agrees with the kernel (${fixture.meta.kernel})`, () => {
  it('small ping, DF 1472 twice (Frag needed, then the cached path MTU), without DF, same node, DF 1422', () => {
    const sim = createSimulator({
      cni: broken.mtuMismatch(),
      nodes: [{ name: 'node-1', ip: '192.168.1.11', podCidr: '10.244.1.0/24' }, { name: 'node-2', ip: '192.168.1.12', podCidr: '10.244.2.0/24' }],
      pods: [{ name: 'pod-a', node: 'node-1', ip: '10.244.1.4' }, { name: 'pod-b', node: 'node-1', ip: '10.244.1.5' }, { name: 'pod-c', node: 'node-2', ip: '10.244.2.3' }],
    });
    expect(fixture.steps['mtu/pod-a']!.stdout).toContain(`mtu ${sim.pod('pod-a').netns!.links['eth0']!.mtu} `);
    expect(fixture.steps['mtu/cni0']!.stdout).toContain(`mtu ${sim.node('node-1').host.links['cni0']!.mtu} `);
    expect(fixture.steps['mtu/flannel']!.stdout).toContain(`mtu ${sim.node('node-1').host.links['flannel.1']!.mtu} `);
    const probes = ['ping/small', 'ping/df1472-first', 'ping/df1472-second', 'ping/nodf1472', 'ping/df1472-same-node', 'ping/df1422'];
    for (const key of probes) {
      const step = fixture.steps[key]!;
      const m = /ping -c 1 -W 2 (?:-M (do|dont) )?(?:-s (\d+) )?(\S+)$/.exec(step.cmd)!;
      const out = sim.ping('pod-a', m[3]!, { df: m[1] !== 'dont', ...(m[2] ? { size: Number(m[2]) } : {}) });
      expect(comparable(out.lines), key).toEqual(comparable(`${step.stdout}\n${step.stderr}`.split('\n')));
    }
    expect(fixture.steps['routeget/after-first']!.stdout).toMatch(/cache expires \d+sec mtu 1450/);
  });
});
