// One run, of any size: its lanes grouped and counted by state (people-waiting and failed first), a
// virtualised lane list that can be filtered, the diagrams and a virtualised events list, all at the
// slider's moment; kept live (server-sent events carry counts; the page asks again for the rows in
// view), with approve/deny for workers waiting on a person.
import { badge, clockTime, dateTime, forgetToken, getJson, h, postJson, showAccess, token } from './viewer.js';
import { LANE_ROW_HEIGHT, laneRow } from './lane-row.js';
import { VirtualList } from './virtual-list.js';

const runId = decodeURIComponent(location.pathname.replace(/^\/runs\//, '').replace(/\/+$/, ''));
const api = `/api/runs/${encodeURIComponent(runId)}`;
const $ = (id) => document.getElementById(id);
const WAITING_TEXT = { awaitingTrust: 'waits at its trust gate', escalated: 'failed and was escalated to a person' };
const LANE_PAGE = 60;
const EVENT_PAGE = 200;
const EVENT_ROW_HEIGHT = 28;
/** Live updates refresh the rows in view at most this often. */
const LIVE_REFRESH_MS = 300;
const DIAGRAM_DELAY_MS = 150;

const count = (n) => Number(n).toLocaleString('en-US');

const page = {
  run: null,
  /** The run at its newest event, as the server last sent it. */
  latest: null,
  /** How many events the run has. */
  total: 0,
  /** The slider: index of the event shown (0 is the first event, version 1). */
  cursor: 0,
  /** The slider sticks to the newest event. */
  follow: true,
  ended: false,
  connected: false,
  filter: { worker: '', state: '', failure: '' },
};

// ---- diagrams -------------------------------------------------------------------------------------

/** mermaid (3.5 MB) is fetched after the run is on the page, not before it. */
let mermaidLoaded = null;
function loadMermaid() {
  mermaidLoaded ??= new Promise((resolve, reject) => {
    const script = h('script', { src: '/vendor/mermaid.min.js' });
    script.addEventListener('load', () => {
      const { mermaid } = window;
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
      resolve(mermaid);
    });
    script.addEventListener('error', () => reject(new Error('mermaid did not load')));
    document.head.append(script);
  });
  return mermaidLoaded;
}

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
      const mermaid = await loadMermaid();
      const { svg } = await mermaid.render(`diagram-${name}-${++drawCount}`, text);
      // mermaid's strict mode sanitises the SVG it returns; every label went through mermaidText on the server.
      diagram.element.innerHTML = svg;
      diagram.drawn = text;
    } catch (failure) {
      diagram.element.replaceChildren(h('p', { class: 'error' }, `Could not draw the diagram: ${failure.message}`));
    }
  });
}

let diagramTimer = null;
let diagramRequest = null;
/** The diagrams follow the slider a moment later: drawing them is the slowest thing on the page. */
function refreshDiagrams() {
  clearTimeout(diagramTimer);
  diagramTimer = setTimeout(async () => {
    diagramRequest?.abort();
    const controller = new AbortController();
    diagramRequest = controller;
    try {
      const view = await getJson(`${api}/diagrams?version=${page.cursor + 1}`, { signal: controller.signal });
      if (diagramRequest !== controller) return;
      $('fold-error').hidden = view.foldError === null;
      $('fold-error').textContent = view.foldError ?? '';
      drawDiagram('workflow', view.diagrams.workflow);
      drawDiagram('worker', view.diagrams.worker);
    } catch (failure) {
      if (failure.name !== 'AbortError') showError(`Could not draw the diagrams: ${failure.message}`);
    }
  }, DIAGRAM_DELAY_MS);
}

// ---- lanes ----------------------------------------------------------------------------------------

function laneQuery(version, offset, limit) {
  const query = new URLSearchParams({ version: String(version), offset: String(offset), limit: String(limit) });
  if (page.filter.worker !== '') query.set('worker', page.filter.worker);
  if (page.filter.state !== '') query.set('state', page.filter.state);
  if (page.filter.failure !== '') query.set('failure', page.filter.failure);
  return query;
}

/** The version each generation of the lane list shows. */
const laneVersions = new Map();
const lanes = new VirtualList({
  box: $('lanes'),
  rowHeight: LANE_ROW_HEIGHT,
  maxHeight: 420,
  pageSize: LANE_PAGE,
  fetchPage: (offset, limit) => getJson(`${api}/lanes?${laneQuery(page.cursor + 1, offset, limit)}`),
  renderRow: (lane) => laneRow(lane, { onPick: (picked) => moveTo(picked.since - 1, false) }),
  onRendered: (generation) => {
    // Tells a reader (and the tests and bench) which moment the rows in view belong to.
    $('lanes').dataset.version = String(laneVersions.get(generation) ?? '');
    $('lanes-shown').textContent = lanes.total === 0 ? 'no lane matches' : `${count(lanes.total)} lane${lanes.total === 1 ? '' : 's'} match`;
  },
});

function resetLanes(version, seed) {
  laneVersions.clear();
  laneVersions.set(lanes.generation + 1, version);
  lanes.reset(seed);
}

