// The runs list: newest first, a page at a time (a cursor from the server), filtered by status and
// objective text; the first page is refreshed every two seconds while the tab is visible and no older
// page has been asked for.
import { ago, badge, dateTime, getJson, h, showAccess } from './viewer.js';

const REFRESH_MS = 2000;
const body = document.querySelector('#runs tbody');
const empty = document.getElementById('empty');
const error = document.getElementById('error');
const count = document.getElementById('runs-count');
const more = document.getElementById('more');
const objective = document.getElementById('filter-objective');
const status = document.getElementById('filter-status');

/** Where the next page starts (null: no more), and whether older pages are on screen. */
const list = { next: null, paged: false, shown: 0 };

function row(run) {
  const href = `/runs/${encodeURIComponent(run.runId)}`;
  return h(
    'tr',
    { 'data-run': run.runId, 'data-status': run.status },
    h('td', { class: 'mono' }, h('a', { href }, run.runId)),
    h('td', {}, badge(run.status)),
    h('td', { class: 'objective-cell' }, h('a', { href, class: 'plain' }, run.objective)),
    h('td', { class: 'nowrap' }, dateTime(run.createdAt)),
    h('td', { class: 'nowrap muted', title: run.updatedAt }, ago(run.updatedAt)),
  );
}

function query(cursor) {
  const params = new URLSearchParams();
  if (objective.value.trim() !== '') params.set('q', objective.value.trim());
  if (status.value !== '') params.set('status', status.value);
  if (cursor !== null) params.set('cursor', cursor);
  return `/api/runs?${params}`;
}

/** The first page again (`append` false), or the next one after those shown. */
async function load(append) {
  try {
    const { runs, next } = await getJson(query(append ? list.next : null));
    if (append) body.append(...runs.map(row));
    else body.replaceChildren(...runs.map(row));
    list.next = next;
    list.shown = append ? list.shown + runs.length : runs.length;
    more.hidden = next === null;
    empty.hidden = list.shown > 0;
    const filtered = objective.value.trim() !== '' || status.value !== '';
    count.textContent = list.shown === 0 ? '' : `${list.shown}${next === null ? '' : '+'} run${list.shown === 1 ? '' : 's'}${filtered ? ' matching' : ''}`;
    error.hidden = true;
  } catch (failure) {
    error.textContent = `Could not load the runs: ${failure.message}`;
    error.hidden = false;
  }
}

function restart() {
  list.paged = false;
  void load(false);
}

showAccess();
let typing = null;
objective.addEventListener('input', () => {
  clearTimeout(typing);
  typing = setTimeout(restart, 200);
});
status.addEventListener('change', restart);
document.getElementById('run-filters').addEventListener('submit', (e) => {
  e.preventDefault();
  restart();
});
document.getElementById('more-button').addEventListener('click', () => {
  list.paged = true;
  void load(true);
});
await load(false);
setInterval(() => {
  if (document.visibilityState === 'visible' && !list.paged) void load(false);
}, REFRESH_MS);
