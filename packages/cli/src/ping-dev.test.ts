import { describe, expect, it } from 'vitest';
import { recordedCases, type RecordedStep } from './__fixtures__/recording.js';
import { onNode, POD_A_NS } from './__fixtures__/shells.js';

/**
 * What iputils ping did with `-I DEV|ADDRESS` and what `ip route get` answered with `oif`, `from`, `iif`,
 * `mark` and `fibmatch` (Linux 6.18, iproute2 6.1, iputils 20221126; scripts/ping-dev-formats.sh): per case,
 * the commands run in namespaces that are the lab's node-1 and pod-a with their own addresses, in order,
 * each with its output and exit status.
 */
const cases = recordedCases('ping-dev-formats.txt');

function steps(id: string): RecordedStep[] {
  const got = cases.get(id);
  if (got === undefined) throw new Error(`no case (${id}) in the recording`);
  return got;
}

function lines(t: string): string[] {
  return t.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
}

/**
 * Where the kernel's answer came from something podnet does not model, what is compared: ping's first line
 * and its exit status (`-W 1` ended the kernel's ping before the failed ARP answered; podnet has no -W and
 * reports the failure: `From … Destination Host Unreachable`), or of `ip neigh show` the destination's entry
 * (the lab's node has its own pods' entries; podnet keeps no INCOMPLETE state, only FAILED).
 */
function pick(cmd: string, t: string, recorded: string): string[] {
  // The recording's 10.244.2.3 sits on the node's flannel.1 peer, one hop nearer than the lab's pod on node-2.
  const l = lines(t).map((x) => (x.startsWith('64 bytes from 10.244.2.3') ? x.replace(/ttl=\d+$/, 'ttl=N') : x));
  if (/^(ip netns exec \S+ )?ping /.test(cmd) && lines(recorded).some((x) => x.includes('0 received'))) return l.filter((x) => x.startsWith('PING ') || x.startsWith('ping: '));
  if (cmd.includes('ip neigh show')) return l.filter((x) => x.startsWith('10.244.2.3 ')).map((x) => x.replace(/ INCOMPLETE$/, ' FAILED').replace(/ dev \S+/, ''));
  return l;
}

/** Replays a case on a new lab, from node-1 (`ip netns exec pod-a` in pod-a): every exit status, and what {@link pick} keeps. */
function replay(id: string): void {
  const s = onNode();
  for (const { cmd, text, status } of steps(id)) {
    const line = cmd.replace('ip netns exec pod-a ', `ip netns exec ${POD_A_NS} `);
    const o = s.run(line);
    const ours = o.stderr + o.stdout;
    expect(o.status, `(${id}) ${cmd}: ${ours}`).toBe(status);
    expect(pick(cmd, ours, text), `(${id}) ${cmd}`).toEqual(pick(cmd, text, text));
  }
}

describe('ping -I and ip route get oif|from|iif|mark|fibmatch replay the kernel (ping-dev-formats.txt)', () => {
  it('(a) ping -I DEV names the device and its source; -I ADDRESS binds it; a missing one is refused with exit 2', () => replay('a'));
  it('(b) ping -I DEV through another device than the route\'s: on-link there, no reply', () => replay('b'));
  it('(c) ping -I DEV to an own address: local only through the address\'s own device', () => replay('c'));
  it('(d) ping -I a device that is down: connect: Network is unreachable', () => replay('d'));
  it('(e) ping -I in a pod', () => replay('e'));
  it('(f) ip route get … oif DEV', () => replay('f'));
  it('(g) ip route get … from SRC', () => replay('g'));
  it('(h) ip route get … from SRC selects ip rules', () => replay('h'));
  it('(i) ip route get … iif DEV: forwarding, local input, martians, rp_filter, ip_forward', () => replay('i'));
  it('(j) ip route get … mark N, fibmatch', () => replay('j'));
});
