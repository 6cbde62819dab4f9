import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSession, type Session } from './index.js';

/**
 * What the kernel's ICMP errors about a DNATed flow look like to its sender (scripts/dnat-icmp-errors.sh,
 * kernel 6.18): (a) a router DNATs 10.0.9.9 to a host two routers on, C 10.0.1.2 traces it; (c) a bridge's host
 * DNATs 10.0.8.8 to a namespace on that bridge, P1 10.0.5.2 traces it. Per section (`== …`), its lines.
 */
const recorded = (() => {
  const out = new Map<string, string[]>();
  let key: string | null = null;
  for (const line of readFileSync(join(__dirname, '__fixtures__', 'dnat-icmp-errors.txt'), 'utf8').split('\n')) {
    const h = /^== (.*)$/.exec(line);
    if (h) out.set((key = h[1]!), []);
    else if (key !== null && line !== '') out.get(key)!.push(line);
  }
  return (prefix: string): string[] => [...out].find(([k]) => k.startsWith(prefix))?.[1] ?? [];
})();

/** The hop addresses of a `traceroute -n` output. */
const hops = (text: string): string[] => text.split('\n').filter((l) => /^ ?\d+ /.test(l)).map((l) => l.trim().split(/\s+/)[1]!);

/** tcpdump -n -v's packet lines (the second line of each record: addresses and what it is), timestamps and -v's header lines left out. */
const packets = (lines: readonly string[]): string[] => lines.filter((l) => /^ {4}\d/.test(l) && / > .*: ICMP /.test(l)).map((l) => l.trim());

/** tcpdump -n lines printed in a session, without their timestamps. */
const captured = (text: string): string[] => text.split('\n').filter((l) => /^\d\d:\d\d:\d\d\.\d+ IP /.test(l)).map((l) => l.replace(/^\S+ IP /, ''));

/** The seed lab with a DNAT on node-1 from `vip` to `to`, and a capture of ICMP on pod-a's eth0. */
function dnatLab(vip: string, to: string): Session {
  const s = createSession();
  s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin');
  expect(s.run(`iptables -t nat -A PREROUTING -d ${vip} -j DNAT --to-destination ${to}`).status).toBe(0);
  s.run('exit');
  s.run('kubectl exec pod-a -- tcpdump -n -i eth0 icmp &');
  return s;
}

describe('ICMP errors about a destination-NATed flow (nf_nat_icmp_reply_translation)', () => {
  it('come from the address the sender asked for, at every hop, with it in their quote: routed DNAT', () => {
    // The kernel: every hop of the trace is the DNATed address; the errors leave their routers from it.
    const k = recorded('(a) C: traceroute');
    expect(hops(k.join('\n'))).toEqual(['10.0.9.9', '10.0.9.9', '10.0.9.9']);
    const kernelPackets = packets(recorded('(a) tcpdump')).map((l) => l.replace(/10\.0\.9\.9/g, 'VIP').replace(/10\.0\.1\.2/g, 'SENDER'));
    expect(kernelPackets.filter((l) => l.includes(': ICMP ')).slice(0, 3)).toEqual([
      'VIP > SENDER: ICMP time exceeded in-transit, length 68',
      'VIP > SENDER: ICMP time exceeded in-transit, length 68',
      'VIP > SENDER: ICMP VIP udp port 33436 unreachable, length 68',
    ]);
    // podnet: node-1 DNATs 10.244.9.9 to pod-c on node-2; pod-a traces it (node-1, node-2's flannel.1, pod-c).
    const s = dnatLab('10.244.9.9', '10.244.2.3');
    const t = s.run('kubectl exec pod-a -- traceroute -n 10.244.9.9');
    expect(hops(t.stdout)).toEqual(['10.244.9.9', '10.244.9.9', '10.244.9.9']);
    expect(captured(t.stdout).map((l) => l.replace(/10\.244\.9\.9/g, 'VIP').replace(/10\.244\.1\.4/g, 'SENDER'))).toEqual(kernelPackets.slice(0, 3));
  });

  it('likewise when the host of a bridge DNATs to a namespace on it (bridged DNAT): the port unreachable comes from the address asked for', () => {
    const k = recorded('(c) P1: traceroute');
    expect(hops(k.join('\n'))).toEqual(['10.0.8.8']);
    const kernelPackets = packets(recorded('(c) tcpdump')).map((l) => l.replace(/10\.0\.8\.8/g, 'VIP').replace(/10\.0\.5\.2/g, 'SENDER'));
    expect(kernelPackets[0]).toBe('VIP > SENDER: ICMP VIP udp port 33434 unreachable, length 68');
    // podnet: node-1 DNATs 10.244.8.8 to pod-b, on pod-a's bridge.
    const s = dnatLab('10.244.8.8', '10.244.1.5');
    const t = s.run('kubectl exec pod-a -- traceroute -n 10.244.8.8');
    expect(hops(t.stdout)).toEqual(['10.244.8.8']);
    expect(captured(t.stdout).map((l) => l.replace(/10\.244\.8\.8/g, 'VIP').replace(/10\.244\.1\.4/g, 'SENDER'))).toEqual(kernelPackets.slice(0, 1));
    // Its echo reply, translated back as any reply, comes from the same address (the kernel: ping's reply from 10.0.9.9).
    expect(s.run('kubectl exec pod-a -- ping -c 1 10.244.8.8').stdout).toContain('64 bytes from 10.244.8.8: icmp_seq=1');
  });
});
