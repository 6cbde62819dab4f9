import { describe, expect, it } from 'vitest';
import { fileLab, play, STUDENT } from './lab.js';

describe('a lab written as a file', () => {
  it('reads as the lab it describes', () => {
    const lab = fileLab();
    expect(lab.name).toBe('node-2-forwarding');
    expect(lab.hints).toHaveLength(2);
    expect(lab.faults(undefined as never)).toEqual([{ op: 'sysctl.set', ns: 'node/node-2', key: 'net.ipv4.ip_forward', value: 0 }]);
  });

  it('is not solved until node-2 forwards again, and then is', () => {
    const { transcript, session } = play(STUDENT);
    const checks = transcript.split('lab check\n').slice(1);
    expect(checks[0]).toContain('FAIL pod-a (node-1) → pod-c 10.244.2.3 (node-2)');
    expect(checks[0]).toContain('Not yet: lab 6 is not solved');
    expect(transcript).toContain('net.ipv4.ip_forward = 0');
    expect(checks[1]).toContain('Lab 6 solved.');
    expect(session.run('lab check').status).toBe(0);
  });
});
