/**
 * Interface and rule counters against the kernel's (scripts/counters-formats.sh, the seed lab built by hand in
 * namespaces with podnet's MACs and veth names, IPv6 off; fixture __fixtures__/counters-formats.txt):
 * - the deltas each scenario moved on every device and iptables rule, replayed in the same order on podnet's
 *   seed lab (the wire's own devices, br0 and its ports, are podnet's underlay segment, which has none);
 * - the formats of `ip -s link`, `ip -s -s link`, `iptables -L -v` (with -x, -n, --line-numbers), `-S -v`,
 *   `-Z`, `iptables-save -c`, and iptables' K/M rounding of wide numbers.
 * Where the kernel counted what podnet does not model, the test says what and removes exactly that.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { devCountersOf, getNs, type DevCounters, type Link, type NsCounters } from '@podnet/core';
import { describe, expect, it } from 'vitest';
import { iptablesNum } from './iptables.js';
import { statsLines } from './link-stats.js';
import { createSession, type Session } from './index.js';

const sections = (() => {
  const text = readFileSync(join(__dirname, '__fixtures__', 'counters-formats.txt'), 'utf8');
  const out: { title: string; lines: string[] }[] = [];
  for (const line of text.split('\n')) {
    const m = /^== (.*)$/.exec(line);
    if (m) out.push({ title: m[1]!, lines: [] });
    else if (out.length) out.at(-1)!.lines.push(line);
  }
  for (const s of out) while (s.lines.at(-1) === '') s.lines.pop();
  return out;
})();
const section = (title: string, nth = 0): string[] => {
  const all = sections.filter((s) => s.title === title);
  if (!all[nth]) throw new Error(`no section ${title} (${nth})`);
  return all[nth]!.lines;
};

/** The kernel namespaces' names → podnet's namespace ids. */
const NS: Readonly<Record<string, string>> = {
  n1: 'node/node-1', n2: 'node/node-2', n3: 'node/node-3',
  pa: 'pod/default/pod-a', pb: 'pod/default/pod-b', pc: 'pod/default/pod-c', pd: 'pod/default/pod-d', pe: 'pod/default/pod-e', pf: 'pod/default/pod-f',
};

/** Every device's counters of the seed lab, by "ns dev" in the kernel's names. */
function snapshot(s: Session): Map<string, DevCounters> {
  const m = new Map<string, DevCounters>();
  for (const [k, id] of Object.entries(NS)) {
    const c = s.sim.counters(id);
    for (const l of Object.values(getNs(s.sim.state, id).links)) m.set(`${k} ${l.name}`, devCountersOf(c, l));
  }
  return m;
}

/** The non-zero rule and policy counters of node-1 and node-2, as the script printed them (`iptables-save -c`). */
function ruleLines(s: Session): string[] {
  const out: string[] = [];
  for (const n of ['n1', 'n2']) {
    const text = onNodeRun(s, NS[n]!.slice(5), 'iptables-save -c');
    for (const l of text.split('\n')) if (!l.startsWith('#') && l.includes('[') && !l.includes('[0:0]')) out.push(`${n} ${l}`);
  }
  return out;
}

function onNodeRun(s: Session, node: string, line: string): string {
  s.run(`kubectl debug node/${node} -it --image=nicolaka/netshoot --profile=sysadmin`);
  s.run('chroot /host');
  const r = s.run(line);
  s.run('exit');
  s.run('exit');
  return r.stdout;
}

/** The script's `delta`: zero node-1's and node-2's rules, run, and print what moved. */
function delta(s: Session, run: () => void): string[] {
  for (const n of ['node-1', 'node-2']) for (const t of ['filter', 'nat'] as const) s.sim.zeroCounters(n, t);
  const a = snapshot(s);
  run();
  const b = snapshot(s);
  const lines: string[] = [];
  for (const [k, v] of b) {
    const w = a.get(k)!;
    const d = [v.rxPackets - w.rxPackets, v.rxBytes - w.rxBytes, v.rxDropped - w.rxDropped, v.txPackets - w.txPackets, v.txBytes - w.txBytes, v.txDropped - w.txDropped];
    if (d.some((x) => x !== 0)) lines.push(`${k} rx ${d[0]} ${d[1]} ${d[2]} tx ${d[3]} ${d[4]} ${d[5]}`);
  }
  return [...lines, ...ruleLines(s)];
}

