/**
 * Each worker's lane as the viewer reads it: its timeline of recorded states (the events'
 * `state_after`), with what a lane row shows — attempt, last failure, agent record — taken from the
 * log's own records. The one place a lane is built, whether from the whole log (the run's index) or
 * from the events of the few workers a first answer shows before the index is read (first-view.ts).
 */
import { STATE_SETS } from '../../machines/state-sets.js';
import type { WorkerOutcome } from '../../machines/events.js';
import { foldLaneEvent, isLaneEvent, LANE_EVENT_TYPES, type LaneRecord } from '../fold/lane-record.js';
import type { RunEvent } from '../fold/run-events.js';
import { runStatusOf } from '../fold/run-status.js';
import type { RunStatus } from '../store/event-store.js';

/** Lanes that need a person come first, then failed ones (typed, so a renamed outcome fails to build). */
const FAILED_OUTCOMES: readonly WorkerOutcome[] = ['failed', 'denied'];
const WAITING = new Set(STATE_SETS.worker.waiting);
const FINAL = new Set(STATE_SETS.worker.final);

/** Where a state's group sorts: waiting, failed, still moving, then the rest (done, cancelled). */
export function groupRank(state: string): number {
  if (WAITING.has(state)) return 0;
  if ((FAILED_OUTCOMES as readonly string[]).includes(state)) return 1;
  if (!FINAL.has(state)) return 2;
  return 3;
}

/** The run's status with these lanes, by the rule `overseer status` uses (runStatusOf). */
export function statusOf(workflowState: string, lanes: readonly LaneAt[]): RunStatus {
  let active = 0;
  let held = 0;
  for (const { entry } of lanes) {
    if (FINAL.has(entry.state)) continue;
    active += 1;
    if (WAITING.has(entry.state)) held += 1;
  }
  return runStatusOf(workflowState, active, held);
}

/** The worker machine's records of its recovery (machines/events.ts): which failure it met, and that it got over it. */
export const FAILURE_TYPES = { met: ['recovery.attempted', 'recovery.exhausted', 'escalated'], overcome: ['recovery.succeeded'] } as const;
const FAILURE_MET = new Set<string>(FAILURE_TYPES.met);
const FAILURE_OVERCOME = new Set<string>(FAILURE_TYPES.overcome);

/** The workflow's event that says in words why a task failed, and the payload field naming the task's worker. */
export const FAILURE_DETAIL = { type: 'task.finished', field: 'taskId' } as const;

/** The events whose payloads a lane reads: everything else it needs is in the event's columns. */
export const LANE_PAYLOADS = ['process.started', ...FAILURE_TYPES.met, ...FAILURE_TYPES.overcome, FAILURE_DETAIL.type, ...LANE_EVENT_TYPES] as const;

export interface LaneEntry {
  version: number;
  state: string;
  attempt: number;
  failureKind: string | null;
  failureDetail: string | null;
  /** An agent lane's record so far (branch, base, usage, merge); null for other workers. */
  agent: LaneRecord | null;
}

export interface Lane {
  workerId: string;
  /** Order of first appearance in the log. */
  order: number;
  entries: LaneEntry[];
}

/** One lane at a position: the lane and its latest entry at or before it. */
export interface LaneAt {
  lane: Lane;
  entry: LaneEntry;
}

/** What a lane reads of a worker's event (its state as text, shared by the index). */
export interface LaneEvent {
  version: number;
  type: string;
  workerId: string | null;
  state: string;
  payload: unknown;
}

interface Payload {
  attempt?: unknown;
  kind?: unknown;
  taskId?: unknown;
  outcome?: unknown;
  detail?: unknown;
}

export class RunLanes {
  readonly lanes: Lane[] = [];
  readonly #lanes = new Map<string, Lane>();

  /** Adds a worker's event; returns the lane and the worker's state before it (null for its first event). */
  addWorkerEvent(event: LaneEvent): { lane: Lane; before: string | null } {
    const lane = this.#lane(event.workerId ?? '');
    const payload = (event.payload ?? {}) as Payload;
    const previous = lane.entries.at(-1);
    const entry: LaneEntry = {
      version: event.version,
      state: event.state,
      attempt: previous?.attempt ?? 0,
      failureKind: previous?.failureKind ?? null,
      failureDetail: previous?.failureDetail ?? null,
      agent: previous?.agent ?? null,
    };
    if (isLaneEvent(event.type)) entry.agent = foldLaneEvent(entry.agent ?? undefined, { type: event.type, payload } as RunEvent);
    // Every version of the worker machine counts a new attempt on entering `trusted` (before its process starts).
    if (event.state === 'trusted' && previous?.state !== 'trusted') entry.attempt += 1;
    if (event.type === 'process.started' && typeof payload.attempt === 'number') entry.attempt = payload.attempt;
    if (FAILURE_MET.has(event.type) && typeof payload.kind === 'string') {
      if (entry.failureKind !== payload.kind) entry.failureDetail = null;
      entry.failureKind = payload.kind;
    }
    if (FAILURE_OVERCOME.has(event.type)) {
      entry.failureKind = null;
      entry.failureDetail = null;
    }
    lane.entries.push(entry);
    return { lane, before: previous?.state ?? null };
  }

  /** A workflow event: its `task.finished` says in words why a task failed, kept with the worker's last entry. */
  addWorkflowEvent(event: { version: number; type: string; payload: unknown }): void {
    if (event.type !== FAILURE_DETAIL.type) return;
    const { taskId, outcome, detail } = (event.payload ?? {}) as Payload;
    if (typeof taskId !== 'string' || outcome === 'done') return;
    const lane = this.#lanes.get(taskId);
    const previous = lane?.entries.at(-1);
    if (lane === undefined || previous === undefined || typeof detail !== 'string') return;
    lane.entries.push({ ...previous, version: event.version, failureDetail: detail });
  }

  #lane(workerId: string): Lane {
    let lane = this.#lanes.get(workerId);
    if (lane === undefined) {
      lane = { workerId, order: this.lanes.length, entries: [] };
      this.#lanes.set(workerId, lane);
      this.lanes.push(lane);
    }
    return lane;
  }
}
