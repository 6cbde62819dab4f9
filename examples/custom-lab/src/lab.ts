// The lab file beside this folder, read as `podnet lab start FILE` reads it, and played by a student who finds
// the fault: the check before and after the fix.
import { readFileSync } from 'node:fs';
import { createSession, labFromFile, type Session } from '@podnet/cli';
import { parse } from 'yaml';

/** The lab of node-2-forwarding.yaml. */
export function fileLab() {
  return labFromFile(parse(readFileSync(new URL('../node-2-forwarding.yaml', import.meta.url), 'utf8')));
}

/** The commands a student types, with what the shell printed; the session after them. */
export function play(commands: readonly string[]): { transcript: string; session: Session } {
  const session = createSession({ labs: [fileLab()] });
  let transcript = '';
  for (const c of commands) {
    const prompt = session.prompt();
    const r = session.run(c);
    transcript += `${prompt}${c}\n${r.stdout}${r.stderr}`;
  }
  return { transcript, session };
}

export const STUDENT = [
  'lab start node-2-forwarding',
  'lab check',
  'kubectl debug node/node-2 -it --image=nicolaka/netshoot --profile=sysadmin',
  'sysctl net.ipv4.ip_forward',
  'sysctl -w net.ipv4.ip_forward=1',
  'exit',
  'lab check',
];
