import { describe, expect, it } from 'vitest';
import { humanDuration, tabwrite } from './format.js';
import { grep, head, tail, wc } from './text.js';

const input = 'alpha 1\nBeta 2\ngamma 3\nalphabet 4\n';

describe('pipeline filters (GNU behaviour)', () => {
  it.each([
    [['alpha'], 'alpha 1\nalphabet 4\n', 0],
    [['-w', 'alpha'], 'alpha 1\n', 0],
    [['-i', 'beta'], 'Beta 2\n', 0],
    [['-v', '-E', 'alpha|gamma'], 'Beta 2\n', 0],
    [['a|g'], '', 1],
    [['-c', 'a'], '4\n', 0],
    [['-n', 'gamma'], '3:gamma 3\n', 0],
    [['-o', '-E', '[0-9]'], '1\n2\n3\n4\n', 0],
  ])('grep %j', (args, stdout, status) => {
    expect(grep(args, input)).toEqual({ stdout, stderr: '', status });
  });

  it('grep rejects unknown options and missing patterns as grep does', () => {
    expect(grep(['-Z', 'x'], input).status).toBe(2);
    expect(grep([], input).stderr).toMatch(/^Usage: grep/);
  });

  it('head, tail, wc', () => {
    expect(head(['-n', '2'], input).stdout).toBe('alpha 1\nBeta 2\n');
    expect(head(['-1'], input).stdout).toBe('alpha 1\n');
    expect(tail(['-n', '1'], input).stdout).toBe('alphabet 4\n');
    expect(tail(['-n', 'x'], input)).toEqual({ stdout: '', stderr: 'tail: invalid number of lines: ‘x’\n', status: 1 });
    expect(wc(['-l'], input).stdout).toBe('4\n');
  });
});

describe('kubectl formats', () => {
  it.each([[0, '0s'], [119_000, '119s'], [125_000, '2m5s'], [600_000, '10m'], [3 * 3600_000 + 60_000, '3h1m'], [50 * 3600_000, '2d2h']])('AGE of %d ms is %s', (ms, age) => {
    expect(humanDuration(ms)).toBe(age);
  });

  it('tables: columns padded by 3, at least 6 wide, the last one not padded', () => {
    expect(tabwrite([['NAME', 'AGE', 'X'], ['a', '1s', 'last']])).toEqual(['NAME   AGE   X', 'a      1s    last']);
  });
});
