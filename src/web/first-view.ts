/**
 * The run at its newest event before its index is read: what the first open of a large run shows
 * while `serve` has not read the log (a fleet's 50,000 events take a quarter of a second and more).
 * The server aggregates each worker's state and last failure (`readWorkerHeads`), enough to count,
 * filter and order the lanes; only the lanes a view shows are built, from their own events, by the
 * same code as the index's (run-lanes.ts). The views made of it are the index's, to the byte
 * (test/web/first-view.test.ts).
 */
import { RunNotFoundError } from '../fold/rebuild-run.js';
import { stateText } from '../fold/state-value.js';
import type { EventOutline, EventStore } from '../store/event-store.js';
import { sharedTexts } from './event-columns.js';
import type { RunAt } from './run-index.js';
import { FAILURE_DETAIL, FAILURE_TYPES, LANE_PAYLOADS, RunLanes, statusOf, type Lane, type LaneAt } from './run-lanes.js';

/** Picks the lanes a view shows, from lanes that know their state and last failure only. */
export type ShownLanes = (lanes: readonly LaneAt[]) => readonly LaneAt[];

/** The run at its newest event in brief: each lane knows its state and last failure only. */
export interface RunHeads {
  newest: EventOutline;
  workflow: string;
  lanes: LaneAt[];
  /** Lanes read whole already, by worker id. */
  whole: ReadonlyMap<string, Lane>;
}

/** The run in brief, with the lanes `ahead` picks read whole. Throws RunNotFoundError for a run without events. */
export async function readRunHeads(store: EventStore, runId: string, ahead: ShownLanes): Promise<RunHeads> {
  const newest = await store.readLastOutline(runId);
  if (newest === undefined) throw new RunNotFoundError(runId);
  const toVersion = newest.version;
  const [workflow, heads] = await Promise.all([store.readLastOutline(runId, { machine: 'workflow', toVersion }), store.readWorkerHeads(runId, toVersion, FAILURE_TYPES)]);
  // One string per distinct state, as the index keeps them.
  const shared = sharedTexts();
  const lanes = heads.map((head, order): LaneAt => {
    const state = shared(stateText(head.stateAfter));
    const entry = { version: head.firstVersion, state, attempt: 0, failureKind: head.failureKind, failureDetail: null, agent: null };
    return { lane: { workerId: head.workerId, order, entries: [entry] }, entry };
  });
  return { newest, workflow: workflow === undefined ? '' : stateText(workflow.stateAfter), lanes, whole: await wholeLanes(store, runId, toVersion, ahead(lanes), new Map()) };
}

/** The run at its newest event, the lanes `shown` picks read whole. */
export async function firstRunAt(store: EventStore, runId: string, heads: RunHeads, shown: ShownLanes): Promise<RunAt> {
  const { newest } = heads;
  const whole = await wholeLanes(store, runId, newest.version, shown(heads.lanes), heads.whole);
  const lanes = heads.lanes.map((lane) => {
    const built = whole.get(lane.lane.workerId);
    return built === undefined ? lane : { lane: { ...built, order: lane.lane.order }, entry: built.entries.at(-1)! };
  });
  return {
    version: newest.version,
    event: { position: newest.position, at: newest.createdAtMs, type: newest.type, workerId: newest.workerId },
    events: newest.version,
    workflow: heads.workflow,
    status: statusOf(heads.workflow, lanes),
    lanes,
  };
}

/** The lanes of these workers, each from its own events and the workflow's words on its failure, beside those `known`. */
async function wholeLanes(store: EventStore, runId: string, toVersion: number, shown: readonly LaneAt[], known: ReadonlyMap<string, Lane>): Promise<ReadonlyMap<string, Lane>> {
  const workerIds = [...new Set(shown.map(({ lane }) => lane.workerId).filter((id) => !known.has(id)))];
  if (workerIds.length === 0) return known;
  const lanes = new RunLanes();
  await store.readWorkerOutlines(runId, workerIds, { toVersion, payloadTypes: LANE_PAYLOADS, named: FAILURE_DETAIL }, (event) => {
    if (event.machine === 'workflow') lanes.addWorkflowEvent(event);
    else lanes.addWorkerEvent({ version: event.version, type: event.type, workerId: event.workerId, state: stateText(event.stateAfter), payload: event.payload });
  });
  return new Map([...known, ...lanes.lanes.map((lane): [string, Lane] => [lane.workerId, lane])]);
}
