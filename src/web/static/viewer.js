// Shared by the viewer's pages: the token, requests to the API, and small DOM helpers.
// Everything shown from the log goes in as text (textContent), never as HTML.

const TOKEN_KEY = 'overseer-token';

/**
 * `overseer serve` prints a link with the token in its fragment (#token=…), which browsers never send
 * to a server. Keep it for this origin and take it out of the address bar.
 */
function adoptTokenFromFragment() {
  const match = /(?:^#|&)token=([A-Za-z0-9_-]+)/.exec(location.hash);
  if (match === null) return;
  localStorage.setItem(TOKEN_KEY, match[1]);
  history.replaceState(null, '', location.pathname + location.search);
}
adoptTokenFromFragment();

export function token() {
  return localStorage.getItem(TOKEN_KEY);
}

export function forgetToken() {
  localStorage.removeItem(TOKEN_KEY);
}

export async function getJson(url, options = {}) {
  const response = await fetch(url, { headers: { Accept: 'application/json' }, signal: options.signal });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error ?? `${response.status} ${response.statusText}`);
  return body;
}

/** A changing request: JSON, with the token. Resolves to { ok, status, body }. */
export async function postJson(url, payload) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
  const current = token();
  if (current !== null) headers.Authorization = `Bearer ${current}`;
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(payload) });
  const body = await response.json().catch(() => ({}));
  return { ok: response.ok, status: response.status, body };
}

/** h('td', { class: 'x', title: 'y' }, 'text', child): an element; strings become text nodes. */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') element.className = value;
    else if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
    else if (key === 'style') Object.assign(element.style, value);
    else element.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function pad(n, width = 2) {
  return String(n).padStart(width, '0');
}

/** 14:03:05.123 in local time. */
export function clockTime(iso) {
  const d = new Date(iso);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** 2026-11-25 14:03 in local time. */
export function dateTime(iso) {
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function ago(iso, now = Date.now()) {
  const seconds = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}

/** The CSS class that colours a machine state or run status: st-running, st-awaitingTrust … */
export function stateClass(state) {
  return `st st-${String(state).replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

export function badge(state, text = state) {
  return h('span', { class: `badge ${stateClass(state)}` }, text);
}

/** The header's note on what this page may do. */
export function showAccess() {
  const element = document.getElementById('access');
  if (element === null) return;
  element.replaceChildren();
  if (token() !== null) {
    element.append(h('span', { class: 'access-on', title: 'This page holds the token overseer serve printed: it can approve and deny.' }, 'approvals on'));
  } else {
    element.append(h('span', { class: 'access-off', title: 'Open the link overseer serve printed (…/#token=…) to approve and deny from this page.' }, 'read-only'));
  }
}