/** The kernel's delta lines of a scenario, without the wire's devices, with `fix` applied to what podnet does not model. */
function kernelDelta(title: string, fix: Readonly<Record<string, string | null>> = {}): string[] {
  const lines = section(`delta ${title}`).filter((l) => !l.startsWith('wire '));
  const out: string[] = [];
  for (const l of lines) {
    const key = Object.keys(fix).find((k) => l.startsWith(k));
    if (key === undefined) out.push(l);
    else if (fix[key] !== null) out.push(fix[key]!);
  }
  return out;
}

const byText = (a: string[]): string[] => [...a].sort();

describe('what each device and rule counts, replayed from the kernel (the script\'s scenarios, in its order)', () => {
  it('pings, a traceroute, a TTL 1 drop and a DROP rule move podnet\'s counters as they moved the kernel\'s', () => {
    const s = createSession();
    const sim = s.sim;
    // Hairpin: flannel's bridge plugin sets hairpin mode on cni0's ports, so the kernel's cni0 floods a pod's
    // ARP broadcast back to it (pod-a received its own 42-byte request: rx 3). A podnet whose bridge does not
    // model hairpin mode (the link has no `hairpin` flag, or it is off) sends no such copy: then, and only then,
    // that copy is taken out of the kernel's.
    const port = getNs(sim.state, 'node/node-1').links['veth19fd34b4'] as Link & { hairpin?: boolean };
    const hairpin = port.hairpin === true ? {} : { 'pa eth0 rx 3 182 0 tx 2 140 0': 'pa eth0 rx 2 140 0 tx 2 140 0', 'n1 veth19fd34b4 rx 2 140 0 tx 3 182 0': 'n1 veth19fd34b4 rx 2 140 0 tx 2 140 0' };
    expect(byText(delta(s, () => sim.ping('pod-a', '10.244.2.3')))).toEqual(byText(kernelDelta('ping -c 1 pod-a → pod-c (cold: neighbours flushed)', {
      ...hairpin,
      // The outer VXLAN packet's first one starts an (outer UDP) connection on each node, which the nat table
      // counts (134 bytes); podnet keeps no conntrack entry for an untranslated flow and counts inner packets only.
      'n1 :POSTROUTING ACCEPT [2:218]': 'n1 :POSTROUTING ACCEPT [1:84]', 'n1 [2:218] -A POSTROUTING': 'n1 [1:84] -A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG',
      'n2 :POSTROUTING ACCEPT [2:218]': 'n2 :POSTROUTING ACCEPT [1:84]', 'n2 [2:218] -A POSTROUTING': 'n2 [1:84] -A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG',
    })));
    expect(byText(delta(s, () => sim.ping('pod-a', '10.244.2.3')))).toEqual(byText(kernelDelta('ping -c 1 pod-a → pod-c (warm)')));
    expect(byText(delta(s, () => sim.ping('pod-a', '10.244.1.5')))).toEqual(byText(kernelDelta('ping -c 1 pod-a → pod-b (same node, warm)', hairpin)));
    expect(byText(delta(s, () => sim.ping('pod-a', '10.244.1.5')))).toEqual(byText(kernelDelta('ping -c 1 pod-a → pod-b (same node, warm, again)')));
    // The probes' and errors' outer VXLAN packets start outer UDP connections of their own (each probe's inner
    // ports give its outer flow a source port of its own), which nat POSTROUTING counts: see the cold ping. And
    // pod-c's eth0 was read after node-2 had re-validated its neighbour entry for pod-c (a NUD probe, 5 s after
    // the pings before used it: a 42-byte request and reply), which the script's reading of node-2's counters, a
    // moment earlier, missed: those two frames are timing, taken out.
    expect(byText(delta(s, () => sim.traceroute('pod-a', '10.244.2.3')))).toEqual(byText(kernelDelta('traceroute -n -q 1 -N 1 pod-a → pod-c (warm)', {
      'pc eth0 rx 2 116 0 tx 2 144 0': 'pc eth0 rx 1 74 0 tx 1 102 0',
      'n1 :POSTROUTING ACCEPT [4:340]': 'n1 :POSTROUTING ACCEPT [2:120]', 'n1 [4:340] -A POSTROUTING': 'n1 [2:120] -A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG',
      'n2 :POSTROUTING ACCEPT [2:198]': 'n2 :POSTROUTING ACCEPT [1:60]', 'n2 [2:198] -A POSTROUTING': 'n2 [1:60] -A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG',
    })));
    expect(byText(delta(s, () => sim.ping('pod-a', '10.244.2.3', { ttl: 1 })))).toEqual(byText(kernelDelta('ping -c 1 -t 1 pod-a → pod-c (TTL 1: node-1 answers time exceeded)')));
    onNodeRun(s, 'node-1', 'iptables -I FORWARD 1 -d 10.244.2.3 -j DROP');
    expect(byText(delta(s, () => sim.ping('pod-a', '10.244.2.3')))).toEqual(byText(kernelDelta('ping -c 1 pod-a → pod-c with node-1: iptables -I FORWARD 1 -d 10.244.2.3 -j DROP')));
    onNodeRun(s, 'node-1', 'iptables -D FORWARD 1');
    expect(byText(delta(s, () => sim.ping('pod-a', '192.168.1.12')))).toEqual(byText(kernelDelta('ping -c 1 pod-a → node-2 (192.168.1.12, the node\'s own address)')));
    expect(byText(delta(s, () => sim.ping('node-1', '10.244.1.4')))).toEqual(byText(kernelDelta('ping -c 1 node-1 → pod-a (host to its pod)')));
    expect(byText(delta(s, () => sim.ping('pod-a', '10.244.1.4')))).toEqual(byText(kernelDelta('ping -c 1 pod-a → 10.244.1.4 (itself)')));
    expect(byText(delta(s, () => sim.ping('node-1', '192.168.1.11')))).toEqual(byText(kernelDelta('ping -c 1 node-1 → 192.168.1.11 (itself: lo)')));
    // A frame larger than the receiving veth end's MTU: tx dropped on the sending end, rx dropped on the receiving
    // one, and nothing else on either; the bridge counted it sent (cni0 tx 1442).
    sim.apply({ op: 'link.set', ns: 'pod/default/pod-a', name: 'eth0', mtu: 1400 });
    expect(byText(delta(s, () => sim.ping('node-1', '10.244.1.4', { size: 1400 })))).toEqual(byText(kernelDelta('ping -c 1 -s 1400 -M do node-1 → pod-a with pod-a\'s eth0 at mtu 1400 (the veth drops it)')));
  });

  it('a DROP rule appended after FLANNEL-FWD counts nothing: FLANNEL-FWD accepted the packets first', () => {
    const s = createSession();
    s.sim.ping('pod-a', '10.244.2.3');
    onNodeRun(s, 'node-1', 'iptables -A FORWARD -d 10.244.2.3 -j DROP');
    const got = delta(s, () => s.sim.ping('pod-a', '10.244.2.3')).filter((l) => / \[|^n\d :/.test(l));
    // Rules only: the kernel's devices also carried an ARP refresh between pod-a and pod-b that is timing.
    const want = kernelDelta('ping -c 1 pod-a → pod-c with node-1: iptables -A FORWARD -d 10.244.2.3 -j DROP (appended after FLANNEL-FWD)').filter((l) => / \[|^n\d :/.test(l));
    expect(byText(got)).toEqual(byText(want));
    expect(onNodeRun(s, 'node-1', 'iptables -L FORWARD -n -v')).toContain('    0     0 DROP       0    --  *      *       0.0.0.0/0            10.244.2.3          \n');
  });
});

describe('formats, as iproute2 6.1 and iptables 1.8.9 printed them', () => {
  /** A namespace's counters holding one device's numbers. */
  const holding = (l: Link, c: Omit<DevCounters, 'ifindex'>): NsCounters => ({ devs: new Map([[l.name, { ...c, ifindex: l.ifindex }]]), rules: new Map(), policies: new Map() });

  it('ip -s link and ip -s -s link: the counters block under each device, columns widened by wide numbers', () => {
    const s = createSession();
    const pa = getNs(s.sim.state, 'pod/default/pod-a');
    let blocks = 0;
    for (const sec of sections.filter((x) => x.title.startsWith('fmt (') && / ip -s/.test(x.title) && !x.title.includes('nosuch'))) {
      const level = sec.title.includes('-s -s') ? 2 : 1;
      // Each device's block: the two link lines, then the counters' lines (4, or 8 with -s -s).
      for (let i = 0; i < sec.lines.length; i++) {
        if (!/^\d+: /.test(sec.lines[i]!)) continue;
        const block = sec.lines.slice(i + 2, i + 2 + 4 * level);
        const num = (line: string): number[] => line.trim().split(/\s+/).map(Number);
        const rx = num(block[1]!);
        const tx = num(block[level === 2 ? 5 : 3]!);
        const name = /^\d+: ([^:@]+)/.exec(sec.lines[i]!)![1]!;
        // The kernel's carrier changes of this device (transns), when -s -s printed them: 0 (lo, flannel.1) or 2
        // (veth, bridge), or 4 for pod-a's eth0, which the script set down and up (podnet keeps no such history).
        const transns = level === 2 ? num(block[7]!)[4]! : 2;
        const l: Link = { ...pa.links['eth0']!, name, up: true, kind: transns === 0 ? 'vxlan' : 'veth' } as Link;
        const want = transns === 4 ? block.map((x, j) => (j === 7 ? x.replace(/4 $/, '2 ') : x)) : block;
        expect(statsLines(holding(l, { rxBytes: rx[0]!, rxPackets: rx[1]!, rxDropped: rx[3]!, txBytes: tx[0]!, txPackets: tx[1]!, txDropped: tx[3]! }), l, level), sec.title).toEqual(want);
        blocks++;
      }
    }
    expect(blocks).toBeGreaterThan(15);
  });

  it('ip -s link in the lab shell: the block follows each device, and an unknown device is refused as without -s', () => {
    const s = createSession();
    s.sim.ping('pod-a', '10.244.2.3');
    s.run('kubectl exec -it pod-a -- sh');
    const out = s.run('ip -s link show dev eth0').stdout.split('\n');
    // RX: the echo reply (98 bytes), the ARP reply (42) and pod-a's own ARP request, which cni0 sent back by
    // hairpin (42: flannel's bridge plugin sets hairpin mode; hairpin-formats.txt); TX: the request and the ARP request.
    expect(out.slice(2)).toEqual(['    RX:  bytes packets errors dropped  missed   mcast           ', '           182       3      0       0       0       0 ', '    TX:  bytes packets errors dropped carrier collsns           ', '           140       2      0       0       0       0 ', '']);
    expect(s.run('ip -s link show dev nosuch')).toMatchObject({ stderr: `${section('fmt (n1) ip -s link show dev nosuch')[0]}\n`, status: 1 });
  });

  it('iptables -L -v, -x, --line-numbers, -S -v and the -Z sequence print what iptables printed after the same ping -c 2', () => {
    const s = createSession();
    // The script zeroed the rules, then pinged pod-c twice (one connection) from pod-a.
    s.sim.ping('pod-a', '10.244.2.3', { count: 2 });
    s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin');
    s.run('chroot /host');
    const shown = (line: string): string[] => {
      const r = s.run(line);
      return [...(r.stdout + r.stderr).split('\n').filter((l, i, a) => i < a.length - 1 || l !== ''), `rc=${r.status}`];
    };
    let compared = 0;
    let after = '';
    for (const sec of sections.filter((x) => x.title.startsWith('fmt (n1) iptables '))) {
      const cmd = sec.title.slice('fmt (n1) '.length);
      let want = sec.lines;
      // `iptables -L -v` (without -n) looked up the rules' addresses: two DNS PTR queries (69 bytes each: 20 + 8 +
      // a 41-byte query for 0.0.244.10.in-addr.arpa) left node-1 by its default route and counted in nat
      // POSTROUTING as new connections, which the listings after it show (3 packets, 222 bytes). podnet's
      // iptables asks no DNS: those two packets are taken out of the kernel's.
      if (after === 'iptables -t nat -Z FLANNEL-POSTRTG') want = want.map((l) => l.replace('3 packets, 222 bytes', '1 packets, 84 bytes').replace('    3   222 FLANNEL-POSTRTG', '    1    84 FLANNEL-POSTRTG'));
      expect(shown(cmd), cmd).toEqual(want);
      compared++;
      after = cmd;
      // What follows is after the flood ping (the wide numbers), tested below.
      if (cmd === 'iptables -L -n -v -Z') break;
    }
    expect(compared).toBe(17);
  });

  it('iptables-save -c: policy counters in the chain lines, [packets:bytes] before each rule', () => {
    const s = createSession();
    s.sim.ping('pod-a', '10.244.2.3', { count: 2 });
    const got = onNodeRun(s, 'node-1', 'iptables-save -c').split('\n').filter((l) => !l.startsWith('#'));
    // Before iptables-save, the script's `iptables -L -v` (without -n) sent two DNS PTR queries for the rules'
    // addresses, which nat POSTROUTING counted (:POSTROUTING ACCEPT [3:222]); podnet's iptables asks no DNS.
    const want = section('fmt (n1) iptables-save -c').filter((l) => !l.startsWith('#') && !l.startsWith('rc='))
      .map((l) => l.replace(':POSTROUTING ACCEPT [3:222]', ':POSTROUTING ACCEPT [1:84]').replace('[3:222] -A POSTROUTING', '[1:84] -A POSTROUTING'));
    expect(got.filter((l) => l !== '')).toEqual(want);
  });

  it('iptables rounds wide counters to K, M, G as xtables_print_num does ((n + 500) / 1000 each step), exact with -x', () => {
    // The same listing after the flood, with and without -x: every rounded number is the exact one's rounding.
    const rounded = section('fmt (n1) iptables -L -n -v', 2);
    const exact = section('fmt (n1) iptables -L -n -v -x', 1);
    expect(rounded).toContain(' 280K   64M FLANNEL-FWD  0    --  *      *       0.0.0.0/0            0.0.0.0/0            /* flanneld forward */');
    let checked = 0;
    for (let i = 0; i < exact.length; i++) {
      const e = /^\s*(\d+)\s+(\d+) /.exec(exact[i]!);
      if (e) {
        expect(rounded[i]!.slice(0, 12), exact[i]).toBe(`${iptablesNum(Number(e[1]), false)} ${iptablesNum(Number(e[2]), false)} `);
        expect(exact[i]!.slice(0, 18)).toBe(`${iptablesNum(Number(e[1]), true)} ${iptablesNum(Number(e[2]), true)} `);
        checked++;
      }
      const p = /policy ACCEPT (\d+) packets, (\d+) bytes/.exec(exact[i]!);
      if (p) {
        expect(rounded[i]).toContain(`policy ACCEPT ${iptablesNum(Number(p[1]), false, false)} packets, ${iptablesNum(Number(p[2]), false, false)} bytes`);
        checked++;
      }
    }
    expect(checked).toBe(6); // three rules, three policies
    expect([99999, 100000, 9999499, 9999500, 123456789012].map((n) => iptablesNum(n, false))).toEqual(['99999', ' 100K', '9999K', '  10M', ' 123G']);
  });
});

describe('docs/lab-shell.md, "Counters"', () => {
  it('the transcript is what the shell prints (commands after a prompt, the lines up to the next prompt their output)', () => {
    const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'lab-shell.md'), 'utf8');
    const block = /### Counters[^\n]*\n[\s\S]*?```\n([\s\S]*?)```/.exec(doc)![1]!.split('\n').slice(0, -1);
    const prompt = /^(you@laptop:~\$|node-1 \(node debugger\):~#) (.*)$/;
    const s = createSession();
    let i = 0;
    let ran = 0;
    while (i < block.length) {
      const m = prompt.exec(block[i]!)!;
      expect(m, block[i]).not.toBeNull();
      const out: string[] = [];
      for (i++; i < block.length && !prompt.test(block[i]!); i++) out.push(block[i]!);
      const r = s.run(m[2]!);
      // kubectl debug's own two lines are not shown in the doc.
      const got = (r.stdout + r.stderr).split('\n').filter((l) => !/^(Creating debugging pod|If you don't see a command prompt)/.test(l));
      while (got.at(-1) === '') got.pop();
      expect(got, m[2]).toEqual(out);
      ran++;
    }
    expect(ran).toBe(8);
  });
});
