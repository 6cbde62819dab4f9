import fc from 'fast-check';
import { icmpEcho, parseIpv4 } from '@podnet/core';
import { describe, expect, it } from 'vitest';
import { recordedCases, type RecordedStep } from './__fixtures__/recording.js';
import { onNode, POD_A_NS } from './__fixtures__/shells.js';

/**
 * What the kernel did with `ip route append|prepend|change`, `ip addr replace|change` and the flush verbs
 * (Linux 6.18, iproute2 6.1; scripts/route-verbs-formats.sh): per case (`### (x) …`), the commands run in
 * namespace A (`== ip …`, `== ping X`) in order, each with its output and exit status.
 */
const cases = recordedCases('route-verbs-formats.txt');

/**
 * The recording's namespace A as node-1: d1 (192.0.2.1/24, its peer .4) as cni0 (10.244.1.1/24, pod-a at .4),
 * d2 (198.51.100.11/24, its peer .1, A's default route through it) as eth0 (192.168.1.11/24, the router .1).
 * The last octets .5, .6 and .7 of 192.0.2.0/24 become .55, .56 and .77 (pod-b is 10.244.1.5). 172.2x.0.0/16,
 * 203.0.113.0/24 and 8.8.8.8 are no prefix of the lab's.
 */
function map(t: string): string {
  return t.replace(/192\.0\.2\.(\d+)/g, (_, o: string) => `10.244.1.${OCTETS[o] ?? o}`)
    .replace(/198\.51\.100\./g, '192.168.1.')
    .replace(/\bd1\b/g, 'cni0').replace(/\bd2\b/g, 'eth0');
}
const OCTETS: Record<string, string> = { 5: '55', 6: '56', 7: '77' };

/** The cases' promote_secondaries, as their `fresh` set it (null: the lab's own, 1). */
const PROMOTE: Record<string, 0 | 1 | null> = { i: 0, j: 1, j2: 0 };

function lines(t: string): string[] {
  return t.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
}

/** A route line's destination (after its type word, if any): routes of one destination keep their order. */
function dstOf(l: string): string {
  const w = l.split(' ');
  return ['unicast', 'blackhole', 'unreachable', 'prohibit', 'local', 'broadcast'].includes(w[0]!) ? w[1]! : w[0]!;
}

/**
 * What a step prints that podnet models, comparable between the two: of `ip route [show …]`, the rows not
 * through flannel.1 (the lab's own), each destination's rows in their order (the kernel lists prefixes in
 * address order, which the mapping changes); of `ip neigh show`, the rows not on flannel.1 as a set (the
 * kernel lists by hash), the MAC masked, INCOMPLETE as FAILED (podnet keeps no INCOMPLETE state: a resolution
 * that got no answer is FAILED at once); of `ip -4 addr show`, its `inet` lines without `brd` (iproute2 prints
 * it when the address was given one, podnet for every global address); anything else whole.
 */
function pick(cmd: string, t: string): string[] {
  const w = cmd.split(' ');
  if (w[0] === 'ip' && w[1] === '-d') w.splice(1, 1);
  if (w[0] === 'ip' && w[1] === 'route' && (w.length === 2 || w[2] === 'show')) {
    const rows = lines(t).filter((l) => !l.includes(' dev flannel.1'));
    return rows.map((l, i) => ({ l, i })).sort((a, b) => (dstOf(a.l) < dstOf(b.l) ? -1 : dstOf(a.l) > dstOf(b.l) ? 1 : a.i - b.i)).map((x) => x.l);
  }
  if (w[0] === 'ip' && w[1] === 'neigh' && w[2] === 'show') {
    return lines(t).filter((l) => !l.includes(' dev flannel.1')).map((l) => l.replace(/lladdr \S+ (REACHABLE|STALE)/, 'lladdr MAC $1').replace(/ INCOMPLETE$/, ' FAILED')).sort();
  }
  if (w[1] === '-4' && w[2] === 'addr') return lines(t).filter((l) => l.startsWith('    inet ')).map((l) => l.replace(/ brd \S+/, ''));
  return lines(t);
}

