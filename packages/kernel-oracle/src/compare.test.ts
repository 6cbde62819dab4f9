import { describe, expect, it } from 'vitest';
import { kernelFdb, kernelPingOutcome, kernelTraceroute, tableDiff, tableLines } from './compare.js';

describe('reading what the kernel tools print', () => {
  it('ping: a reply, an ICMP error, a local error, silence', () => {
    expect(kernelPingOutcome('PING 10.244.2.3 (10.244.2.3) 56(84) bytes of data.\n64 bytes from 10.244.2.3: icmp_seq=1 ttl=62 time=0.081 ms\n', '')).toBe('reply from 10.244.2.3 ttl=62 bytes=64');
    expect(kernelPingOutcome('From 10.244.1.1 icmp_seq=1 Frag needed and DF set (mtu = 1450)\n', '')).toBe('From 10.244.1.1 Frag needed and DF set (mtu = 1450)');
    expect(kernelPingOutcome('', 'ping: local error: message too long, mtu=1450\n')).toBe('local error: message too long, mtu=1450');
    expect(kernelPingOutcome('PING 10.244.2.99 (10.244.2.99) 56(84) bytes of data.\n\n--- 10.244.2.99 ping statistics ---\n1 packets transmitted, 0 received, 100% packet loss, time 0ms\n', '')).toBe('no reply');
  });

  it('traceroute: hops, stars and annotations', () => {
    const out = 'traceroute to 10.244.2.3 (10.244.2.3), 8 hops max, 60 byte packets\n 1  10.244.1.1  0.050 ms\n 2  *\n 3  10.244.2.99  3004.512 ms !H\n';
    expect(kernelTraceroute(out, '')).toBe('10.244.1.1 * 10.244.2.99 !H');
    expect(kernelTraceroute('', 'connect: Network is unreachable\n')).toBe('connect: Network is unreachable');
  });

  it('the sender\'s own route refusing: connect(2) fails (measured with blackhole and unreachable routes)', () => {
    // ip route add blackhole 10.1.0.0/26; unreachable 10.2.0.0/26 (kernel 6.18, iputils 20221126, traceroute 2.1.2).
    expect(kernelPingOutcome('', 'ping: connect: Invalid argument\n')).toBe('connect: Invalid argument');
    expect(kernelPingOutcome('', 'ping: connect: No route to host\n')).toBe('connect: No route to host');
    const header = 'traceroute to 10.1.0.1 (10.1.0.1), 8 hops max, 60 byte packets';
    expect(kernelTraceroute(header, '\nconnect: Invalid argument')).toBe('connect: Invalid argument');
    expect(kernelTraceroute(header, '\nconnect: No route to host')).toBe('connect: No route to host');
  });

  it('tables: trailing spaces dropped, multicast FDB rows dropped, order kept for routes only', () => {
    expect(tableLines('default via 192.168.1.1 dev eth0 \n\n')).toEqual(['default via 192.168.1.1 dev eth0']);
    expect(kernelFdb('33:33:00:00:00:01 dev cni0 self permanent\n01:00:5e:00:00:01 dev cni0 self permanent\n0a:58:0a:f4:01:01 dev cni0 master cni0 permanent \n'))
      .toEqual(['0a:58:0a:f4:01:01 dev cni0 master cni0 permanent']);
    expect(tableDiff(['a', 'b'], ['b', 'a'], false)).toBeNull();
    expect(tableDiff(['a', 'b'], ['b', 'a'], true)).toEqual({ onlyPodnet: ['a', 'b'], onlyKernel: ['b', 'a'] });
    expect(tableDiff(['a', 'b'], ['a', 'c'], false)).toEqual({ onlyPodnet: ['b'], onlyKernel: ['c'] });
  });
});
