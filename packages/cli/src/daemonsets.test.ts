import { describe, expect, it } from 'vitest';
import { createSession } from './index.js';

function eks() {
  const s = createSession();
  s.run('lab start 3');
  return s;
}

describe('kubectl get/describe ds and set env', () => {
  it('kubectl get ds -n kube-system lists aws-node and kube-proxy, one pod per node', () => {
    expect(eks().run('kubectl get ds -n kube-system').stdout).toBe([
      'NAME         DESIRED   CURRENT   READY   UP-TO-DATE   AVAILABLE   NODE SELECTOR   AGE',
      'aws-node     3         3         3       3            3           <none>          10m',
      'kube-proxy   3         3         3       3            3           <none>          10m',
      '',
    ].join('\n'));
  });

  it('on a flannel cluster the agent is kube-flannel-ds in kube-flannel; -A shows namespaces; unknown names are NotFound', () => {
    const s = createSession();
    expect(s.run('kubectl get daemonsets -A').stdout).toMatch(/^NAMESPACE +NAME +DESIRED.*\nkube-flannel +kube-flannel-ds +3 .*\nkube-system +kube-proxy +3 /);
    expect(s.run('kubectl get ds')).toEqual({ stdout: '', stderr: 'No resources found in default namespace.\n', status: 0 });
    expect(s.run('kubectl get ds aws-node -n kube-system')).toEqual({ stdout: '', stderr: 'Error from server (NotFound): daemonsets.apps "aws-node" not found\n', status: 1 });
  });

  it('set env prints kubectl\'s line, bumps the template generation, and shows in describe; the same value again prints nothing', () => {
    const s = eks();
    expect(s.run('kubectl describe ds aws-node -n kube-system').stdout).toContain('Annotations:    deprecated.daemonset.template.generation: 1\n');
    expect(s.run('kubectl -n kube-system set env daemonset/aws-node ENABLE_PREFIX_DELEGATION=true WARM_PREFIX_TARGET=2').stdout).toBe('daemonset.apps/aws-node env updated\n');
    const d = s.run('kubectl describe daemonset aws-node -n kube-system').stdout;
    expect(d).toContain('Annotations:    deprecated.daemonset.template.generation: 2\n');
    expect(d).toContain('    Environment:\n      AWS_VPC_K8S_CNI_EXTERNALSNAT:  false\n      AWS_VPC_K8S_CNI_VETHPREFIX:    eni\n      ENABLE_PREFIX_DELEGATION:      true\n      WARM_ENI_TARGET:               1\n      WARM_PREFIX_TARGET:            2\n');
    expect(s.run('kubectl set env ds aws-node -n kube-system ENABLE_PREFIX_DELEGATION=true')).toEqual({ stdout: '', stderr: '', status: 0 });
    expect(s.sim.history().filter((h) => h.startsWith('kubectl set env'))).toEqual(['kubectl set env daemonset/aws-node ENABLE_PREFIX_DELEGATION=true WARM_PREFIX_TARGET=2']);
  });

  it('--list prints kubectl\'s header and KEY=VALUE lines; KEY- unsets; new keys go last', () => {
    const s = eks();
    s.run('kubectl set env ds/aws-node -n kube-system MY_NOTE=x');
    expect(s.run('kubectl set env ds/aws-node -n kube-system --list').stdout).toBe('# DaemonSet aws-node, container aws-node\nAWS_VPC_K8S_CNI_EXTERNALSNAT=false\nAWS_VPC_K8S_CNI_VETHPREFIX=eni\nENABLE_PREFIX_DELEGATION=false\nWARM_ENI_TARGET=1\nWARM_PREFIX_TARGET=1\nMY_NOTE=x\n');
    s.run('kubectl set env ds/aws-node -n kube-system MY_NOTE-');
    expect(s.run('kubectl set env ds/aws-node -n kube-system --list').stdout).not.toContain('MY_NOTE');
  });

  it('errors as kubectl words them; the cluster is unchanged', () => {
    const s = eks();
    const before = s.sim.state;
    expect(s.run('kubectl set env ds/aws-node ENABLE_PREFIX_DELEGATION=true')).toEqual({ stdout: '', stderr: 'Error from server (NotFound): daemonsets.apps "aws-node" not found\n', status: 1 });
    expect(s.run('kubectl set env daemonset/aws-nodes -n kube-system A=b').stderr).toBe('Error from server (NotFound): daemonsets.apps "aws-nodes" not found\n');
    expect(s.run('kubectl set env ds/aws-node -n kube-system 9X=1').stderr).toMatch(/^error: "9X" is not a valid key name: a valid environment variable name must consist of alphabetic characters/);
    expect(s.run('kubectl set env ds/aws-node -n kube-system').stderr).toBe('error: at least one environment variable must be provided\n');
    expect(s.run('kubectl set env ds/aws-node -n kube-system --bogus').stderr).toBe("error: unknown flag: --bogus\nSee 'kubectl set env --help' for usage.\n");
    expect(s.run('kubectl set env foo/bar A=b').stderr).toBe('error: the server doesn\'t have a resource type "foo"\n');
    expect(s.run('kubectl set image ds/aws-node x=y').stderr).toBe('error: unknown command "image" for "kubectl set"\n');
    expect(s.run('kubectl set env ds/kube-proxy -n kube-system A=b').stderr).toBe('error: podnet models no environment for kube-proxy: only the AWS VPC CNI\'s aws-node has settings that change on a running cluster\n');
    expect(createSession().run('kubectl set env ds/kube-flannel-ds -n kube-flannel A=b').stderr).toContain('podnet models no environment for kube-flannel-ds');
    expect(s.run('kubectl set env ds/aws-node -n kube-system AWS_VPC_K8S_CNI_EXTERNALSNAT=true').stderr).toContain('podnet does not re-apply AWS_VPC_K8S_CNI_EXTERNALSNAT to running nodes');
    expect(s.sim.state).toBe(before);
  });
});

