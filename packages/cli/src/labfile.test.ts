import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPodnetError } from '@podnet/core';
import { parse } from 'yaml';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createSession, labFromFile } from './index.js';
import { main } from './main.js';

/** A teacher's lab: node-2 stops forwarding, so pods of the other nodes cannot reach node-2's pods. */
const FORWARDING = `
name: node-2-forwarding
title: Nobody reaches the pods on node-2
brief: |
  Ticket: "pod-c and pod-d (on node-2) answer nobody from the other nodes."
  Find out what node-2 does with the packets, fix it, then run lab check.
faults:
  - { op: sysctl.set, ns: node/node-2, key: net.ipv4.ip_forward, value: 0 }
hints:
  - Follow a ping with tcpdump on node-2's flannel.1 and cni0.
  - A node that receives a packet for another address must forward it.
check:
  - cross-node-pings
  - audit
`;

/** Another: pod-f must not be reachable from pod-a, and keep running. */
const ISOLATE = {
  name: 'isolate-pod-f',
  title: 'Keep pod-a away from pod-f',
  brief: 'pod-f holds secrets: make sure pod-a gets no answer from it, without stopping pod-f.',
  check: [{ ping: { from: 'pod-a', to: 'pod-f', expect: 'no-reply' } }, { running: ['pod-f'] }],
};

const debugNode = (n: string) => `kubectl debug node/${n} -it --image=nicolaka/netshoot --profile=sysadmin`;

