/**
 * `npm run bench:viewer`: the run page of a 10,000-task run in Debian's Chromium (playwright-core,
 * /usr/bin/chromium), against the targets of issue 15. The run is driven by the real engine with
 * workers that exit at once (three wait at their trust gates, two fail: bench/lib/fleet-run.ts) on a
 * fresh database of the Postgres server (`OVERSEER_BENCH_DATABASE_URL`, else
 * `OVERSEER_TEST_DATABASE_URL`, else postgres://postgres@127.0.0.1:5432/postgres), or a fresh embedded
 * store with `OVERSEER_BENCH_ONLY=embedded`; `overseer serve` runs as a user starts it.
 *
 * Printed, never asserted: times on a shared 2-core machine move with its load. Times are read in the
 * page (performance.now, from navigation start or from the slider's input event to the lane rows of
 * that moment in the DOM).
 */
import { spawn } from 'node:child_process';
import { chromium, type Page } from 'playwright-core';
import { OVERSEER_BIN } from './lib/overseer-bin.js';
import { median } from './lib/measure.js';
import { Cleanup, embeddedTarget, postgresTarget } from './lib/targets.js';
import { driveFleetRun, fleetTaskId } from './lib/fleet-run.js';

const TASKS = Number(process.env.OVERSEER_BENCH_VIEWER_TASKS ?? 10_000);
const OPENS = 5;
const MOVES = 8;
const CHROMIUM = '/usr/bin/chromium';

interface Figure {
  measure: string;
  value: number;
  unit: 'ms' | 'KB' | 'elements';
  /** Null: printed for reference. */
  target: number | null;
}

function log(line: string): void {
  process.stderr.write(`bench:viewer: ${line}\n`);
}

function serve(db: string, cwd: string, cleanup: Cleanup): Promise<string> {
  const child = spawn(process.execPath, [OVERSEER_BIN, 'serve', '--port', '0', '--db', db], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  cleanup.add('stop overseer serve', () => {
    if (child.exitCode !== null) return Promise.resolve();
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    return exited;
  });
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      const url = /serving (http:\/\/\S+) —/.exec(stderr)?.[1];
      if (url !== undefined) resolve(url);
    });
    child.on('exit', (code) => reject(new Error(`overseer serve exited ${String(code)}: ${stderr}`)));
  });
}

/** Opens the run page; ms from navigation start until the lane rows are in the DOM. */
async function openRun(page: Page, url: string): Promise<number> {
  await page.goto(url);
  await page.waitForFunction(() => document.querySelector('#lanes[data-version]') !== null, undefined, { polling: 'raf', timeout: 120_000 });
  return page.evaluate(() => performance.now());
}

/** Moves the slider to `index`; ms from its input event until the lane rows of that moment are in the DOM. */
function moveSlider(page: Page, index: number): Promise<number> {
  return page.evaluate(
    (value) =>
      new Promise<number>((resolve) => {
        const lanes = document.getElementById('lanes')!;
        const slider = document.getElementById('slider') as HTMLInputElement;
        const wanted = String(value + 1);
        const started = performance.now();
        const observer = new MutationObserver(() => {
          if (lanes.dataset.version !== wanted) return;
          observer.disconnect();
          resolve(performance.now() - started);
        });
        observer.observe(lanes, { attributes: true, attributeFilter: ['data-version'] });
        slider.value = String(value);
        slider.dispatchEvent(new Event('input', { bubbles: true }));
      }),
    index,
  );
}

const elements = (page: Page) => page.evaluate(() => document.getElementsByTagName('*').length);

async function bytes(url: string): Promise<{ kb: number; ms: number }> {
  const started = performance.now();
  const body = await (await fetch(url)).arrayBuffer();
  return { kb: body.byteLength / 1024, ms: performance.now() - started };
}

function verdict(figure: Figure): string {
  if (figure.target === null) return '(ref)';
  return figure.value <= figure.target ? 'PASS' : 'MISS';
}

