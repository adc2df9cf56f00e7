/** `overseer resume`: rebuild a run from its log and carry on from exactly where it stopped. */
import type { EngineDeps } from './run-engine.js';
import { RunEngine } from './run-engine.js';
import { rebuildRun } from './rebuild-run.js';
import { RunLease } from './run-lease.js';

export async function resumeRun(deps: EngineDeps, runId: string): Promise<RunEngine> {
  // The lease first: two engines must never act on one run, even while one is still rebuilding it.
  const lease = await RunLease.take(deps.store, runId);
  let engine: RunEngine;
  try {
    engine = new RunEngine(deps, await rebuildRun(deps.store, runId));
  } catch (error) {
    await lease.release();
    throw error;
  }
  engine.hold(lease);
  await engine.watchForeignEvents();
  engine.resumeEffects();
  return engine;
}
