/**
 * `overseer resume`: rebuild a run from its log and carry on from exactly where it stopped. A log
 * that ends before its snapshot or runs row says it reached is refused (TruncatedLogError). A run
 * recorded under older machine definitions is folded with them, then moved to the current ones by a
 * `machines.migrated` event before anything else happens (docs/versions.md).
 */
import type { EngineDeps } from './run-engine.js';
import { RunEngine } from './run-engine.js';
import { rebuildRun } from '../fold/rebuild-run.js';
import { RunLease } from './run-lease.js';
import { foreignProcesses } from './foreign-processes.js';
import { migrationEvent } from '../fold/machine-set.js';
import type { RunEvent } from '../fold/run-events.js';
import { readLogClaims, refuseTruncated } from '../fold/truncated-log.js';

/** `lease`: one already held (a run `overseer worker` claimed); by default the run's lease is taken here. */
export async function resumeRun(deps: EngineDeps, runId: string, options: { lease?: RunLease } = {}): Promise<RunEngine> {
  // The lease first: two engines must never act on one run, even while one is still rebuilding it.
  const lease = options.lease ?? (await RunLease.take(deps.store, runId));
  let engine: RunEngine;
  let migration: RunEvent | null;
  let foreign: Map<string, string>;
  try {
    // Its caches before its log: the log only grows, so a claim read first is ahead only of a cut log.
    const claims = await readLogClaims(deps.store, runId);
    const state = await rebuildRun(deps.store, runId, deps.machines);
    refuseTruncated(state, claims);
    migration = migrationEvent(state.machines);
    foreign = await foreignProcesses(deps.store, state);
    engine = new RunEngine(deps, state);
  } catch (error) {
    await lease.release();
    throw error;
  }
  engine.hold(lease);
  if (migration !== null) await engine.commit([migration]);
  await engine.watchForeignEvents();
  engine.resumeEffects(foreign);
  return engine;
}
