/**
 * The viewer's routes: two pages, their static files, a JSON API over the store, live updates, and
 * the two changing requests (approve, deny), which write the same event as `overseer approve`.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { streamSSE } from 'hono/streaming';
import * as z from 'zod';
import { approvalEvent } from '../engine/human-decisions.js';
import { nothingAtOrBefore, parseLogPosition, POSITION_HINT } from '../inspect/log-position.js';
import { RunNotFoundError } from '../fold/rebuild-run.js';
import { runListEntry } from '../inspect/run-list-entry.js';
import { stateText } from '../fold/state-value.js';
import { TruncatedLogError } from '../fold/truncated-log.js';
import { NotApplicableError, writeToRun } from '../engine/write-to-run.js';
import { RUN_STATUSES, type RunRow, type RunStatus } from '../store/event-store.js';
import { EVENT_PAGE_MAX } from './event-view.js';
import { diagramsView } from './index-diagrams.js';
import { RunIndexes, type NewestRun } from './run-indexes.js';
import type { ShownLanes } from './first-view.js';
import { requestGuard } from './request-guard.js';
import { streamRun } from './run-stream.js';
import { foldView, LANE_PAGE_MAX, lanePage, pageLanes, runView, runViewLanes } from './run-view.js';
import type { StaticFiles } from './static-files.js';
import type { ViewerStore } from './viewer-store.js';

export interface ViewerAppOptions {
  store: ViewerStore;
  files: StaticFiles;
  token: string;
  hosts: readonly string[];
  /** Who a decision is recorded as when the request names nobody: the user running `serve`. */
  decidedBy: string;
  onWarning: (message: string) => void;
  track: (stop: () => void) => () => void;
}

const RUN_PAGE_DEFAULT = 50;
const RUN_PAGE_MAX = 200;
const EVENT_PAGE_DEFAULT = 200;
const LANE_PAGE_DEFAULT = 60;
const BODY_LIMIT_BYTES = 16 * 1024;

/** Text for a decision's payload, which is jsonb: it cannot hold U+0000. */
const decisionText = (max: number) =>
  z.string().trim().min(1).max(max).refine((text) => !text.includes('\0'), { error: 'must not contain a NUL character' });

const decisionSchema = z.strictObject({
  by: decisionText(100).optional(),
  reason: decisionText(2000).optional(),
});

/** `at` (a global position) and `since` (a stream version) follow the rule `replay --to` and `events --since` do. */
function positionParam(name: string, value: string | undefined): bigint | undefined {
  if (value === undefined) return undefined;
  const position = parseLogPosition(value);
  if (position === null) throw new HTTPException(400, { message: `${name}: expected ${POSITION_HINT}, got ${JSON.stringify(value)}` });
  return position;
}

/** A count (`limit`, `offset`): digits only, at most `max`. */
function countParam(name: string, value: string | undefined, fallback: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d{1,15}$/.test(value)) throw new HTTPException(400, { message: `${name}: expected a whole number, got ${JSON.stringify(value)}` });
  return Math.min(Number(value), max);
}

function statusParam(value: string | undefined): RunStatus | undefined {
  if (value === undefined || value === '') return undefined;
  if (!(RUN_STATUSES as readonly string[]).includes(value)) throw new HTTPException(400, { message: `status: expected one of ${RUN_STATUSES.join(', ')}, got ${JSON.stringify(value)}` });
  return value as RunStatus;
}

/** The runs list's cursor: where the page before ended (its last run's start time and id). */
function runCursor(run: RunRow): string {
  return `${run.createdAt.toISOString()}~${run.runId}`;
}

function cursorParam(value: string | undefined): { createdAt: Date; runId: string } | undefined {
  if (value === undefined || value === '') return undefined;
  const split = value.indexOf('~');
  const createdAt = new Date(value.slice(0, split));
  if (split < 0 || Number.isNaN(createdAt.getTime())) throw new HTTPException(400, { message: `cursor: expected the \`next\` of a page of runs, got ${JSON.stringify(value)}` });
  return { createdAt, runId: value.slice(split + 1) };
}

