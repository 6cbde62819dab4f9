/**
 * A student deletes flannel.1 on a node, then restarts flanneld there (its pod deleted, or the DaemonSet
 * rolled): flanneld makes flannel.1 again and the node's pods reach the other nodes' again, as on a cluster.
 */
import { describe, expect, it } from 'vitest';
import { onNode } from './__fixtures__/shells.js';
import type { Session } from './index.js';

/** `ip link del flannel.1` in a root shell on node-1, then back to the lab shell. */
function deleteFlannel1(): { s: Session; link: string; routes: string } {
  const s = onNode();
  const link = s.run('ip -d link show flannel.1').stdout;
  const routes = s.run('ip route').stdout;
  expect(s.run('ip link del flannel.1')).toEqual({ stdout: '', stderr: '', status: 0 });
  expect(s.run('ip route').stdout).not.toContain('flannel.1');
  expect(s.run('ip -d link show flannel.1')).toMatchObject({ stderr: 'Device "flannel.1" does not exist.\n', status: 1 });
  s.run('exit');
  s.run('exit');
  expect(s.run('kubectl exec pod-a -- ping -c 1 -W 1 10.244.2.3').status).toBe(1);
  return { s, link, routes };
}

/** node-1's flannel.1 and routes, seen from a root shell there again. */
function onNode1(s: Session): { link: string; routes: string } {
  s.run('kubectl debug node/node-1 -it --image=nicolaka/netshoot --profile=sysadmin');
  s.run('chroot /host');
  const out = { link: s.run('ip -d link show flannel.1').stdout, routes: s.run('ip route').stdout };
  s.run('exit');
  s.run('exit');
  return out;
}

describe('flannel.1 deleted on a node, then flanneld restarted there', () => {
  it('kubectl delete pod of the kube-flannel-ds pod on node-1: flannel.1 is back as it was (but for its ifindex), and so are pod-a\'s pings to node-2', () => {
    const { s, link, routes } = deleteFlannel1();
    const pods = s.run('kubectl get pods -n kube-flannel -o wide').stdout.split('\n').slice(1).filter((l) => / node-1 /.test(l));
    expect(pods).toHaveLength(1);
    const name = pods[0]!.split(/\s+/)[0]!;
    expect(s.run(`kubectl delete pod -n kube-flannel ${name}`)).toEqual({ stdout: `pod "${name}" deleted\n`, stderr: '', status: 0 });
    const after = onNode1(s);
    expect(after.routes).toBe(routes);
    expect(after.link.replace(/^\d+:/, 'N:')).toBe(link.replace(/^\d+:/, 'N:'));
    expect(s.run('kubectl exec pod-a -- ping -c 1 -W 1 10.244.2.3')).toMatchObject({ status: 0 });
    expect(s.run('kubectl exec pod-e -- ping -c 1 -W 1 10.244.1.5')).toMatchObject({ status: 0 });
  });

  it('kubectl rollout restart daemonset/kube-flannel-ds -n kube-flannel does the same', () => {
    const { s, routes } = deleteFlannel1();
    expect(s.run('kubectl rollout restart daemonset/kube-flannel-ds -n kube-flannel')).toEqual({ stdout: 'daemonset.apps/kube-flannel-ds restarted\n', stderr: '', status: 0 });
    expect(onNode1(s).routes).toBe(routes);
    expect(s.run('kubectl exec pod-a -- ping -c 1 -W 1 10.244.2.3')).toMatchObject({ status: 0 });
    expect(s.sim.check().ok).toBe(true);
  });
});