function table(figures: readonly Figure[]): string {
  const show = (value: number, unit: Figure['unit']) => `${unit === 'KB' ? value.toFixed(1) : Math.round(value).toLocaleString('en-US')} ${unit}`;
  const rows = figures.map((f) => [f.measure, show(f.value, f.unit), f.target === null ? '-' : `<= ${show(f.target, f.unit)}`, verdict(f)]);
  const header = ['measure', 'figure', 'target', 'result'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const cleanup = new Cleanup();
  const stop = (signal: string, code: number) => {
    log(`${signal}: cleaning up`);
    void cleanup.runAll().finally(() => process.exit(code));
  };
  process.on('SIGINT', () => stop('SIGINT', 130));
  process.on('SIGTERM', () => stop('SIGTERM', 143));
  try {
    const adminUrl = process.env.OVERSEER_BENCH_DATABASE_URL ?? process.env.OVERSEER_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
    const target = process.env.OVERSEER_BENCH_ONLY === 'embedded' ? await embeddedTarget(cleanup) : await postgresTarget(adminUrl, cleanup);
    log(`driving a ${String(TASKS)}-task run through the engine on the ${target.name} store`);
    const store = await target.openStore();
    const waiting = [fleetTaskId(17), fleetTaskId(Math.floor(TASKS / 2)), fleetTaskId(TASKS - 5)];
    const fleet = await driveFleetRun(store, target.workDir, { tasks: TASKS, concurrency: 16, waiting, failing: [fleetTaskId(3), fleetTaskId(TASKS - 100)] });
    await store.close();
    log(`run ${fleet.runId}: ${String(fleet.log.length)} events in ${(fleet.driveMs / 1000).toFixed(1)} s; serving it`);
    const url = await serve(target.db, target.workDir, cleanup);
    const runUrl = new URL(`/runs/${fleet.runId}`, url).toString();
    const apiUrl = new URL(`/api/runs/${fleet.runId}`, url).toString();

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
    cleanup.add('close chromium', () => browser.close());
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });

    log('first open (serve indexes the run)');
    const firstOpen = await openRun(page, runUrl);
    await page.locator('#diagram-worker svg').waitFor({ timeout: 120_000 });
    log(`${String(OPENS)} more opens`);
    const opens: number[] = [];
    let mostElements = await elements(page);
    for (let i = 0; i < OPENS; i += 1) {
      opens.push(await openRun(page, runUrl));
      await page.locator('#diagram-worker svg').waitFor({ timeout: 120_000 });
      mostElements = Math.max(mostElements, await elements(page));
    }

    log(`${String(MOVES)} slider moves`);
    const moves: number[] = [];
    for (let i = 0; i < MOVES; i += 1) {
      // Spread over the run, never twice the same place; the diagrams redraw after each, then it rests.
      const index = Math.floor(((i + 0.5) / MOVES) * (fleet.log.length - 1));
      moves.push(await moveSlider(page, index));
      await page.waitForTimeout(1500);
      mostElements = Math.max(mostElements, await elements(page));
    }

    const run = await bytes(apiUrl);
    const fold = await bytes(`${apiUrl}/fold?version=${String(Math.floor(fleet.log.length / 3))}`);
    const events = await bytes(`${apiUrl}/events?from=1&limit=200`);
    const figures: Figure[] = [
      { measure: `page shows, ${TASKS.toLocaleString('en-US')}-task run (median of ${String(OPENS)} opens)`, value: median(opens), unit: 'ms', target: 1000 },
      // What a new user sees: the first open after `serve` starts reads the run's log into its index.
      { measure: 'page shows, first open after serve starts', value: firstOpen, unit: 'ms', target: 1000 },
      { measure: `slider move shows (median of ${String(MOVES)})`, value: median(moves), unit: 'ms', target: 200 },
      { measure: `slider move shows (slowest of ${String(MOVES)})`, value: Math.max(...moves), unit: 'ms', target: null },
      { measure: 'DOM elements (most seen)', value: mostElements, unit: 'elements', target: 5000 },
      { measure: 'run endpoint answer', value: run.kb, unit: 'KB', target: 100 },
      { measure: 'run endpoint time (indexed)', value: run.ms, unit: 'ms', target: null },
      { measure: 'fold (slider) answer', value: fold.kb, unit: 'KB', target: null },
      { measure: 'events page of 200 (previews)', value: events.kb, unit: 'KB', target: null },
    ];
    process.stdout.write(`\nViewer at fleet scale: ${fleet.log.length.toLocaleString('en-US')} events, ${target.name} store, Chromium ${browser.version()}\n\n${table(figures)}\n`);
    process.stdout.write(`\nopens: ${opens.map((v) => v.toFixed(0)).join(', ')} ms; moves: ${moves.map((v) => v.toFixed(0)).join(', ')} ms\n`);
  } finally {
    await cleanup.runAll();
  }
}

await main();
