import { describe, expect, it } from 'vitest';
import { recordedCases } from './__fixtures__/recording.js';
import { POD_A_NS } from './__fixtures__/shells.js';
import { createSession } from './index.js';

/**
 * What a VXLAN device did with packets that fit it but not, encapsulated, the underlay (Linux 6.18;
 * scripts/vxlan-pmtu.sh): two flannel-like nodes, n1's eth0 at MTU 1400, flannel.1 at 1450.
 */
const cases = recordedCases('vxlan-pmtu.txt');

/** The recording's names and addresses as the seed lab's: n1 is node-1, p1 pod-a, p2 pod-c (on node-2). */
const map = (t: string): string => t
  .replace(/10\.9\.2\.4\b/g, '10.244.2.3').replace(/10\.9\.(\d)\.(\d)\b/g, '10.244.$1.$2')
  .replace(/expires \d+sec/g, 'expires Nsec')
  // The lab's ping prints no round-trip times (docs/lab-shell.md).
  .replace(/ time=T ms/g, '');

/**
 * Replays case `id` in the seed lab with node-1's eth0 at MTU 1400 (as n1's), from a root shell on node-1: `n1
 * CMD` there, `p1 CMD` in pod-a's namespace. Every command's exit status and output are compared, but for the
 * recording's tcpdump captures and counters (`ip -s link`), which other tests pin.
 */
function replay(id: string): void {
  const s = createSession();
  s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin');
  s.run('chroot /host');
  expect(s.run('ip link set eth0 mtu 1400').status).toBe(0);
  for (const { cmd, text, status } of cases.get(id)!) {
    const [where, ...rest] = map(cmd).split(' ');
    if (where === 'tcpdump' || (rest[0] === 'ip' && rest[1] === '-s')) continue;
    const line = rest.join(' ');
    const o = s.run(where === 'p1' ? `ip netns exec ${POD_A_NS} ${line}` : line);
    const ours = (o.stdout + o.stderr).replace(/, time \d+ms/, '').replace(/^rtt .*$/m, '').replace(/expires \d+sec/g, 'expires Nsec');
    const lines = (t: string) => t.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
    expect(o.status, `(${id}) ${where} ${line}: ${ours}`).toBe(status);
    expect(lines(ours), `(${id}) ${where} ${line}`).toEqual(lines(map(text)));
  }
}

describe('a VXLAN device teaches the inner route the underlay\'s MTU (vxlan-pmtu.txt)', () => {
  it('(a) from the node: the first request leaves fragmented and teaches mtu 1350, the next fail locally', () => replay('a'));
  it('(b) from a pod: the node learns the exception, forwarding ignores it, the pod learns nothing', () => replay('b'));
  it('(c) without DF: the same exception on the node', () => replay('c'));
});