/** The offset and size of a lane page that covers what is in view. */
function lanesInView() {
  const [first] = lanes.range();
  const offset = Math.floor(first / LANE_PAGE) * LANE_PAGE;
  return { offset, limit: 2 * LANE_PAGE };
}

function fillSelect(select, values, label) {
  const chosen = select.value;
  const options = [h('option', { value: '' }, select.options[0]?.textContent ?? '')];
  for (const { value, n } of values) options.push(h('option', { value }, `${label(value)} (${count(n)})`));
  if (chosen !== '' && !values.some((v) => v.value === chosen)) options.push(h('option', { value: chosen }, `${label(chosen)} (0)`));
  select.replaceChildren(...options);
  select.value = chosen;
}

/** The run at the slider: counts by state, which are the filters' choices too. */
function showCounts(fold) {
  $('lanes-total').textContent = `${count(fold.workers)} worker${fold.workers === 1 ? '' : 's'} · workflow ${fold.workflow}`;
  $('groups').replaceChildren(
    ...fold.groups.map(({ state, count: n }) => {
      const chip = h('button', { type: 'button', class: `group${page.filter.state === state ? ' chosen' : ''}`, 'data-group': state, 'data-count': n }, badge(state), ` ${count(n)}`);
      chip.addEventListener('click', () => {
        $('filter-state').value = page.filter.state === state ? '' : state;
        applyFilters();
      });
      return chip;
    }),
  );
  fillSelect($('filter-state'), fold.groups.map((g) => ({ value: g.state, n: g.count })), (v) => v);
  fillSelect($('filter-failure'), fold.failureKinds.map((k) => ({ value: k.kind, n: k.count })), (v) => v);
}

/** The filters as the controls hold them now (one read of all three: none is written back while typed in). */
function applyFilters() {
  page.filter = { worker: $('filter-worker').value.trim(), state: $('filter-state').value, failure: $('filter-failure').value };
  for (const chip of $('groups').children) chip.classList.toggle('chosen', chip.dataset.group === page.filter.state);
  $('lanes').scrollTop = 0;
  resetLanes(page.cursor + 1);
}

// ---- events list ----------------------------------------------------------------------------------

function eventRow(event) {
  const index = event.version - 1;
  const row = h(
    'div',
    { class: `event${index === page.cursor ? ' at' : ''}${index > page.cursor ? ' later' : ''}`, 'data-version': event.version },
    h('span', { class: 'num' }, event.version),
    h('span', { class: 'num muted' }, event.position),
    h('span', { class: 'mono nowrap' }, clockTime(event.at)),
    h('span', { class: event.machine === 'workflow' ? 'muted' : 'mono' }, event.workerId ?? 'workflow'),
    h('span', { class: 'mono' }, event.type),
    h('span', {}, badge(event.stateAfter)),
    h('span', { class: 'mono payload', title: 'Show the whole payload' }, event.preview),
  );
  row.addEventListener('click', (click) => {
    if (click.target.classList.contains('payload')) return showPayload(event.version);
    moveTo(index, false);
  });
  return row;
}

const events = new VirtualList({
  box: $('events'),
  rowHeight: EVENT_ROW_HEIGHT,
  maxHeight: 440,
  pageSize: EVENT_PAGE,
  fetchPage: async (offset, limit) => {
    const answer = await getJson(`${api}/events?from=${offset + 1}&limit=${limit}`);
    return { total: answer.total, rows: answer.events };
  },
  renderRow: eventRow,
});

/** More events were written: the last page fetched may have been short, so it is fetched again. */
function growEvents(total) {
  const before = events.pages.size === 0 ? 0 : events.total;
  $('events-count').textContent = count(total);
  if (total === before) return;
  events.pages.delete(Math.floor(Math.max(before - 1, 0) / EVENT_PAGE));
  events.loading.delete(Math.floor(Math.max(before - 1, 0) / EVENT_PAGE));
  events.setTotal(total);
}

function markEvents() {
  for (const { index, element } of events.elements()) {
    element.classList.toggle('at', index === page.cursor);
    element.classList.toggle('later', index > page.cursor);
  }
}

async function showPayload(version) {
  const element = $('payload');
  try {
    const { events: [event] } = await getJson(`${api}/events?from=${version}&limit=1&payloads=1`);
    element.textContent = `event ${version} (${event.type}):\n${JSON.stringify(event.payload, null, 2)}`;
  } catch (failure) {
    element.textContent = `Could not read event ${version}: ${failure.message}`;
  }
  element.hidden = false;
}

// ---- the slider -----------------------------------------------------------------------------------

let foldRequest = null;

/** Moves the slider to event `index`; the run at that moment comes from the server's index. */
async function moveTo(index, follow) {
  const last = page.total - 1;
  page.cursor = Math.min(Math.max(index, 0), last);
  page.follow = follow || page.cursor === last;
  renderSlider();
  markEvents();
  events.reveal(page.cursor);
  foldRequest?.abort();
  const controller = new AbortController();
  foldRequest = controller;
  const version = page.cursor + 1;
  const { offset, limit } = lanesInView();
  try {
    const fold = await getJson(`${api}/fold?${laneQuery(version, offset, limit)}`, { signal: controller.signal });
    if (foldRequest !== controller) return;
    showTravel(fold);
    showCounts(fold);
    resetLanes(version, fold.lanes);
    refreshDiagrams();
  } catch (failure) {
    if (failure.name !== 'AbortError') showError(`Could not show the run at event ${version}: ${failure.message}`);
  }
}

