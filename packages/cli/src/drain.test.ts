import { describe, expect, it } from 'vitest';
import { createSession } from './index.js';

describe('kubectl cordon / uncordon / drain', () => {
  it('cordon marks SchedulingDisabled and the unschedulable taint; new pods avoid the node; uncordon undoes it', () => {
    const s = createSession();
    expect(s.run('kubectl cordon node-1')).toEqual({ stdout: 'node/node-1 cordoned\n', stderr: '', status: 0 });
    expect(s.run('kubectl cordon node-1').stdout).toBe('node/node-1 already cordoned\n');
    expect(s.run('kubectl get nodes').stdout).toContain('\nnode-1   Ready,SchedulingDisabled   <none>   10m   v1.31.4\n');
    const d = s.run('kubectl describe node node-1').stdout;
    expect(d).toContain('Taints:             node.kubernetes.io/unschedulable:NoSchedule\nUnschedulable:      true\n');
    expect(s.run("kubectl get node node-1 -o jsonpath='{.spec.unschedulable}'").stdout).toBe('true');
    for (const n of ['a', 'b', 'c', 'd']) s.run(`kubectl run ${n} --image=nginx`);
    expect(['a', 'b', 'c', 'd'].map((n) => s.sim.pod(n).node)).not.toContain('node-1');
    expect(s.run('kubectl uncordon node-1').stdout).toBe('node/node-1 uncordoned\n');
    expect(s.run('kubectl uncordon node-1').stdout).toBe('node/node-1 already uncordoned\n');
    expect(s.run('kubectl cordon node-9')).toEqual({ stdout: '', stderr: 'Error from server (NotFound): nodes "node-9" not found\n', status: 1 });
  });

  it('drain refuses DaemonSet pods and pods without a controller with kubectl\'s texts, but the node stays cordoned', () => {
    const s = createSession();
    const r = s.run('kubectl drain node-3');
    const ds = s.sim.pods().filter((p) => p.node === 'node-3' && p.namespace !== 'default').map((p) => p.key).join(', ');
    expect(r.stdout).toBe('node/node-3 cordoned\n');
    expect(r.stderr).toBe([
      `error: unable to drain node "node-3" due to error: [cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): ${ds}, cannot delete Pods declare no controller (use --force to override): default/pod-e, default/pod-f], continuing command...`,
      'There are pending nodes to be drained:',
      ' node-3',
      `cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): ${ds}`,
      'cannot delete Pods declare no controller (use --force to override): default/pod-e, default/pod-f',
      '',
    ].join('\n'));
    expect(r.status).toBe(1);
    expect(s.sim.node('node-3').unschedulable).toBe(true);
    expect(s.sim.pods().filter((p) => p.node === 'node-3')).toHaveLength(4);
    const one = s.run('kubectl drain node-3 --ignore-daemonsets');
    expect(one.stdout).toBe('node/node-3 already cordoned\n');
    expect(one.stderr).toMatch(/^error: unable to drain node "node-3" due to error: cannot delete Pods declare no controller \(use --force to override\): default\/pod-e, default\/pod-f, continuing command\.\.\.\n/);
  });

  it('drain --ignore-daemonsets --force evicts the bare pods (gone: nothing recreates them) and leaves the agents', () => {
    const s = createSession();
    const ds = s.sim.pods().filter((p) => p.node === 'node-3' && p.namespace !== 'default').map((p) => p.key).join(', ');
    const r = s.run('kubectl drain node-3 --ignore-daemonsets --force --delete-emptydir-data');
    expect(r).toEqual({
      stdout: 'node/node-3 cordoned\nevicting pod default/pod-e\nevicting pod default/pod-f\npod/pod-e evicted\npod/pod-f evicted\nnode/node-3 drained\n',
      stderr: `Warning: ignoring DaemonSet-managed Pods: ${ds}; deleting Pods that declare no controller: default/pod-e, default/pod-f\n`,
      status: 0,
    });
    expect(s.run('kubectl get pod pod-e').stderr).toBe('Error from server (NotFound): pods "pod-e" not found\n');
    expect(s.sim.pods().filter((p) => p.node === 'node-3').map((p) => p.namespace)).toEqual(['kube-flannel', 'kube-system']);
    expect(s.run('kubectl drain node-3 --bogus').stderr).toBe("error: unknown flag: --bogus\nSee 'kubectl drain --help' for usage.\n");
  });
});
