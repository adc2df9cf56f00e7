/**
 * Rows 12-13, for reference (docs/scaling.md): many `overseer worker`s on one Postgres.
 *
 * - 12: short-task throughput with 1, 2 and 4 workers: K workers listen, then N one-task runs (`true`,
 *   auto-approved) are submitted at once; timed from the first submission to the last run completed.
 *   On a 2-core machine more workers add engines, not cores: the ratios say what sharing costs.
 * - 13: from a worker's death to the takeover of its run: a worker holding a run that waits at a trust
 *   gate is killed -9; timed until another worker has claimed it (the run's epoch moved). Bounded by
 *   the lease (2s here) plus the claim: what remains of the dead worker's last lease.
 *
 * Alone: `npm run build && node dist/bench/workers-bench.js` (server from OVERSEER_BENCH_DATABASE_URL,
 * else OVERSEER_TEST_DATABASE_URL, else the local one).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { systemClock } from '../src/engine/clock.js';
import { submitRun } from '../src/engine/start-run.js';
import { planFromObjective } from '../src/planning/single-packet-plan.js';
import { openStore } from '../src/store/open-store.js';
import type { EventStore } from '../src/store/event-store.js';
import { parseDuration } from '../src/os/duration.js';
import { median } from './lib/measure.js';
import { OVERSEER_BIN } from './lib/overseer-bin.js';
import { formatTable, ms, perSec, type Row } from './lib/report.js';
import { Cleanup, createDatabase, newWorkDir } from './lib/targets.js';

export interface WorkersSettings {
  runs: number;
  workerCounts: readonly number[];
  takeoverRounds: number;
  lease: string;
}

export interface WorkersFigures {
  /** Runs per second by number of workers. */
  throughput: { workers: number; runsPerSec: number }[];
  /** Milliseconds from the kill to the takeover, one per round. */
  takeoverMs: number[];
  leaseMs: number;
}

export const WORKERS_SETTINGS: WorkersSettings = { runs: 60, workerCounts: [1, 2, 4], takeoverRounds: 3, lease: '2s' };

interface Worker {
  child: ChildProcess;
  stderr: () => string;
}