describe('eksctl', () => {
  it('get cluster names the lab\'s cluster', () => {
    expect(eks().run('eksctl get cluster').stdout).toBe('NAME         REGION      EKSCTL CREATED\npodnet-lab   us-west-2   True\n');
  });

  it('create nodegroup: instances join with EC2 names and the max pods aws-node\'s configuration allows at that moment', () => {
    const s = eks();
    const out = s.run('eksctl create nodegroup --cluster podnet-lab --name ng-1 --node-type t3.small --nodes 2');
    expect(out.stdout).toBe([
      '2026-01-05 09:10:00 [ℹ]  will use version 1.31 for new nodegroup(s) based on control plane version',
      '2026-01-05 09:10:00 [ℹ]  1 nodegroup (ng-1) was included (based on the include/exclude rules)',
      '2026-01-05 09:10:00 [ℹ]  will create a CloudFormation stack for each of 1 managed nodegroups in cluster "podnet-lab"',
      '2026-01-05 09:10:00 [ℹ]  waiting for at least 2 node(s) to become ready in "ng-1"',
      '2026-01-05 09:10:00 [ℹ]  nodegroup "ng-1" has 2 node(s)',
      '2026-01-05 09:10:00 [ℹ]  node "ip-192-168-1-14.us-west-2.compute.internal" is ready',
      '2026-01-05 09:10:00 [ℹ]  node "ip-192-168-1-15.us-west-2.compute.internal" is ready',
      '2026-01-05 09:10:00 [✔]  created 1 managed nodegroup(s) in cluster "podnet-lab"',
      '',
    ].join('\n'));
    // Without prefix delegation the new instances get the secondary-IP limit, and run the node agents.
    expect(s.sim.node('ip-192-168-1-14.us-west-2.compute.internal').maxPods).toBe(11);
    expect(s.run('kubectl get pods -n kube-system -o wide | grep -c ip-192-168-1-15').stdout).toBe('2\n');
    s.run('kubectl set env ds/aws-node -n kube-system ENABLE_PREFIX_DELEGATION=true');
    s.run('eksctl create nodegroup --cluster=podnet-lab --name=ng-2 --nodes=1');
    expect(s.sim.node('ip-192-168-1-16.us-west-2.compute.internal').maxPods).toBe(110);
    s.run('eksctl create nodegroup --cluster podnet-lab --name ng-3 --nodes 1 --max-pods-per-node 50');
    expect(s.sim.node('ip-192-168-1-17.us-west-2.compute.internal').maxPods).toBe(50);
    expect(s.sim.check().ok).toBe(true);
  });

  it('refuses what it cannot do, changing nothing', () => {
    const s = eks();
    const before = s.sim.state;
    expect(s.run('eksctl create nodegroup --cluster other --name x').stderr).toBe('Error: cannot find EKS cluster "other" in region "us-west-2" (eksctl get cluster lists podnet\'s one cluster)\n');
    expect(s.run('eksctl create nodegroup --name x').stderr).toBe('Error: --cluster must be set\n');
    expect(s.run('eksctl create nodegroup --cluster podnet-lab --node-type m5.large').stderr).toContain('podnet models one instance type per cluster (t3.small');
    expect(s.run('eksctl create nodegroup --cluster podnet-lab --bogus 1').stderr).toBe('Error: unknown flag: --bogus\n');
    expect(s.sim.state).toBe(before);
    s.run('eksctl create nodegroup --cluster podnet-lab --name ng --nodes 1');
    expect(s.run('eksctl create nodegroup --cluster podnet-lab --name ng --nodes 1').stderr).toContain('AlreadyExistsException: Stack [eksctl-podnet-lab-nodegroup-ng] already exists');
    expect(createSession().run('eksctl create nodegroup --cluster podnet-lab --nodes 1').stderr).toBe('Error: podnet: eksctl needs an EKS-style cluster (the AWS VPC CNI); this cluster runs flannel-vxlan\n');
  });
});

