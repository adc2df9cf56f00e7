/**
 * Overseer as a library: `import { openStore, startRun, approve, readEvents } from 'overseer'`.
 * The same operations the CLI and the MCP server perform, on a store the program opened itself
 * (docs/api.md). Everything else under src/ is internal and may change without notice.
 */

// The store.
export { openStore, resolveDbTarget, type OpenStoreOptions } from './store/open-store.js';
export type { EventStore, StoredEvent, RunRow, RunStatus, Checkpoint, Subscription } from './store/event-store.js';
export { RUN_STATUSES, START } from './store/event-store.js';

// Starting and resuming runs: here (a handle in this process) or in a detached `overseer` engine.
export { startRunHere as startRun, resumeRunHere as resumeRun, type RunHandle } from './engine/run-handle.js';
export { runOptionsFor, RunRequestError, type RunRequest } from './engine/run-request.js';
export { startRunDetached, resumeRunDetached, type DetachedEngine } from './engine/detached-engine.js';

// A person's decisions.
export { approve, cancelRun, type Decision, type DecisionRecorded } from './engine/run-decisions.js';

// Reading runs, in the shapes `status --json` and `events --json` print.
export { listRuns, readEvents, runStatus, UnknownWorkerError, type RunListEntry } from './inspect/run-reads.js';
export { parseSince, type EventFilter } from './inspect/event-filter.js';
export type { EventLine } from './inspect/event-line.js';
export type { RunSummary, WorkerSummary } from './fold/run-status.js';

// Plans, for a program that checks one before it starts it.
export { parsePlanText, loadPlanFile } from './planning/plan-file.js';
export { parsePlan, type Plan, type PlanProblem, type PlanResult } from './planning/plan.js';

// Errors: each has a `code` (ERROR_CODES); branch on it, not on the message.
export { OverseerError, ERROR_CODES, type ErrorCode } from './errors.js';
export { RunNotFoundError } from './fold/rebuild-run.js';
export { NotApplicableError } from './engine/write-to-run.js';
export { LeaseHeldError } from './engine/run-lease.js';
export { ConcurrencyError, StoreUnavailableError } from './store/store-errors.js';
