/**
 * Snapshots of a run's folded state, so a long run is rebuilt from its latest snapshot plus the events
 * after it. A snapshot is only a cache of the log: one recorded under other machine definitions is
 * ignored, so is one the log does not reach (rebuildRun checks), and replay and verify always fold
 * from the first event.
 */
import { MACHINE_VERSION } from '../../machines/index.js';
import { workerMachine } from '../../machines/worker.js';
import { workflowMachine } from '../../machines/workflow.js';
import type { EventStore } from '../store/event-store.js';
import { persistRunState, type PersistedRunState, type RunState } from './run-state.js';

/** How many events may pile up after the latest snapshot before the engine writes a new one. */
export const SNAPSHOT_EVERY = 500;

export async function saveRunSnapshot(store: EventStore, state: RunState, options: { replace?: boolean } = {}): Promise<void> {
  await store.saveSnapshot({ streamId: state.run.runId, version: state.version, machineVersion: MACHINE_VERSION, state: persistRunState(state) }, options);
}

/** The latest usable snapshot of a run, restored into live machine snapshots; undefined when there is none. */
export async function loadRunSnapshot(store: EventStore, runId: string): Promise<RunState | undefined> {
  const snapshot = await store.loadSnapshot(runId);
  if (snapshot === undefined || snapshot.machineVersion !== MACHINE_VERSION) return undefined;
  const persisted = snapshot.state as PersistedRunState;
  // A raw JSON snapshot throws inside `transition`: xstate must resolve it first (FACTS.md).
  const workflow = workflowMachine.resolveState(persisted.workflow as Parameters<typeof workflowMachine.resolveState>[0]);
  const workers = Object.fromEntries(
    Object.entries(persisted.workers).map(([id, s]) => [id, workerMachine.resolveState(s as Parameters<typeof workerMachine.resolveState>[0])]),
  );
  return {
    run: persisted.run,
    version: persisted.version,
    packets: persisted.packets,
    workflow,
    workers,
    timers: persisted.timers,
    artifacts: persisted.artifacts,
    serviceWorkers: persisted.serviceWorkers,
  };
}
