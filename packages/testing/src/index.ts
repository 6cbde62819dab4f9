/**
 * @podnet/testing — property-based testing of CNI designs with fast-check: arbitraries of what a cluster
 * goes through, model-based commands, and `checkDesign()` with shrunk counterexamples and traces.
 */
export type { ClusterEvent, ClusterShape, EndpointRef, EventOptions, Fault, ShapeOptions } from './events.js';
export { clusterEventArb, clusterShapeArb, eventArbs } from './events.js';
export type { ClusterModel } from './commands.js';
export { ClusterCommand, clusterCommands, clusterEventsArb } from './commands.js';
export type { CheckLevel, FailureKind, RunOptions } from './runner.js';
export { ClusterRun, DesignFailure } from './runner.js';
export type { CheckDesignOptions, CheckDesignResult, Counterexample } from './check-design.js';
export { checkDesign, formatCounterexample, validateCampaign } from './check-design.js';
export { formatTrace } from './format.js';
export type { ChunkOutcome, DesignSource, ParallelCheckOptions, ParallelCheckResult } from './parallel.js';
export { checkDesignParallel, chunkSeed, loadDesign, runChunk } from './parallel.js';
