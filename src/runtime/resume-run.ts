/** `overseer resume`: rebuild a run from its log and carry on from exactly where it stopped. */
import type { EngineDeps } from './run-engine.js';
import { RunEngine } from './run-engine.js';
import { rebuildRun } from './rebuild-run.js';

export async function resumeRun(deps: EngineDeps, runId: string): Promise<RunEngine> {
  const engine = new RunEngine(deps, await rebuildRun(deps.store, runId));
  await engine.watchForeignEvents();
  engine.resumeEffects();
  return engine;
}
