/**
 * What the run page is sent, computed from the run's index (run-index.ts) at a position: a summary
 * (status, lanes counted by state, the workers waiting for a person), and pages of lanes filtered by
 * worker id, state and failure kind. Each answer is bounded by what one screen shows, whatever the
 * size of the run; the events come by range (event-view.ts), the diagrams on their own (index-diagrams.ts).
 */
import { STATE_SETS, type StateSets } from '../../machines/state-sets.js';
import type { LaneRecord } from '../fold/lane-record.js';
import type { Budget } from '../fold/run-events.js';
import type { RunRow, RunStatus } from '../store/event-store.js';
import type { RunAt } from './run-index.js';
import { groupRank, type LaneAt } from './run-lanes.js';

/** A packet as the page shows it beside its worker. */
export interface PacketText {
  objective: string;
  command: string | null;
  /** An agent lane's own budget, as its plan set it. */
  budget: Budget | null;
}
export type PacketLookup = (workerId: string) => PacketText | undefined;

/** One lane row: the one place a worker's row is put together (lane info is added here). */
export interface LaneRow {
  workerId: string;
  state: string;
  attempt: number;
  failureKind: string | null;
  /** `kind: detail`, as `overseer status` words a worker's last failure. */
  failure: string | null;
  /** The stream version since which the worker is in this state. */
  since: number;
  objective: string | null;
  command: string | null;
  /** An agent lane's branch, base, target, merge state and usage (docs/agents.md); null for other workers. */
  agent: (Pick<LaneRecord, 'branch' | 'base' | 'target' | 'merge' | 'usage'> & { budget: Budget | null }) | null;
}

export interface LanePage {
  /** Lanes that match the filter, at this position. */
  total: number;
  offset: number;
  rows: LaneRow[];
}

export interface LaneFilter {
  state?: string | undefined;
  /** Part of a worker id. */
  worker?: string | undefined;
  failureKind?: string | undefined;
}

/** The run at one position. */
export interface FoldView {
  /** The event at this position: the last one folded in. */
  version: number;
  position: string;
  at: string;
  type: string;
  workerId: string | null;
  /** How many events the run has now. */
  events: number;
  status: RunStatus;
  workflow: string;
  workers: number;
  /** Lanes by state, in the order the page groups them: waiting, failed, moving, the rest. */
  groups: { state: string; count: number }[];
  failureKinds: { kind: string; count: number }[];
  /** Workers a person can answer (the first WAITING_SHOWN of them), and how many there are. */
  waiting: LaneRow[];
  waitingTotal: number;
}

export interface RunView extends FoldView {
  run: { runId: string; objective: string; cwd: string; status: string; createdAt: string; updatedAt: string };
  /** The machines' final, waiting and active states, so the page writes none of them down. */
  states: Readonly<Record<'workflow' | 'worker', StateSets>>;
  lanes: LanePage;
}

export const WAITING_SHOWN = 50;
export const LANE_PAGE_MAX = 200;

/** `kind: detail`, as `overseer status` words a worker's last failure (a task's detail may already name it). */
function failureText(kind: string | null, detail: string | null): string | null {
  if (kind === null) return null;
  if (detail === null) return kind;
  return detail.startsWith(`${kind}:`) ? detail : `${kind}: ${detail}`;
}

export function laneRow({ lane, entry }: LaneAt, packets: PacketLookup): LaneRow {
  const packet = packets(lane.workerId);
  // The state began at the first entry of the run of entries with this state up to `entry`.
  let since = entry.version;
  for (let i = lane.entries.indexOf(entry); i >= 0 && lane.entries[i]!.state === entry.state; i -= 1) since = lane.entries[i]!.version;
  return {
    workerId: lane.workerId,
    state: entry.state,
    attempt: entry.attempt,
    failureKind: entry.failureKind,
    failure: failureText(entry.failureKind, entry.failureDetail),
    since,
    objective: packet?.objective ?? null,
    command: packet?.command ?? null,
    agent: entry.agent === null ? null : { branch: entry.agent.branch, base: entry.agent.base, target: entry.agent.target, merge: entry.agent.merge, usage: entry.agent.usage, budget: packet?.budget ?? null },
  };
}

