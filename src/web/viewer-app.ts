/**
 * The viewer's routes: two pages, their static files, a JSON API over the store, live updates, and
 * the two changing requests (approve, deny), which write the same event as `overseer approve`.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { approvalEvent } from '../engine/human-decisions.js';
import { nothingAtOrBefore, parseLogPosition, POSITION_HINT } from '../inspect/log-position.js';
import { RunNotFoundError } from '../fold/rebuild-run.js';
import { runListEntry } from '../inspect/run-list-entry.js';
import { stateText } from '../fold/state-value.js';
import { TruncatedLogError } from '../fold/truncated-log.js';
import { NotApplicableError, writeToRun } from '../engine/write-to-run.js';
import type { StoredEvent } from '../store/event-store.js';
import { requestGuard } from './request-guard.js';
import { streamRun } from './run-stream.js';
import { foldLength, foldView, runView } from './run-view.js';
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

const RUN_LIST_LIMIT = 200;
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
  app.get('/runs/:runId', (c) => files.page(c, 'run.html'));
  app.get('/static/:file', (c) => files.file(c, c.req.param('file')));
  app.get('/vendor/mermaid.min.js', (c) => files.mermaid(c));

  app.get('/api/runs', async (c) => {
    const runs = await store.use((s) => s.listRuns(RUN_LIST_LIMIT));
    return c.json({ runs: runs.map(runListEntry) });
  });

  /** The fold up to `at` (the whole log without it); one before the run's first event is nothing to show. */
  const lengthAt = (runId: string, events: readonly StoredEvent[], at: bigint | undefined): number => {
    const length = foldLength(events, at);
    if (length === 0 && at !== undefined) throw new HTTPException(404, { message: nothingAtOrBefore(runId, at, events[0]?.position) });
    return length;
  };

  const loadRun = async (runId: string) => {
    const loaded = await store.use(async (s) => {
      const run = await s.getRun(runId);
      return run === undefined ? undefined : { run, events: await s.readStream(runId) };
    });
    if (loaded === undefined || loaded.events.length === 0) throw noRun(runId);
    return loaded;
  };

  app.get('/api/runs/:runId', async (c) => {
    const runId = c.req.param('runId');
    const at = positionParam('at', c.req.query('at'));
    const loaded = await loadRun(runId);
    return c.json(runView(loaded.run, loaded.events, lengthAt(runId, loaded.events, at)));
  });

  // The time-travel slider: only the fold at a position, not the whole log again.
  app.get('/api/runs/:runId/fold', async (c) => {
    const runId = c.req.param('runId');
    const at = positionParam('at', c.req.query('at'));
    const loaded = await loadRun(runId);
    return c.json(foldView(loaded.events, lengthAt(runId, loaded.events, at)));
  });

  app.get('/api/runs/:runId/stream', async (c) => {
    const runId = c.req.param('runId');
    // After a reconnect the browser says where it stopped; that wins over the page's first `since`.
    const since = Number(positionParam('since', c.req.header('last-event-id') ?? c.req.query('since')) ?? 0n);
    if ((await store.use((s) => s.getRun(runId))) === undefined) throw noRun(runId);
    return streamSSE(c, (stream) => streamRun(stream, { store, runId, since, onWarning: options.onWarning, track: options.track }));
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
