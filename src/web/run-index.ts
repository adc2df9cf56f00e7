/**
 * A run's log as the viewer reads it, held in memory: each machine's timeline of recorded states (the
 * workers' lanes: run-lanes.ts), and each event's step on the diagrams. Any position is answered by
 * one binary search per lane, so time travel never folds the log again, and nothing sent to the page
 * grows with the run beyond what the page shows. It is built once from the log in outline
 * (`readOutlines`: payloads of the few small events it needs) and extended by the events written after.
 */
import { stateText } from '../fold/state-value.js';
import { machineEventType } from '../inspect/run-diagram.js';
import { EventColumns, type IndexedEvent } from './event-columns.js';
import { LANE_PAYLOADS, RunLanes, statusOf, type LaneAt } from './run-lanes.js';
import type { EventOutline, RunStatus } from '../store/event-store.js';

/** The events whose payloads the index reads: its own, and those its lanes read. */
export const INDEX_PAYLOADS = ['timer.fired', 'machines.migrated', ...LANE_PAYLOADS] as const;

/** The run at one position, all a summary and a page of lanes are made of. */
export interface RunAt {
  version: number;
  /** The event at this position: the last one folded in. */
  event: Pick<IndexedEvent, 'position' | 'at' | 'type' | 'workerId'>;
  /** How many events the run has now. */
  events: number;
  workflow: string;
  status: RunStatus;
  /** Every lane that existed then, with its entry then, in order of first appearance. */
  lanes: readonly LaneAt[];
}

interface Payload {
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
  readonly #lanes = new RunLanes();
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
    let before: string | null;
    let workerId = event.workerId;
    if (event.machine === 'workflow') {
      before = this.#workflow.at(-1)?.state ?? null;
      this.#workflow.push({ version: event.version, state });
      const payload = (event.payload ?? {}) as Payload;
      if (event.type === 'machines.migrated' && typeof payload.to === 'string') this.migrations.push({ version: event.version, to: payload.to });
      this.#lanes.addWorkflowEvent(event);
    } else {
      const added = this.#lanes.addWorkerEvent({ version: event.version, type: event.type, workerId, state, payload: event.payload });
      // The lane's copy of the id: each row of a read brings its own.
      if (workerId !== null) workerId = added.lane.workerId;
      before = added.before;
    }
    this.events.push({ position: event.position, at: event.createdAtMs, type: event.type, machine: event.machine, workerId, state, machineEvent: machineEventType(event), before });
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
    for (const lane of this.#lanes.lanes) {
      if (lane.entries[0]!.version > version) continue;
      const entry = lastAtOrBefore(lane.entries, version);
      if (entry !== undefined) lanes.push({ lane, entry });
    }
    this.#atCache = { version, lanes };
    return lanes;
  }

  /** The run at `version`, an event it has. */
  at(version: number): RunAt {
    const event = this.eventAt(version);
    if (event === undefined) throw new Error(`run ${this.runId} has no event at version ${String(version)}`);
    const lanes = this.lanesAt(version);
    const workflow = this.workflowStateAt(version);
    return { version, event, events: this.version, workflow, status: statusOf(workflow, lanes), lanes };
  }

  /** The machine version the run's events up to `version` fold with. */
  machineVersionAt(version: number): string {
    return lastAtOrBefore(this.migrations, version)?.to ?? this.machineVersion;
  }
}