describe('kubectl rollout restart|status daemonset', () => {
  it('replaces every pod of the DaemonSet, restarts the CNI agent on every node (flanneld puts its routes back), and says so as kubectl does', () => {
    const s = createSession();
    s.run('lab start 2');
    const before = s.sim.pods().filter((p) => p.namespace === 'kube-flannel').map((p) => p.name);
    expect(s.run('kubectl rollout restart ds/kube-flannel-ds -n kube-flannel')).toEqual({ stdout: 'daemonset.apps/kube-flannel-ds restarted\n', stderr: '', status: 0 });
    const after = s.sim.pods().filter((p) => p.namespace === 'kube-flannel');
    expect(after.map((p) => p.node).sort()).toEqual(['node-1', 'node-2', 'node-3']);
    expect(after.some((p) => before.includes(p.name))).toBe(false);
    expect(s.run('kubectl describe ds kube-flannel-ds -n kube-flannel').stdout).toContain('deprecated.daemonset.template.generation: 2');
    expect(s.run('kubectl rollout status daemonset kube-flannel-ds -n kube-flannel').stdout).toBe('daemon set "kube-flannel-ds" successfully rolled out\n');
    expect(s.run('lab check').stdout).toMatch(/Lab 2 solved\.\n$/);
  });

  it('refuses what it does not model, and names a DaemonSet that is not there as the API server does', () => {
    const s = createSession();
    expect(s.run('kubectl rollout restart ds/nope -n kube-flannel')).toEqual({ stdout: '', stderr: 'Error from server (NotFound): daemonsets.apps "nope" not found\n', status: 1 });
    expect(s.run('kubectl rollout undo ds/kube-flannel-ds -n kube-flannel').stderr).toBe('error: podnet models kubectl rollout restart and status, not "undo"\n');
    expect(s.run('kubectl rollout restart deployment/web').stderr).toMatch(/^error: podnet rolls DaemonSets only/);
    const state = s.sim.state;
    s.run('kubectl rollout restart ds/kube-proxy');
    expect(s.sim.state).toBe(state);
  });
});