/** Replays steps of a case on a new lab: every command's exit status, and what {@link pick} keeps of its output. */
function replay(id: string, steps: readonly RecordedStep[], promote = PROMOTE[id] ?? null): ReturnType<typeof onNode> {
  const s = onNode();
  if (promote !== null) expect(s.run(`sysctl -w net.ipv4.conf.all.promote_secondaries=${promote}`).status).toBe(0);
  for (const { cmd, text, status } of steps) {
    const line = map(cmd);
    const o = s.run(line.startsWith('ping ') ? `ping -c 1 -W 1 ${line.slice(5)}` : line);
    const ours = o.stdout + o.stderr;
    expect(o.status, `(${id}) ${line}: ${ours}`).toBe(status);
    if (line.startsWith('ping ')) continue;
    expect(pick(line, ours), `(${id}) ${line}`).toEqual(pick(line, map(text)));
  }
  return s;
}

function steps(id: string): RecordedStep[] {
  const got = cases.get(id);
  if (got === undefined) throw new Error(`no case (${id}) in the recording`);
  return got;
}

/** The steps of a case up to (not with) the first whose command matches `re`. */
function until(id: string, re: RegExp): RecordedStep[] {
  const all = steps(id);
  const at = all.findIndex((x) => re.test(x.cmd));
  if (at < 0) throw new Error(`(${id}) has no step ${re}`);
  return all.slice(0, at);
}

describe('route, address and neighbour verbs replay the kernel (route-verbs-formats.txt)', () => {
  it('(a) append: listed after the first of its prefix and metric; lookups and del take the first; duplicates refused', () => replay('a', steps('a')));
  it('(b) prepend: listed before the first, used by lookups; del with via deletes its own', () => replay('b', steps('b')));
  it('(c) change: replaces the first, never creates (No such file or directory), refuses the second\'s twin', () => replay('c', steps('c')));
  it('(d) append after an address\'s prefix route: listed and looked up after it, del takes the prefix route', () => replay('d', steps('d')));
  it('(e) route flush by dev, table, prefix, root, proto, type; errors; -s counts', () => replay('e', steps('e')));
  it('(f) route flush by via, scope link (the prefix routes too), proto kernel', () => replay('f', steps('f')));
  it('(m) route show with selectors leaves out what a selector fixed; ip -d route prints type, proto and scope', () => replay('m', steps('m')));
  it('(g) addr replace and change of an address that is there change nothing podnet models', () => {
    const s = replay('g', until('g', / metric 50$/));
    // The rest of the case: `label` and `broadcast` are left as they are on an existing address (measured: the
    // same `inet` line after them); `metric` the kernel puts on the prefix route, which podnet does not model.
    const before = s.run('ip -4 addr show dev cni0').stdout;
    expect(s.run('ip addr change 10.244.1.1/24 dev cni0 label cni0:x').status).toBe(0);
    expect(s.run('ip addr replace 10.244.1.1/24 dev cni0 broadcast 10.244.1.127').status).toBe(0);
    expect(s.run('ip -4 addr show dev cni0').stdout).toBe(before);
    const m = s.run('ip addr replace 10.244.1.1/24 dev cni0 metric 50');
    expect(m.status).toBe(255);
    expect(m.stderr).toContain('podnet does not model "metric"');
    expect(s.run('ip -4 addr show dev cni0').stdout).toBe(before);
  });
  it('(h) addr replace and change of an address that is not there add it (a secondary of a prefix there)', () => {
    // Up to `ip addr change 192.0.2.1/25`: the kernel adds a second entry of one address with another length,
    // which podnet refuses (one entry per address: addr.add's ADDRESS_EXISTS); then the errors.
    const s = replay('h', until('h', /192\.0\.2\.1\/25/));
    const other = s.run('ip addr change 10.244.1.1/25 dev cni0');
    expect(other.status).toBe(2);
    expect(other.stderr).toBe('RTNETLINK answers: File exists\n');
    for (const x of steps('h').slice(-2)) {
      const o = s.run(map(x.cmd));
      expect([o.status, o.stdout + o.stderr], map(x.cmd)).toEqual([x.status, map(x.text)]);
    }
  });
  it('(i) addr flush dev: every address; with the last, the routes through the device and its neighbours', () => replay('i', steps('i')));
  it('(i2) addr del of the last address takes the routes through the device, in every table, and its neighbours', () => replay('i2', steps('i2')));
  it('(j) addr flush with promote_secondaries 1 (-s counts 4), and with secondary and to selectors', () => {
    const all = steps('j');
    const cut = all.findIndex((x, k) => k > 0 && x.cmd === 'ip addr add 192.0.2.5/24 dev d1');
    replay('j', all.slice(0, cut));
    replay('j2', all.slice(cut));
  });
  it('(k) neigh flush: all but permanent entries; nud permanent, nud all; errors; -s counts', () => replay('k', steps('k')));
});

