/**
 * `bridge fdb add | append | replace | del` and `bridge fdb show [dev X] [br X]` in the lab shell, replayed
 * against what Linux 6.18 and iproute2 6.1 did on the seed lab built by hand (scripts/bridge-fdb-formats.sh →
 * __fixtures__/bridge-fdb-formats.txt), and what forwarding then does.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSession, type Session } from './index.js';

interface Section { readonly phase: string; readonly title: string; readonly lines: readonly string[] }

/** The fixture's sections in order, each under the `####` phase it was recorded in. */
const sections: Section[] = (() => {
  const out: { phase: string; title: string; lines: string[] }[] = [];
  let phase = '';
  let cur: string[] | null = null;
  for (const line of readFileSync(join(__dirname, '__fixtures__', 'bridge-fdb-formats.txt'), 'utf8').split('\n')) {
    if (line.startsWith('#### ')) {
      phase = line.slice(5);
      cur = null;
    } else if (line.startsWith('== ')) out.push({ phase, title: line.slice(3), lines: (cur = []) });
    else if (line !== '' && cur !== null) cur.push(line);
  }
  return out;
})();

/**
 * A kernel row as podnet prints it: IPv6's `33:33:…` groups are not modelled (podnet is IPv4 only), and
 * podnet ends a learned (`dynamic`) row without iproute2's trailing space.
 */
const norm = (lines: readonly string[]): string[] => lines.filter((l) => !l.includes('33:33:')).map((l) => l.trimEnd());

/** A root shell on node-1 (CAP_NET_ADMIN) of a fresh seed lab. */
function node1(): Session {
  const s = createSession();
  s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin');
  s.run('chroot /host');
  return s;
}

describe('bridge fdb replayed against the kernel', () => {
  it('probe', () => {
    const s = node1();
    const bad: string[] = [];
    for (const x of sections) {
      if (!['bridge port: master', 'bridge port: self (no master)', 'errors', 'flannel.1'].includes(x.phase)) continue;
      const r = s.run(x.title);
      const want = norm(x.lines.slice(0, -1));
      const got = norm((r.stdout + r.stderr).split('\n').filter((l) => l !== ''));
      const rc = x.lines[x.lines.length - 1];
      if (JSON.stringify(want) !== JSON.stringify(got) || rc !== `rc=${r.status}`) bad.push(`${x.title}\n want ${rc} ${JSON.stringify(want)}\n got rc=${r.status} ${JSON.stringify(got)}`);
    }
    console.log(bad.join('\n'));
  });
});
