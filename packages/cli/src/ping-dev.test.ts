import { icmpEcho, isPodnetError, parseIpv4, ping, routeGet, send } from '@podnet/core';
import { seedLabSpec, simulatorFromSpec } from '@podnet/cni';
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

/** The code of the podnet error `f` throws (a test fails when it throws none). */
function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isPodnetError(e)) return e.code;
    throw e;
  }
  throw new Error('no error thrown');
}

describe('what podnet does not model is refused, not answered as if the word were not there', () => {
  it('ip route get … tos|uid|vrf: exit 255 with the words podnet models', () => {
    const s = onNode();
    for (const w of ['tos 0x10', 'uid 1000', 'vrf blue']) {
      const o = s.run(`ip route get 10.244.2.3 ${w}`);
      expect({ status: o.status, stderr: o.stderr }, w).toEqual({ status: 255, stderr: `Error: argument "${w.split(' ')[0]}" is wrong: podnet models ip route get with from, iif, oif, mark and fibmatch\n` });
    }
  });
});

describe('the core API behind them: routeGet, ping device|source', () => {
  const sim = simulatorFromSpec(seedLabSpec());
  const node = 'node/node-1';

  it('routeGet answers a tagged union: the route and its table, a local address, or the kernel\'s errno', () => {
    const r = routeGet(sim.state, node, '10.244.2.3');
    expect(r.kind === 'route' && { dev: r.route.dev, table: r.table, guessed: r.guessed }).toEqual({ dev: 'flannel.1', table: 254, guessed: false });
    const bound = routeGet(sim.state, node, '10.244.2.3', { oif: 'cni0' });
    expect(bound.kind === 'route' && { dev: bound.route.dev, via: bound.route.via, guessed: bound.guessed }).toEqual({ dev: 'cni0', via: null, guessed: true });
    expect(routeGet(sim.state, node, '192.168.1.11', { oif: 'eth0' }).kind).toBe('local');
    expect(routeGet(sim.state, node, '192.168.1.11', { oif: 'cni0' }).kind).toBe('route');
    expect(routeGet(sim.state, node, '10.244.2.3', { from: '10.9.9.9' })).toMatchObject({ kind: 'refused', errno: 'ENETUNREACH' });
    expect(routeGet(sim.state, node, '10.244.2.3', { iif: 'cni0' })).toMatchObject({ kind: 'refused', errno: 'EINVAL' });
    const fwd = routeGet(sim.state, node, '10.244.2.3', { iif: 'cni0', from: '10.244.1.4', oif: 'eth0' });
    expect(fwd.kind === 'route' && { dev: fwd.route.dev, iif: fwd.iif }).toEqual({ dev: 'flannel.1', iif: 'cni0' });
  });

  it('routeGet refuses bad input with a typed error, the state unchanged', () => {
    const before = sim.state;
    expect(codeOf(() => routeGet(sim.state, node, '10.244.2.3', { oif: 'nosuchdev' }))).toBe('LINK_NOT_FOUND');
    expect(codeOf(() => routeGet(sim.state, node, '10.244.2.3', { iif: 'constructor' }))).toBe('LINK_NOT_FOUND');
    expect(codeOf(() => routeGet(sim.state, node, '10.244.2.300'))).toBe('INVALID_IP');
    expect(codeOf(() => routeGet(sim.state, node, '10.244.2.3', { from: 'x' }))).toBe('INVALID_IP');
    expect(codeOf(() => routeGet(sim.state, 'node/nope', '10.244.2.3'))).toBe('NAMESPACE_NOT_FOUND');
    expect(codeOf(() => routeGet(sim.state, node, '10.244.2.3', null as never))).toBe('INVALID_ARGUMENT');
    expect(sim.state).toBe(before);
  });

  it('ping binds a device or a source: the route through the device, the first line naming them; bad ones are typed errors', () => {
    const viaCni0 = ping(sim.state, 'node-1', '10.244.2.3', { device: 'cni0' }).result;
    expect(viaCni0.lines[0]).toBe('PING 10.244.2.3 (10.244.2.3) from 10.244.1.1 cni0: 56(84) bytes of data.');
    expect({ received: viaCni0.received, source: viaCni0.source }).toEqual({ received: 0, source: '10.244.1.1' });
    expect(ping(sim.state, 'node-1', '10.244.2.3', { device: 'flannel.1' }).result.received).toBe(1);
    const bound = ping(sim.state, 'pod-a', '10.244.2.3', { source: '10.244.1.4' }).result;
    expect({ first: bound.lines[0], received: bound.received }).toEqual({ first: 'PING 10.244.2.3 (10.244.2.3) from 10.244.1.4 : 56(84) bytes of data.', received: 1 });
    expect(ping(sim.state, 'node-1', '10.244.2.3').result.source).toBeNull();
    expect(codeOf(() => ping(sim.state, 'node-1', '10.244.2.3', { device: 'nosuchdev' }))).toBe('LINK_NOT_FOUND');
    expect(codeOf(() => ping(sim.state, 'node-1', '10.244.2.3', { source: '10.9.9.9' }))).toBe('ADDRESS_NOT_FOUND');
    expect(codeOf(() => ping(sim.state, 'node-1', '10.244.2.3', { source: '10.244.1.1', device: 'cni0' }))).toBe('INVALID_ARGUMENT');
  });

  it('send with oif routes the packet sent through that device alone, and only that packet', () => {
    const out = (oif?: string) => send(sim.state, node, icmpEcho(parseIpv4('10.244.2.3')), oif === undefined ? {} : { oif });
    // Unbound and bound to flannel.1 the echo is answered; the reply is routed as usual back to node-1.
    expect(out().trace.fates.some((f) => f.role === 'echo-reply' && f.disposition === 'delivered')).toBe(true);
    expect(out('flannel.1').trace.fates.some((f) => f.role === 'echo-reply' && f.disposition === 'delivered')).toBe(true);
    expect(out('cni0').trace.disposition).toBe('neighbourUnreachable');
    expect(out('lo').trace.disposition).toBe('notForUs');
    expect(codeOf(() => out('nosuchdev'))).toBe('LINK_NOT_FOUND');
  });
});
