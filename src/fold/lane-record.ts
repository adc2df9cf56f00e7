/**
 * What the log says about each agent lane, kept beside the machines for `status`, the viewer and the
 * lane's own budget checks: its worktree, branch and base, its usage (summed over attempts; an
 * attempt's `agent.usage` events are cumulative, the last one counts), how far its output was read,
 * and how its merge went. Pure: folded the same way live and on replay.
 */
import type { LaneUsage } from '../../machines/events.js';
import type { LaneView } from '../workers/kinds/worker-kind.js';
import type { RunEvent } from './run-events.js';

/** The lane as its kind reads it (worktree, branch, usage, output offset), plus what only status and the viewer show. */
export interface LaneRecord extends LaneView {
  target: string | null;
  result: { isError: boolean; text: string } | null;
  merge: { state: 'waiting' | 'merged' | 'conflicted'; detail: string; commit: string | null } | null;
}

const NO_USAGE: LaneUsage = Object.freeze({ tokens: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 });

const EMPTY: LaneRecord = Object.freeze({
  worktree: null,
  branch: null,
  base: null,
  target: null,
  head: null,
  usage: NO_USAGE,
  earlier: NO_USAGE,
  attempt: 0,
  turns: 0,
  offset: 0,
  sessionId: null,
  result: null,
  merge: null,
});

/** The events that tell a lane's story (all recorded for the lane's worker). */
export const LANE_EVENT_TYPES = [
  'lane.worktree_created',
  'lane.committed',
  'lane.rebased',
  'lane.merge_waiting',
  'lane.merged',
  'lane.conflicted',
  'agent.session',
  'agent.usage',
  'agent.result',
] as const;
const LANE_EVENTS = new Set<string>(LANE_EVENT_TYPES);

export function isLaneEvent(type: string): boolean {
  return LANE_EVENTS.has(type);
}

function add(a: LaneUsage, b: LaneUsage): LaneUsage {
  return { tokens: a.tokens + b.tokens, inputTokens: a.inputTokens + b.inputTokens, outputTokens: a.outputTokens + b.outputTokens, costUsd: a.costUsd + b.costUsd };
}

/** The lane after one of its events (a parsed payload). */
export function foldLaneEvent(previous: LaneRecord | undefined, event: RunEvent): LaneRecord {
  const lane = previous ?? EMPTY;
  const p = event.payload;
  switch (event.type) {
    case 'lane.worktree_created':
      return { ...lane, worktree: p['path'] as string, branch: p['branch'] as string, base: p['base'] as string, target: p['target'] as string, head: p['base'] as string };
    case 'lane.committed':
      return { ...lane, head: p['head'] as string };
    case 'lane.rebased':
      return { ...lane, base: p['onto'] as string, head: p['head'] as string };
    case 'lane.merge_waiting':
      return { ...lane, merge: { state: 'waiting', detail: p['reason'] as string, commit: null } };
    case 'lane.merged':
      return { ...lane, merge: { state: 'merged', detail: p['mode'] as string, commit: p['commit'] as string | null } };
    case 'lane.conflicted':
      return { ...lane, merge: { state: 'conflicted', detail: p['detail'] as string, commit: null } };
    case 'agent.session':
      return { ...lane, sessionId: p['sessionId'] as string };
    case 'agent.result':
      return { ...lane, result: { isError: p['isError'] as boolean, text: p['text'] as string } };
    case 'agent.usage': {
      const attempt = p['attempt'] as number;
      const current: LaneUsage = { tokens: p['tokens'] as number, inputTokens: p['inputTokens'] as number, outputTokens: p['outputTokens'] as number, costUsd: p['costUsd'] as number };
      // A new attempt: what the last one used is kept in `earlier`, and its output is read from the start.
      const earlier = attempt === lane.attempt ? lane.earlier : lane.usage;
      return { ...lane, attempt, earlier, usage: add(earlier, current), turns: p['turns'] as number, offset: p['offset'] as number };
    }
    default:
      return lane;
  }
}

/** The run's usage: every lane's added up. */
export function runUsage(lanes: Readonly<Record<string, LaneRecord>>): LaneUsage {
  return Object.values(lanes).reduce((total, lane) => add(total, lane.usage), NO_USAGE);
}
