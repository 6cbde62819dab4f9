/**
 * Model-based commands in fast-check's own shape (`fc.Command` with `check`, `run`, `toString`), so
 * they combine with `fc.commands` and `fc.modelRun` and with commands of your own:
 *
 * ```ts
 * fc.assert(fc.property(clusterShapeArb(), fc.commands(clusterCommands()), (shape, cmds) => {
 *   const run = new ClusterRun(myDesign, shape); // or { checks: 'at-end' }
 *   fc.modelRun(() => ({ model: {}, real: run }), cmds);
 *   run.finish(); // the final audit of the `at-end` level (nothing to do at `every-change`)
 * }));
 * ```
 *
 * The real system is a {@link ClusterRun}; the model is an empty object, because the simulator already
 * is the model and its checks are the oracle (the commands read what they need from the run).
 */
import fc from 'fast-check';
import { checkEventOptions, clusterEventArb, eventArbs, type ClusterEvent, type EventOptions } from './events.js';
import type { ClusterRun } from './runner.js';

/** The (empty) model of the commands: the simulator holds the truth. */
export type ClusterModel = Record<string, never>;

/** One cluster event as a fast-check command. */
export class ClusterCommand implements fc.Command<ClusterModel, ClusterRun> {
  #text: string | null = null;
  constructor(readonly event: ClusterEvent) {}

  check(_model: Readonly<ClusterModel>): boolean {
    // Every event is valid by construction; the run decides whether it can be played at this point.
    return true;
  }

  run(_model: ClusterModel, real: ClusterRun): void {
    this.#text = real.canPlay(this.event) ? real.play(this.event) : `(${this.event.type} skipped: nothing to act on)`;
  }

  /** How the event read when it ran (`addPod pod-2 on node-1 → node-1 10.0.1.2`), or its raw form. */
  toString(): string {
    return this.#text ?? JSON.stringify(this.event);
  }
}

/** The command arbitraries for `fc.commands`: one per kind of event, faults and packets as asked. */
export function clusterCommands(options: EventOptions = {}): fc.Arbitrary<ClusterCommand>[] {
  checkEventOptions(options);
  const out: fc.Arbitrary<ClusterEvent>[] = [eventArbs.addNode, eventArbs.addNode, eventArbs.addPod, eventArbs.addPod, eventArbs.addPod, eventArbs.removeNode, eventArbs.deletePod, eventArbs.reschedulePod];
  if (options.packets !== false) out.push(eventArbs.send, eventArbs.send);
  if (options.faults) out.push(eventArbs.fault);
  return out.map((a) => a.map((e) => new ClusterCommand(e)));
}

/** Arbitrary sequences of events as plain values (for users who drive a simulator themselves). */
export function clusterEventsArb(options: EventOptions & { readonly maxEvents?: number } = {}): fc.Arbitrary<ClusterEvent[]> {
  return fc.array(clusterEventArb(options), { maxLength: options.maxEvents ?? 20 });
}