describe('bridge fdb flush replays the kernel (route-verbs-formats.txt, case l)', () => {
  it('(l) a bridge\'s entries by state, a port\'s with master, a VXLAN device\'s; without its own MAC the bridge loses its pods', () => {
    const s = onNode();
    const mac = (cmd: string): string => s.run(cmd).stdout.trim().split(/\s+/)[2]!;
    // The recording's br0 (02:00:00:00:00:b0), its port d3 and d3's peer e3 as cni0, pod-a's veth and pod-a.
    const cni0 = mac('ip -br link show dev cni0');
    // pod-a's port: the veth whose peer is in pod-a's namespace (`ip link` names it after link-netns).
    const link = s.run('ip link').stdout.split('\n');
    const veth = /^\d+: (veth\w+)@/.exec(link[link.findIndex((l) => l.includes(`link-netns ${POD_A_NS}`)) - 1]!)![1]!;
    const vethMac = mac(`ip -br link show dev ${veth}`);
    const podMac = mac(`ip netns exec ${POD_A_NS} ip -br link show dev eth0`);
    const mapL = (t: string): string => t.replace(/02:00:00:00:00:b0/g, cni0).replace(/D3MAC/g, vethMac).replace(/E3MAC/g, podMac)
      .replace(/\bbr0\b/g, 'cni0').replace(/\bd3\b/g, veth).replace(/\bvx\b/g, 'flannel.1')
      .replace(/10\.9\.0\./g, '10.244.1.').replace(/198\.51\.100\./g, '192.168.1.');
    // What podnet models of `bridge fdb show`: the bridge's entries (` master `) of cni0 and of pod-a's port;
    // the other rows are the devices' multicast lists (IPv6's among them, which podnet has not).
    const rows = (t: string): string[] => lines(t).filter((l) => / master /.test(l) && (l.includes(' dev cni0 ') || l.includes(` dev ${veth} `)));
    let compared = 0;
    for (const { cmd, text, status } of steps('l')) {
      const line = mapL(cmd);
      const o = line.startsWith('peer ping ') ? s.run(`ip netns exec ${POD_A_NS} ping -c 1 -W 1 ${line.slice(10)}`) : s.run(line);
      expect(o.status, `(l) ${line}: ${o.stdout}${o.stderr}`).toBe(status);
      if (line.startsWith('peer ping ')) continue;
      if (line.includes(' show')) {
        expect(rows(o.stdout), `(l) ${line}`).toEqual(rows(mapL(text)));
        compared += rows(o.stdout).length;
      }
      else expect(o.stdout + o.stderr, `(l) ${line}`).toBe(mapL(text));
    }
    // The entries compared, summed over the listings: 4, 3, 3, 1, 2, 0 and 1 in the recording.
    expect(compared).toBe(14);
  });
});

