/**
 * Snapshots of a run's folded state, so a long run is rebuilt from its latest snapshot plus the events
 * after it. A snapshot is only a cache of the log: one recorded under other machine definitions is
 * ignored, and replay and verify always fold from the first event.
 */
import { MACHINE_VERSION } from '../../machines/index.js';
import type { EventStore } from '../store/event-store.js';
import { persistRunState, restoreRunState, type PersistedRunState, type RunState } from './run-state.js';

/** How many events may pile up after the latest snapshot before the engine writes a new one. */
export const SNAPSHOT_EVERY = 500;

export async function saveRunSnapshot(store: EventStore, state: RunState, options: { replace?: boolean } = {}): Promise<void> {
  await store.saveSnapshot({ streamId: state.run.runId, version: state.version, machineVersion: MACHINE_VERSION, state: persistRunState(state) }, options);
}

/** The latest usable snapshot of a run, restored into live machine snapshots; undefined when there is none. */
export async function loadRunSnapshot(store: EventStore, runId: string): Promise<RunState | undefined> {
  const snapshot = await store.loadSnapshot(runId);
  if (snapshot === undefined || snapshot.machineVersion !== MACHINE_VERSION) return undefined;
  return restoreRunState(snapshot.state as PersistedRunState);
}