describe('labs of your own', () => {
  it('a lab file becomes a lab the shell lists, starts, hints and checks by probing the cluster', () => {
    const s = createSession({ labs: [labFromFile(parse(FORWARDING))] });
    expect(s.run('lab list').stdout).toMatch(/5 {2}source-nat[^\n]*\n {2}6 {2}node-2-forwarding +Nobody reaches the pods on node-2/);
    const started = s.run('lab start node-2-forwarding');
    expect(started.stdout).toBe('Lab 6: Nobody reaches the pods on node-2\n\nTicket: "pod-c and pod-d (on node-2) answer nobody from the other nodes."\nFind out what node-2 does with the packets, fix it, then run lab check.\n\n');
    expect(s.run('lab hint').stdout).toBe('Hint 1/2: Follow a ping with tcpdump on node-2\'s flannel.1 and cni0.\n');
    const before = s.run('lab check');
    expect(before.status).toBe(1);
    expect(before.stdout).toMatch(/FAIL pod-a \(node-1\) → pod-c 10\.244\.2\.3 \(node-2\)/);
    expect(before.stdout).toContain('Not yet: lab 6 is not solved');
    for (const line of [debugNode('node-2'), 'sysctl -w net.ipv4.ip_forward=1', 'exit']) s.run(line);
    const after = s.run('lab check');
    expect(after.stdout).toContain('ok   the three guarantees hold');
    expect(after.stdout).toContain('Lab 6 solved.');
    expect(after.status).toBe(0);
    // lab reset puts the fault back.
    s.run('lab reset');
    expect(s.run('lab check').status).toBe(1);
  });

  it('ping checks read the pod\'s address when they run, and can expect no reply', () => {
    const s = createSession({ labs: [labFromFile(ISOLATE)] });
    s.run('lab start isolate-pod-f');
    const before = s.run('lab check');
    expect(before.stdout).toBe('FAIL ping pod-a → pod-f (10.244.3.9): reply, and none is expected\nok   pod pod-f is Running\n\nNot yet: lab 6 is not solved (lab hint helps).\n');
    for (const line of [debugNode('node-1'), 'ip route add blackhole 10.244.3.9/32', 'exit']) s.run(line);
    expect(s.run('lab check').stdout).toMatch(/^ok {3}ping pod-a → pod-f \(10\.244\.3\.9\): no reply[^\n]*, and none is expected\nok {3}pod pod-f is Running\n\nLab 6 solved\.\n$/);
    // Deleting pod-f would keep it away too, but the lab wants it running.
    const s2 = createSession({ labs: [labFromFile(ISOLATE)] });
    s2.run('lab start 6');
    s2.run('kubectl delete pod pod-f');
    expect(s2.run('lab check').stdout).toBe('FAIL ping pod-a → pod-f: pod pod-f does not exist\nFAIL pod pod-f does not exist\n\nNot yet: lab 6 is not solved (lab hint helps).\n');
  });

  const refusal = (data: unknown): string => {
    try {
      labFromFile(data);
    } catch (e) {
      if (!isPodnetError(e, 'INVALID_LAB')) throw e;
      expect(e.hint.length).toBeGreaterThan(0);
      return e.message;
    }
    throw new Error('accepted');
  };

  it('a mistake in a lab file is refused with the field it is in, before any student starts it', () => {
    expect(refusal([])).toBe('lab: must be an object (a YAML mapping), not a list');
    expect(refusal({ ...ISOLATE, name: 'Isolate F' })).toBe('lab.name: "Isolate F" must be lower-case letters, digits and "-", at most 63 characters');
    expect(refusal({ ...ISOLATE, tittle: 'x' })).toBe('lab.tittle: is not a field of a lab (id, name, title, brief, cluster, faults, hints, check)');
    expect(refusal({ ...ISOLATE, check: [] })).toBe('lab isolate-pod-f.check: must be a non-empty list of what lab check probes');
    expect(refusal({ ...ISOLATE, check: ['audit', 'ping'] })).toBe('lab isolate-pod-f.check[1]: is not a check: "ping" (audit, cross-node-pings, { ping: { from, to, expect } }, { running: [pods] })');
    expect(refusal({ ...ISOLATE, check: [{ ping: { from: 'pod-a', to: 'pod-f', expect: 'maybe' } }] })).toBe('lab isolate-pod-f.check[0].ping.expect: must be reply or no-reply, not "maybe"');
    // What the simulator refuses, in its words, with the place in the file.
    expect(refusal({ ...ISOLATE, faults: [{ op: 'sysctl.set', ns: 'node/node-9', key: 'net.ipv4.ip_forward', value: 0 }] })).toMatch(/^lab isolate-pod-f\.faults\[0\]: .*node-9/);
    expect(refusal({ ...ISOLATE, cluster: { nodes: [{ name: 'node-1', podCidr: '10.244.1.1/24' }], pods: [] } })).toMatch(/^lab isolate-pod-f\.cluster: .*10\.244\.1\.1\/24/);
    // Found by fuzzing lab files (each a TypeError before): a fault with a null sysctl key, pods that are not a list.
    expect(refusal({ ...ISOLATE, faults: [{ op: 'sysctl.set', ns: 'node/node-1', key: null, value: 0 }] })).toBe('lab isolate-pod-f.faults[0]: sysctl.set.key must be a string, not null');
    expect(refusal({ ...ISOLATE, cluster: { nodes: [{ name: 'node-1' }], pods: 5 } })).toMatch(/^lab isolate-pod-f\.cluster: /);
  });

  it('labs of a session must not repeat a name or a number', () => {
    const lab = labFromFile(ISOLATE);
    expect(() => createSession({ labs: [lab, lab] })).toThrow(/labs: lab 7 "isolate-pod-f" repeats the name of lab 6 "isolate-pod-f"/);
    expect(() => createSession({ labs: [labFromFile({ ...ISOLATE, id: 2 })] })).toThrow(/repeats the number of lab 2 "broken-route"/);
    expect(createSession({ labs: [labFromFile({ ...ISOLATE, id: 42 })] }).labs.map((l) => l.id)).toEqual([1, 2, 3, 4, 5, 42]);
  });

  describe('podnet lab start FILE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'podnet-lab-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('starts the lab of a YAML file and runs the commands given with -c in it', async () => {
      const file = join(dir, 'forwarding.yaml');
      writeFileSync(file, FORWARDING);
      const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
      const errs = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      try {
        const status = await main(['lab', 'start', file, '-c', 'lab check']);
        expect(status).toBe(1);
        const printed = out.mock.calls.map((c) => String(c[0])).join('');
        expect(printed).toContain('Lab 6: Nobody reaches the pods on node-2');
        expect(printed).toContain('Not yet: lab 6 is not solved');
      } finally {
        out.mockRestore();
        errs.mockRestore();
      }
    });

    it('says what is wrong with a file, and how to write one', async () => {
      const file = join(dir, 'broken.yaml');
      writeFileSync(file, 'name: broken\ntitle: t\nbrief: b\n');
      const errs = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      try {
        expect(await main(['lab', 'start', file])).toBe(1);
        const said = errs.mock.calls.map((c) => String(c[0])).join('');
        expect(said).toBe(`podnet: ${file}: lab broken.check: must be a non-empty list of what lab check probes\nhint: A lab file has name, title, brief and check (a list of: audit, cross-node-pings, { ping: { from, to, expect } }, { running: [pods] }), and may have id, cluster (a cluster spec), faults (podnet actions) and hints: docs/lab-shell.md, "Write your own lab".\n`);
      } finally {
        errs.mockRestore();
      }
    });
  });
});