function startWorker(url: string, cwd: string, lease: string): Worker {
  const child = spawn(process.execPath, [OVERSEER_BIN, 'worker', '--db', url, '--lease', lease], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let text = '';
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { child, stderr: () => text };
}

async function until<T>(check: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 120_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`workers bench: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

async function stopAll(workers: readonly Worker[]): Promise<void> {
  await Promise.all(
    workers.map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (worker.child.exitCode !== null || worker.child.signalCode !== null) return resolve();
          worker.child.once('exit', () => resolve());
          worker.child.kill('SIGTERM');
        }),
    ),
  );
}

async function submitShortRuns(store: EventStore, cwd: string, count: number, autoApprove: boolean): Promise<string[]> {
  const made = planFromObjective('bench', 'true');
  if (!made.ok) throw new Error('workers bench: the one-packet plan did not build');
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    ids.push(await submitRun({ store, clock: systemClock }, { objective: `short ${String(i)}`, cwd, concurrency: 1, packets: made.plan.packets, autoApprove, workerCommand: 'true' }));
  }
  return ids;
}

async function throughput(url: string, store: EventStore, client: pg.Client, cwd: string, workers: number, settings: WorkersSettings): Promise<number> {
  const pool = Array.from({ length: workers }, () => startWorker(url, cwd, settings.lease));
  try {
    await until(() => (pool.every((w) => w.stderr().includes('waiting for runs')) ? true : undefined), 'workers listening');
    const started = performance.now();
    const ids = await submitShortRuns(store, cwd, settings.runs, true);
    await until(async () => {
      const { rows } = await client.query<{ left: string }>("select count(*)::text as left from runs where run_id = any($1) and status <> 'completed'", [ids]);
      return rows[0]?.left === '0' ? true : undefined;
    }, `${String(settings.runs)} runs completed`);
    return (settings.runs * 1000) / (performance.now() - started);
  } finally {
    await stopAll(pool);
  }
}

async function takeover(url: string, store: EventStore, client: pg.Client, cwd: string, settings: WorkersSettings): Promise<number> {
  const first = startWorker(url, cwd, settings.lease);
  const second: Worker[] = [];
  try {
    const [runId] = await submitShortRuns(store, cwd, 1, false);
    if (runId === undefined) throw new Error('workers bench: no run');
    await until(async () => {
      const { rows } = await client.query<{ status: string; owner: string | null }>('select status, owner_id as owner from runs where run_id = $1', [runId]);
      return rows[0]?.status === 'waiting' && rows[0].owner !== null ? true : undefined;
    }, 'the run waiting at its trust gate');
    second.push(startWorker(url, cwd, settings.lease));
    await until(() => (second[0]?.stderr().includes('waiting for runs') === true ? true : undefined), 'the second worker listening');
    const killedAt = performance.now();
    first.child.kill('SIGKILL');
    await until(async () => {
      const { rows } = await client.query<{ epoch: string }>('select owner_epoch::text as epoch from runs where run_id = $1', [runId]);
      return rows[0]?.epoch === '2' ? true : undefined;
    }, 'the takeover', 60_000, 5);
    return performance.now() - killedAt;
  } finally {
    await stopAll([first, ...second]);
  }
}

export async function benchWorkers(adminUrl: string, settings: WorkersSettings, log: (line: string) => void): Promise<WorkersFigures> {
  const cleanup = new Cleanup();
  try {
    const url = await createDatabase(adminUrl, `overseer_bench_workers_${randomBytes(4).toString('hex')}`, cleanup);
    const cwd = await newWorkDir(cleanup, 'overseer-bench-workers-');
    const store = await openStore(url);
    cleanup.add('close the store', () => store.close());
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    cleanup.add('close the raw client', () => client.end());
    const figures: WorkersFigures = { throughput: [], takeoverMs: [], leaseMs: parseDuration(settings.lease) ?? Number.NaN };
    for (const workers of settings.workerCounts) {
      const runsPerSec = await throughput(url, store, client, cwd, workers, settings);
      log(`workers: ${String(workers)} worker(s): ${runsPerSec.toFixed(2)} runs/s`);
      figures.throughput.push({ workers, runsPerSec });
    }
    for (let round = 0; round < settings.takeoverRounds; round++) {
      const took = await takeover(url, store, client, cwd, settings);
      log(`workers: takeover round ${String(round + 1)}: ${took.toFixed(0)} ms`);
      figures.takeoverMs.push(took);
    }
    return figures;
  } finally {
    await cleanup.runAll();
  }
}

export function workersRows(figures: WorkersFigures, settings: WorkersSettings): Row[] {
  const one = figures.throughput.find((t) => t.workers === 1)?.runsPerSec ?? Number.NaN;
  const rows: Row[] = figures.throughput
    .filter((t) => t.workers !== 1)
    .map((t) => ({
      id: `12-${String(t.workers)}`,
      measure: `${String(settings.runs)} one-task runs, ${String(t.workers)} workers vs 1`,
      overseer: perSec(t.runsPerSec),
      baseline: perSec(one),
      ratio: t.runsPerSec / one,
      direction: 'higher' as const,
      target: null,
    }));
  rows.push({
    id: '13',
    measure: `kill -9 of a worker to takeover (lease ${settings.lease}), median of ${String(figures.takeoverMs.length)}`,
    overseer: ms(median(figures.takeoverMs)),
    baseline: ms(figures.leaseMs),
    ratio: median(figures.takeoverMs) / figures.leaseMs,
    direction: 'lower',
    target: null,
  });
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const adminUrl = process.env.OVERSEER_BENCH_DATABASE_URL ?? process.env.OVERSEER_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const figures = await benchWorkers(adminUrl, WORKERS_SETTINGS, (line) => process.stderr.write(`${line}\n`));
  process.stdout.write(`${formatTable('workers on one Postgres (reference rows)', workersRows(figures, WORKERS_SETTINGS))}\n`);
}
