/**
 * The viewer on a run of thousands of workers, in a real browser (Debian's Chromium through
 * playwright-core), on each store backend. The run is driven by the real engine on the first backend
 * (workers that exit at once; two fail, three wait at their trust gates) and written event for event
 * into the others through their stores, as the bench does.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driveFleetRun, fleetTaskId, writeFleetRun, type FleetRun } from '../../bench/lib/fleet-run.js';
import { testBackends, type TestTarget } from '../support/backends.js';
import { overseer } from '../support/cli.js';
import { CHROMIUM, launchChromium, startServe, type ServedViewer } from '../support/viewer.js';

const TASKS = 2000;
const WAITING = [fleetTaskId(17), fleetTaskId(1000), fleetTaskId(1995)];
const FAILING = [fleetTaskId(3), fleetTaskId(1900)];
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)`);

let recorded: FleetRun | undefined;

interface LaneRowJson {
  workerId: string;
  state: string;
  since: number;
}

describe.runIf(hasChromium).each(testBackends())('viewer of a fleet run on $name', (backend) => {
  let target: TestTarget;
  let cwd: string;
  let viewer: ServedViewer;
  let browser: Browser;
  let runId: string;
  const api = async <T>(path: string): Promise<T> => (await (await fetch(new URL(`/api/runs/${runId}${path}`, viewer.url))).json()) as T;
  const openRun = async (withToken: boolean): Promise<Page> => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(new URL(`/runs/${runId}${withToken ? `#token=${viewer.token}` : ''}`, viewer.url).toString());
    await page.locator('#lanes[data-version]').waitFor();
    return page;
  };
  /** The count on a state's chip; 0 when no lane is in that state (no chip). */
  const groupCount = (page: Page, state: string) =>
    page.locator('#groups').evaluate((groups, wanted) => Number(groups.querySelector(`[data-group="${wanted}"]`)?.getAttribute('data-count') ?? 0), state);

  beforeAll(async () => {
    target = await backend.newTarget();
    cwd = await mkdtemp(join(tmpdir(), 'overseer-fleet-'));
    const store = await target.open();
    try {
      if (recorded === undefined) recorded = await driveFleetRun(store, cwd, { tasks: TASKS, concurrency: 16, waiting: WAITING, failing: FAILING });
      else await writeFleetRun(store, recorded);
    } finally {
      await store.close();
    }
    runId = recorded.runId;
    viewer = await startServe(target.db, cwd);
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    expect((await viewer?.stop())?.code).toBe(0);
    await target?.dispose();
    await rm(cwd, { recursive: true, force: true });
  });

  it('groups the lanes by state with their counts, people-waiting and failed first, in a page of a few thousand elements', async () => {
    const page = await openRun(false);
    const groups = await page.locator('#groups [data-group]').evaluateAll((chips) => chips.map((c) => [c.getAttribute('data-group'), Number(c.getAttribute('data-count'))]));
    expect(groups).toEqual([
      ['awaitingTrust', 3],
      ['failed', 2],
      ['done', TASKS - 5],
    ]);
    const firstLanes = await page.locator('#lanes .lane').evaluateAll((rows) => rows.slice(0, 5).map((r) => [r.getAttribute('data-lane'), r.getAttribute('data-state')]));
    expect(firstLanes).toEqual([...WAITING.map((id) => [id, 'awaitingTrust']), ...FAILING.map((id) => [id, 'failed'])]);
    expect(await page.locator('#status').textContent()).toBe('waiting');
    expect(await page.evaluate(() => document.getElementsByTagName('*').length)).toBeLessThan(5000);
    // The run endpoint sends a summary and a page of lanes, not the run.
    const response = await fetch(new URL(`/api/runs/${runId}`, viewer.url));
    expect((await response.arrayBuffer()).byteLength).toBeLessThan(100 * 1024);
    await page.close();
  });

  it('filters the lanes by worker id, by state and by failure kind', async () => {
    const page = await openRun(false);
    const wanted = fleetTaskId(1234);
    await page.locator('#filter-worker').fill(wanted);
    await expect.poll(() => page.locator('#lanes .lane').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-lane'))), { timeout: 30_000 }).toEqual([wanted]);
    expect(await page.locator(`[data-lane="${wanted}"]`).getAttribute('data-state')).toBe('done');

    await page.locator('#filter-worker').fill('');
    await page.locator('#filter-failure').selectOption('exit_nonzero');
    await expect.poll(() => page.locator('#lanes .lane').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-lane'))), { timeout: 30_000 }).toEqual(FAILING);
    await page.locator('#filter-failure').selectOption('');
    await page.locator('#groups [data-group="awaitingTrust"]').click();
    await expect.poll(() => page.locator('#lanes .lane').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-state'))), { timeout: 30_000 }).toEqual(['awaitingTrust', 'awaitingTrust', 'awaitingTrust']);
    await page.close();
  });

  it('shows a past state when the slider moves, and answers Home and End', async () => {
    const worker = fleetTaskId(0);
    const { rows } = await api<{ rows: LaneRowJson[] }>(`/lanes?worker=${worker}`);
    const doneAt = rows[0]!.since;
    const { total } = await api<{ total: number }>('/events?limit=1');
    const page = await openRun(false);
    const final = await groupCount(page, 'done');

    // The event before the worker finished: it was still running, and fewer workers were done.
    await page.locator('#slider').evaluate((slider: HTMLInputElement, value) => {
      slider.value = value;
      slider.dispatchEvent(new Event('input', { bubbles: true }));
    }, String(doneAt - 2));
    await page.locator(`#lanes[data-version="${String(doneAt - 1)}"]`).waitFor();
    await page.locator('#filter-worker').fill(worker);
    await expect.poll(() => page.locator(`[data-lane="${worker}"]`).getAttribute('data-state'), { timeout: 30_000 }).toBe('running');
    expect(await groupCount(page, 'done')).toBeLessThan(final);
    expect(await page.locator('#travel-at').textContent()).toContain(`event ${String(doneAt - 1)} of ${String(total)}`);

    await page.locator('#slider').focus();
    await page.keyboard.press('End');
    await page.locator(`#lanes[data-version="${String(total)}"]`).waitFor();
    expect(await page.locator(`[data-lane="${worker}"]`).getAttribute('data-state')).toBe('done');
    await page.keyboard.press('Home');
    await page.locator('#lanes[data-version="1"]').waitFor();
    expect(await page.locator('#travel-at').textContent()).toContain(`event 1 of ${String(total)}`);
    expect(await page.locator('#lanes .lane').count()).toBe(0);
    await page.close();
  });

  it('approves a waiting lane from the page, and live updates move the counts', async () => {
    const page = await openRun(true);
    expect(await groupCount(page, 'awaitingTrust')).toBe(3);
    const decision = page.locator(`.decision[data-worker="${WAITING[0]!}"]`);
    await decision.locator('input.reason').fill('checked in the fleet view');
    await decision.locator('button.approve').click();
    await expect.poll(() => page.locator('#waiting-note').textContent(), { timeout: 30_000 }).toContain(`trust.approved recorded for ${WAITING[0]!}`);
    // No engine runs this run: the approval is the only change, and the page hears of it.
    await expect.poll(() => groupCount(page, 'awaitingTrust'), { timeout: 30_000 }).toBe(2);
    expect(await groupCount(page, 'trusted')).toBe(1);

    // A decision written by another process moves the counts too.
    expect((await overseer(['approve', runId, WAITING[1]!, '--db', target.db], { cwd })).code).toBe(0);
    await expect.poll(() => groupCount(page, 'awaitingTrust'), { timeout: 30_000 }).toBe(1);
    await expect.poll(() => page.locator(`#lanes .lane[data-lane="${WAITING[1]!}"]`).getAttribute('data-state'), { timeout: 30_000 }).toBe('trusted');
    await page.close();
  });
});
