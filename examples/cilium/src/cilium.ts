/**
 * cilium's eBPF datapath in podnet: the same two pods pinged and traced in tunnel and in native routing
 * mode, with the steps where an eBPF program, not the kernel's route table, decided what happened.
 */
import { cilium } from '@podnet/cni';
import { createSimulator, describeAction, icmpEcho, ipRoute, parseIpv4, type Simulator } from '@podnet/core';

/** Two nodes, pod a on node-1 and pod c on node-2. */
export function twoNodes(routing: 'tunnel' | 'native'): Simulator {
  return createSimulator({
    podCidr: '10.244.0.0/16',
    cni: cilium({ routing }),
    nodes: [{ name: 'node-1', podCidr: '10.244.1.0/24' }, { name: 'node-2', podCidr: '10.244.2.0/24' }],
    pods: [{ name: 'a', node: 'node-1', ip: '10.244.1.4' }, { name: 'c', node: 'node-2', ip: '10.244.2.3' }],
  });
}

/** The steps of the echo request from a to c where cilium's programs or the VXLAN device acted. */
export function datapathSteps(sim: Simulator): string[] {
  const t = sim.send('a', icmpEcho(parseIpv4('10.244.2.3')));
  return t.steps
    .filter((s) => s.packet === 1 && ['bpf', 'bpf-redirect', 'vxlan-encap', 'vxlan-decap', 'forward'].includes(s.kind))
    .map((s) => `  [${s.ns} ${s.dev}] ${s.kind}: ${s.note}`);
}

/** What `pnpm run example` prints. */
export function ciliumExample(): string[] {
  const out: string[] = [];
  const t = twoNodes('tunnel');
  out.push('What cilium does for a new pod a2 on node-1 (its CNI ADD, as commands):');
  const design = cilium({ routing: 'tunnel' });
  const add = design.podAdded(t.state, { pod: { ...t.pod('a'), name: 'a2', key: 'default/a2' }, node: t.node('node-1'), ifname: 'eth0', netns: '/var/run/netns/a2', containerId: 'c0ffee', requestedIp: null });
  if ('actions' in add) for (const a of add.actions) for (const c of describeAction(a)) out.push(`  [${c.where}] ${c.command}`);
  out.push('', 'ip route in pod a:', ...ipRoute(t.state, 'pod/default/a').map((r) => `  ${r}`));
  for (const routing of ['tunnel', 'native'] as const) {
    const sim = twoNodes(routing);
    out.push('', `--- routing: ${routing} ---`, 'a → c (10.244.2.3):', ...datapathSteps(sim));
    out.push(`ping: ${sim.ping('a', '10.244.2.3').lines[1]}`);
    out.push(`traceroute: ${sim.traceroute('a', '10.244.2.3').hops.map((h) => `${h.ttl} ${h.address ?? '*'}`).join('   ')}`);
    out.push(`guarantees hold: ${sim.check().ok}`);
  }
  return out;
}
