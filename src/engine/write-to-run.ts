/**
 * How a process that is not the run's engine (approve, cancel, the web viewer) writes to a run:
 * rebuild it, decide the event against the state it is really in, append at that version, and on a
 * conflict (the engine wrote meanwhile) start over. The engine folds the event in when it sees it.
 * The event records the run's epoch, read before the log: when a takeover moves the epoch meanwhile,
 * the append is refused (FencedError) and written again under the new one, never lost.
 * A run whose log was cut short is refused, as `resume` refuses it (TruncatedLogError).
 */
import type { EventStore } from '../store/event-store.js';
import { CONFLICT_RETRIES, ConcurrencyError, FencedError } from '../store/store-errors.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { buildBatch, type Batch } from '../fold/run-batch.js';
import type { RunEvent } from '../fold/run-events.js';
import type { RunState } from '../fold/run-state.js';
import { deriveRunStatus } from '../fold/run-status.js';
import { rebuildRun } from '../fold/rebuild-run.js';
import { readLogClaims, refuseTruncated } from '../fold/truncated-log.js';
import { OverseerError } from '../errors.js';

/** The event does not apply to the run as it is (not waiting, already over, no such worker). */
export class NotApplicableError extends OverseerError {
  readonly code = 'NOT_APPLICABLE' as const;
}

export interface Written {
  before: RunState;
  batch: Batch;
}

export async function writeToRun(store: EventStore, runId: string, decide: (state: RunState) => RunEvent, clock: Clock = systemClock): Promise<Written> {
  for (let attempt = 0; ; attempt++) {
    // Its caches before its log: the log only grows, so a claim read first is ahead only of a cut log.
    const claims = await readLogClaims(store, runId);
    const epoch = claims.run?.epoch;
    const before = await rebuildRun(store, runId);
    refuseTruncated(before, claims);
    const event = decide(before);
    const batch = buildBatch(before, [event], new Date(clock.now()), Math.random);
    if (batch.events.length === 0) throw new NotApplicableError(`${event.type} changes nothing in run ${runId}`);
    const status = deriveRunStatus(batch.state);
    try {
      await store.append(runId, before.version, batch.events, {
        ...(status === deriveRunStatus(before) ? {} : { runStatus: status }),
        ...(epoch === undefined ? {} : { epoch }),
      });
      return { before, batch };
    } catch (error) {
      if ((error instanceof ConcurrencyError || error instanceof FencedError) && attempt < CONFLICT_RETRIES) continue;
      throw error;
    }
  }
}
