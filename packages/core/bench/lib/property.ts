/**
 * The property the throughput scripts run (bench:warmup, bench:steady): flannel VXLAN, 20-event runs of
 * testing's cluster commands on up to 6 nodes at a check level, each run ended by `finish()` — the bench's
 * property figure (bench/designs.ts) without its per-event timers.
 */
import fc from 'fast-check';
import { flannel } from '@podnet/cni';
import { ClusterRun, clusterCommands, clusterShapeArb, type CheckLevel } from '@podnet/testing';

export function flannelProperty(checks: CheckLevel) {
  const design = flannel({ backend: 'vxlan' });
  const cmds = fc.array(fc.oneof(...clusterCommands({})), { minLength: 20, maxLength: 20 });
  return fc.property(clusterShapeArb({}), cmds, (shape, list) => {
    const run = new ClusterRun(design, shape, { maxNodes: 6, checks });
    fc.modelRun(() => ({ model: {}, real: run }), list);
    run.finish();
  });
}
