import type { EventStore, RunRow } from '../store/event-store.js';
import { UsageError } from './usage-error.js';

/** The run a command names, or a one-line usage error. */
export async function findRun(store: EventStore, runId: string): Promise<RunRow> {
  const run = await store.getRun(runId);
  if (run === undefined) throw new UsageError(`no run ${runId} in this store`);
  return run;
}
