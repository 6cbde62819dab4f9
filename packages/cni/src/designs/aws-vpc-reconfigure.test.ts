import { createSimulator, fabricLookup, formatIpv4, isPodnetError, parseIpv4, type Simulator } from '@podnet/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flannel } from './flannel.js';
import { awsEnis, awsMaxPods, awsVpc } from './aws-vpc.js';

const VPC = { segments: [{ name: 'subnet-a', cidr: '10.0.0.0/16', gateway: '10.0.0.1', mtu: 9001 }] };

/** Nodes that joined with the design's own max pods, as EKS's bootstrap sets --max-pods. */
function cluster(instanceType: string, nodes: number, pods: number): Simulator {
  const sim = createSimulator({ underlay: VPC, cni: awsVpc({ instanceType }) });
  for (let i = 1; i <= nodes; i++) {
    sim.addNode({ name: `node-${i}` });
    // aws-node and kube-proxy: host-network pods that count against max pods.
    for (const a of ['aws-node', 'kube-proxy']) sim.addPod({ name: `${a}-${i}`, namespace: 'kube-system', node: `node-${i}`, hostNetwork: true });
  }
  for (let i = 0; i < pods; i++) sim.addPod({ name: `web-${i}`, node: `node-${(i % nodes) + 1}` });
  return sim;
}

const slots = (sim: Simulator, node: string) => awsEnis(sim.node(node)).flatMap((e) => e.slots);
const inSlot = (slot: string, ip: number) => {
  const [base, len] = slot.split('/') as [string, string | undefined];
  return len === undefined ? parseIpv4(base) === ip : ip >= parseIpv4(base) && ip < parseIpv4(base) + 16;
};

