/**
 * `npm run bench`: Overseer against raw Postgres (and bare processes) doing the same work, on each
 * store backend, printed as ratios measured side by side in this one run.
 *
 * The Postgres server is `OVERSEER_BENCH_DATABASE_URL`, else `OVERSEER_TEST_DATABASE_URL`, else
 * postgres://postgres@127.0.0.1:5432/postgres; a fresh database is created on it and dropped at the
 * end. If it cannot be reached the Postgres table is skipped with a note. The PGlite store is a fresh
 * folder under the system temp folder, removed at the end.
 */
import { createRequire } from 'node:module';
import { cpus, platform, release } from 'node:os';
import { dirname, join } from 'node:path';
import { benchAppends, RAW_TABLE_DDL } from './append-bench.js';
import { benchProcessesInChild } from './cli-bench.js';
import { formatTable, ms, perSec, type Row } from './lib/report.js';
import { Cleanup, pgliteTarget, postgresTarget, withClient, type BenchTarget } from './lib/targets.js';
import { SNAPSHOT_EVERY } from '../src/fold/run-snapshot.js';
import { benchRebuild, driveRun, replayRun, tasksForEvents, type RecordedRun } from './rebuild-bench.js';
import { benchReplay } from './replay-bench.js';

const SETTINGS = {
  // On the Postgres server every autocommit INSERT waits for its WAL flush (~2 ms here), on both sides.
  single: { calls: 2000, perCall: 1, rounds: 3 },
  batch: { calls: 30, perCall: 100, rounds: 3 },
  /** The rebuild run: independent tasks, as many as make this many events (about 5 per task). */
  rebuildEvents: 10_000,
  rebuildConcurrency: 8,
  rebuildRounds: 3,
  cliRun: { tasks: 200, concurrency: 8, rounds: 3 },
  startupRounds: 5,
} as const;

const benchStarted = Date.now();
/** Set once a signal or a stray error has started the clean-up: errors after it are expected. */
let stopping = false;

function log(line: string): void {
  process.stderr.write(`bench [${((Date.now() - benchStarted) / 1000).toFixed(0).padStart(3)} s]: ${line}\n`);
}

