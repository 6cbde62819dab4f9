/**
 * @podnet/testing without what needs Node: everything but `checkDesignParallel`'s worker threads.
 * It is what bundlers give a browser build (the package's `browser` export condition), so `checkDesign`,
 * the arbitraries and the commands run in a page as in Node; the Node entry (`index.ts`) is this plus the
 * parallel runner.
 */
export type { ClusterEvent, ClusterShape, EndpointRef, EventOptions, Fault, ShapeOptions } from './events.js';
export { clusterEventArb, clusterShapeArb, eventArbs } from './events.js';
export type { ClusterModel } from './commands.js';
export { ClusterCommand, clusterCommands, clusterEventsArb } from './commands.js';
export type { CheckLevel, FailureKind, RunOptions } from './runner.js';
export { ClusterRun, DesignFailure, DesignThrew, describeThrown } from './runner.js';
export type { CheckDesignOptions, CheckDesignResult, Counterexample } from './check-design.js';
export { checkDesign, formatCounterexample, validateCampaign } from './check-design.js';
export { formatTrace } from './format.js';
