import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { evaluateJsonPath } from './jsonpath.js';
import { parseFilter, matchFilter } from './tcpdump.js';
import { parseLine, quoteWord } from './words.js';
import { cniDaemonSet } from './kube.js';
import { icmpEcho, parseIpv4, udpPacket, type Frame } from '@podnet/core';

describe('shell words', () => {
  it('splits pipelines, lists and background jobs as bash does', () => {
    const p = parseLine(`kubectl get pods | grep -E 'a|b' && echo "x \\"y\\"" ; tcpdump -n icmp & echo z`);
    expect(p).toEqual({ ok: true, pipelines: [
      { commands: [['kubectl', 'get', 'pods'], ['grep', '-E', 'a|b']], after: ';', background: false },
      { commands: [['echo', 'x "y"']], after: '&&', background: false },
      { commands: [['tcpdump', '-n', 'icmp']], after: ';', background: true },
      { commands: [['echo', 'z']], after: ';', background: false },
    ] });
  });

  test.prop([fc.array(fc.string({ minLength: 1 }).filter((s) => !s.includes('\u0000')), { minLength: 1, maxLength: 6 })])('quoteWord round-trips any words', (words) => {
    const p = parseLine(words.map(quoteWord).join(' '));
    expect(p).toEqual({ ok: true, pipelines: [{ commands: [words], after: ';', background: false }] });
  });
});

describe('jsonpath', () => {
  const list = { items: [{ metadata: { name: 'a' }, spec: { podCIDR: '10.0.1.0/24' } }, { metadata: { name: 'b' }, spec: {} }] };
  it('range, literals, missing fields, filters, indexes', () => {
    expect(evaluateJsonPath('{range .items[*]}{.metadata.name}{"\\t"}{.spec.podCIDR}{"\\n"}{end}', list)).toBe('a\t10.0.1.0/24\nb\t\n');
    expect(evaluateJsonPath('{.items[*].metadata.name}', list)).toBe('a b');
    expect(evaluateJsonPath('{.items[?(@.metadata.name=="b")].metadata.name}', list)).toBe('b');
    expect(evaluateJsonPath('{.items[-1].metadata.name}', list)).toBe('b');
    expect(() => evaluateJsonPath('{range .items[*]}{.x}', list)).toThrow('range without end');
  });
});

describe('capture filters match outer headers', () => {
  const frame = (p: ReturnType<typeof icmpEcho>): Frame => ({ eth: { src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02', ethertype: 0x0800 }, payload: { ...p, header: { ...p.header, src: parseIpv4('10.244.1.4') } } });
  const ping = frame(icmpEcho(parseIpv4('10.244.2.3'), {}));
  const udp = frame(udpPacket(parseIpv4('10.244.2.3'), 53, {}) as ReturnType<typeof icmpEcho>);
  it.each([
    ['icmp', true, false], ['udp port 53', false, true], ['host 10.244.2.3 and not udp', true, false],
    ['src net 10.244.1.0/24', true, true], ['dst host 10.244.1.4', false, false], ['(icmp or udp) and dst port 53', false, true],
  ])('%s', (expr, onPing, onUdp) => {
    const f = parseFilter(expr.split(' '));
    expect([matchFilter(f, ping), matchFilter(f, udp)]).toEqual([onPing, onUdp]);
  });
});

describe('the CNI agent each design\'s project installs', () => {
  it.each([
    ['flannel-vxlan', 'kube-flannel', 'kube-flannel-ds'], ['flannel-host-gw', 'kube-flannel', 'kube-flannel-ds'],
    ['calico-ipip', 'kube-system', 'calico-node'], ['cilium-tunnel', 'kube-system', 'cilium'], ['aws-vpc-prefix', 'kube-system', 'aws-node'],
  ])('%s → %s/%s-xxxxx', (design, namespace, name) => {
    expect(cniDaemonSet(design)).toMatchObject({ namespace, name });
  });
  it('a design without a node agent of its own gets none', () => {
    expect(cniDaemonSet('bridge')).toBeNull();
  });
});
