/**
 * The run at its newest event before its index is read: what the first open of a large run shows
 * while `serve` reads the log (a fleet's 50,000 events take a quarter of a second and more). The
 * server aggregates each worker's state and last failure (`readWorkerHeads`), enough to count, filter
 * and order the lanes; only the lanes a view shows are built, from their own events, by the same code
 * as the index's (run-lanes.ts). The views made of it are the index's, to the byte (test/web/first-view.test.ts).
 */
import { RunNotFoundError } from '../fold/rebuild-run.js';
import { stateText } from '../fold/state-value.js';
import type { EventStore } from '../store/event-store.js';
import { LANE_PAYLOADS, type RunAt } from './run-index.js';
import { FAILURE_DETAIL, FAILURE_TYPES, RunLanes, statusOf, type LaneAt } from './run-lanes.js';

/**
 * The run at its newest event, or undefined when `version` (the one asked for) is before it: only the
 * index answers the past. `shown` picks the lanes a view shows, from lanes that know their state and
 * last failure only; those come back whole. Throws RunNotFoundError for a run without events.
 */
export async function firstRunAt(store: EventStore, runId: string, version: number | undefined, shown: (lanes: readonly LaneAt[]) => readonly LaneAt[]): Promise<RunAt | undefined> {
  const newest = await store.readLastOutline(runId);
  if (newest === undefined) throw new RunNotFoundError(runId);
  if (version !== undefined && version < newest.version) return undefined;
  const toVersion = newest.version;
  const [workflow, heads] = await Promise.all([store.readLastOutline(runId, { machine: 'workflow', toVersion }), store.readWorkerHeads(runId, toVersion, FAILURE_TYPES)]);
  // One string per distinct state, as the index keeps them.
  const states = new Map<string, string>();
  const lanes = heads.map((head, order): LaneAt => {
    const text = stateText(head.stateAfter);
    const state = states.get(text) ?? (states.set(text, text), text);
    const entry = { version: head.firstVersion, state, attempt: 0, failureKind: head.failureKind, failureDetail: null, agent: null };
    return { lane: { workerId: head.workerId, order, entries: [entry] }, entry };
  });
  const whole = await wholeLanes(store, runId, toVersion, shown(lanes));
  const workflowState = workflow === undefined ? '' : stateText(workflow.stateAfter);
  const at = lanes.map((lane) => {
    const built = whole.get(lane.lane.workerId);
    return built === undefined ? lane : { lane: { ...built, order: lane.lane.order }, entry: built.entries.at(-1)! };
  });
  return {
    version: toVersion,
    event: { position: newest.position, at: newest.createdAtMs, type: newest.type, workerId: newest.workerId },
    events: toVersion,
    workflow: workflowState,
    status: statusOf(workflowState, at),
    lanes: at,
  };
}

/** The lanes of these workers, each from its own events and the workflow's words on its failure. */
async function wholeLanes(store: EventStore, runId: string, toVersion: number, shown: readonly LaneAt[]): Promise<RunLanes> {
  const lanes = new RunLanes();
  if (shown.length === 0) return lanes;
  const workerIds = [...new Set(shown.map(({ lane }) => lane.workerId))];
  await store.readWorkerOutlines(runId, workerIds, { toVersion, payloadTypes: LANE_PAYLOADS, named: FAILURE_DETAIL }, (event) => {
    if (event.machine === 'workflow') lanes.addWorkflowEvent(event);
    else lanes.addWorkerEvent({ version: event.version, type: event.type, workerId: event.workerId, state: stateText(event.stateAfter), payload: event.payload });
  });
  return lanes;
}
