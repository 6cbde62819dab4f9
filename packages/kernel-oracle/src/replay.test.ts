import { createClusterState, type CniDesign } from '@podnet/core';
import { flannel, seedLabSpec } from '@podnet/cni';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildRecorded } from './oracle.js';
import { recording } from './record.js';
import { BRIDGE_NF } from './kernel.js';
import { linkFree, NoKernelRendering, Renderer, sysctlSteps, sysctlWrites } from './replay.js';
import { DESIGNS, topologyArb } from './scenarios.js';

const PREFIX = 'pno4242-t-';
const bare = { name: 'bare' } as unknown as CniDesign;

function render(topo: Parameters<typeof buildRecorded>[1], design = DESIGNS[0]!): Renderer {
  const { rec } = buildRecorded(design, topo);
  const r = new Renderer(PREFIX);
  r.underlay(createClusterState(topo.settings, bare).underlay);
  for (const x of rec.log) r.reaction(x);
  return r;
}

const twoRacks = () => ({
  podCidr: '10.244.0.0/16',
  nodeCidrMaskSize: 24,
  underlay: { segments: [{ name: 'rack-a', cidr: '192.168.1.0/24', gateway: '192.168.1.1' }, { name: 'rack-b', cidr: '192.168.2.0/24', gateway: '192.168.2.1' }] },
});

const seedLab = () => {
  const { nodes, pods, cni: _cni, ...settings } = seedLabSpec();
  return { label: 'seed lab', settings, nodes, pods };
};

/** The namespace a script line runs in, or null when it names none (which must never happen). */
function nsOfLine(shell: string): string | null {
  const m = /^(?:ip|bridge) -n (\S+) |^ip netns (?:add|del) (\S+)|^nsenter --net=\/run\/netns\/(\S+) /.exec(shell);
  return m ? (m[1] ?? m[2] ?? m[3])! : null;
}

/** The recorded lines' indices in the order the script runs them (each unit names its lines' indices). */
function scriptOrder(script: string): number[] {
  const order: number[] = [];
  for (const line of script.split('\n')) {
    const nums = (x: string) => x.trim().split(' ').map(Number);
    const m = /pick "\$\{n:-1\}" ([\d ]+)\)"; }$/.exec(line) ?? / chk \S+ '([\d ]+)'/.exec(line);
    const sysctl = /^S\t(\d+)\t/.exec(line);
    if (m) order.push(...nums(m[1]!));
    else if (sysctl) {
      // nsrun.pl steps: one per key of a `sysctl -w`, one after the other.
      if (order[order.length - 1] !== Number(sysctl[1])) order.push(Number(sysctl[1]));
    }
    else if (/ sh -s <<'ORACLE_EOF' \|\| fail \d+$/.test(line)) continue;
    else {
      const one = /ORACLE-FAILED (\d+)" >&2; exit 97; }$/.exec(line) ?? / \|\| fail (\d+)$/.exec(line);
      // A sysctl of several keys is one write per key inside a unit's sh.
      if (one && order[order.length - 1] !== Number(one[1])) order.push(Number(one[1]));
    }
  }
  return order;
}

/**
 * What a recorded line touches: `ns` whole (links), or one table of it (`ns#l3`, `ns#fdb`, `ns#sys`);
 * `*` for a link deletion, which may take a veth peer elsewhere along.
 */
function touches(shell: string): string[] {
  const ns = nsOfLine(shell)!;
  const rest = shell.replace(/^(?:ip|bridge) -n \S+ /, '');
  // Settings independent of links (iptables rules, ip_forward) touch only the settings (`@sys`); other
  // sysctls the settings and the namespace's `#sys` table, which its link changes touch too.
  const exec = /^nsenter --net=\S+ (.*)$/.exec(shell);
  if (exec) return /^iptables |^sysctl -w net\.ipv4\.ip_forward=1$/.test(exec[1]!) ? [`${ns}@sys`] : [`${ns}#sys`, `${ns}@sys`];
  const table = /^bridge -n \S+ fdb /.test(shell) ? '#fdb' : /^ip -n \S+ (route|neigh|addr) /.test(shell) ? '#l3' : '';
  return [`${ns}${table}`, ...[...rest.matchAll(/\bnetns (\S+)/g)].map((x) => x[1]!), ...(/^link del /.test(rest) || /^ip netns del /.test(shell) ? ['*'] : [])];
}

