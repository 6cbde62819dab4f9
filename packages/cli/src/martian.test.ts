import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createSession } from './index.js';

const FIXTURE = readFileSync(fileURLToPath(new URL('../../core/src/__fixtures__/martian-formats.txt', import.meta.url)), 'utf8');

/**
 * route_localnet and log_martians in the lab shell (the kernel's checks: core's dataplane/martian.ts, measured by
 * scripts/martian-formats.sh): 0 for `all` and each device while unset, as in a new namespace of Linux 6.18.
 */
function node() {
  const s = createSession();
  s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin');
  s.run('chroot /host');
  return (cmd: string): { text: string; status: number } => {
    const o = s.run(cmd);
    return { text: o.stdout + o.stderr, status: o.status };
  };
}

describe('sysctl net.ipv4.conf.*.route_localnet and log_martians', () => {
  it('read 0 by default, take 1 per device or for all, and show in sysctl -a', () => {
    const run = node();
    expect(run('sysctl net.ipv4.conf.all.route_localnet net.ipv4.conf.eth0.log_martians').text).toBe('net.ipv4.conf.all.route_localnet = 0\nnet.ipv4.conf.eth0.log_martians = 0\n');
    expect(run('sysctl -w net.ipv4.conf.eth0.route_localnet=1').text).toBe('net.ipv4.conf.eth0.route_localnet = 1\n');
    expect(run('sysctl -n net.ipv4.conf.eth0.route_localnet').text).toBe('1\n');
    expect(run('sysctl -n net.ipv4.conf.all.route_localnet').text).toBe('0\n');
    expect(run('sysctl -w net.ipv4.conf.all.log_martians=1').status).toBe(0);
    const all = run('sysctl -a').text;
    expect(all).toContain('net.ipv4.conf.all.log_martians = 1\n');
    expect(all).toContain('net.ipv4.conf.eth0.route_localnet = 1\n');
    expect(all).toContain('net.ipv4.conf.lo.log_martians = 0\n');
  });

  it('take any int as the kernel does (it reads back as written), refuse what is not one and a device that is not there', () => {
    const run = node();
    expect(run('sysctl -w net.ipv4.conf.eth0.route_localnet=2').text).toBe('net.ipv4.conf.eth0.route_localnet = 2\n');
    expect(run('sysctl -n net.ipv4.conf.eth0.route_localnet').text).toBe('2\n');
    expect(run('sysctl -w net.ipv4.conf.eth0.route_localnet=1x').text).toBe('sysctl: setting key "net.ipv4.conf.eth0.route_localnet": Invalid argument\n');
    expect(run('sysctl -n net.ipv4.conf.eth0.route_localnet').text).toBe('2\n');
    expect(run('sysctl -w net.ipv4.conf.eth9.log_martians=1').text).toBe('sysctl: cannot stat /proc/sys/net/ipv4/conf/eth9/log_martians: No such file or directory\n');
  });
});

describe('sysctl net.ipv4.conf.*.accept_local', () => {
  it('reads 0, takes an int for all or a device, refuses a value that is no int and a device that is not there', () => {
    const run = node();
    expect(run('sysctl net.ipv4.conf.all.accept_local net.ipv4.conf.cni0.accept_local').text).toBe('net.ipv4.conf.all.accept_local = 0\nnet.ipv4.conf.cni0.accept_local = 0\n');
    expect(run('sysctl -a').text).toContain('net.ipv4.conf.eth0.accept_local = 0\n');
    expect(run('sysctl -w net.ipv4.conf.cni0.accept_local=1x').text).toBe('sysctl: setting key "net.ipv4.conf.cni0.accept_local": Invalid argument\n');
    expect(run('sysctl -w net.ipv4.conf.eth9.accept_local=1').text).toBe('sysctl: cannot stat /proc/sys/net/ipv4/conf/eth9/accept_local: No such file or directory\n');
    expect(run('sysctl -n net.ipv4.conf.cni0.accept_local').text).toBe('0\n');
    expect(run('sysctl -w net.ipv4.conf.cni0.accept_local=1').text).toBe('net.ipv4.conf.cni0.accept_local = 1\n');
    expect(run('sysctl -n net.ipv4.conf.cni0.accept_local net.ipv4.conf.all.accept_local').text).toBe('1\n0\n');
  });
});

describe('the sending side', () => {
  it('ping 0.0.0.0 pings 127.0.0.1, as iputils does on Linux (martian-formats.txt (i))', () => {
    const kernel = FIXTURE.split('$ ping -c 1 -W 1 0.0.0.0\n')[1]!.split('\n').slice(0, 2).map((l) => l.trim().replace(/ time=\S+ ms$/, ''));
    expect(kernel).toEqual(['PING 0.0.0.0 (127.0.0.1) 56(84) bytes of data.', '64 bytes from 127.0.0.1: icmp_seq=1 ttl=64']);
    const run = node();
    const out = run('ping -c 1 -W 1 0.0.0.0');
    expect(out.text.split('\n').slice(0, 2)).toEqual(kernel);
    expect(out.status).toBe(0);
  });
});
