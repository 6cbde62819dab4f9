import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSimulator } from '../sim/simulator.js';
import { netnsPath, sandboxId } from './cluster.js';

/** FNV-1a over the seed, once per 8 hex digits, each round printed with toString(16) (how it was written first). */
function reference(s: string, len: number): string {
  let out = '';
  let h = 0x811c9dc5;
  for (let round = 0; out.length < len; round++) {
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ round, 0x01000193);
    out += (h >>> 0).toString(16).padStart(8, '0');
  }
  return out.slice(0, len);
}

describe('sandbox IDs and netns paths', () => {
  it('stay what they were for any pod: 64 hex digits, and containerd\'s cni-<uuid> path', () => {
    fc.assert(fc.property(fc.string({ maxLength: 40 }), fc.uuid(), fc.nat(), (key, uid, created) => {
      const id = sandboxId({ key, uid, created });
      expect(id).toBe(reference(`${key}|${uid}|${created}`, 64));
      expect(id).toMatch(/^[0-9a-f]{64}$/);
      const h = reference(uid, 32);
      expect(netnsPath({ uid })).toBe(`/var/run/netns/cni-${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`);
    }), { numRuns: 500 });
  });
});

describe('a pod\'s record', () => {
  it('has the same fields, in the same order, whether its sandbox was made at once or once it was scheduled later', async () => {
    const { flannel } = await import('@podnet/cni');
    // pod-b waits, Pending, for a node and is placed when one joins (a copy of the waiting record); pod-a is
    // placed at once (the fresh sandbox's literal). A field the literal forgot would be missing from pod-a only.
    const sim = createSimulator({ podCidr: '10.244.0.0/16', cni: flannel({ backend: 'vxlan' }) });
    sim.addPod({ name: 'pod-b', labels: { app: 'b' } });
    expect(sim.pod('pod-b').node).toBeNull();
    sim.addNode({ name: 'node-1' });
    sim.addPod({ name: 'pod-a', node: 'node-1', labels: { app: 'a' } });
    const a = sim.pod('pod-a');
    const b = sim.pod('pod-b');
    expect(b.status).toBe(a.status);
    expect(Object.keys(a)).toEqual(Object.keys(b));
  });
});

