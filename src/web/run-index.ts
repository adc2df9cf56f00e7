/**
 * A run's log as the viewer reads it, held in memory: each machine's timeline of recorded states (the
 * events' `state_after`, as the lanes always were), with what a lane row shows — attempt, last failure
 * — taken from the log's own records, and each event's step on the diagrams. Any position is answered
 * by one binary search per lane, so time travel never folds the log again, and nothing sent to the
 * page grows with the run beyond what the page shows. It is built once from the log in outline
 * (`readOutlines`: payloads of the few small events it needs) and extended by the events written after.
 */
import { STATE_SETS } from '../../machines/state-sets.js';
import type { WorkerOutcome } from '../../machines/events.js';
import { foldLaneEvent, isLaneEvent, LANE_EVENT_TYPES, type LaneRecord } from '../fold/lane-record.js';
import type { RunEvent } from '../fold/run-events.js';
import { runStatusOf } from '../fold/run-status.js';
import { stateText } from '../fold/state-value.js';
import { machineEventType } from '../inspect/run-diagram.js';
import { EventColumns, type IndexedEvent } from './event-columns.js';
import type { EventOutline, RunStatus } from '../store/event-store.js';

/** The events whose payloads the index reads: everything else it needs is in the event's columns. */
export const INDEX_PAYLOADS = [
  'timer.fired',
  'machines.migrated',
  'process.started',
  'recovery.attempted',
  'recovery.succeeded',
  'recovery.exhausted',
  'escalated',
  'task.finished',
  ...LANE_EVENT_TYPES,
] as const;

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

interface Payload {
  attempt?: unknown;
  kind?: unknown;
  taskId?: unknown;
  outcome?: unknown;
  detail?: unknown;
  to?: unknown;
}

