import { describe, expect, it } from 'vitest';
import { isPodnetError } from '../errors.js';
import { addNodeState, createClusterState } from '../model/cluster.js';
import { getNs } from '../model/lookup.js';
import { bare } from '../cni/testing/bare.js';
import type { ClusterState } from '../model/types.js';
import { applyActions, type Action } from './actions.js';
import { describeAction } from './describe.js';

const start: ClusterState = addNodeState(createClusterState({ podCidr: '10.244.0.0/16' }, bare), { name: 'node-a' }, bare).state;

function code(f: () => unknown): string | null {
  try { f(); return null; } catch (e) { if (!isPodnetError(e)) throw e; return e.code; }
}

describe('route.cacheException', () => {
  it('refuses a key that is not a string, one the namespace has no exception at, and an unknown namespace, with typed errors', () => {
    expect(code(() => applyActions(start, [{ op: 'route.cacheException', ns: 'node/node-a', key: 5 } as unknown as Action]))).toBe('INVALID_ARGUMENT');
    expect(code(() => applyActions(start, [{ op: 'route.cacheException', ns: 'node/node-a', key: '' }]))).toBe('INVALID_ARGUMENT');
    expect(code(() => applyActions(start, [{ op: 'route.cacheException', ns: 'node/node-a', key: '167837701|unicast - eth0 0 boot link - - -' }]))).toBe('ROUTE_EXCEPTION_NOT_FOUND');
    expect(code(() => applyActions(start, [{ op: 'route.cacheException', ns: 'node/nope', key: '1|x' }]))).toBe('NAMESPACE_NOT_FOUND');
  });

  it('is described as the lookup that does it', () => {
    expect(describeAction({ op: 'route.cacheException', ns: 'node/node-a', key: '167837701|unicast - eth0 0 boot link - - -' })[0]!.command).toBe('ip route get 10.1.0.5');
  });
});

describe('route.flushCache', () => {
  it('refuses a namespace that is not there, or no namespace id, with typed errors', () => {
    expect(code(() => applyActions(start, [{ op: 'route.flushCache', ns: 'node/nope' }]))).toBe('NAMESPACE_NOT_FOUND');
    expect(code(() => applyActions(start, [{ op: 'route.flushCache', ns: '' } as unknown as Action]))).toBe('INVALID_ARGUMENT');
    expect(code(() => applyActions(start, [{ op: 'route.flushCache', ns: 7 } as unknown as Action]))).toBe('INVALID_ARGUMENT');
  });

  it('leaves a namespace without exceptions as it was', () => {
    const next = applyActions(start, [{ op: 'route.flushCache', ns: 'node/node-a' }]);
    expect(getNs(next, 'node/node-a').pmtu).toBe(getNs(start, 'node/node-a').pmtu);
    expect(getNs(next, 'node/node-a').pmtu).toEqual({});
  });

  it('is described as the command that does it', () => {
    expect(JSON.stringify(describeAction({ op: 'route.flushCache', ns: 'node/node-a' }))).toContain('ip route flush cache');
  });
});
