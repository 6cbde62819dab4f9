import { describe, expect, it } from 'vitest';
import { buildSeedLab, explainTraceroute, guaranteeVerdict, humanAge, nodePodCidrs, podsWide, seedLab } from './seed-lab.js';

describe('seed lab', () => {
  it('prints node podCIDRs exactly as the lesson\'s jsonpath command does', () => {
    expect(nodePodCidrs(buildSeedLab())).toEqual(['node-1\t10.244.1.0/24', 'node-2\t10.244.2.0/24', 'node-3\t10.244.3.0/24']);
  });

  it('prints pods like kubectl get pods -o wide, aligned as kubectl aligns', () => {
    const lines = podsWide(buildSeedLab());
    expect(lines[0]).toBe('NAME    READY   STATUS    RESTARTS   AGE   IP           NODE     NOMINATED NODE   READINESS GATES');
    expect(lines[1]).toBe('pod-a   1/1     Running   0          0s    10.244.1.4   node-1   <none>           <none>');
    expect(lines[6]).toBe('pod-f   1/1     Running   0          0s    10.244.3.9   node-3   <none>           <none>');
    expect(lines).toHaveLength(7);
  });

  it('formats ages as kubectl does', () => {
    expect([humanAge(0), humanAge(59_000), humanAge(150_000), humanAge(3 * 3600_000 + 60_000)]).toEqual(['0s', '59s', '2m30s', '3h1m']);
  });

  it('traces pod-a → pod-c through cni0, flannel.1 and the underlay, hop by hop', () => {
    const lines = explainTraceroute(buildSeedLab(), 'pod-a', '10.244.2.3');
    const text = lines.join('\n');
    expect(lines.slice(1, 5)).toEqual([
      'traceroute to 10.244.2.3 (10.244.2.3), 30 hops max, 60 byte packets', ' 1  10.244.1.1', ' 2  10.244.2.0', ' 3  10.244.2.3',
    ]);
    // Who answers each TTL, and why that source address.
    expect(text).toContain('TTL 1: node-1 — the TTL runs out here; it answers ICMP time exceeded from 10.244.1.1, the address of cni0');
    expect(text).toContain('TTL 2: node-2 — the TTL runs out here; it answers ICMP time exceeded from 10.244.2.0, the address of flannel.1');
    // The groups, in the order the packet visits them.
    const titles = lines.filter((l) => /^(sender|hop \d|underlay) · /.test(l));
    expect(titles).toEqual([
      'sender · pod-a · 10.244.1.4',
      'hop 1 · node-1 · node IP 192.168.1.11, pod subnet 10.244.1.0/24',
      'underlay · segment rack-a · 192.168.1.0/24',
      'hop 2 · node-2 · node IP 192.168.1.12, pod subnet 10.244.2.0/24',
      'hop 3 · pod-c · 10.244.2.3',
    ]);
    // The kinds of the probe's steps, as the engine recorded them.
    const kinds = lines.filter((l) => /^ {2}[a-z]/.test(l)).map((l) => l.trim().split(/\s+/)[0]);
    expect(kinds).toEqual([
      'send', 'route', 'transmit', 'veth',
      'receive', 'bridge-local', 'forward', 'transmit', 'vxlan-encap', 'route', 'transmit',
      'segment',
      'receive', 'vxlan-decap', 'receive', 'forward', 'neighbour', 'bridge-forward', 'veth',
      'receive', 'drop',
    ]);
    expect(text).toContain('VXLAN header (VNI 1), a UDP header (port 38340 → 8472) and a new IP header 192.168.1.11 (node-1\'s eth0) → 192.168.1.12 (node-2\'s eth0): 60 → 110 bytes, +50');
    expect(text).toContain('`10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink`; TTL 3 → 2');
    expect(text).toContain('ARP request broadcast by node-2\'s cni0: who has 10.244.2.3? tell 10.244.2.1');
    expect(text).toContain('from 10.244.1.4 (pod-a) to 10.244.2.3: the source is still the sender\'s own IP — no NAT on the way');
    expect(text).toContain('goes back the same way in 21 steps: pod-c → node-2 → underlay → node-1 → pod-a: delivered.');
  });

  it('gives a ✓ per guarantee on the healthy cluster', () => {
    expect(guaranteeVerdict(buildSeedLab())).toEqual([
      '✓ 1. Every pod gets its own unique IP: 6 pods, 6 distinct IPs, none shared with a node or a gateway',
      '✓ 2. Pods reach every other pod without NAT: 30 pod → pod pings, each answered and seen with the sender\'s own IP',
      '✓ 3. Each node reaches the pods on it: 6 node → own pod pings, each answered',
      'sim.check(): ok — this cluster honours the Kubernetes network model.',
    ]);
  });

  it('gives a ✗ when a guarantee breaks', () => {
    const sim = buildSeedLab();
    sim.apply({ op: 'addr.add', ns: 'pod/default/pod-a', dev: 'eth0', addr: '10.244.2.3/24' });
    const lines = guaranteeVerdict(sim);
    expect(lines[0]).toMatch(/^✗ 1\. Every pod gets its own unique IP: \d+ violations, e\.g\. .*10\.244\.2\.3 is assigned 2 times/);
    expect(lines[1]).toMatch(/^✗ 2\. Pods reach every other pod without NAT: /);
    expect(lines[3]).toMatch(/^sim\.check\(\): \d+ violations\.$/);
  });

  it('prints the four sections in order', () => {
    const lines = seedLab();
    const sections = lines.filter((l) => /^\d\. /.test(l));
    expect(sections).toEqual([
      '1. Each node owns a slice of the cluster pod CIDR',
      '2. Each pod gets an IP from its node\'s slice',
      '3. Pod to pod across nodes, as Linux forwards it',
      '4. The three guarantees of the Kubernetes network model',
    ]);
    expect(lines[0]).toBe('podnet seed lab — the lesson\'s cluster: 3 nodes, 6 pods, CNI flannel-vxlan, pod CIDR 10.244.0.0/16');
  });
});
