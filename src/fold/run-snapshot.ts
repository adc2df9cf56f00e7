/**
 * Snapshots of a run's folded state, so a long run is rebuilt from its latest snapshot plus the events
 * after it. A snapshot is only a cache of the log: it is restored with the definitions it was taken
 * under (one of versions this build does not know is ignored), one the log does not reach is ignored
 * too (loadRunSnapshot checks), and replay and verify always fold from the first event.
 */
import type { MachineRegistry } from '../../machines/versions.js';
import type { EventStore, StoredEvent } from '../store/event-store.js';
import { machinesFor, MachineVersionError, type MachineSet } from './machine-set.js';
import { persistRunState, restoreRunState, type PersistedRunState, type RunState } from './run-state.js';

/** How many events may pile up after the latest snapshot before the engine writes a new one. */
export const SNAPSHOT_EVERY = 500;

export async function saveRunSnapshot(store: EventStore, state: RunState, options: { replace?: boolean } = {}): Promise<void> {
  await store.saveSnapshot({ streamId: state.run.runId, version: state.version, machineVersion: state.machines.version, state: persistRunState(state) }, options);
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
export async function loadRunSnapshot(store: EventStore, runId: string, registry?: MachineRegistry): Promise<SnapshotAndTail | undefined> {
  const snapshot = await store.loadSnapshot(runId);
  if (snapshot === undefined) return undefined;
  const machines = knownMachines(snapshot.machineVersion, registry);
  if (machines === undefined) return undefined;
  const [own, ...tail] = await store.readStream(runId, { fromVersion: snapshot.version });
  if (own?.version !== snapshot.version) return undefined;
  return { snapshot: restoreRunState(snapshot.state as PersistedRunState, machines), tail };
}

function knownMachines(version: string, registry: MachineRegistry | undefined): MachineSet | undefined {
  try {
    return machinesFor(version, registry);
  } catch (error) {
    // A cache of versions this build does not know is no use; the log decides what happens to the run.
    if (error instanceof MachineVersionError) return undefined;
    throw error;
  }
}
