/**
 * A design for tests of the core: it wires nothing, so the namespaces are the nodes' hosts and the
 * underlay, changed only by what a test applies; every pod's CNI ADD fails.
 */
import type { CniDesign } from '../contract.js';

export const bare: CniDesign = {
  name: 'bare',
  nodeAdded: () => ({ actions: [] }),
  nodeRemoved: () => ({ actions: [] }),
  podAdded: () => ({ error: { cniVersion: '1.0.0', code: 999, msg: 'bare wires no pods' } }),
  podDeleted: () => ({ actions: [] }),
};