function conflict(a: string[], b: string[]): boolean {
  if (a.includes('*') || b.includes('*')) return true;
  return a.some((x) => b.some((y) => x === y || x === y.split('#')[0] || y === x.split('#')[0]));
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

  it('property: the batched script runs every line once, and any two lines that touch the same namespace table in the recorded order (every design)', () => {
    fc.assert(fc.property(topologyArb(), fc.constantFrom(...DESIGNS), (t, design) => {
      const r = render({ ...t, label: 'x' }, design);
      const script = r.script();
      const order = scriptOrder(script);
      expect([...order].sort((a, b) => a - b)).toEqual(r.lines.map((_, i) => i));
      const at = new Map(order.map((i, pos) => [i, pos]));
      const tt = r.lines.map((l) => touches(l.shell));
      for (let i = 0; i < r.lines.length; i++) {
        for (let j = i + 1; j < r.lines.length; j++) {
          if (conflict(tt[i]!, tt[j]!)) expect(at.get(i)! < at.get(j)!, `${r.lines[i]!.shell}  before  ${r.lines[j]!.shell}`).toBe(true);
        }
      }
      // Every batch body line is the recorded command it stands for.
      for (const l of r.lines) {
        const body = l.shell.replace(/^(?:ip|bridge) -n \S+ /, '').replace(/^nsenter --net=\S+ /, '').replace(/^ip netns add /, 'netns add ');
        // A new namespace's settings: nsrun.pl writes each key=value of the sysctl in that namespace.
        const init = /^nsenter --net=\/run\/netns\/(\S+) sysctl -q -w (.*)$/.exec(l.shell);
        if (l.init && init) for (const kv of init[2]!.split(' ')) expect(script).toContain(`\t${init[1]!}\t${kv.replace('=', '\t')}\n`);
        else expect(script.includes(body) || (sysctlWrites(body)?.every((w) => script.includes(w)) ?? false), l.shell).toBe(true);
      }
    }), { numRuns: 30 });
  });

  it('calico without encapsulation: same-rack peers through their node address, the other rack\'s through the gateway; proxy ARP on each cali veth', () => {
    const t = { label: 'calico', settings: twoRacks(), nodes: [{ name: 'node-1', segment: 'rack-a' }, { name: 'node-2', segment: 'rack-a' }, { name: 'node-3', segment: 'rack-b' }], pods: [{ name: 'pod-a', node: 'node-1' }, { name: 'pod-b', node: 'node-2' }, { name: 'pod-c', node: 'node-3' }] };
    const { rec } = buildRecorded(DESIGNS.find((d) => d.name === 'calico-none')!, t);
    const r = new Renderer(PREFIX);
    r.underlay(createClusterState(t.settings, bare).underlay);
    for (const x of rec.log) r.reaction(x);
    const n1 = r.names.of('node/node-1');
    const n3 = r.names.of('node/node-3');
    const routes = (k: string) => r.lines.map((l) => l.shell).filter((x) => x.startsWith(`ip -n ${k} route replace `));
    // node-2 (same rack) via its own address; node-3 (other rack) through rack-a's gateway, not onlink.
    expect(routes(n1)).toEqual(['ip -n pno4242-t-n0 route replace 10.244.0.64/26 via 192.168.1.12 dev eth0 proto bird', 'ip -n pno4242-t-n0 route replace 10.244.0.128/26 via 192.168.1.1 dev eth0 proto bird']);
    expect(routes(n3)).toEqual(['ip -n pno4242-t-n2 route replace 10.244.0.0/26 via 192.168.2.1 dev eth0 proto bird', 'ip -n pno4242-t-n2 route replace 10.244.0.64/26 via 192.168.2.1 dev eth0 proto bird']);
    const veth = r.lines.map((l) => l.shell).find((x) => x.startsWith(`ip -n ${n1} link add cali`))!;
    expect(veth).toMatch(/^ip -n pno4242-t-n0 link add cali[0-9a-f]{11} address ee:ee:ee:ee:ee:ee mtu 1500 type veth peer name eth0 /);
    expect(r.lines.map((l) => l.shell)).toContain(`nsenter --net=/run/netns/${n1} sysctl -w net.ipv4.conf.${veth.split(' ')[5]!}.proxy_arp=1`);
  });

  it('veth-only namespaces (whose FDB the oracle need not list): pods and the router yes; flannel nodes (cni0, flannel.1) and the segments\' bridges no; calico nodes without encapsulation yes', () => {
    const r = render(seedLab());
    expect(r.onlyVeths(r.names.of('pod/default/pod-a'))).toBe(true);
    expect(r.onlyVeths(r.names.of('underlay'))).toBe(true);
    expect(r.onlyVeths(r.names.of('node/node-1'))).toBe(false);
    expect(r.onlyVeths(r.names.of('seg:rack-a'))).toBe(false);
    const calico = render(seedLab(), DESIGNS.find((d) => d.name === 'calico-none')!);
    expect(calico.onlyVeths(calico.names.of('node/node-1'))).toBe(true);
    const vxlan = render(seedLab(), DESIGNS.find((d) => d.name === 'calico-vxlan')!);
    expect(vxlan.onlyVeths(vxlan.names.of('node/node-1'))).toBe(false);
  });

  it('br_netfilter as podnet models it: on in the nodes\' and pods\' namespaces, off in a segment\'s switch; written only where the module is loaded', () => {
    const r = render(seedLab());
    const init = (id: string) => r.lines.find((l) => l.shell.includes(`/${r.names.of(id)} sysctl -q -w`))!.shell;
    for (const id of ['node/node-1', 'pod/default/pod-a', 'underlay']) {
      if (BRIDGE_NF) expect(init(id)).toMatch(/ net\.bridge\.bridge-nf-call-iptables=1$/);
      else expect(init(id)).not.toContain('bridge-nf-call-iptables');
    }
    if (BRIDGE_NF) expect(init('seg:rack-a')).toMatch(/ net\.bridge\.bridge-nf-call-iptables=0$/);
    expect(sysctlWrites('sysctl -w net.bridge.bridge-nf-call-iptables=0')).toEqual(['echo 0 > /proc/sys/net/bridge/bridge-nf-call-iptables']);
  });

  it('sysctls written as sysctl writes them: one file per key, a device name\'s dot spelled as a slash in the key', () => {
    expect(sysctlWrites('sysctl -w net.ipv4.conf.flannel/1.rp_filter=0 net.ipv4.ip_forward=1')).toEqual(['echo 0 > /proc/sys/net/ipv4/conf/flannel.1/rp_filter', 'echo 1 > /proc/sys/net/ipv4/ip_forward']);
    expect(sysctlWrites('sysctl -n net.ipv4.ip_forward')).toBeNull();
    expect(sysctlWrites('iptables -t nat -S')).toBeNull();
    expect(sysctlSteps(3, 'pno1-a-n0', 'sysctl -q -w net.ipv4.icmp_ratelimit=0')).toEqual(['S\t3\tpno1-a-n0\tnet.ipv4.icmp_ratelimit\t0']);
    expect(() => sysctlSteps(3, 'netns0', 'sysctl -q -w net.ipv4.icmp_ratelimit=0')).toThrow(/not a namespace of an oracle run/);
  });

  it('only iptables rules and ip_forward may pass link changes; other sysctls keep their place', () => {
    expect(linkFree('iptables -t nat -A POSTROUTING -s 10.244.0.0/16 -j MASQUERADE')).toBe(true);
    expect(linkFree('sysctl -w net.ipv4.ip_forward=1')).toBe(true);
    expect(linkFree('sysctl -w net.ipv4.conf.cali1234.proxy_arp=1')).toBe(false);
    expect(linkFree('sysctl -w net.ipv4.conf.default.rp_filter=0')).toBe(false);
    expect(linkFree('sysctl -w net.ipv4.ip_forward=1 net.ipv4.conf.default.rp_filter=0')).toBe(false);
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
