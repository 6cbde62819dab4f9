/**
 * podnet's own immer instance. States are immutable by contract; deep-freezing every new state is off
 * by default because V8's Object.isFrozen is O(keys) and immer checks every child of each copied
 * container: with 256-way shard arrays that made each change cost O(cluster size) (measured: 63% of a
 * 1,000-node build). Turn freezing on with {@link setFreezing} while debugging; the test suite runs
 * with it on, so an accidental mutation fails a test.
 */
import { Immer } from 'immer';

const immer = new Immer({ autoFreeze: false });
let freezing = false;

/** immer's produce, without automatic freezing unless {@link setFreezing} turned it on. */
export const produce: Immer['produce'] = immer.produce;

/** Deep-freeze every state podnet produces from now on (slower; for debugging and tests). */
export function setFreezing(on: boolean): void {
  freezing = on;
  immer.setAutoFreeze(on);
}

/** Deep-freezes a value built outside immer when freezing is on (as immer would have); returns it. */
export function freezeIfOn<T>(value: T): T {
  if (freezing) deepFreeze(value);
  return value;
}

function deepFreeze(v: unknown): void {
  if (v === null || typeof v !== 'object' || Object.isFrozen(v)) return;
  Object.freeze(v);
  for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
}
