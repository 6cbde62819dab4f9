import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One command of a kernel recording: what ran, what it printed (stdout and stderr), its exit status. */
export interface RecordedStep {
  readonly cmd: string;
  readonly text: string;
  readonly status: number;
}

/**
 * The cases of a recording made by one of packages/cli/scripts/*-formats.sh: `### (id) …` starts a case,
 * `== CMD` a command, then its output, then `rc=N`. By case id, the commands in order.
 */
export function recordedCases(file: string): Map<string, RecordedStep[]> {
  const text = readFileSync(join(__dirname, file), 'utf8');
  const out = new Map<string, RecordedStep[]>();
  let steps: RecordedStep[] = [];
  let cmd: string | null = null;
  let lines: string[] = [];
  for (const line of text.split('\n')) {
    const s = /^### \((\w+)\)/.exec(line);
    const c = /^== (.*)$/.exec(line);
    const rc = /^rc=(\d+)$/.exec(line);
    if (s) out.set(s[1]!, (steps = []));
    else if (c) { cmd = c[1]!; lines = []; }
    else if (rc && cmd !== null) { steps.push({ cmd, text: lines.map((l) => `${l}\n`).join(''), status: Number(rc[1]) }); cmd = null; }
    else if (cmd !== null) lines.push(line);
  }
  return out;
}
