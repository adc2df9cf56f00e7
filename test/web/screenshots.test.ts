/**
 * The viewer's pictures in docs/, taken from real runs in Debian's Chromium. Skipped unless asked:
 *
 *   npm run build && OVERSEER_SCREENSHOTS=1 npx vitest run test/web/screenshots.test.ts
 *
 * Writes docs/viewer-runs.png (the runs list), docs/viewer-run.png (a run waiting for approval after a
 * retry and green gates), docs/viewer-time-travel.png (the same run with the slider back at the retry)
 * docs/diagram.png (its machines, states marked, transitions counted) and docs/viewer-fleet.png (a run
 * of 2,000 workers: lanes grouped and counted by state, waiting and failed first).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { testBackends } from '../support/backends.js';
import { eventually, overseer, overseerProcess } from '../support/cli.js';
import { launchChromium, startServe } from '../support/viewer.js';
import { driveFleetRun, fleetTaskId } from '../../bench/lib/fleet-run.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOCS = join(ROOT, 'docs');
const EXAMPLES = join(ROOT, 'examples');
const embedded = testBackends().find((b) => b.name === 'embedded');

describe.runIf(process.env.OVERSEER_SCREENSHOTS === '1' && embedded !== undefined)('screenshots', () => {
  it('takes the viewer screenshots in docs/', { timeout: 300_000 }, async () => {
    const target = await embedded!.newTarget();
    const cwd = await mkdtemp(join(tmpdir(), 'overseer-shots-'));
    const viewer = await startServe(target.db, cwd);
    const browser = await launchChromium();
    const cli = (args: string[]) => overseer([...args, '--db', target.db], { cwd });
    const background = (args: string[]) => overseerProcess([...args, '--db', target.db], { cwd });
    const started = async (run: ReturnType<typeof background>) => eventually(() => /run (\w+) started/.exec(run.output().stderr)?.[1], 20_000, 'a run to start');
    try {
      const lint = join(cwd, 'lint.json');
      await writeFile(
        lint,
        JSON.stringify({
          objective: 'Lint the workspace before the release',
          packets: [{ id: 'lint', objective: 'Run the linter', command: 'echo "src/index.ts:3 unused variable" >&2; exit 1', trusted: true, recovery: { exit_nonzero: { max_attempts: 1 } } }],
        }),
      );
      const nightly = join(cwd, 'nightly.json');
      await writeFile(
        nightly,
        JSON.stringify({
          objective: 'Nightly data refresh',
          packets: [
            { id: 'extract', objective: 'Pull the day’s records', command: 'sleep 0.3', trusted: true },
            { id: 'transform', objective: 'Normalise them', dependsOn: ['extract'], command: 'while [ ! -e "release-$OVERSEER_RUN_ID" ]; do sleep 0.1; done', trusted: true },
          ],
        }),
      );
      expect((await cli(['run', '--plan', join(EXAMPLES, 'hello.yaml'), '--auto-approve'])).code).toBe(0);
      expect((await cli(['run', '--plan', join(EXAMPLES, 'diamond.json'), '--auto-approve'])).code).toBe(0);
      expect((await cli(['run', '--plan', lint])).code).toBe(1);
      const nightlyRun = background(['run', '--plan', nightly]);
      const nightlyId = await started(nightlyRun);
      const guardedRun = background(['run', '--plan', join(EXAMPLES, 'guarded.yaml')]);
      const guardedId = await started(guardedRun);
      await eventually(() => (guardedRun.output().stderr.includes('waiting for approval') ? true : undefined), 20_000, 'the trust gate');

      const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
      await page.goto(new URL(`/#token=${viewer.token}`, viewer.url).toString());
      await page.locator(`tr[data-run="${guardedId}"]`).waitFor();
      await page.locator('main').screenshot({ path: join(DOCS, 'viewer-runs.png') });

      await page.setViewportSize({ width: 1280, height: 900 });
      await page.goto(new URL(`/runs/${guardedId}`, viewer.url).toString());
      await page.locator('.decision[data-worker="publish"] button.approve:enabled').waitFor();
      await page.locator('#diagram-worker svg').waitFor();
      await page.waitForTimeout(300);
      await page.screenshot({ path: join(DOCS, 'viewer-run.png'), fullPage: true });
      // The time-travel bar stays on top while scrolling; an element screenshot scrolls, so unstick it.
      await page.addStyleTag({ content: '.travel { position: static; }' });
      await page.locator('#diagrams').screenshot({ path: join(DOCS, 'diagram.png') });

      // Back to the moment `fetch` was retrying.
      const { events } = (await (await fetch(new URL(`/api/runs/${guardedId}/events?limit=500`, viewer.url))).json()) as { events: Array<{ workerId: string | null; stateAfter: string }> };
      const retrying = events.findIndex((e) => e.workerId === 'fetch' && e.stateAfter === 'retrying');
      await page.locator('#slider').evaluate((slider: HTMLInputElement, value) => {
        slider.value = value;
        slider.dispatchEvent(new Event('input', { bubbles: true }));
      }, String(retrying));
      await page.locator(`#lanes[data-version="${String(retrying + 1)}"] [data-lane="fetch"][data-state="retrying"]`).waitFor();
      await page.waitForTimeout(500);
      await page.evaluate(() => window.scrollTo(0, 0));
      const top = await page.locator('.travel').boundingBox();
      const bottom = await page.locator('#lanes-card').boundingBox();
      if (top === null || bottom === null) throw new Error('the run page has no time-travel or diagram section');
      await page.screenshot({ path: join(DOCS, 'viewer-time-travel.png'), fullPage: true, clip: { x: 0, y: top.y - 12, width: 1280, height: bottom.y + bottom.height - top.y + 24 } });

      // A fleet: 2,000 workers, three waiting at their trust gates, two failed.
      const store = await target.open();
      const fleet = await driveFleetRun(store, cwd, { tasks: 2000, concurrency: 16, waiting: [fleetTaskId(17), fleetTaskId(1000), fleetTaskId(1995)], failing: [fleetTaskId(3), fleetTaskId(1900)] });
      await store.close();
      await page.goto(new URL(`/runs/${fleet.runId}`, viewer.url).toString());
      await page.locator('#lanes[data-version]').waitFor();
      await page.locator('#diagram-worker svg').waitFor();
      await page.waitForTimeout(300);
      await page.evaluate(() => window.scrollTo(0, 0));
      const lanesCard = await page.locator('#lanes-card').boundingBox();
      if (lanesCard === null) throw new Error('the run page has no lanes');
      await page.screenshot({ path: join(DOCS, 'viewer-fleet.png'), fullPage: true, clip: { x: 0, y: 0, width: 1280, height: lanesCard.y + lanesCard.height + 12 } });

      expect((await cli(['approve', guardedId, 'publish'])).code).toBe(0);
      await writeFile(join(cwd, `release-${nightlyId}`), '');
      expect((await guardedRun.done).code).toBe(0);
      expect((await nightlyRun.done).code).toBe(0);
    } finally {
      await browser.close();
      await viewer.stop();
      await target.dispose();
      await rm(cwd, { recursive: true, force: true });
    }
  });
});
