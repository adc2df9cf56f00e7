/**
 * Compiled by `npm run typecheck`, never run: the tables that handle the machines' actions are
 * exhaustive, so an action left without a place (or an engine effect without a handler) is a compile
 * error, not a `no effect for action …` at run time. Each `@ts-expect-error` fails the typecheck if
 * the line below it ever compiles.
 */
import type { EngineEffects } from '../../src/engine/run-engine.js';
import type { ActionRoutes } from '../../src/fold/run-batch.js';

const done = (): Promise<void> => Promise.resolve();

export const complete: EngineEffects = {
  startPlanning: done,
  startBootstrap: done,
  runFinished: done,
  decideTrust: done,
  startProcess: done,
  killProcess: (action) => (action.params.pid === null ? done() : done()),
  runGates: done,
  mergeLane: done,
};

// @ts-expect-error -- runGates has no handler
export const missingAnEffect: EngineEffects = {
  startPlanning: done,
  startBootstrap: done,
  runFinished: done,
  decideTrust: done,
  startProcess: done,
  killProcess: done,
};

export const effectParams: Partial<EngineEffects> = {
  // @ts-expect-error -- killProcess is asked with { pid }, not a task list
  killProcess: (action) => Promise.resolve(action.params.taskIds),
};

// @ts-expect-error -- spawnWorkers, cancelWorkers, announce and reportOutcome are given no place
export const missingRoutes: ActionRoutes = {
  startPlanning: 'effect',
  startBootstrap: 'effect',
  runFinished: 'effect',
  decideTrust: 'effect',
  startProcess: 'effect',
  killProcess: 'effect',
  runGates: 'effect',
  markDispatched: 'context',
  recordFailure: 'context',
};
