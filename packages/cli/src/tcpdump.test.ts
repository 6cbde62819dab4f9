import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSession } from './index.js';

/** Real tcpdump on a VXLAN ping between two namespaces (scripts/tcpdump-formats.sh), by section. */
const real = (() => {
  const sections = new Map<string, string[]>();
  let cur: string[] = [];
  for (const line of readFileSync(join(__dirname, '__fixtures__', 'tcpdump-formats.txt'), 'utf8').split('\n')) {
    const m = /^== (.*)$/.exec(line);
    if (m) sections.set(m[1]!, (cur = []));
    else if (line) cur.push(line);
  }
  return sections;
})();

/** What differs between runs: times, MACs, source ports, echo identifiers. */
const shape = (l: string) => l
  .replace(/^\d\d:\d\d:\d\d\.\d{6} /, 'T ')
  .replace(/([0-9a-f]{2}:){5}[0-9a-f]{2}/g, 'MAC')
  .replace(/\.\d+ > (\S+)\.8472/, '.PORT > $1.8472')
  .replace(/id \d+/, 'id N');

describe('tcpdump lines match real tcpdump -n', () => {
  it('node-1 pings node-2\'s flannel.1: ARP, then VXLAN decoded as OTV with the inner packet, on eth0 and flannel.1', () => {
    const s = createSession();
    s.run('kubectl debug node/node-2 -it --image=nicolaka/netshoot');
    const started = s.run('tcpdump -n -i eth0 -c 4 arp or udp &');
    expect(started.stderr).toBe(real.get('stderr')!.slice(0, 2).map((l) => `${l}\n`).join(''));
    s.run('tcpdump -n -i flannel.1 -c 2 icmp &');
    s.run('exit');
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot');
    const r = s.run('ping -c 1 10.244.2.0');
    const lines = r.stdout.split('\n').filter((l) => /^\d\d:\d\d|^IP /.test(l));
    const under = real.get('tcpdump -n -i eth0 arp or udp (underlay)')!;
    const vx = real.get('tcpdump -n -i flannel.1 icmp')!;
    // Two captures print in wire-time order, interleaved as two terminals would show them.
    expect(lines.map(shape).filter((l) => l.includes('OTV') || l.startsWith('T ARP') || !l.startsWith('T '))).toEqual(under.map(shape));
    expect(lines.map(shape).filter((l) => l.startsWith('T IP 10.'))).toEqual(vx.map(shape));
    expect(r.stdout).toMatch(/\[1\]- {2}Done {20}tcpdump -n -i eth0 -c 4 arp or udp\n\[2\]\+ {2}Done {20}tcpdump -n -i flannel\.1 -c 2 icmp\n$/);
    expect(r.stderr).toBe(`${real.get('stderr')!.slice(2).join('\n')}\n2 packets captured\n2 packets received by filter\n0 packets dropped by kernel\n`);
  });
});
