// One run: its lanes, diagrams, workers and events at the slider's position, kept live while the run
// goes on (server-sent events), with approve/deny for workers waiting on a person.
import { badge, clockTime, dateTime, forgetToken, getJson, h, postJson, showAccess, stateClass, token } from './viewer.js';

const runId = decodeURIComponent(location.pathname.replace(/^\/runs\//, '').replace(/\/+$/, ''));
const api = `/api/runs/${encodeURIComponent(runId)}`;
const $ = (id) => document.getElementById(id);
const WAITING_TEXT = { awaitingTrust: 'waits at its trust gate', escalated: 'failed and was escalated to a person' };

const page = {
  run: null,
  events: [],
  /** The fold after the newest event, as the server last sent it. */
  latest: null,
  cursor: 0,
  /** The slider sticks to the newest event. */
  follow: true,
  ended: false,
  packets: new Map(),
  rows: [],
  connected: false,
};

// ---- diagrams -------------------------------------------------------------------------------------

const mermaid = window.mermaid;
mermaid.initialize({
  startOnLoad: false,
  securityLevel: 'strict',
  theme: 'base',
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  themeVariables: {
    primaryColor: '#eef2f7',
    primaryBorderColor: '#8795a8',
    primaryTextColor: '#1d2633',
    lineColor: '#8795a8',
    textColor: '#3b4656',
    fontSize: '13px',
  },
  state: { useMaxWidth: true },
});

const diagrams = { workflow: { element: $('diagram-workflow'), drawn: null, wanted: null }, worker: { element: $('diagram-worker'), drawn: null, wanted: null } };
let drawing = Promise.resolve();
let drawCount = 0;

/** mermaid renders one diagram at a time; only the newest wanted text of each diagram is drawn. */
function drawDiagram(name, text) {
  const diagram = diagrams[name];
  diagram.wanted = text;
  drawing = drawing.then(async () => {
    if (diagram.wanted !== text || diagram.drawn === text) return;
    try {
      const { svg } = await mermaid.render(`diagram-${name}-${++drawCount}`, text);
      // mermaid's strict mode sanitises the SVG it returns; every label went through mermaidText on the server.
      diagram.element.innerHTML = svg;
      diagram.drawn = text;
    } catch (failure) {
      diagram.element.replaceChildren(h('p', { class: 'error' }, `Could not draw the diagram: ${failure.message}`));
    }
  });
}

// ---- lanes ----------------------------------------------------------------------------------------

/** One lane per machine: the workflow, then each worker as it appeared; a segment per state it held. */
function lanes(events) {
  const byKey = new Map();
  events.forEach((event, index) => {
    const key = event.machine === 'workflow' ? 'workflow' : event.workerId;
    if (key === null) return;
    let lane = byKey.get(key);
    if (lane === undefined) {
      lane = { key, machine: event.machine, segments: [] };
      byKey.set(key, lane);
    }
    const last = lane.segments.at(-1);
    if (last !== undefined && last.state === event.stateAfter) return;
    if (last !== undefined) last.end = index;
    lane.segments.push({ state: event.stateAfter, start: index, end: events.length });
  });
  return [...byKey.values()];
}

function laneStateAt(lane, index) {
  return lane.segments.find((s) => s.start <= index && index < s.end)?.state ?? null;
}

function renderLanes() {
  const events = page.events;
  const n = Math.max(events.length, 1);
  const pct = (i) => `${((i / n) * 100).toFixed(4)}%`;
  const container = $('lanes');
  const rows = lanes(events).map((lane) => {
    const now = laneStateAt(lane, page.cursor);
    const track = h(
      'div',
      { class: 'lane-track' },
      lane.segments.map((s) => {
        const from = events[s.start];
        const until = events[s.end];
        const title = `${lane.key}: ${s.state} from event ${from.version} (${clockTime(from.at)})${until === undefined ? ' until now' : ` to event ${until.version} (${clockTime(until.at)})`}`;
        return h('div', { class: `segment ${stateClass(s.state)}`, style: { left: pct(s.start), width: pct(s.end - s.start) }, title }, h('span', {}, s.state));
      }),
      h('div', { class: 'future', style: { left: pct(page.cursor + 1) } }),
      h('div', { class: 'cursor', style: { left: pct(page.cursor), width: pct(1) } }),
    );
    track.addEventListener('click', (click) => {
      const box = track.getBoundingClientRect();
      moveTo(Math.floor(((click.clientX - box.left) / box.width) * events.length), false);
    });
    return h(
      'div',
      { class: 'lane', 'data-lane': lane.key, 'data-state': now ?? '' },
      h('div', { class: 'lane-label' }, h('span', { class: lane.machine === 'workflow' ? 'lane-name workflow' : 'lane-name mono' }, lane.key), now === null ? h('span', { class: 'muted small' }, 'not yet') : badge(now)),
      track,
    );
  });
  const first = events[0];
  const last = events.at(-1);
  const axis = first === undefined ? [] : [h('div', { class: 'lane-axis' }, h('span', {}, clockTime(first.at)), h('span', {}, `${events.length} events`), h('span', {}, clockTime(last.at)))];
  container.replaceChildren(...rows, ...axis);
}

// ---- events table ---------------------------------------------------------------------------------

function shortPayload(payload) {
  const text = JSON.stringify(payload) ?? '';
  return text.length > 90 ? `${text.slice(0, 87)}…` : text;
}

function eventRow(event, index) {
  const row = h(
    'tr',
    { 'data-version': event.version },
    h('td', { class: 'num' }, event.version),
    h('td', { class: 'num muted' }, event.position),
    h('td', { class: 'mono nowrap' }, clockTime(event.at)),
    h('td', { class: event.machine === 'workflow' ? 'muted' : 'mono' }, event.workerId ?? 'workflow'),
    h('td', { class: 'mono' }, event.type),
    h('td', {}, badge(event.stateAfter)),
    h('td', { class: 'mono payload', title: JSON.stringify(event.payload, null, 2) }, shortPayload(event.payload)),
  );
  row.addEventListener('click', () => moveTo(index, false));
  return row;
}

function appendEventRows(fresh, offset) {
  const body = document.querySelector('#events tbody');
  const rows = fresh.map((event, i) => eventRow(event, offset + i));
  page.rows.push(...rows);
  body.append(...rows);
  $('events-count').textContent = `${page.events.length}`;
}

/** Scrolls the events list (not the page) so that `row` is in view. */
function revealRow(row) {
  if (row === undefined) return;
  const box = $('events-scroll');
  const header = box.querySelector('thead').offsetHeight;
  const top = row.offsetTop - header;
  if (top < box.scrollTop) box.scrollTop = top;
  else if (row.offsetTop + row.offsetHeight > box.scrollTop + box.clientHeight) box.scrollTop = row.offsetTop + row.offsetHeight - box.clientHeight;
}

function markEventRows() {
  page.rows.forEach((row, i) => {
    row.classList.toggle('at', i === page.cursor);
    row.classList.toggle('later', i > page.cursor);
  });
}

// ---- the fold at the cursor -----------------------------------------------------------------------

function showFold(fold) {
  $('fold-error').hidden = fold.foldError === null;
  $('fold-error').textContent = fold.foldError === null ? '' : `This log does not fold through the current machines: ${fold.foldError}`;
  drawDiagram('workflow', fold.diagrams.workflow);
  drawDiagram('worker', fold.diagrams.worker);
  const summary = fold.summary;
  const body = document.querySelector('#workers tbody');
  if (summary === null) {
    body.replaceChildren();
    $('tasks').textContent = '';
    return;
  }
  $('tasks').textContent = taskCounts(summary.tasks);
  body.replaceChildren(
    ...summary.workers.map((w) =>
      h(
        'tr',
        { 'data-worker': w.workerId, 'data-state': w.state },
        h('td', { class: 'mono' }, w.workerId),
        h('td', {}, badge(w.state)),
        h('td', { class: 'num' }, w.attempt),
        h('td', {}, page.packets.get(w.workerId)?.objective ?? '', w.lane ? laneLine(w) : ''),
        h('td', { class: 'failure' }, w.failure ?? ''),
      ),
    ),
  );
  if (summary.workers.length === 0) body.append(h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No workers yet at this point.')));
}

/** An agent lane's branch, base, merge state, usage and budget (docs/agents.md), under its objective. */
function laneLine(w) {
  const { lane, usage } = w;
  const short = (commit) => (commit ? commit.slice(0, 8) : '–');
  const budget = lane.budget
    ? ` of ${[lane.budget.tokens && `${lane.budget.tokens} tokens`, lane.budget.usd && `$${lane.budget.usd}`, lane.budget.timeMs && `${Math.round(lane.budget.timeMs / 1000)}s`].filter(Boolean).join(', ')}`
    : '';
  const merge = lane.merge ? `${lane.merge.state}${lane.merge.state === 'merged' ? '' : `: ${lane.merge.detail}`}` : 'not merged yet';
  return h(
    'div',
    { class: 'lane muted' },
    h('code', {}, lane.branch ?? ''),
    ` from ${short(lane.base)} into ${lane.target ?? ''} · ${merge} · ${usage.tokens} tokens, $${usage.costUsd.toFixed(2)}${budget}`,
  );
}

function taskCounts(tasks) {
  const parts = Object.entries(tasks)
    .filter(([k]) => k !== 'total')
    .map(([k, v]) => `${v} ${k}`);
  return `${tasks.total} task${tasks.total === 1 ? '' : 's'}${parts.length === 0 ? '' : ` · ${parts.join(' · ')}`}`;
}

let foldRequest = null;

/** Moves the slider to event `index`; the fold there comes from the server (the same fold as live). */
async function moveTo(index, follow) {
  const last = page.events.length - 1;
  page.cursor = Math.min(Math.max(index, 0), last);
  page.follow = follow || page.cursor === last;
  renderCursor();
  foldRequest?.abort();
  foldRequest = null;
  if (page.cursor === last && page.latest !== null) return showFold(page.latest);
  const event = page.events[page.cursor];
  const controller = new AbortController();
  foldRequest = controller;
  try {
    const fold = await getJson(`${api}/fold?at=${event.position}`, { signal: controller.signal });
    if (foldRequest === controller) showFold(fold);
  } catch (failure) {
    if (failure.name !== 'AbortError') showError(`Could not fold the log at position ${event.position}: ${failure.message}`);
  }
}

function renderCursor() {
  const slider = $('slider');
  const event = page.events[page.cursor];
  slider.max = String(Math.max(page.events.length - 1, 0));
  slider.value = String(page.cursor);
  $('travel-at').replaceChildren(
    h('strong', {}, `event ${page.cursor + 1} of ${page.events.length}`),
    ` · position ${event.position} · ${clockTime(event.at)} · `,
    h('span', { class: 'mono' }, event.type),
    event.workerId === null ? '' : ` (${event.workerId})`,
    page.follow ? h('span', { class: 'muted' }, ' · newest') : '',
  );
  $('to-live').disabled = page.follow;
  renderLanes();
  markEventRows();
  revealRow(page.rows[page.cursor]);
}

// ---- header and waiting workers -------------------------------------------------------------------

function currentStatus() {
  return page.latest?.summary?.status ?? page.run.status;
}

function renderHeader() {
  const status = currentStatus();
  document.title = `${runId} · ${status} · Overseer`;
  $('title').textContent = `Run ${runId}`;
  $('crumb-run').textContent = runId;
  $('status').replaceWith(Object.assign(badge(status), { id: 'status' }));
  $('objective').textContent = page.run.objective;
  const summary = page.latest?.summary;
  $('meta').replaceChildren(
    `started ${dateTime(page.run.createdAt)}`,
    ' · in ',
    h('span', { class: 'mono' }, page.run.cwd),
    summary ? ` · ${taskCounts(summary.tasks)}` : '',
    summary?.reason ? ` · ${summary.reason}` : '',
  );
  $('live').hidden = page.ended || !page.connected;
}

function renderWaiting() {
  const waiting = page.latest?.waiting ?? [];
  $('waiting').hidden = waiting.length === 0;
  const list = $('waiting-list');
  const canDecide = token() !== null;
  list.replaceChildren(
    ...waiting.map((workerId) => {
      const worker = page.latest.summary.workers.find((w) => w.workerId === workerId);
      const packet = page.packets.get(workerId) ?? {};
      const escalated = worker?.state === 'escalated';
      const reason = h('input', { type: 'text', class: 'reason', placeholder: 'reason (optional)', 'aria-label': `reason for ${workerId}`, maxlength: 2000 });
      const decide = (verdict) => async (click) => {
        const buttons = click.currentTarget.parentElement.querySelectorAll('button');
        buttons.forEach((b) => (b.disabled = true));
        const result = await postJson(`${api}/workers/${encodeURIComponent(workerId)}/${verdict}`, reason.value.trim() === '' ? {} : { reason: reason.value.trim() });
        if (result.ok) {
          note(`${result.body.type} recorded for ${workerId} by ${result.body.by}; it is now ${result.body.stateAfter}. The run's engine goes on from here — a run started with --detach goes on with: overseer resume ${runId}`);
        } else {
          if (result.status === 403 && /token/.test(result.body.error ?? '')) {
            forgetToken();
            showAccess();
          }
          note(`Refused (${result.status}): ${result.body.error ?? 'no reason given'}`, true);
          buttons.forEach((b) => (b.disabled = token() === null));
        }
      };
      const disabledTitle = canDecide ? undefined : 'Read-only: open the link overseer serve printed (…/#token=…) to decide here';
      return h(
        'div',
        { class: 'decision', 'data-worker': workerId },
        h(
          'div',
          { class: 'decision-what' },
          h('span', { class: 'mono strong' }, workerId),
          ' ',
          badge(worker?.state ?? 'awaitingTrust'),
          ' ',
          h('span', { class: 'muted' }, WAITING_TEXT[worker?.state] ?? 'waits for a person'),
          packet.objective ? h('div', {}, packet.objective) : '',
          packet.command ? h('div', {}, h('code', {}, packet.command)) : '',
          worker?.failure ? h('div', { class: 'failure' }, worker.failure) : '',
        ),
        h(
          'div',
          { class: 'decision-actions' },
          reason,
          h('button', { type: 'button', class: 'approve', disabled: !canDecide, title: disabledTitle, onclick: decide('approve') }, escalated ? 'Retry' : 'Approve'),
          h('button', { type: 'button', class: 'deny', disabled: !canDecide, title: disabledTitle, onclick: decide('deny') }, escalated ? 'Give up' : 'Deny'),
        ),
      );
    }),
  );
  if (!canDecide && waiting.length > 0 && $('waiting-note').dataset.kind !== 'result') {
    note('This page is read-only: open the link that overseer serve printed (it ends in #token=…) to approve or deny here, or use overseer approve.');
  }
}

function note(text, isError = false) {
  const element = $('waiting-note');
  element.textContent = text;
  element.dataset.kind = isError ? 'error' : 'result';
  element.classList.toggle('error', isError);
  // Keep the outcome of a decision visible after the worker leaves the waiting list.
  element.closest('section').hidden = false;
}

function showError(text) {
  $('error').textContent = text;
  $('error').hidden = false;
}

// ---- loading and live updates ---------------------------------------------------------------------

function addEvents(fresh) {
  const known = page.events.at(-1)?.version ?? 0;
  const added = fresh.filter((e) => e.version > known);
  const offset = page.events.length;
  page.events.push(...added);
  for (const event of added) {
    if (event.type === 'plan.ready') for (const packet of event.payload.packets ?? []) page.packets.set(packet.id, packet);
  }
  appendEventRows(added, offset);
}

function connect() {
  const since = page.events.at(-1)?.version ?? 0;
  const source = new EventSource(`${api}/stream?since=${since}`);
  source.addEventListener('ready', () => {
    page.connected = true;
    renderHeader();
  });
  source.addEventListener('update', (message) => {
    const { events, ...fold } = JSON.parse(message.data);
    addEvents(events);
    page.latest = fold;
    if (page.follow) {
      page.cursor = page.events.length - 1;
      showFold(fold);
    }
    renderCursor();
    renderHeader();
    renderWaiting();
  });
  source.addEventListener('end', () => {
    source.close();
    page.ended = true;
    renderHeader();
  });
  source.addEventListener('error', () => {
    // The browser reconnects by itself (sending Last-Event-ID); say so meanwhile.
    page.connected = false;
    renderHeader();
  });
}

async function load() {
  showAccess();
  let view;
  try {
    view = await getJson(api);
  } catch (failure) {
    $('title').textContent = `Run ${runId}`;
    $('crumb-run').textContent = runId;
    showError(`Could not load run ${runId}: ${failure.message}`);
    return;
  }
  const { run, events, states, ...fold } = view;
  page.run = run;
  page.latest = fold;
  addEvents(events);
  page.cursor = page.events.length - 1;
  // An ended run's status is its workflow's final state; the server says which states are final.
  page.ended = states.workflow.final.includes(currentStatus());
  showFold(fold);
  renderCursor();
  renderHeader();
  renderWaiting();
  $('slider').addEventListener('input', (e) => moveTo(Number(e.target.value), false));
  $('to-live').addEventListener('click', () => moveTo(page.events.length - 1, true));
  if (!page.ended) connect();
}

await load();