async function decisionBody(c: Context): Promise<z.infer<typeof decisionSchema>> {
  const text = await c.req.text();
  let raw: unknown = {};
  try {
    if (text.trim() !== '') raw = JSON.parse(text);
  } catch {
    throw new HTTPException(400, { message: 'the body is not JSON' });
  }
  const parsed = decisionSchema.safeParse(raw);
  if (!parsed.success) {
    throw new HTTPException(400, { message: `bad decision: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'} ${i.message}`).join('; ')}` });
  }
  return parsed.data;
}

function noRun(runId: string): HTTPException {
  return new HTTPException(404, { message: `no run ${runId}` });
}

export function viewerApp(options: ViewerAppOptions): Hono {
  const { store, files } = options;
  const indexes = new RunIndexes(store);
  const app = new Hono();

  app.use('*', requestGuard({ token: options.token, hosts: options.hosts }));
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: BODY_LIMIT_BYTES,
      onError: () => {
        throw new HTTPException(413, { message: `the request body is over the limit of ${String(BODY_LIMIT_BYTES / 1024)} KiB` });
      },
    }),
  );
  // A run id holding NUL cannot name a run (no Postgres text holds one): not found, before any query.
  app.use('/api/runs/:runId/*', async (c, next) => {
    if (c.req.param('runId').includes('\0')) throw noRun(c.req.param('runId'));
    await next();
  });

  app.get('/', (c) => files.page(c, 'index.html'));
  app.get('/runs/:runId', (c) => {
    // The page asks for the run once its scripts have loaded: what its answer needs is read meanwhile
    // (a missing run is told by that request, not this one).
    const runId = c.req.param('runId');
    if (!runId.includes('\0')) indexes.readAhead(runId);
    return files.page(c, 'run.html');
  });
  app.get('/static/:file', (c) => files.file(c, c.req.param('file')));
  app.get('/vendor/mermaid.min.js', (c) => files.mermaid(c));

  app.get('/api/runs', async (c) => {
    const limit = countParam('limit', c.req.query('limit'), RUN_PAGE_DEFAULT, RUN_PAGE_MAX);
    const filter = { after: cursorParam(c.req.query('cursor')), status: statusParam(c.req.query('status')), objective: c.req.query('q') };
    // One more than asked for says whether there is a next page.
    const runs = await store.use((s) => s.listRuns(limit + 1, filter));
    const shown = runs.slice(0, limit);
    const last = shown.at(-1);
    return c.json({ runs: shown.map(runListEntry), next: runs.length > limit && last !== undefined ? runCursor(last) : null });
  });

  /**
   * The run's index, and the stream version to show: at `at` (a global position), or `version` (the
   * slider's own steps; past the newest means the newest), else the newest event.
   */
  const indexedAt = async (c: Context) => {
    const runId = c.req.param('runId') ?? '';
    const at = positionParam('at', c.req.query('at'));
    const wanted = positionParam('version', c.req.query('version'));
    const indexed = await indexes.get(runId);
    const newest = indexed.index.version;
    const version = at !== undefined ? indexed.index.versionAtPosition(at) : wanted !== undefined ? Math.max(1, Math.min(Number(wanted), newest)) : newest;
    if (version === 0 && at !== undefined) throw new HTTPException(404, { message: nothingAtOrBefore(runId, at, indexed.index.eventAt(1)?.position) });
    return { ...indexed, version };
  };
  /**
   * The run at the version to show (as indexedAt), for the views a first open asks for: while the
   * run's index is still read, the newest event is answered from the store (first-view.ts), with
   * the lanes `shown` picks.
   */
  const runAt = async (c: Context, shown: ShownLanes): Promise<NewestRun> => {
    const wanted = positionParam('version', c.req.query('version'));
    if (c.req.query('at') === undefined) {
      const newest = await indexes.newest(c.req.param('runId') ?? '', wanted === undefined ? undefined : Math.max(1, Number(wanted)), shown);
      if (newest !== undefined) return newest;
    }
    const { run, index, version, packets } = await indexedAt(c);
    return { run, at: index.at(version), packets };
  };
  const laneQuery = (c: Context) => ({
    filter: { state: c.req.query('state') || undefined, worker: c.req.query('worker') || undefined, failureKind: c.req.query('failure') || undefined },
    offset: countParam('offset', c.req.query('offset'), 0, Number.MAX_SAFE_INTEGER),
    limit: countParam('limit', c.req.query('limit'), LANE_PAGE_DEFAULT, LANE_PAGE_MAX),
  });

  app.get('/api/runs/:runId', async (c) => {
    const { filter, offset, limit } = laneQuery(c);
    const { run, at, packets } = await runAt(c, runViewLanes(filter, offset, limit));
    return c.json(runView(run, at, packets, lanePage(at, filter, offset, limit, packets)));
  });

  // The time-travel slider: the run at a position with the page of lanes in view, nothing else.
  app.get('/api/runs/:runId/fold', async (c) => {
    const { index, version, packets } = await indexedAt(c);
    const { filter, offset, limit } = laneQuery(c);
    const at = index.at(version);
    return c.json({ ...foldView(at, packets), lanes: lanePage(at, filter, offset, limit, packets) });
  });

  app.get('/api/runs/:runId/lanes', async (c) => {
    const { filter, offset, limit } = laneQuery(c);
    const { at, packets } = await runAt(c, (lanes) => pageLanes(lanes, filter, offset, limit).shown);
    return c.json({ version: at.version, ...lanePage(at, filter, offset, limit, packets) });
  });

  app.get('/api/runs/:runId/diagrams', async (c) => {
    const { index, version } = await indexedAt(c);
    return c.json(diagramsView(index, version));
  });

  // Events by range of stream versions: `from` (default 1), `limit` of them; payloads only when asked.
  app.get('/api/runs/:runId/events', async (c) => {
    const runId = c.req.param('runId');
    const from = Math.max(1, Number(positionParam('from', c.req.query('from')) ?? 1n));
    const limit = countParam('limit', c.req.query('limit'), EVENT_PAGE_DEFAULT, EVENT_PAGE_MAX);
    const withPayloads = c.req.query('payloads') === '1';
    return c.json({ from, ...(await indexes.events(runId, from, limit, withPayloads)) });
  });

  app.get('/api/runs/:runId/stream', async (c) => {
    const runId = c.req.param('runId');
    // After a reconnect the browser says where it stopped; that wins over the page's first `since`.
    const since = Number(positionParam('since', c.req.header('last-event-id') ?? c.req.query('since')) ?? 0n);
    await indexes.get(runId);
    return streamSSE(c, (stream) => streamRun(stream, { store, indexes, runId, since, onWarning: options.onWarning, track: options.track }));
  });

  for (const verdict of ['approve', 'deny'] as const) {
    app.post(`/api/runs/:runId/workers/:workerId/${verdict}`, async (c) => {
      const runId = c.req.param('runId');
      const workerId = c.req.param('workerId');
      const body = await decisionBody(c);
      const decider = { by: body.by ?? options.decidedBy, source: 'web', reason: body.reason };
      const { batch } = await store.use((s) => writeToRun(s, runId, (state) => approvalEvent(state, workerId, verdict === 'approve', decider)));
      const decided = batch.committed[0];
      return c.json({ runId, workerId, type: decided?.type ?? null, stateAfter: decided === undefined ? null : stateText(decided.stateAfter), by: decider.by, source: decider.source });
    });
  }

  app.notFound((c) => c.json({ error: `no such page: ${c.req.path}` }, 404));
  // Every refusal is an HTTPException (ours, or a hono middleware's) or one of the runtime's typed
  // errors: each answers with its status. Anything else is the viewer's fault, told in one line.
  app.onError((error, c) => {
    if (error instanceof HTTPException) return c.json({ error: error.message }, error.status);
    if (error instanceof RunNotFoundError) return c.json({ error: error.message }, 404);
    if (error instanceof NotApplicableError || error instanceof TruncatedLogError) return c.json({ error: error.message }, 409);
    options.onWarning(`${c.req.method} ${JSON.stringify(c.req.path)}: ${String(error)}`);
    return c.json({ error: error.message }, 500);
  });
  return app;
}
