/**
 * The web viewer in a real browser (Debian's Chromium through playwright-core), on each store
 * backend: `overseer serve` runs as a user starts it, runs are started by the real CLI in other
 * processes, and the page is only ever driven through what a person sees and clicks.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends, type TestTarget } from '../support/backends.js';
import { eventually, overseer, overseerProcess } from '../support/cli.js';
import { CHROMIUM, launchChromium, startServe, type ServedViewer } from '../support/viewer.js';
import { cutShortRun, lastVersion } from '../support/cut-short-run.js';

interface EventLine {
  type: string;
  workerId: string | null;
  stateAfter: unknown;
  payload: Record<string, unknown>;
}

interface ApiEvent {
  version: number;
  position: string;
  workerId: string | null;
  stateAfter: string;
}

const hasChromium = existsSync(CHROMIUM);
// .ci/run installs Chromium: under CI a missing browser fails the run instead of skipping these tests.
if (!hasChromium && process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)`);

/** fetch() sets Host itself; node:http sends the one we name. */
function statusWithHost(url: URL, host: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const request = httpGet(url, { headers: { Host: host } }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    request.on('error', reject);
  });
}

describe.runIf(hasChromium).each(testBackends())('viewer on $name', (backend) => {
  let target: TestTarget;
  let cwd: string;
  let viewer: ServedViewer;
  let browser: Browser;
  const plans = { quick: '', slow: '', gated: '' };
  const cli = (args: string[]) => overseer([...args, '--db', target.db], { cwd });
  const startRun = async (plan: string) => {
    const running = overseerProcess(['run', '--plan', plan, '--json', '--db', target.db], { cwd });
    const runId = await eventually(() => /run (\w+) started/.exec(running.output().stderr)?.[1], 20_000, 'the run to start');
    return { running, runId };
  };
  /** The run's events, a page of them (enough for these small runs). */
  const runEvents = async (runId: string) =>
    ((await (await fetch(new URL(`/api/runs/${runId}/events?limit=500`, viewer.url))).json()) as { events: ApiEvent[] }).events;
  const openPage = async (path: string, withToken: boolean): Promise<Page> => {
    const page = await browser.newPage();
    await page.goto(new URL(`${path}${withToken ? `#token=${viewer.token}` : ''}`, viewer.url).toString());
    return page;
  };

  beforeAll(async () => {
    target = await backend.newTarget();
    cwd = await mkdtemp(join(tmpdir(), 'overseer-web-'));
    const write = async (name: keyof typeof plans, packets: unknown[]) => {
      plans[name] = join(cwd, `${name}.json`);
      await writeFile(plans[name], JSON.stringify({ packets }));
    };
    await write('quick', [{ id: 'hello', objective: 'say hello', command: 'echo hello', trusted: true }]);
    // Runs until the test creates `release-<run id>`: the test decides when the worker is done.
    await write('slow', [{ id: 'slow', objective: 'wait for the test', command: 'while [ ! -e "release-$OVERSEER_RUN_ID" ]; do sleep 0.05; done', trusted: true }]);
    await write('gated', [{ id: 'risky', objective: 'needs a yes', command: 'echo risky' }]);
    // serve starts first: on the embedded store it holds the folder, and every run below connects through it.
    viewer = await startServe(target.db, cwd);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    const stopped = await viewer?.stop();
    expect(stopped?.code).toBe(0);
    await target?.dispose();
    await rm(cwd, { recursive: true, force: true });
  });

  it('the runs list shows a finished run', async () => {
    const done = await cli(['run', '--plan', plans.quick, '--json']);
    expect(done.code).toBe(0);
    const { runId } = JSON.parse(done.stdout) as { runId: string };
    const page = await openPage('/', false);
    const row = page.locator(`tr[data-run="${runId}"]`);
    await row.waitFor();
    expect(await row.getAttribute('data-status')).toBe('completed');
    expect(await row.textContent()).toContain('completed');
    await page.close();
  });

  it('pages the runs list with a cursor and filters it by status and objective text', async () => {
    const marker = `paging-${String(Date.now())}`;
    const plan = join(cwd, 'paging.json');
    await writeFile(plan, JSON.stringify({ objective: `${marker} run`, packets: [{ id: 'one', objective: 'o', command: 'true', trusted: true }] }));
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) ids.unshift((JSON.parse((await cli(['run', '--plan', plan, '--json'])).stdout) as { runId: string }).runId);
    const get = async (query: string) => {
      const response = await fetch(new URL(`/api/runs?${query}`, viewer.url));
      return { status: response.status, body: (await response.json()) as { runs?: Array<{ runId: string }>; next?: string | null; error?: string } };
    };
    const first = await get(`q=${marker.toUpperCase()}&limit=2`);
    expect(first.body.runs?.map((r) => r.runId)).toEqual(ids.slice(0, 2));
    const second = await get(`q=${marker}&limit=2&cursor=${encodeURIComponent(first.body.next ?? '')}`);
    expect([second.body.runs?.map((r) => r.runId), second.body.next]).toEqual([ids.slice(2), null]);
    expect((await get(`q=${marker}&status=completed`)).body.runs).toHaveLength(3);
    expect((await get(`q=${marker}&status=failed`)).body.runs).toEqual([]);
    expect(await get('status=done')).toEqual({ status: 400, body: { error: 'status: expected one of running, waiting, completed, failed, cancelled, got "done"' } });

    const page = await openPage('/', false);
    await page.locator('#filter-objective').fill(marker);
    await expect.poll(() => page.locator('#runs tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-run'))), { timeout: 30_000 }).toEqual(ids);
    await page.locator('#filter-status').selectOption('failed');
    await expect.poll(() => page.locator('#runs tbody tr').count(), { timeout: 30_000 }).toBe(0);
    await page.close();
  });

  it("a live run's lanes change state without reloading, and the slider shows a past state", async () => {
    const { running, runId } = await startRun(plans.slow);
    const page = await openPage(`/runs/${runId}`, false);
    await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
    const lane = page.locator('[data-lane="slow"]');
    await expect.poll(() => lane.getAttribute('data-state'), { timeout: 15_000 }).toBe('running');
    await expect.poll(() => page.locator('#live').isVisible()).toBe(true);

    await writeFile(join(cwd, `release-${runId}`), '');
    expect((await running.done).code).toBe(0);
    await expect.poll(() => lane.getAttribute('data-state'), { timeout: 15_000 }).toBe('done');
    await expect.poll(() => page.locator('#status').textContent()).toBe('completed');
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);

    // Back to the event after which `slow` was running: lanes and diagram show that moment.
    const events = await runEvents(runId);
    const index = events.findIndex((e) => e.workerId === 'slow' && e.stateAfter === 'running');
    expect(index).toBeGreaterThan(0);
    await page.locator('#slider').evaluate((slider: HTMLInputElement, value) => {
      slider.value = value;
      slider.dispatchEvent(new Event('input', { bubbles: true }));
    }, String(index));
    await page.locator(`#lanes[data-version="${String(index + 1)}"]`).waitFor();
    expect(await lane.getAttribute('data-state')).toBe('running');
    expect(await page.locator('#travel-at').textContent()).toContain(`event ${String(index + 1)} of ${String(events.length)}`);
    await expect.poll(() => page.locator('#diagram-worker svg').textContent(), { timeout: 30_000 }).toContain('● slow');
    await page.close();
  });

  it('the approve button releases a worker waiting in another process, with the same event as the CLI', async () => {
    const { running, runId } = await startRun(plans.gated);
    await eventually(() => (running.output().stderr.includes('waiting for approval') ? true : undefined), 20_000, 'the trust gate');
    const page = await openPage(`/runs/${runId}`, true);
    const decision = page.locator('.decision[data-worker="risky"]');
    await decision.locator('input.reason').fill('looked at it in the viewer');
    await decision.locator('button.approve').click();

    const done = await running.done;
    expect(done.code).toBe(0);
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 15_000 }).toBe('completed');
    // The answer to the click may come after the run has already finished with it.
    await expect.poll(() => page.locator('#waiting-note').textContent(), { timeout: 15_000 }).toContain('trust.approved recorded for risky');

    const log = (await cli(['events', runId, '--json'])).stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as EventLine);
    const approval = log.find((e) => e.type === 'trust.approved');
    expect(approval).toMatchObject({ workerId: 'risky', stateAfter: 'trusted', payload: { source: 'web', reason: 'looked at it in the viewer' } });
    expect(typeof approval?.payload['by']).toBe('string');
    await page.close();
  });

  it.runIf(backend.name === 'embedded')('serve started while an engine uses the embedded store goes on after the engine exits', async () => {
    const other = await backend.newTarget();
    const running = overseerProcess(['run', '--plan', plans.gated, '--db', other.db], { cwd });
    await eventually(() => (running.output().stderr.includes('waiting for approval') ? true : undefined), 20_000, 'the trust gate');
    const runId = /run (\w+) started/.exec(running.output().stderr)?.[1] ?? '';
    // serve and the engine are both clients of the store's server, which the engine started.
    const late = await startServe(other.db, cwd);
    try {
      const page = await browser.newPage();
      await page.goto(new URL(`/runs/${runId}#token=${late.token}`, late.url).toString());
      await page.locator('.decision[data-worker="risky"] button.approve').click();
      expect((await running.done).code).toBe(0);
      // The page's live stream outlives the engine that started the server.
      await expect.poll(() => page.locator('#status').textContent(), { timeout: 15_000 }).toBe('completed');
      await page.close();
      const runs = (await (await fetch(new URL('/api/runs', late.url))).json()) as { runs: Array<{ runId: string; status: string }> };
      expect(runs.runs.find((r) => r.runId === runId)?.status).toBe('completed');
      // A new run shares the server with serve.
      expect((await overseer(['run', '--plan', plans.quick, '--db', other.db], { cwd })).code).toBe(0);
    } finally {
      expect((await late.stop()).code).toBe(0);
      await other.dispose();
    }
  });

  it('answers a body over the limit with 413 and a run id holding NUL with 404, never with a stack trace', async () => {
    const approve = (runId: string, body: BodyInit, extra: RequestInit = {}) =>
      fetch(new URL(`/api/runs/${runId}/workers/risky/approve`, viewer.url), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${viewer.token}` },
        body,
        ...extra,
      });
    const big = JSON.stringify({ reason: 'x'.repeat(20 * 1024) });
    const sized = await approve('abc', big);
    expect([sized.status, await sized.json()]).toEqual([413, { error: 'the request body is over the limit of 16 KiB' }]);
    // Without a Content-Length (chunked), the limit is found while reading.
    const streamed = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    expect((await approve('abc', streamed, { duplex: 'half' } as RequestInit)).status).toBe(413);

    for (const path of ['/api/runs/%00abc', '/api/runs/%00abc/fold?at=1', '/api/runs/%00/stream']) {
      const response = await fetch(new URL(path, viewer.url));
      expect([path, response.status]).toEqual([path, 404]);
    }
    expect((await approve('%00x', '{}')).status).toBe(404);

    const { runId } = JSON.parse((await cli(['run', '--plan', plans.gated, '--detach', '--json'])).stdout) as { runId: string };
    // A decision's text goes into a jsonb payload, which cannot hold NUL: refused, not a failed write.
    expect((await approve(runId, JSON.stringify({ reason: 'a\u0000b' }))).status).toBe(400);
    expect(JSON.parse((await cli(['status', runId, '--json'])).stdout)).toMatchObject({ status: 'waiting' });
    expect(viewer.output().stderr).not.toMatch(/\n\s+at /);
  });

  it('reads positions by the one rule replay --to and events --since follow', async () => {
    const done = await cli(['run', '--plan', plans.quick, '--json']);
    const { runId } = JSON.parse(done.stdout) as { runId: string };
    const events = await runEvents(runId);
    const first = events[0]!.position;
    const get = async (query: string) => {
      const response = await fetch(new URL(`/api/runs/${runId}${query}`, viewer.url));
      return [response.status, ((await response.json()) as { error?: string }).error ?? null] as const;
    };

    // 0 is before every event: nothing to fold, as `replay --to 0` says.
    const replayed = await cli(['replay', runId, '--to', '0']);
    expect(replayed.code).toBe(2);
    const nothing = `run ${runId} has no event at or before position 0 (its first is at ${first})`;
    expect(replayed.stderr).toBe(`overseer replay: ${nothing}\n`);
    expect(await get('/fold?at=0')).toEqual([404, nothing]);
    expect(await get('?at=0')).toEqual([404, nothing]);
    expect((await get(`/fold?at=${first}`))[0]).toBe(200);

    // Digits only: an exponent, a sign or a fraction is not a position, for the page as for the CLI.
    for (const [name, value] of [['at', '1e3'], ['at', '-1'], ['at', '1.0'], ['at', ''], ['since', '1e3']] as const) {
      const path = name === 'at' ? `/fold?at=${value}` : `/stream?since=${value}`;
      expect(await get(path)).toEqual([400, `${name}: expected an event position (a whole number, as \`overseer events\` shows), got "${value}"`]);
    }
    const cliRefusal = await cli(['replay', runId, '--to', '1e3']);
    expect([cliRefusal.code, cliRefusal.stderr]).toEqual([2, '--to: expected an event position (a whole number, as `overseer events` shows), got "1e3"\n']);
  });

  it('lists a run on one line with its objective escaped and cut, in status and /api/runs alike', async () => {
    // 200 KB: more than a command line takes, so it comes in a plan.
    const objective = `\u001b[31mred\u001b[0m first line\nsecond line\t${'long '.repeat(40_000)}`;
    const plan = join(cwd, 'long-objective.json');
    await writeFile(plan, JSON.stringify({ objective, packets: [{ id: 'one', objective: 'o', command: 'true', trusted: true }] }));
    const done = await cli(['run', '--plan', plan, '--json']);
    expect(done.code).toBe(0);
    const { runId } = JSON.parse(done.stdout) as { runId: string };

    const rows = (await cli(['status'])).stdout.split('\n').filter((line) => line.startsWith(`${runId} `));
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row).toMatch(/ \\u001b\[31mred\\u001b\[0m first line\\nsecond line\\tlong long .*…$/);
    expect([...row].filter((char) => char < ' ')).toEqual([]);
    expect(row.length).toBeLessThan(200);

    const listed = (await (await fetch(new URL('/api/runs', viewer.url))).json()) as { runs: Array<{ runId: string; objective: string }> };
    const fromApi = listed.runs.find((r) => r.runId === runId)?.objective;
    const fromJson = (JSON.parse((await cli(['status', '--json'])).stdout) as { runs: Array<{ runId: string; objective: string }> }).runs.find((r) => r.runId === runId)?.objective;
    expect(row.endsWith(`  ${fromApi ?? '?'}`)).toBe(true);
    expect(fromJson).toBe(fromApi);
    // One run's own views keep the whole objective.
    expect((JSON.parse((await cli(['status', runId, '--json'])).stdout) as { objective: string }).objective).toBe(objective);
    const view = (await (await fetch(new URL(`/api/runs/${runId}`, viewer.url))).json()) as { run: { objective: string } };
    expect(view.run.objective).toBe(objective);
  });

  it('refuses a changing request without the token, from another origin, or not JSON', async () => {
    const detached = await cli(['run', '--plan', plans.gated, '--detach', '--json']);
    expect(detached.code).toBe(3);
    const { runId } = JSON.parse(detached.stdout) as { runId: string };
    const approveUrl = new URL(`/api/runs/${runId}/workers/risky/approve`, viewer.url).toString();
    const post = (headers: Record<string, string>, body = '{}') => fetch(approveUrl, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });
    const bearer = { Authorization: `Bearer ${viewer.token}` };

    expect((await post({})).status).toBe(403);
    expect((await post({ Authorization: 'Bearer not-the-token' })).status).toBe(403);
    expect((await post({ ...bearer, Origin: 'http://evil.example' })).status).toBe(403);
    expect((await post({ ...bearer, 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403);
    expect((await post({ ...bearer, 'Content-Type': 'text/plain' })).status).toBe(415);
    expect((await post({ ...bearer, 'Content-Type': 'application/x-www-form-urlencoded' }, 'reason=x')).status).toBe(415);
    // DNS rebinding: a foreign name pointed at 127.0.0.1 is refused even for reads.
    expect(await statusWithHost(new URL('/api/runs', viewer.url), 'evil.example')).toBe(403);
    expect(await statusWithHost(new URL('/api/runs', viewer.url), new URL(viewer.url).host)).toBe(200);

    // Nothing above was written; the worker still waits, and a cross-site form in the browser fails too.
    expect(JSON.parse((await cli(['status', runId, '--json'])).stdout)).toMatchObject({ status: 'waiting' });
    const page = await browser.newPage();
    await page.setContent(
      `<form method="POST" action="${approveUrl}" enctype="text/plain"><input name='{"a":"' value='"}'></form><script>document.forms[0].submit()</script>`,
    );
    await page.waitForLoadState('load');
    await page.close();
    expect(JSON.parse((await cli(['status', runId, '--json'])).stdout)).toMatchObject({ status: 'waiting' });

    // With the token, from the viewer's own origin, it goes through.
    const approved = await post({ ...bearer, Origin: new URL(viewer.url).origin }, JSON.stringify({ by: 'ada', reason: 'fine' }));
    expect(approved.status).toBe(200);
    expect(await approved.json()).toMatchObject({ type: 'trust.approved', workerId: 'risky', stateAfter: 'trusted', by: 'ada', source: 'web' });
    const again = await post(bearer);
    expect(again.status).toBe(409);
  });

  it('refuses to approve a run whose log was cut short: a 409 with the reason, nothing written, no stack', async () => {
    const { runId, waitedAt, reached } = await cutShortRun(cli, target, plans.gated);

    const refused = await fetch(new URL(`/api/runs/${runId}/workers/risky/approve`, viewer.url), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${viewer.token}` },
      body: '{}',
    });
    expect(refused.status).toBe(409);
    expect(await refused.json()).toEqual({
      error: `run ${runId} lost events from its end: the log ends at version ${String(waitedAt)} but the run's snapshot says it reached version ${String(reached)} and the runs row says the run is completed; see overseer verify ${runId}`,
    });
    expect(await lastVersion(target, runId)).toBe(waitedAt);
    expect(viewer.output().stderr).not.toContain(runId);
  });
});
