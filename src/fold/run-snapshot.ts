/**
 * Snapshots of a run's folded state, so a long run is rebuilt from its latest snapshot plus the events
 * after it. A snapshot is only a cache of the log: one recorded under other machine definitions is
 * ignored, so is one the log does not reach (loadRunSnapshot checks), and replay and verify always fold
 * from the first event.
 */
import { MACHINE_VERSION } from '../../machines/index.js';
import { workerMachine } from '../../machines/worker.js';
import { workflowMachine } from '../../machines/workflow.js';
import type { EventStore, StoredEvent } from '../store/event-store.js';
import { persistRunState, type PersistedRunState, type RunState } from './run-state.js';

/** How many events may pile up after the latest snapshot before the engine writes a new one. */
export const SNAPSHOT_EVERY = 500;

export async function saveRunSnapshot(store: EventStore, state: RunState, options: { replace?: boolean } = {}): Promise<void> {
  await store.saveSnapshot({ streamId: state.run.runId, version: state.version, machineVersion: MACHINE_VERSION, state: persistRunState(state) }, options);
}

/** A usable snapshot and the events the log holds after it, to be folded on top. */
export interface SnapshotAndTail {
  snapshot: RunState;
  tail: StoredEvent[];
}

/**
 * The latest usable snapshot of a run, restored into live machine snapshots, with the events after
 * it; undefined when there is none. The tail is read from the snapshot's own event: when the log no
 * longer has that event (events were removed from its end), the snapshot folded events that are
 * gone, and is not believed.
 */
export async function loadRunSnapshot(store: EventStore, runId: string): Promise<SnapshotAndTail | undefined> {
  const snapshot = await store.loadSnapshot(runId);
  if (snapshot === undefined || snapshot.machineVersion !== MACHINE_VERSION) return undefined;
  const [own, ...tail] = await store.readStream(runId, { fromVersion: snapshot.version });
  if (own?.version !== snapshot.version) return undefined;
  return { snapshot: restore(snapshot.state as PersistedRunState), tail };
}

function restore(persisted: PersistedRunState): RunState {
  // A raw JSON snapshot throws inside xstate's `transition`: `resolveState` must rebuild it first.
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
