/**
 * A run as every list of runs shows it (`overseer status`, `status --json`, the viewer's `/api/runs`):
 * its objective on one line, so a row stays a row however the objective was written.
 */
import type { RunRow } from '../store/event-store.js';
import { objectiveLine } from './objective-line.js';

export function runListEntry(run: RunRow) {
  return {
    runId: run.runId,
    status: run.status,
    objective: objectiveLine(run.objective),
    createdAt: run.createdAt.toISOString(),
    updatedAt: run.updatedAt.toISOString(),
  };
}
