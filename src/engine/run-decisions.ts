/**
 * A person's decisions about a run, made from outside its engine (the CLI, the MCP server, the
 * library): approve or deny a worker, cancel the run. Each refuses an unknown run or worker, or a
 * decision that does not apply, with a typed error and nothing written (an unknown run: the
 * RunNotFoundError of writeToRun's rebuild).
 */
import { userInfo } from 'node:os';
import type { EventStore } from '../store/event-store.js';
import { approvalEvent, cancelEvent, type Decider } from './human-decisions.js';
import { stopRunProcesses } from './stop-run-processes.js';
import { writeToRun } from './write-to-run.js';

/** Who decides, from where, why: `by` defaults to the OS user, `source` to `api` (the CLI says `cli`, the MCP server `mcp`). */
export interface Decision {
  by?: string | undefined;
  source?: string | undefined;
  reason?: string | undefined;
}

function decider(decision: Decision): Decider {
  return { by: decision.by ?? userInfo().username, source: decision.source ?? 'api', reason: decision.reason };
}

export interface DecisionRecorded {
  runId: string;
  workerId: string;
  /** `trust.approved`, `trust.denied`, `human.retry` or `human.abandon`. */
  decision: string;
  /** The worker's state after the decision. */
  state: string;
}

/** Approve (or, with `deny`, refuse) a worker waiting at its trust gate or escalated to a person. */
export async function approve(store: EventStore, runId: string, workerId: string, decision: Decision & { deny?: boolean | undefined } = {}): Promise<DecisionRecorded> {
  const who = decider(decision);
  const { batch } = await writeToRun(store, runId, (state) => approvalEvent(state, workerId, decision.deny !== true, who));
  const decided = batch.committed[0];
  return { runId, workerId, decision: decided?.type ?? 'decision', state: String(decided?.stateAfter) };
}

/**
 * Cancels the run. A live engine kills its workers and gates when it sees the cancel; with none alive
 * (it crashed, or the run was detached) their processes would run on, so they are stopped here too.
 */
export async function cancelRun(store: EventStore, runId: string, decision: Decision = {}): Promise<void> {
  const who = decider(decision);
  const written = await writeToRun(store, runId, (state) => cancelEvent(state, who));
  await stopRunProcesses(written.before);
}
