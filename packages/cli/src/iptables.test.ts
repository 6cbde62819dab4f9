import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { onNode, POD_A_NS } from './__fixtures__/shells.js';
import { createSession, labFromFile, type Session } from './index.js';

/**
 * What real iptables v1.8.9 (nf_tables) printed (scripts/iptables-formats.sh), section by section in the
 * order it ran: the command, what it printed (stdout and stderr together) and its exit status.
 */
const sections = (() => {
  const text = readFileSync(join(__dirname, '__fixtures__', 'iptables-formats.txt'), 'utf8');
  const out: { title: string; text: string; status: number }[] = [];
  let lines: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^== (.*)$/.exec(line);
    if (m) { out.push({ title: m[1]!, text: '', status: -1 }); lines = []; continue; }
    const rc = /^rc=(\d+)$/.exec(line);
    if (rc) { const s = out.at(-1)!; s.text = lines.map((l) => `${l}\n`).join(''); s.status = Number(rc[1]); lines = []; continue; }
    lines.push(line);
  }
  return out;
})();

/** What a terminal shows for a command (stdout then stderr), without podnet's own notes, dated as the recording. */
function shown(s: Session, line: string): { text: string; status: number } {
  const r = s.run(line);
  const text = (r.stdout + r.stderr).split('\n').filter((l) => !l.startsWith('podnet: ')).join('\n').replace(/ on [A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}$/gm, ' on DATE');
  return { text, status: r.status };
}

describe('iptables formats and errors match iptables v1.8.9 (nf_tables), replayed from the recording', () => {
  it('runs every recorded command on node-1 (whose nat table starts with flannel\'s rules, as the recording did) and prints what the kernel printed', () => {
    const node = onNode();
    let compared = 0;
    for (const sec of sections) {
      if (sec.title.startsWith('seed:') || sec.title.startsWith('podnet refuses:') || sec.title.startsWith('no CAP_NET_ADMIN:') || sec.title.startsWith('empty:')) continue;
      expect(shown(node, sec.title), sec.title).toEqual({ text: sec.text, status: sec.status });
      compared++;
    }
    expect(compared).toBeGreaterThan(60);
  });

  it('a pod\'s namespace holds no rules: -S and -L list the built-in chains, iptables-save prints nothing', () => {
    const node = onNode();
    for (const sec of sections.filter((x) => x.title.startsWith('empty: '))) {
      expect(shown(node, `ip netns exec ${POD_A_NS} ${sec.title.slice(7)}`), sec.title).toEqual({ text: sec.text, status: sec.status });
    }
  });

  it('without CAP_NET_ADMIN (a pod, or kubectl debug without a privileged profile) nf_tables refuses even a listing', () => {
    const cases = sections.filter((x) => x.title.startsWith('no CAP_NET_ADMIN: '));
    expect(cases).toHaveLength(2);
    for (const sec of cases) {
      expect(shown(onNode(false), sec.title.slice(18)), sec.title).toEqual({ text: sec.text, status: sec.status });
    }
    const pod = createSession();
    pod.run('kubectl exec -it pod-a -- sh');
    expect(shown(pod, 'iptables-save')).toEqual({ text: 'iptables-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)\n', status: 4 });
  });

  it('refuses what it does not model, where the kernel would have accepted it, and changes nothing', () => {
    const node = onNode();
    const before = node.run('iptables-save').stdout;
    for (const line of ['iptables -A FORWARD -p sctp -j DROP', 'iptables -A FORWARD', 'iptables -E FLANNEL-FWD FOO', 'iptables -A FORWARD -m physdev --physdev-is-bridged -j ACCEPT',
      'iptables -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT', 'iptables -A FORWARD -j LOG', 'iptables -t mangle -L', 'iptables -t nat -A OUTPUT -j DNAT --to-destination 10.244.2.3',
      'iptables -t nat -A PREROUTING -p tcp --dport 80 -j DNAT --to-destination 10.244.2.3:8080', 'iptables -A FORWARD ! -i eth0 -j DROP', 'iptables -A FORWARD -i veth+ -j DROP', 'iptables -A FORWARD -c 5 420 -j DROP']) {
      const r = node.run(line);
      expect(r.status, line).toBe(2);
      expect(r.stderr, line).toMatch(/^iptables: not modelled by podnet: .*podnet models the filter chains INPUT, FORWARD, OUTPUT/);
    }
    expect(node.run('iptables-save').stdout).toBe(before);
  });

  it('-v lists the counters (the recording above is of a node no packet had crossed: all zero), -c setting them is refused', () => {
    const r = onNode().run('iptables -t nat -nvL POSTROUTING');
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n').slice(0, 3)).toEqual([
      'Chain POSTROUTING (policy ACCEPT 0 packets, 0 bytes)',
      ' pkts bytes target     prot opt in     out     source               destination         ',
      '    0     0 FLANNEL-POSTRTG  0    --  *      *       0.0.0.0/0            0.0.0.0/0            /* flanneld masq */',
    ]);
    const c = onNode().run('iptables -A FORWARD -c 5 420 -j DROP');
    expect(c.status).toBe(2);
    expect(c.stderr).toContain("not modelled by podnet: -c (setting a rule's counters");
  });

  it('iptables-save dates its output with the simulator\'s clock, so a transcript is the same on every run', () => {
    const a = onNode().run('iptables-save -t nat').stdout;
    // The cluster has been up ten minutes when the shell starts (SIM_EPOCH_MS is Mon Jan 5 09:00 UTC).
    expect(a.split('\n')[0]).toBe('# Generated by iptables-save v1.8.9 (nf_tables) on Mon Jan  5 09:10:00 2026');
    expect(onNode().run('iptables-save -t nat').stdout).toBe(a);
  });
});