describe('route verbs: what the recording does not show', () => {
  it('a refused verb leaves the table as it was', () => {
    const s = onNode();
    s.run('ip route add 172.20.0.0/16 via 10.244.1.4');
    s.run('ip route append 172.20.0.0/16 via 192.168.1.1');
    const before = s.run('ip route').stdout;
    for (const cmd of ['ip route append 172.20.0.0/16 via 192.168.1.1', 'ip route prepend 172.20.0.0/16 via 10.244.1.4', 'ip route change 172.20.0.0/16 via 192.168.1.1', 'ip route change 172.21.0.0/16 dev cni0']) {
      expect(s.run(cmd).status, cmd).toBe(2);
      expect(s.run('ip route').stdout, cmd).toBe(before);
    }
  });
  it('packets take the route a lookup answers: the first of an appended pair, the next once it is deleted', () => {
    const s = onNode();
    s.run('ip route add 172.20.0.0/16 via 10.244.1.4');
    s.run('ip route append 172.20.0.0/16 via 192.168.1.1');
    // pod-b's echo to 172.20.0.9, forwarded by node-1: the hop's note names the route it took.
    const hop = (): string => s.sim.send('pod-b', icmpEcho(parseIpv4('172.20.0.9'))).steps.find((x) => x.packet === 1 && x.ns === 'node/node-1' && x.kind === 'forward')!.note;
    expect(hop()).toContain('by 172.20.0.0/16 via 10.244.1.4 dev cni0');
    expect(s.run('ip route get 172.20.0.9').stdout).toContain('via 10.244.1.4 dev cni0');
    s.run('ip route del 172.20.0.0/16');
    expect(hop()).toContain('by 172.20.0.0/16 via 192.168.1.1 dev eth0');
    // Appended after cni0's prefix route: node-1's own packets to the prefix still leave by cni0, until the
    // prefix route is deleted (the first of the two).
    s.run('ip route append 10.244.1.0/24 via 192.168.1.1');
    const own = (): string => s.sim.send('node-1', icmpEcho(parseIpv4('10.244.1.77'))).steps.find((x) => x.packet === 1 && x.kind === 'route')!.note;
    expect(own()).toContain('10.244.1.0/24 dev cni0');
    s.run('ip route del 10.244.1.0/24');
    expect(own()).toContain('10.244.1.0/24 via 192.168.1.1 dev eth0');
  });
  it('a flush of a shared peer-set route (flannel\'s) hides it on this node alone', () => {
    const s = onNode();
    expect(s.run('ip route flush dev flannel.1').status).toBe(0);
    expect(s.run('ip route').stdout).not.toContain('flannel.1');
    const other = onNode();
    expect(other.run('ip route').stdout).toContain('10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink');
  });
  it('neigh flush nud permanent takes the shared peer-set neighbours here too (ip neigh del does the same)', () => {
    const s = onNode();
    // Filtered by device, each line leaves `dev` out (ping-dev-formats.txt: `ip neigh show dev cni0`).
    expect(s.run('ip neigh show dev flannel.1').stdout).toBe('10.244.2.0 lladdr 5a:bd:d3:65:b2:19 PERMANENT\n10.244.3.0 lladdr 5a:bd:d1:d2:c8:84 PERMANENT\n');
    expect(s.run('ip neigh flush dev flannel.1').stdout).toBe('');
    expect(s.run('ip neigh show dev flannel.1').stdout).toContain('PERMANENT');
    expect(s.run('ip -s neigh flush dev flannel.1 nud permanent').stdout).toBe('\n*** Round 1, deleting 2 entries ***\n*** Flush is complete after 1 round ***\n');
    expect(s.run('ip neigh show dev flannel.1').stdout).toBe('');
  });
  it('without CAP_NET_ADMIN the verbs are refused', () => {
    const s = onNode(false);
    for (const cmd of ['ip route append 172.20.0.0/16 via 10.244.1.4', 'ip route flush dev eth0', 'ip addr replace 10.244.1.1/24 dev cni0', 'ip neigh flush all']) {
      expect(s.run(cmd).stderr, cmd).toBe('RTNETLINK answers: Operation not permitted\n');
    }
  });
});

describe('route verbs: properties', () => {
  const gateways = ['10.244.1.4', '10.244.1.5', '192.168.1.1', '192.168.1.12'];
  it('append then del of the appended route gives back the same ip route and the same lookups', () => {
    fc.assert(fc.property(
      fc.array(fc.constantFrom(...gateways), { minLength: 0, maxLength: 3 }), fc.constantFrom(...gateways), fc.constantFrom('append', 'prepend'),
      (first, extra, verb) => {
        const s = onNode();
        for (const g of first) s.run(`ip route append 172.20.0.0/16 via ${g}`);
        const before = [s.run('ip route').stdout, s.run('ip route get 172.20.0.9').stdout];
        const added = s.run(`ip route ${verb} 172.20.0.0/16 via ${extra}`);
        if (first.includes(extra)) {
          // The same route again: File exists, and nothing changed.
          expect(added.stderr).toBe('RTNETLINK answers: File exists\n');
        } else {
          expect(added.status).toBe(0);
          expect(s.run(`ip route del 172.20.0.0/16 via ${extra}`).status).toBe(0);
        }
        expect([s.run('ip route').stdout, s.run('ip route get 172.20.0.9').stdout]).toEqual(before);
      },
    ), { numRuns: 40 });
  });
  it('ip route get answers the first route ip route lists for the prefix', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom('append', 'prepend'), fc.constantFrom(...gateways)), { minLength: 1, maxLength: 5 }), (ops) => {
      const s = onNode();
      for (const [verb, g] of ops) s.run(`ip route ${verb} 172.20.0.0/16 via ${g}`);
      const first = s.run('ip route').stdout.split('\n').find((l) => l.startsWith('172.20.0.0/16 '))!;
      const via = / via (\S+) dev (\S+)/.exec(first)!;
      expect(s.run('ip route get 172.20.0.9').stdout).toContain(`172.20.0.9 via ${via[1]} dev ${via[2]} `);
    }), { numRuns: 40 });
  });
});
