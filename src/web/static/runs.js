// The runs list: newest first, refreshed every two seconds while the tab is visible.
import { ago, badge, dateTime, getJson, h, showAccess } from './viewer.js';

const REFRESH_MS = 2000;
const body = document.querySelector('#runs tbody');
const empty = document.getElementById('empty');
const error = document.getElementById('error');
const count = document.getElementById('runs-count');

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

async function refresh() {
  try {
    const { runs } = await getJson('/api/runs');
    body.replaceChildren(...runs.map(row));
    empty.hidden = runs.length > 0;
    count.textContent = runs.length === 0 ? '' : `${runs.length} run${runs.length === 1 ? '' : 's'}`;
    error.hidden = true;
  } catch (failure) {
    error.textContent = `Could not load the runs: ${failure.message}`;
    error.hidden = false;
  }
}

showAccess();
await refresh();
setInterval(() => {
  if (document.visibilityState === 'visible') void refresh();
}, REFRESH_MS);