function renderSlider() {
  const slider = $('slider');
  slider.max = String(Math.max(page.total - 1, 0));
  slider.value = String(page.cursor);
  $('to-live').disabled = page.follow;
}

function showTravel(fold) {
  $('travel-at').replaceChildren(
    h('strong', {}, `event ${fold.version} of ${fold.events}`),
    ` · position ${fold.position} · ${clockTime(fold.at)} · `,
    h('span', { class: 'mono' }, fold.type),
    fold.workerId === null ? '' : ` (${fold.workerId})`,
    page.follow ? h('span', { class: 'muted' }, ' · newest') : '',
  );
}

// ---- header and waiting workers -------------------------------------------------------------------

function renderHeader() {
  const status = page.latest?.status ?? page.run.status;
  document.title = `${runId} · ${status} · Overseer`;
  $('title').textContent = `Run ${runId}`;
  $('crumb-run').textContent = runId;
  $('status').replaceWith(Object.assign(badge(status), { id: 'status' }));
  $('objective').textContent = page.run.objective;
  const latest = page.latest;
  $('meta').replaceChildren(
    `started ${dateTime(page.run.createdAt)}`,
    ' · in ',
    h('span', { class: 'mono' }, page.run.cwd),
    latest ? ` · ${count(latest.workers)} workers · ${count(latest.events)} events` : '',
  );
  $('live').hidden = page.ended || !page.connected;
}

function renderWaiting() {
  const waiting = page.latest?.waiting ?? [];
  $('waiting').hidden = waiting.length === 0 && $('waiting-note').dataset.kind !== 'result';
  const more = (page.latest?.waitingTotal ?? 0) - waiting.length;
  $('waiting-more').hidden = more <= 0;
  $('waiting-more').textContent = more > 0 ? `and ${count(more)} more: filter the lanes by state to see them all` : '';
  const canDecide = token() !== null;
  $('waiting-list').replaceChildren(
    ...waiting.map((worker) => {
      const { workerId } = worker;
      const escalated = worker.state === 'escalated';
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
          badge(worker.state),
          ' ',
          h('span', { class: 'muted' }, WAITING_TEXT[worker.state] ?? 'waits for a person'),
          worker.objective ? h('div', {}, worker.objective) : '',
          worker.command ? h('div', {}, h('code', {}, worker.command)) : '',
          worker.failure ? h('div', { class: 'failure' }, worker.failure) : '',
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

let liveTimer = null;
/** A live update: counts at once; the rows in view are asked for again, at most every LIVE_REFRESH_MS. */
function onLatest(fold) {
  page.latest = fold;
  page.total = fold.events;
  growEvents(fold.events);
  if (page.follow) {
    page.cursor = page.total - 1;
    showTravel(fold);
    showCounts(fold);
    markEvents();
    liveTimer ??= setTimeout(() => {
      liveTimer = null;
      if (page.follow) resetLanes(page.cursor + 1);
    }, LIVE_REFRESH_MS);
    refreshDiagrams();
  }
  renderSlider();
  renderHeader();
  renderWaiting();
}

function connect() {
  const source = new EventSource(`${api}/stream?since=${page.total}`);
  source.addEventListener('ready', () => {
    page.connected = true;
    renderHeader();
  });
  source.addEventListener('update', (message) => onLatest(JSON.parse(message.data)));
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
    view = await getJson(`${api}?limit=${2 * LANE_PAGE}`);
  } catch (failure) {
    $('title').textContent = `Run ${runId}`;
    $('crumb-run').textContent = runId;
    showError(`Could not load run ${runId}: ${failure.message}`);
    return;
  }
  const { run, states, lanes: firstLanes, ...fold } = view;
  page.run = run;
  page.latest = fold;
  page.total = fold.events;
  page.cursor = page.total - 1;
  // An ended run's status is its workflow's final state; the server says which states are final.
  page.ended = states.workflow.final.includes(fold.workflow);
  renderSlider();
  showTravel(fold);
  showCounts(fold);
  resetLanes(fold.version, firstLanes);
  renderHeader();
  renderWaiting();
  // Straight to the newest events: the first ones (the plan, megabytes for a fleet) are read only if scrolled to.
  events.resize(fold.events);
  events.reveal(page.cursor);
  growEvents(fold.events);
  refreshDiagrams();
  $('slider').addEventListener('input', (e) => moveTo(Number(e.target.value), false));
  $('to-live').addEventListener('click', () => moveTo(page.total - 1, true));
  let typing = null;
  $('filter-worker').addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(applyFilters, 150);
  });
  for (const select of [$('filter-state'), $('filter-failure')]) {
    select.addEventListener('change', () => {
      clearTimeout(typing);
      applyFilters();
    });
  }
  if (!page.ended) connect();
}

await load();