/**
 * Lanes in the page's order: by group (waiting, failed, moving, the rest), then by first appearance,
 * which is the order they come in: one pass into buckets, no sort.
 */
function ordered(lanes: readonly LaneAt[]): LaneAt[] {
  const buckets: LaneAt[][] = [[], [], [], []];
  for (const at of lanes) buckets[groupRank(at.entry.state)]!.push(at);
  return buckets.flat();
}

/** The lanes that match the filter, in the page's order. */
function matching(lanes: readonly LaneAt[], filter: LaneFilter): LaneAt[] {
  const worker = filter.worker?.toLowerCase();
  return ordered(
    lanes.filter(
      ({ lane, entry }) =>
        (filter.state === undefined || entry.state === filter.state) &&
        (filter.failureKind === undefined || entry.failureKind === filter.failureKind) &&
        (worker === undefined || lane.workerId.toLowerCase().includes(worker)),
    ),
  );
}

/** The lanes a page of lanes shows, and how many match. */
export function pageLanes(lanes: readonly LaneAt[], filter: LaneFilter, offset: number, limit: number): { total: number; shown: LaneAt[] } {
  const found = matching(lanes, filter);
  const size = Math.min(Math.max(limit, 1), LANE_PAGE_MAX);
  return { total: found.length, shown: found.slice(offset, offset + size) };
}

/** The workers a person can answer, in the page's order. */
export function waitingLanes(lanes: readonly LaneAt[]): LaneAt[] {
  return ordered(lanes.filter(({ entry }) => groupRank(entry.state) === 0));
}

/** The lanes a run view shows (first-view.ts reads them whole): its page of lanes and the first workers waiting. */
export function runViewLanes(filter: LaneFilter, offset: number, limit: number): (lanes: readonly LaneAt[]) => LaneAt[] {
  return (lanes) => [...pageLanes(lanes, filter, offset, limit).shown, ...waitingLanes(lanes).slice(0, WAITING_SHOWN)];
}

export function lanePage(at: RunAt, filter: LaneFilter, offset: number, limit: number, packets: PacketLookup): LanePage {
  const { total, shown } = pageLanes(at.lanes, filter, offset, limit);
  return { total, offset, rows: shown.map((lane) => laneRow(lane, packets)) };
}

function counted(values: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

export function foldView(at: RunAt, packets: PacketLookup): FoldView {
  const { lanes, event } = at;
  const states = counted(lanes.map(({ entry }) => entry.state));
  const kinds = counted(lanes.flatMap(({ entry }) => (entry.failureKind === null ? [] : [entry.failureKind])));
  const waiting = waitingLanes(lanes);
  return {
    version: at.version,
    position: event.position.toString(),
    at: new Date(event.at).toISOString(),
    type: event.type,
    workerId: event.workerId,
    events: at.events,
    status: at.status,
    workflow: at.workflow,
    workers: lanes.length,
    groups: [...states].map(([state, count]) => ({ state, count })).sort((a, b) => groupRank(a.state) - groupRank(b.state) || b.count - a.count),
    failureKinds: [...kinds].map(([kind, count]) => ({ kind, count })).sort((a, b) => b.count - a.count),
    waiting: waiting.slice(0, WAITING_SHOWN).map((lane) => laneRow(lane, packets)),
    waitingTotal: waiting.length,
  };
}

export function runView(run: RunRow, at: RunAt, packets: PacketLookup, lanes: LanePage): RunView {
  return {
    run: {
      runId: run.runId,
      objective: run.objective,
      cwd: run.cwd,
      status: run.status,
      createdAt: run.createdAt.toISOString(),
      updatedAt: run.updatedAt.toISOString(),
    },
    states: STATE_SETS,
    ...foldView(at, packets),
    lanes,
  };
}
