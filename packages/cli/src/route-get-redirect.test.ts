import { describe, expect, it } from 'vitest';
import { seedLabSpec } from '@podnet/cni';
import { createSession } from './index.js';
import { buildCluster } from './session.js';

describe('ip route get after an ICMP redirect', () => {
  it('shows the redirected gateway and `cache <redirected> expires …sec`, as the kernel does', () => {
    // Measured (kernel 6.18, `kn29-…` namespaces; docs/kernel-oracle.md): H 10.0.0.2/24 with its prefix
    // route deleted and `default via 10.0.0.1`, R 10.0.0.1 forwarding, T 10.0.0.3, one bridge; after
    // `ping -c 4 10.0.0.3` from H (redirected twice), H's `ip route get 10.0.0.3` prints
    //   10.0.0.3 via 10.0.0.3 dev eth0 src 10.0.0.2 uid 0 
    //       cache <redirected> expires 298sec 
    // and `ip route` is unchanged.
    const sim = buildCluster(seedLabSpec());
    sim.apply({ op: 'route.del', ns: 'pod/default/pod-a', dst: '10.244.1.0/24', dev: 'eth0' });
    const s = createSession({ sim });
    expect(s.run('kubectl exec pod-a -- ip route get 10.244.1.5').stdout).toBe('10.244.1.5 via 10.244.1.1 dev eth0 src 10.244.1.4 uid 0 \n    cache \n');
    sim.ping('pod-a', '10.244.1.5', { count: 2 });
    sim.advance(2_000);
    expect(s.run('kubectl exec pod-a -- ip route get 10.244.1.5').stdout).toBe('10.244.1.5 via 10.244.1.5 dev eth0 src 10.244.1.4 uid 0 \n    cache <redirected> expires 298sec \n');
  });
});
