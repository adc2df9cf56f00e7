/**
 * The viewer's routes: two pages, their static files, a JSON API over the store, live updates, and
 * the two changing requests (approve, deny), which write the same event as `overseer approve`.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { approvalEvent } from '../runtime/human-decisions.js';
import { RunNotFoundError } from '../runtime/rebuild-run.js';
import { stateText } from '../runtime/state-value.js';
import { TruncatedLogError } from '../runtime/truncated-log.js';
import { NotApplicableError, writeToRun } from '../runtime/write-to-run.js';
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

const decisionSchema = z.strictObject({
  by: z.string().trim().min(1).max(100).optional(),
  reason: z.string().trim().min(1).max(2000).optional(),
});

class BadRequest extends Error {}

function positionParam(value: string | undefined): bigint | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,19}$/.test(value)) throw new BadRequest(`at must be an event position (a whole number), got "${value}"`);
  return BigInt(value);
}

function versionParam(value: string | undefined): number {
  if (value === undefined || value === '') return 0;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new BadRequest(`since must be a stream version, got "${value}"`);
  return n;
}

async function decisionBody(c: Context): Promise<z.infer<typeof decisionSchema>> {
  const text = await c.req.text();
  let raw: unknown = {};
  try {
    if (text.trim() !== '') raw = JSON.parse(text);
  } catch {
    throw new BadRequest('the body is not JSON');
  }
  const parsed = decisionSchema.safeParse(raw);
  if (!parsed.success) throw new BadRequest(`bad decision: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'} ${i.message}`).join('; ')}`);
  return parsed.data;
}

export function viewerApp(options: ViewerAppOptions): Hono {
  const { store, files } = options;
  const app = new Hono();

  app.use('*', requestGuard({ token: options.token, hosts: options.hosts }));
  app.use('/api/*', bodyLimit({ maxSize: 16 * 1024 }));

  app.get('/', (c) => files.page(c, 'index.html'));
  app.get('/runs/:runId', (c) => files.page(c, 'run.html'));
  app.get('/static/:file', (c) => files.file(c, c.req.param('file')));
  app.get('/vendor/mermaid.min.js', (c) => files.mermaid(c));

  app.get('/api/runs', async (c) => {
    const runs = await store.use((s) => s.listRuns(RUN_LIST_LIMIT));
    return c.json({
      runs: runs.map((r) => ({ runId: r.runId, status: r.status, objective: r.objective, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString() })),
    });
  });

  const loadRun = (runId: string) =>
    store.use(async (s) => {
      const run = await s.getRun(runId);
      return run === undefined ? undefined : { run, events: await s.readStream(runId) };
    });

  app.get('/api/runs/:runId', async (c) => {
    const at = positionParam(c.req.query('at'));
    const loaded = await loadRun(c.req.param('runId'));
    if (loaded === undefined || loaded.events.length === 0) return c.json({ error: `no run ${c.req.param('runId')}` }, 404);
    return c.json(runView(loaded.run, loaded.events, at));
  });

  // The time-travel slider: only the fold at a position, not the whole log again.
  app.get('/api/runs/:runId/fold', async (c) => {
    const at = positionParam(c.req.query('at'));
    const loaded = await loadRun(c.req.param('runId'));
    if (loaded === undefined || loaded.events.length === 0) return c.json({ error: `no run ${c.req.param('runId')}` }, 404);
    return c.json(foldView(loaded.events, foldLength(loaded.events, at)));
  });

  app.get('/api/runs/:runId/stream', async (c) => {
    const runId = c.req.param('runId');
    // After a reconnect the browser says where it stopped; that wins over the page's first `since`.
    const since = versionParam(c.req.header('last-event-id') ?? c.req.query('since'));
    if ((await store.use((s) => s.getRun(runId))) === undefined) return c.json({ error: `no run ${runId}` }, 404);
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
  app.onError((error, c) => {
    if (error instanceof BadRequest) return c.json({ error: error.message }, 400);
    if (error instanceof RunNotFoundError) return c.json({ error: error.message }, 404);
    if (error instanceof NotApplicableError || error instanceof TruncatedLogError) return c.json({ error: error.message }, 409);
    options.onWarning(`${c.req.method} ${c.req.path}: ${error.stack ?? error.message}`);
    return c.json({ error: error.message }, 500);
  });
  return app;
}