describe('awsVpc: ENABLE_PREFIX_DELEGATION on a running cluster (kubectl set env daemonset aws-node)', () => {
  it('existing nodes keep their max pods: the kubelet\'s flag is not the CNI\'s to change, so the full cluster stays full', () => {
    const sim = cluster('t3.small', 2, 18); // 9 ENI addresses per node: full
    sim.addPod({ name: 'api' });
    expect(sim.pod('api').status.phase).toBe('Pending');
    const next = sim.reconfigure({ ENABLE_PREFIX_DELEGATION: 'true' });
    expect(next.name).toBe('aws-vpc-prefix');
    expect(sim.design.settings?.['ENABLE_PREFIX_DELEGATION']).toBe('true');
    expect(sim.nodes().map((n) => n.maxPods)).toEqual([11, 11]);
    // No ENI has a free slot for a prefix: nothing to assign, nothing moves.
    expect(slots(sim, 'node-1').every((s) => !s.includes('/'))).toBe(true);
    expect(sim.pod('api').status).toMatchObject({ phase: 'Pending', message: expect.stringContaining('2 Too many pods') });
    expect(sim.history().at(-1)).toBe('reconfigure ENABLE_PREFIX_DELEGATION=true');
  });

  it('a node that joins afterwards gets the prefix-delegation max pods and /28 prefixes; the Pending pod runs there', () => {
    const sim = cluster('t3.small', 2, 18);
    sim.addPod({ name: 'api' });
    sim.reconfigure({ ENABLE_PREFIX_DELEGATION: 'true' });
    sim.addNode({ name: 'node-3' });
    expect(sim.node('node-3').maxPods).toBe(awsMaxPods('t3.small', { prefixDelegation: true }));
    expect(sim.node('node-3').maxPods).toBe(110);
    const api = sim.pod('api');
    expect(api.status.phase).toBe('Running');
    expect(api.node).toBe('node-3');
    const s = slots(sim, 'node-3');
    expect(s.length).toBeGreaterThan(0);
    expect(s.every((x) => x.endsWith('/28'))).toBe(true);
    expect(s.some((x) => inSlot(x, api.ip!))).toBe(true);
    expect(fabricLookup(sim.state.underlay.segments['subnet-a']!, api.ip!)).toBeDefined();
    expect(sim.ping('web-0', formatIpv4(api.ip!)).ok).toBe(true);
    expect(sim.check().ok).toBe(true);
  });

  it('a node with free ENI slots takes a prefix when ipamd restarts, and then holds secondary addresses and prefixes side by side', () => {
    const sim = cluster('t3.medium', 1, 1);
    expect(slots(sim, 'node-1').every((x) => !x.includes('/'))).toBe(true);
    sim.reconfigure({ ENABLE_PREFIX_DELEGATION: 'true' });
    const s = slots(sim, 'node-1');
    expect(s.some((x) => x.endsWith('/28'))).toBe(true);
    expect(s.some((x) => !x.includes('/'))).toBe(true);
    expect(sim.node('node-1').maxPods).toBe(17); // still the secondary-IP formula
    for (let i = 1; i < 14; i++) sim.addPod({ name: `more-${i}`, node: 'node-1' });
    for (const p of sim.pods().filter((x) => !x.hostNetwork)) expect(s.some((x) => inSlot(x, p.ip!)), p.name).toBe(true);
    expect(sim.check().ok).toBe(true);
    // The instance terminates: both kinds go back to the subnet.
    const prefix = s.find((x) => x.endsWith('/28'))!;
    sim.removeNode('node-1');
    expect(fabricLookup(sim.state.underlay.segments['subnet-a']!, parseIpv4(prefix.split('/')[0]!))).toBeUndefined();
  });

  it('undo restores the design and its settings; redo applies them again', () => {
    const sim = cluster('t3.medium', 1, 1);
    const before = sim.state;
    sim.reconfigure({ ENABLE_PREFIX_DELEGATION: 'true', WARM_PREFIX_TARGET: '2' });
    sim.undo();
    expect(sim.state).toBe(before);
    expect(sim.design.name).toBe('aws-vpc');
    expect(sim.design.settings?.['ENABLE_PREFIX_DELEGATION']).toBe('false');
    sim.redo();
    expect(sim.design.name).toBe('aws-vpc-prefix');
    expect(sim.design.settings?.['WARM_PREFIX_TARGET']).toBe('2');
  });

  it('non-Nitro instances fall back to secondary addresses, as ipamd does', () => {
    const sim = cluster('t2.medium', 1, 0);
    sim.reconfigure({ ENABLE_PREFIX_DELEGATION: 'true' });
    expect(sim.design.name).toBe('aws-vpc');
    sim.addNode({ name: 'node-2' });
    expect(sim.node('node-2').maxPods).toBe(17);
    expect(slots(sim, 'node-2').every((x) => !x.includes('/'))).toBe(true);
  });

  it('reads values as ipamd does: an unparsable boolean keeps the default; unknown variables are kept and ignored', () => {
    const sim = cluster('t3.small', 1, 0);
    sim.reconfigure({ ENABLE_PREFIX_DELEGATION: 'yes', MY_NOTE: 'hello' });
    expect(sim.design.name).toBe('aws-vpc');
    expect(sim.design.settings).toMatchObject({ ENABLE_PREFIX_DELEGATION: 'yes', MY_NOTE: 'hello' });
    sim.reconfigure({ MY_NOTE: null, ENABLE_PREFIX_DELEGATION: 'True' });
    expect(sim.design.name).toBe('aws-vpc-prefix');
    expect(sim.design.settings?.['MY_NOTE']).toBeUndefined();
  });

  it('refuses, changing nothing: a bad name, WARM_PREFIX_TARGET=0 with prefixes, settings ipamd only reads at start, designs without settings', () => {
    const sim = cluster('t3.small', 1, 2);
    const state = sim.state;
    const design = sim.design;
    const code = (f: () => void) => { try { f(); return 'none'; } catch (e) { return isPodnetError(e) ? e.code : String(e); } };
    expect(code(() => sim.reconfigure({ '1BAD': 'x' }))).toBe('INVALID_SETTING');
    expect(code(() => sim.reconfigure({ ENABLE_PREFIX_DELEGATION: 'true', WARM_PREFIX_TARGET: '0' }))).toBe('INVALID_SETTING');
    expect(code(() => sim.reconfigure({ AWS_VPC_K8S_CNI_EXTERNALSNAT: 'true' }))).toBe('UNSUPPORTED');
    expect(code(() => sim.reconfigure({ ENABLE_PREFIX_DELEGATION: 1 as unknown as string }))).toBe('INVALID_SETTING');
    expect(sim.state).toBe(state);
    expect(sim.design).toBe(design);
    const f = createSimulator({ cni: flannel() });
    expect(code(() => f.reconfigure({ FLANNELD_IFACE: 'eth1' }))).toBe('UNSUPPORTED');
  });

  it('property: whatever the toggles and pods in between, every pod holds an address of its node\'s ENIs and the guarantees hold', () => {
    fc.assert(fc.property(fc.array(fc.oneof(fc.constant<'on' | 'off'>('on'), fc.constant<'on' | 'off'>('off'), fc.integer({ min: 1, max: 2 })), { maxLength: 8 }), (steps) => {
      const sim = cluster('t3.medium', 2, 2);
      let n = 0;
      for (const s of steps) {
        if (s === 'on' || s === 'off') sim.reconfigure({ ENABLE_PREFIX_DELEGATION: String(s === 'on') });
        else for (let i = 0; i < s * 3; i++) sim.addPod({ name: `p-${n++}` });
      }
      for (const p of sim.pods()) {
        if (p.status.phase !== 'Running' || p.hostNetwork) continue;
        expect(slots(sim, p.node!).some((x) => inSlot(x, p.ip!)), p.name).toBe(true);
      }
      expect(sim.check().ok).toBe(true);
    }), { numRuns: 10 });
  });
});