describe('iptables beyond the recording', () => {
  it('-C answers whether a rule exists, --dport takes /etc/services names, and clustered options read as getopt reads them', () => {
    const s = onNode();
    expect(s.run('iptables -tnat -C FLANNEL-POSTRTG -s 10.244.0.0/16 ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE')).toMatchObject({ stdout: '', stderr: '', status: 0 });
    expect(s.run('iptables -t nat -C FLANNEL-POSTRTG -s 10.244.0.0/16 ! -d 224.0.0.0/4 -j MASQUERADE')).toMatchObject({ stderr: 'iptables: Bad rule (does a matching rule exist in that chain?).\n', status: 1 });
    expect(s.run('iptables -t nat -C FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN').status).toBe(0);
    expect(s.run('iptables -t nat -C POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG').status).toBe(0);
    expect(s.run('iptables -A INPUT -p tcp --dport https -j REJECT').status).toBe(0);
    expect(s.run('iptables -S INPUT').stdout).toBe('-P INPUT ACCEPT\n-A INPUT -p tcp -m tcp --dport 443 -j REJECT --reject-with icmp-port-unreachable\n');
    expect(s.run('iptables -nL INPUT').stdout.split('\n')[2]).toBe('REJECT     6    --  0.0.0.0/0            0.0.0.0/0            tcp dpt:443 reject-with icmp-port-unreachable');
    expect(s.run('iptables -F INPUT').status).toBe(0);
    expect(s.run('iptables -S INPUT').stdout).toBe('-P INPUT ACCEPT\n');
    expect(s.run('iptables --version').stdout).toBe('iptables v1.8.9 (nf_tables)\n');
    expect(s.run('iptables --table=nat -S POSTROUTING').stdout).toBe(s.run('iptables -t nat -S POSTROUTING').stdout);
    expect(s.complete('iptables -t nat -A POST')).toEqual(['POSTROUTING']);
    expect(s.complete('iptables -j MASQ')).toEqual(['MASQUERADE']);
    expect(s.complete('iptables -t nat -L FLANNEL-P')).toEqual(['FLANNEL-POSTRTG']);
  });

  it('each change is one history entry named after the command, so undo takes it back', () => {
    const s = onNode();
    const nat = s.run('iptables-save -t nat').stdout;
    s.run('iptables -A FORWARD -d 10.244.2.3 -j DROP');
    expect(s.run('iptables -S FORWARD').stdout).toBe('-P FORWARD ACCEPT\n-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD\n-A FORWARD -d 10.244.2.3/32 -j DROP\n');
    expect(s.run('iptables -t nat -F').status).toBe(0);
    expect(s.run('iptables-save -t nat').stdout).not.toContain('-A ');
    expect(s.sim.history().slice(-2)).toEqual(['node/node-1: iptables -A FORWARD -d 10.244.2.3 -j DROP', 'node/node-1: iptables -t nat -F']);
    s.sim.undo();
    expect(s.run('iptables-save -t nat').stdout).toBe(nat);
    s.sim.undo();
    expect(s.run('iptables -S FORWARD').stdout).toBe('-P FORWARD ACCEPT\n-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD\n');
  });
});