function lastAtOrBefore<T extends { version: number }>(entries: readonly T[], version: number): T | undefined {
  let low = 0;
  let high = entries.length - 1;
  let found: T | undefined;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const entry = entries[middle]!;
    if (entry.version <= version) {
      found = entry;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}

export class RunIndex {
  readonly events = new EventColumns();
  readonly lanes: Lane[] = [];
  readonly #lanes = new Map<string, Lane>();
  readonly #workflow: { version: number; state: string }[] = [];
  /** The machine versions the run moved to (`machines.migrated`), by the version of the event. */
  readonly migrations: { version: number; to: string }[] = [];
  #atCache: { version: number; lanes: LaneAt[] } | undefined;

  constructor(
    readonly runId: string,
    /** The machine version the run was recorded with (its runs row). */
    readonly machineVersion: string,
  ) {}

  get version(): number {
    return this.events.length;
  }

  /** The version of the run's first event of this type, or undefined. */
  firstOfType(type: string): number | undefined {
    return this.events.firstOfType(type);
  }

  /**
   * Adds an event that follows the ones indexed (an older or repeated one is skipped); a gap is refused.
   * One at a time, as a read hands them over: the index is whole up to its version after each.
   */
  add(event: EventOutline): void {
    if (event.version <= this.version) return;
    if (event.version !== this.version + 1) throw new Error(`run ${this.runId}: event version ${String(event.version)} follows ${String(this.version)}`);
    this.#atCache = undefined;
    this.#addOne(event);
  }

  #addOne(event: EventOutline): void {
    const state = this.events.shared(stateText(event.stateAfter));
    const payload = (event.payload ?? {}) as Payload;
    let before: string | null;
    let workerId = event.workerId;
    if (event.machine === 'workflow') {
      before = this.#workflow.at(-1)?.state ?? null;
      this.#workflow.push({ version: event.version, state });
      if (event.type === 'machines.migrated' && typeof payload.to === 'string') this.migrations.push({ version: event.version, to: payload.to });
      if (event.type === 'task.finished' && typeof payload.taskId === 'string' && payload.outcome !== 'done') this.#noteFailureDetail(payload.taskId, event.version, payload.detail);
    } else {
      const lane = this.#lane(event.workerId ?? '');
      // The lane's copy of the id: each row of a read brings its own.
      if (workerId !== null) workerId = lane.workerId;
      before = this.#addWorkerEvent(lane, event, state, payload);
    }
    this.events.push({ position: event.position, at: event.createdAtMs, type: event.type, machine: event.machine, workerId, state, machineEvent: machineEventType(event), before });
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

  #addWorkerEvent(lane: Lane, event: EventOutline, state: string, payload: Payload): string | null {
    const previous = lane.entries.at(-1);
    const entry: LaneEntry = {
      version: event.version,
      state,
      attempt: previous?.attempt ?? 0,
      failureKind: previous?.failureKind ?? null,
      failureDetail: previous?.failureDetail ?? null,
      agent: previous?.agent ?? null,
    };
    if (isLaneEvent(event.type)) entry.agent = foldLaneEvent(entry.agent ?? undefined, { type: event.type, payload } as RunEvent);
    // Every version of the worker machine counts a new attempt on entering `trusted` (before its process starts).
    if (state === 'trusted' && previous?.state !== 'trusted') entry.attempt += 1;
    if (event.type === 'process.started' && typeof payload.attempt === 'number') entry.attempt = payload.attempt;
    // The worker machine's records of its recovery (machines/events.ts) say which failure it met.
    if ((event.type === 'recovery.attempted' || event.type === 'recovery.exhausted' || event.type === 'escalated') && typeof payload.kind === 'string') {
      if (entry.failureKind !== payload.kind) entry.failureDetail = null;
      entry.failureKind = payload.kind;
    }
    if (event.type === 'recovery.succeeded') {
      entry.failureKind = null;
      entry.failureDetail = null;
    }
    lane.entries.push(entry);
    return previous?.state ?? null;
  }

  /** The workflow's `task.finished` says in words why a task failed: kept with the worker's last entry. */
  #noteFailureDetail(taskId: string, version: number, detail: unknown): void {
    const lane = this.#lanes.get(taskId);
    const previous = lane?.entries.at(-1);
    if (lane === undefined || previous === undefined || typeof detail !== 'string') return;
    lane.entries.push({ ...previous, version, failureDetail: detail });
  }

  /** The event at a stream version (1 is the first). */
  eventAt(version: number): IndexedEvent | undefined {
    return this.events.at(version);
  }

  /** The version of the last event at or before a global position: 0 when the run had none yet. */
  versionAtPosition(position: bigint): number {
    return this.events.versionAtPosition(position);
  }

  workflowStateAt(version: number): string {
    return lastAtOrBefore(this.#workflow, version)?.state ?? '';
  }

  /** Every lane that existed at `version`, with its entry then, in order of first appearance. */
  lanesAt(version: number): LaneAt[] {
    if (this.#atCache?.version === version) return this.#atCache.lanes;
    const lanes: LaneAt[] = [];
    for (const lane of this.lanes) {
      if (lane.entries[0]!.version > version) continue;
      const entry = lastAtOrBefore(lane.entries, version);
      if (entry !== undefined) lanes.push({ lane, entry });
    }
    this.#atCache = { version, lanes };
    return lanes;
  }

  /** The run's status at `version`, by the rule `overseer status` uses (runStatusOf). */
  statusAt(version: number, lanes: readonly LaneAt[] = this.lanesAt(version)): RunStatus {
    let active = 0;
    let held = 0;
    for (const { entry } of lanes) {
      if (FINAL.has(entry.state)) continue;
      active += 1;
      if (WAITING.has(entry.state)) held += 1;
    }
    return runStatusOf(this.workflowStateAt(version), active, held);
  }

  /** The machine version the run's events up to `version` fold with. */
  machineVersionAt(version: number): string {
    return lastAtOrBefore(this.migrations, version)?.to ?? this.machineVersion;
  }
}
