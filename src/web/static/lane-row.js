// One lane (a worker) as the run page shows it: the one place a lane row is drawn. A row is one line
// of fixed height (the lane list is virtualised); what the API sends for a lane is in LaneRow
// (src/web/run-view.ts).
import { badge, h } from './viewer.js';

/** Pixels: the lane list places rows by this. */
export const LANE_ROW_HEIGHT = 34;

/**
 * @param {{workerId: string, state: string, attempt: number, failure: string|null, failureKind: string|null, since: number, objective: string|null}} lane
 * @param {{onPick: (lane: object) => void}} actions
 */
export function laneRow(lane, actions) {
  const row = h(
    'div',
    { class: 'lane', 'data-lane': lane.workerId, 'data-state': lane.state, 'data-failure': lane.failureKind ?? '', title: lane.objective ?? '' },
    h('span', { class: 'lane-name mono' }, lane.workerId),
    badge(lane.state),
    h('span', { class: 'lane-attempt muted small num' }, lane.attempt > 1 ? `attempt ${lane.attempt}` : ''),
    h('span', { class: 'lane-objective' }, lane.objective ?? '', lane.agent ? agentLine(lane.agent) : ''),
    h('span', { class: 'lane-failure failure' }, lane.failure ?? ''),
    h('button', { type: 'button', class: 'ghost lane-since', title: `Travel to event ${lane.since}, where ${lane.workerId} became ${lane.state}` }, `since #${lane.since}`),
  );
  row.querySelector('.lane-since').addEventListener('click', () => actions.onPick(lane));
  return row;
}

/** An agent lane's branch, base, merge state and usage (docs/agents.md), after its objective. */
function agentLine(agent) {
  const short = (commit) => (commit ? commit.slice(0, 8) : '–');
  const limits = agent.budget ? [agent.budget.tokens && `${agent.budget.tokens} tokens`, agent.budget.usd && `$${agent.budget.usd}`, agent.budget.timeMs && `${Math.round(agent.budget.timeMs / 1000)}s`].filter(Boolean) : [];
  const budget = limits.length > 0 ? ` of ${limits.join(', ')}` : '';
  const merge = agent.merge ? `${agent.merge.state}${agent.merge.state === 'merged' ? '' : `: ${agent.merge.detail}`}` : 'not merged yet';
  return h(
    'span',
    { class: 'lane-agent muted small' },
    ' · ',
    h('code', {}, agent.branch ?? ''),
    ` from ${short(agent.base)} into ${agent.target ?? ''} · ${merge} · ${agent.usage.tokens} tokens, $${agent.usage.costUsd.toFixed(2)}${budget}`,
  );
}