describe('a rule a student adds takes effect on the next packet, and the guarantees see it', () => {
  /** The seed lab as a lab whose check is the full audit of the three guarantees. */
  const auditLab = labFromFile({ name: 'audit-only', title: 'The seed lab, audited', brief: 'Break it with iptables.', check: ['audit'] });
  /** Runs lines in order and returns what the terminal showed. */
  const run = (s: Session, lines: readonly string[]) => lines.map((l) => { const r = s.run(l); return r.stdout + r.stderr; }).join('');
  const asRoot = 'kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin';
  const pingWatched = ['kubectl exec pod-c -- tcpdump -n -i eth0 icmp &', 'kubectl exec pod-a -- ping -c 1 10.244.2.3', 'kill %1'];

  it('MASQUERADE for node-1\'s pods, appended after flanneld\'s jump: FLANNEL-POSTRTG RETURNs pod-to-pod traffic to POSTROUTING, the rule rewrites it, pod-c sees node-1\'s address and the audit reports the NAT', () => {
    const s = createSession({ labs: [auditLab] });
    s.run('lab start audit-only');
    // RETURN goes back to the calling chain, whose next rule is this one (measured, pnkr30: tcpdump at the
    // receiver showed the router's address).
    expect(run(s, [asRoot, 'iptables -t nat -A POSTROUTING -s 10.244.1.0/24 -j MASQUERADE', 'exit'])).not.toContain('iptables');
    // Masqueraded to the address node-1 sends from towards 10.244.2.0/24: flannel.1's, 10.244.1.0.
    const seen = run(s, pingWatched);
    expect(seen).toContain('IP 10.244.1.0 > 10.244.2.3: ICMP echo request');
    expect(seen).not.toContain('IP 10.244.1.4 >');
    const check = s.run('lab check');
    expect(check.status).toBe(1);
    expect(check.stdout).toMatch(/^FAIL \[no-nat\] .*10\.244\.1\.\d+/m);
    // Deleting it by number restores the cluster.
    run(s, [asRoot, 'iptables -t nat -D POSTROUTING 2', 'exit']);
    expect(run(s, pingWatched)).toContain('IP 10.244.1.4 > 10.244.2.3: ICMP echo request');
    expect(s.run('lab check')).toMatchObject({ status: 0 });
  });

  it('iptables -A FORWARD -j DROP on node-1 comes after flanneld\'s FLANNEL-FWD, which ACCEPTs the pods first; -I FORWARD cuts them off from the other nodes\' pods; -D FORWARD 1 restores them', () => {
    const s = onNode();
    // Measured (pnkr30): an appended DROP after the jump to FLANNEL-FWD let the ping through.
    expect(s.run('iptables -A FORWARD -j DROP')).toMatchObject({ stdout: '', stderr: '', status: 0 });
    expect(s.run('ip netns exec ' + POD_A_NS + ' ping -c 2 -W 1 10.244.2.3').stdout).toContain('2 packets transmitted, 2 received, 0% packet loss');
    expect(s.run('iptables -D FORWARD -j DROP').status).toBe(0);
    expect(s.run('iptables -I FORWARD -j DROP')).toMatchObject({ stdout: '', stderr: '', status: 0 });
    expect(s.run('ip netns exec ' + POD_A_NS + ' ping -c 2 -W 1 10.244.2.3').stdout).toContain('2 packets transmitted, 0 received, 100% packet loss');
    expect(s.run('iptables -L FORWARD --line-numbers').stdout).toBe('Chain FORWARD (policy ACCEPT)\nnum  target     prot opt source               destination         \n1    DROP       all  --  anywhere             anywhere            \n2    FLANNEL-FWD  all  --  anywhere             anywhere             /* flanneld forward */\n');
    expect(s.run('iptables -D FORWARD 1')).toMatchObject({ stdout: '', stderr: '', status: 0 });
    expect(s.run('ip netns exec ' + POD_A_NS + ' ping -c 2 -W 1 10.244.2.3').stdout).toContain('2 packets transmitted, 2 received, 0% packet loss');
  });
});