async function benchBackend(target: BenchTarget, recorded: { run?: RecordedRun }): Promise<{ rows: Row[]; notes: string[] }> {
  const notes: string[] = [];
  const started = Date.now();
  const store = await target.openStore();
  const raw = await target.openRaw();
  await raw.query(RAW_TABLE_DDL);

  log(`${target.name}: single appends`);
  const single = await benchAppends(store, raw, SETTINGS.single);
  log(`${target.name}: batch appends`);
  const batch = await benchAppends(store, raw, SETTINGS.batch);

  let built = recorded.run;
  if (built === undefined) {
    const tasks = await tasksForEvents(store, target.workDir, SETTINGS.rebuildEvents);
    log(`${target.name}: driving the rebuild run (${String(tasks)} tasks through the engine)`);
    built = await driveRun(store, target.workDir, tasks, SETTINGS.rebuildConcurrency);
    recorded.run = built;
    if (built.log.length < SETTINGS.rebuildEvents) throw new Error(`the rebuild run has only ${String(built.log.length)} events`);
    log(`${target.name}: run ${built.runId}: ${String(built.log.length)} events driven in ${String(built.driveMs)} ms; rebuilding`);
    notes.push(
      `rebuild run: ${String(built.tasks)} tasks, ${String(built.log.length)} events, driven through the engine here in ${(built.driveMs / 1000).toFixed(1)} s` +
        ` (${perSec((built.log.length * 1000) / built.driveMs)} events)`,
    );
  } else {
    log(`${target.name}: writing the ${String(built.log.length)} events of run ${built.runId} through the store; rebuilding`);
    await replayRun(store, built);
    notes.push(`rebuild run: the same ${String(built.log.length)}-event log the engine wrote on the first backend, written here through startRun/append`);
  }
  const table = await target.prepareRawEvents(store, raw, built.runId);
  const rebuild = await benchRebuild(store, raw, table, built, SETTINGS.rebuildRounds, { kind: 'full' });
  notes.push(
    `${rebuild.matchesLive ? 'the full fold gives exactly the engine\'s live final state' : 'WARNING: the full fold differs from the engine\'s live final state'};` +
      ` one full rebuild = readStream ${ms(rebuild.readMs)} + fold ~${ms(rebuild.foldMs)} (raw SELECT ${ms(1000 / rebuild.rawPerSec)})`,
  );
  const tail = SNAPSHOT_EVERY / 2;
  const fromSnapshot = await benchRebuild(store, raw, table, built, SETTINGS.rebuildRounds, { kind: 'snapshot', tail });
  notes.push(
    `3b: rebuildRun from a snapshot ${String(tail)} events before the end (the engine snapshots every ${String(SNAPSHOT_EVERY)} events);` +
      ` ${fromSnapshot.matchesLive ? "gives exactly the engine's live final state" : 'WARNING: differs from the live state'}`,
  );

  log(`${target.name}: replay`);
  const replay = await benchReplay(store, raw, table, built, SETTINGS.rebuildRounds);
  notes.push(
    `6: replay steps through every event with what it changed (overseer replay before printing); ${replay.matchesLive ? "its last step is exactly the engine's live final state" : 'WARNING: its last step differs from the live state'};` +
      ` one replay = readStream ${ms(replay.readMs)} + steps ~${ms(replay.stepMs)}`,
  );

  // The CLI must own an embedded store itself, as it does for a user: let go of it first.
  await store.close();
  await raw.close();

  log(`${target.name}: processes`);
  const { run, startup } = await benchProcessesInChild({ db: target.db, workDir: target.workDir, run: SETTINGS.cliRun, startupRounds: SETTINGS.startupRounds });
  log(`${target.name}: done in ${String(Math.round((Date.now() - started) / 1000))} s`);

  const rows: Row[] = [
    {
      id: '1',
      measure: 'single append (1 event/call)',
      overseer: perSec(single.overseerPerSec),
      baseline: perSec(single.rawPerSec),
      ratio: single.ratio,
      direction: 'higher',
      target: 0.5,
    },
    {
      id: '2',
      measure: `batch append (${String(SETTINGS.batch.perCall)} events/call), events`,
      overseer: perSec(batch.overseerPerSec),
      baseline: perSec(batch.rawPerSec),
      ratio: batch.ratio,
      direction: 'higher',
      target: 0.5,
    },
    {
      id: '3',
      measure: `rebuild ${String(rebuild.events)}-event run (full fold), runs`,
      overseer: perSec(rebuild.overseerPerSec),
      baseline: perSec(rebuild.rawPerSec),
      ratio: rebuild.ratio,
      direction: 'higher',
      target: 0.25,
    },
    {
      id: '3b',
      measure: `rebuild via snapshot + ${String(SNAPSHOT_EVERY / 2)}-event tail, runs`,
      overseer: perSec(fromSnapshot.overseerPerSec),
      baseline: perSec(fromSnapshot.rawPerSec),
      ratio: fromSnapshot.ratio,
      direction: 'higher',
      target: 0.25,
    },
    {
      id: '4',
      measure: `${String(run.tasks)} x sleep 0.1, conc. ${String(SETTINGS.cliRun.concurrency)}, tasks`,
      overseer: perSec(run.overseerPerSec),
      baseline: perSec(run.barePerSec),
      ratio: run.ratio,
      direction: 'lower',
      target: 1.3,
    },
    {
      id: '5',
      measure: `start-up: status vs node -e 0`,
      overseer: ms(startup.overseerMs),
      baseline: ms(startup.nodeMs),
      ratio: startup.ratio,
      direction: 'lower',
      target: 5,
      // The target is for the embedded store; against a server it is printed for reference.
      ...(target.name === 'postgres' ? { reference: true } : {}),
    },
    {
      id: '6',
      measure: `replay ${String(replay.events)}-event run step by step, events`,
      overseer: perSec(replay.overseerPerSec),
      baseline: perSec(replay.rawPerSec),
      ratio: replay.ratio,
      direction: 'higher',
      target: 0.25,
    },
  ];
  return { rows, notes };
}