describe('chain policies (iptables -P)', () => {
  it('prints and refuses as iptables v1.8.9 (nf_tables) did (measured in pnp30), and FLANNEL-FWD keeps the pods working under a DROP policy', () => {
    const s = onNode();
    expect(s.run('iptables -P FORWARD DROP')).toMatchObject({ stdout: '', stderr: '', status: 0 });
    expect(s.run('iptables -L FORWARD -n').stdout.split('\n')[0]).toBe('Chain FORWARD (policy DROP)');
    expect(s.run('iptables -S FORWARD').stdout.split('\n')[0]).toBe('-P FORWARD DROP');
    expect(s.run('iptables-save -t filter').stdout).toContain('\n:FORWARD DROP [0:0]\n');
    expect(shown(s, 'iptables -t nat -P POSTROUTING DROP')).toEqual({ text: 'iptables v1.8.9 (nf_tables): \nThe "nat" table is not intended for filtering, the use of DROP is therefore inhibited.\n\n\nTry `iptables -h\' or \'iptables --help\' for more information.\n', status: 2 });
    expect(shown(s, 'iptables -P FORWARD REJECT')).toEqual({ text: "iptables: Bad policy name. Run `dmesg' for more information.\n", status: 1 });
    expect(shown(s, 'iptables -P NOSUCH DROP')).toEqual({ text: 'iptables: Bad built-in chain name.\n', status: 1 });
    expect(shown(s, 'iptables -P FLANNEL-FWD DROP')).toEqual({ text: 'iptables: Bad built-in chain name.\n', status: 1 });
    expect(shown(s, 'iptables -P FORWARD')).toEqual({ text: "iptables v1.8.9 (nf_tables): -P requires a chain and a policy\nTry `iptables -h' or 'iptables --help' for more information.\n", status: 2 });
    // Docker's FORWARD DROP on a flannel node: FLANNEL-FWD ACCEPTs the pod CIDR, so pods still reach each other.
    expect(s.run('ip netns exec ' + POD_A_NS + ' ping -c 1 -W 1 10.244.2.3').stdout).toContain('1 packets transmitted, 1 received');
    s.run('iptables -D FORWARD 1');
    expect(s.run('ip netns exec ' + POD_A_NS + ' ping -c 1 -W 1 10.244.2.3').stdout).toContain('1 packets transmitted, 0 received');
    s.run('iptables -P FORWARD ACCEPT');
    expect(s.run('iptables -S FORWARD').stdout).toBe('-P FORWARD ACCEPT\n');
    expect(s.run('ip netns exec ' + POD_A_NS + ' ping -c 1 -W 1 10.244.2.3').stdout).toContain('1 packets transmitted, 1 received');
  });
});