function pgliteVersion(): string {
  try {
    const require = createRequire(import.meta.url);
    const packageJson = join(dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json');
    return (require(packageJson) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

async function serverVersion(adminUrl: string): Promise<string | null> {
  try {
    return await withClient(adminUrl, async (client) => {
      const result = await client.query<{ server_version: string }>('show server_version');
      return result.rows[0]?.server_version ?? 'unknown';
    });
  } catch {
    return null;
  }
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString();
}

async function main(): Promise<number> {
  const adminUrl =
    process.env.OVERSEER_BENCH_DATABASE_URL ?? process.env.OVERSEER_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const cleanup = new Cleanup();
  // Whatever stops the bench early, the databases and folders it made are removed first.
  const stop = (why: string, code: number) => {
    if (stopping) return;
    stopping = true;
    log(`${why}: cleaning up`);
    void cleanup.runAll().finally(() => process.exit(code));
  };
  process.on('SIGINT', () => stop('SIGINT', 130));
  process.on('SIGTERM', () => stop('SIGTERM', 143));
  // Closing stores under a running engine (on a signal) makes it reject in the background: expected
  // then; at any other time it is a failure of the bench, reported and cleaned up after.
  const onStray = (error: unknown) => {
    if (stopping) return;
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    stop('failure', 1);
  };
  process.on('unhandledRejection', onStray);
  process.on('uncaughtException', onStray);

  const server = await serverVersion(adminUrl);
  const cpu = cpus();
  const lines = [
    'Overseer benchmark',
    `date      ${new Date().toISOString()}`,
    `node      ${process.version} on ${platform()} ${release()}, ${String(cpu.length)} x ${cpu[0]?.model.trim() ?? 'cpu'}`,
    `postgres  ${server === null ? `unreachable at ${redact(adminUrl)} (table skipped)` : `${server} at ${redact(adminUrl)} (fresh database per bench)`}`,
    `pglite    ${pgliteVersion()} (fresh folder per bench)`,
    '',
    'Ratios: rows 1-3 and 6 are Overseer throughput / raw throughput (higher is better; >1 means Overseer is faster).',
    '        rows 4-5 are Overseer wall time / bare wall time (lower is better; 1 means no overhead).',
    'Each ratio is the median of per-round ratios over rounds that interleave both sides; figures are medians.',
    `Rounds: single ${String(SETTINGS.single.rounds)} x ${String(SETTINGS.single.calls)} calls; batch ${String(SETTINGS.batch.rounds)} x ${String(SETTINGS.batch.calls)} calls;` +
      ` rebuild ${String(SETTINGS.rebuildRounds)}; CLI run ${String(SETTINGS.cliRun.rounds)}; start-up ${String(SETTINGS.startupRounds)}.`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  let misses = 0;
  try {
    const targets: (() => Promise<BenchTarget>)[] = [];
    // OVERSEER_BENCH_ONLY=pglite|postgres runs one backend (for working on the bench itself).
    const only = process.env.OVERSEER_BENCH_ONLY;
    if (server !== null && only !== 'pglite') targets.push(() => postgresTarget(adminUrl, cleanup));
    if (only !== 'postgres') targets.push(() => pgliteTarget(cleanup));
    const recorded: { run?: RecordedRun } = {};
    for (const makeTarget of targets) {
      const target = await makeTarget();
      const { rows, notes } = await benchBackend(target, recorded);
      misses += rows.filter((row) => row.reference !== true && (row.direction === 'higher' ? row.ratio < row.target : row.ratio > row.target)).length;
      const title = target.name === 'postgres' ? 'Postgres (pg.Pool, one connection on the raw side)' : 'PGlite (embedded; raw side: a second PGlite folder)';
      process.stdout.write(`${formatTable(title, rows)}\n${notes.map((note) => `  note: ${note}\n`).join('')}\n`);
    }
  } finally {
    await cleanup.runAll();
  }
  process.stdout.write(`${misses === 0 ? 'all targets met' : `${String(misses)} target(s) missed`}; bench took ${String(Math.round((Date.now() - benchStarted) / 1000))} s\n`);
  // A missed target is a finding, not a crash: the bench itself succeeded.
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (stopping) return;
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
