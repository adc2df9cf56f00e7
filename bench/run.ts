/**
 * `npm run bench`: Overseer against raw Postgres, bare processes and a peer engine doing the same
 * work, on each store, printed as ratios measured side by side in this one run (see README.md).
 *
 * The Postgres server is `OVERSEER_BENCH_DATABASE_URL`, else `OVERSEER_TEST_DATABASE_URL`, else
 * postgres://postgres@127.0.0.1:5432/postgres; fresh databases are created on it and dropped at the
 * end. If it cannot be reached its table is skipped with a note. The embedded store is a fresh folder
 * under the system temp folder (`--db <folder>`), removed at the end.
 */
import { cpus, platform, release } from 'node:os';
import { benchAppends, RAW_TABLE_DDL } from './append-bench.js';
import { formatTable, misses, ms, per, perSec, type Row } from './lib/report.js';
import { Cleanup, embeddedTarget, newWorkDir, postgresTarget, withClient, type BenchTarget, type RawDb } from './lib/targets.js';
import { SNAPSHOT_EVERY } from '../src/fold/run-snapshot.js';
import type { EventStore } from '../src/store/event-store.js';
import { settledFileCreation, SLOW_FILE_CREATION_US } from './lib/file-creation.js';
import { benchProcessesInChild, type ProcessBenchResult } from './process-bench.js';
import { benchRebuild, driveRun, replayRun, tasksForEvents, type RecordedRun } from './rebuild-bench.js';
import { benchReplay } from './replay-bench.js';
import { benchScale, type ScaleFigures } from './scale-bench.js';
import { benchWorkers, workersRows, WORKERS_SETTINGS } from './workers-bench.js';
import { benchFirstRun, type FirstRunFigures } from './first-run-bench.js';
import { preferredSpawnServer } from '../src/os/fork-server-launcher.js';

const SETTINGS = {
  // On the Postgres server every autocommit INSERT waits for its WAL flush (~2 ms here), on both sides.
  single: { calls: 2000, perCall: 1, rounds: 3 },
  batch: { calls: 30, perCall: 100, rounds: 3 },
  /** The rebuild run: independent tasks, as many as make this many events (about 5 per task). */
  rebuildEvents: 10_000,
  rebuildConcurrency: 8,
  rebuildRounds: 3,
  // Rows 4 and 7 run whole processes on a shared machine, whose speed drifts within minutes (node -e 0
  // went from 40 to 100 ms and back in one session): five rounds each, so one slow round is not the median.
  spawnRun: { tasks: 500, concurrency: 16, rounds: 5 },
  sleepRun: { tasks: 200, concurrency: 8, rounds: 5 },
  startupRounds: 5,
  rssRun: { tasks: 2000, concurrency: 16 },
  scale: { small: 1000, large: 10_000, concurrency: 16, lanes: 8, rounds: 3 },
  rssTargetMiB: 150,
  firstRun: { rounds: 3, targetSeconds: 5 },
} as const;

/**
 * OVERSEER_BENCH_ROWS=3,3b,6 measures and prints only those rows (for working on them); a group of
 * rows that share their work (1-2, 3-3b-6, 4-8, 9-10, 12-13) runs whole when any of its rows is asked for.
 */
const onlyRows = process.env.OVERSEER_BENCH_ROWS?.split(',').map((id) => id.trim()).filter((id) => id !== '');
function wanted(...ids: string[]): boolean {
  return onlyRows === undefined || ids.some((id) => onlyRows.includes(id));
}

const benchStarted = Date.now();
/** Set once a signal or a stray error has started the clean-up: errors after it are expected. */
let stopping = false;

function log(line: string): void {
  process.stderr.write(`bench [${((Date.now() - benchStarted) / 1000).toFixed(0).padStart(3)} s]: ${line}\n`);
}

const NOT_MEASURED = Number.NaN;

/** Rows 1-3b and 6: Overseer's store against raw SQL on the same database. */
async function storeRows(target: BenchTarget, store: EventStore, raw: RawDb | null, recorded: { run?: RecordedRun }, notes: string[]): Promise<Row[]> {
  const unmeasured = (id: string, measure: string, target: number): Row => ({ id, measure, overseer: 'n/a', baseline: 'n/a', ratio: NOT_MEASURED, direction: 'higher', target });
  if (raw === null) {
    notes.push('1-3b, 6: not measured: this store offers no raw SQL connection to compare with (`overseer store status --json` names no server socket)');
    return [
      unmeasured('1', 'single append (1 event/call)', 0.5),
      unmeasured('2', `batch append (${String(SETTINGS.batch.perCall)} events/call), events`, 0.5),
      unmeasured('3', 'rebuild run (full fold), runs', 0.25),
      unmeasured('3b', `rebuild via snapshot + ${String(SNAPSHOT_EVERY / 2)}-event tail, runs`, 0.25),
      unmeasured('6', 'replay run step by step, events', 0.25),
    ];
  }
  const rows: Row[] = [];
  if (wanted('1', '2')) rows.push(...(await appendRows(target, store, raw)));
  if (wanted('3', '3b', '6')) rows.push(...(await foldRows(target, store, raw, recorded, notes)));
  return rows;
}

/** Rows 1-2: appends against raw INSERTs. */
async function appendRows(target: BenchTarget, store: EventStore, raw: RawDb): Promise<Row[]> {
  await raw.query('drop table if exists raw_events');
  await raw.query(RAW_TABLE_DDL);
  log(`${target.name}: single appends`);
  const single = await benchAppends(store, raw, SETTINGS.single);
  log(`${target.name}: batch appends`);
  const batch = await benchAppends(store, raw, SETTINGS.batch);
  return [
    { id: '1', measure: 'single append (1 event/call)', overseer: perSec(single.overseerPerSec), baseline: perSec(single.rawPerSec), ratio: single.ratio, direction: 'higher', target: 0.5 },
    {
      id: '2',
      measure: `batch append (${String(SETTINGS.batch.perCall)} events/call), events`,
      overseer: perSec(batch.overseerPerSec),
      baseline: perSec(batch.rawPerSec),
      ratio: batch.ratio,
      direction: 'higher',
      target: 0.5,
    },
  ];
}

/** Rows 3, 3b and 6: rebuilding and replaying a run the engine drove, against a raw SELECT of its rows. */
async function foldRows(target: BenchTarget, store: EventStore, raw: RawDb, recorded: { run?: RecordedRun }, notes: string[]): Promise<Row[]> {

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
    notes.push(`rebuild run: the same ${String(built.log.length)}-event log the engine wrote on the first store, written here through startRun/append`);
  }
  // Both sides read the store's own table.
  const table = 'events';
  const rebuild = await benchRebuild(store, raw, table, built, SETTINGS.rebuildRounds, { kind: 'full' });
  notes.push(
    `${rebuild.matchesLive ? "the full fold gives exactly the engine's live final state" : "WARNING: the full fold differs from the engine's live final state"};` +
      ` one full rebuild ${ms(1000 / rebuild.overseerPerSec)}: a whole readStream alone takes ${ms(rebuild.readMs)}, the rest ~${ms(rebuild.foldMs)} is the fold (raw SELECT ${ms(1000 / rebuild.rawPerSec)})`,
  );
  const tail = SNAPSHOT_EVERY / 2;
  const fromSnapshot = await benchRebuild(store, raw, table, built, SETTINGS.rebuildRounds, { kind: 'snapshot', tail });
  notes.push(
    `3b: rebuildRun from a snapshot ${String(tail)} events before the end (the engine snapshots every ${String(SNAPSHOT_EVERY)} events, or 4 per task of a larger plan);` +
      ` ${fromSnapshot.matchesLive ? "gives exactly the engine's live final state" : 'WARNING: differs from the live state'}`,
  );
  log(`${target.name}: replay`);
  const replay = await benchReplay(store, raw, table, built, SETTINGS.rebuildRounds);
  notes.push(
    `6: replay steps through every event with what it changed (overseer replay before printing); ${replay.matchesLive ? "its last step is exactly the engine's live final state" : 'WARNING: its last step differs from the live state'};` +
      ` one replay = readStream ${ms(replay.readMs)} + steps ~${ms(replay.stepMs)}`,
  );
  return [
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
      measure: `rebuild via snapshot + ${String(tail)}-event tail, runs`,
      overseer: perSec(fromSnapshot.overseerPerSec),
      baseline: perSec(fromSnapshot.rawPerSec),
      ratio: fromSnapshot.ratio,
      direction: 'higher',
      target: 0.25,
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
}

/** Rows 4, 5, 7, 8: whole processes through the CLI. */
function processRows(target: BenchTarget, result: ProcessBenchResult, notes: string[]): Row[] {
  const { sleepRun, startup, spawnRun, rss } = result;
  const spawnMeasure = `${String(spawnRun.tasks)} x true, conc. ${String(spawnRun.concurrency)}`;
  if (spawnRun.dbosMsPerTask === null) notes.push('7b, 7c: no DBOS side here: DBOS needs a Postgres server beside the store (it runs on the Postgres table)');
  notes.push(`8: peak RSS of the engine (the CLI process) over a ${String(rss.tasks)}-task run of true, which took ${rss.seconds.toFixed(1)} s`);
  const creation = `4, 7: creating a file in the work folder took ${result.fileCreationUs.toFixed(0)} us (the engine creates 3 per task: log, packet and process file; the bare pool none)`;
  notes.push(
    result.fileCreationUs <= SLOW_FILE_CREATION_US
      ? creation
      : `${creation}: SLOW, so rows 4 and 7 read high. Many files were deleted here in the last minutes (ext4 without a journal passes over them for up to 6 minutes); the bench waited up to 6 minutes for it to settle (usually 20-60 us)`,
  );
  return [
    {
      id: '4',
      measure: `${String(sleepRun.tasks)} x sleep 0.1, conc. ${String(SETTINGS.sleepRun.concurrency)}, tasks`,
      overseer: perSec(sleepRun.overseerPerSec),
      baseline: perSec(sleepRun.barePerSec),
      ratio: sleepRun.ratio,
      direction: 'lower',
      target: 1.3,
    },
    {
      id: '5',
      measure: 'start-up: status vs node -e 0',
      overseer: ms(startup.overseerMs),
      baseline: ms(startup.nodeMs),
      ratio: startup.ratio,
      direction: 'lower',
      target: 5,
      // The target is for the embedded store; against a server it is printed for reference.
      ...(target.name === 'postgres' ? { reference: true } : {}),
    },
    {
      id: '7',
      measure: `${spawnMeasure}: engine vs bare pool`,
      overseer: per(spawnRun.engineMsPerTask, 'ms', 'task'),
      baseline: per(spawnRun.bareMsPerTask, 'ms', 'task'),
      ratio: spawnRun.engineVsBare,
      direction: 'lower',
      target: 2,
    },
    {
      id: '7b',
      measure: `${spawnMeasure}: engine vs DBOS Transact`,
      overseer: per(spawnRun.engineMsPerTask, 'ms', 'task'),
      baseline: per(spawnRun.dbosMsPerTask, 'ms', 'task'),
      ratio: spawnRun.engineVsDbos ?? NOT_MEASURED,
      direction: 'lower',
      target: 1,
    },
    {
      id: '7c',
      measure: `${spawnMeasure}: DBOS Transact vs bare pool`,
      overseer: per(spawnRun.dbosMsPerTask, 'ms', 'task'),
      baseline: per(spawnRun.bareMsPerTask, 'ms', 'task'),
      ratio: spawnRun.dbosVsBare ?? NOT_MEASURED,
      direction: 'lower',
      target: null,
    },
    {
      id: '8',
      measure: `peak RSS, ${String(rss.tasks)} x true, conc. ${String(SETTINGS.rssRun.concurrency)}`,
      overseer: `${rss.peakRssMiB.toFixed(0)} MiB`,
      baseline: '-',
      ratio: rss.peakRssMiB,
      direction: 'lower',
      target: SETTINGS.rssTargetMiB,
      unit: 'MiB',
    },
  ];
}

/** Rows 9-10: cost per task and per event at 1,000 and 10,000 tasks (reference: linear is ~1x). */
function scaleRows(scale: ScaleFigures, notes: string[]): Row[] {
  const { small, large } = scale;
  notes.push(
    `9-10: plans of ${String(small.tasks)} and ${String(large.tasks)} tasks in ${String(SETTINGS.scale.lanes)} interleaved chains, run through the engine with workers that exit at once` +
      ` (${String(small.events)} and ${String(large.events)} events), then rebuilt by a full fold;` +
      ` ${small.matchesLive && large.matchesLive ? "both rebuilds give exactly the engine's live final state" : 'WARNING: a rebuild differs from the live state'}`,
  );
  return [
    {
      id: '9',
      measure: `run: ${String(large.tasks)} vs ${String(small.tasks)} tasks, per task`,
      overseer: per(large.runMsPerTask, 'ms', 'task'),
      baseline: per(small.runMsPerTask, 'ms', 'task'),
      ratio: scale.runRatio,
      direction: 'lower',
      target: null,
    },
    {
      id: '10',
      measure: `rebuild: ${String(large.events)} vs ${String(small.events)} events, per event`,
      overseer: per(large.rebuildUsPerEvent, 'us', 'event'),
      baseline: per(small.rebuildUsPerEvent, 'us', 'event'),
      ratio: scale.rebuildRatio,
      direction: 'lower',
      target: null,
    },
  ];
}

/** Row 11: an absolute target in seconds, like row 8's MiB. */
function firstRunRow(firstRun: FirstRunFigures, notes: string[]): Row {
  notes.push(
    `11: \`overseer run --plan examples/hello.yaml --auto-approve\`, no --db, in a new folder with a new HOME (no store template cached), spawn to exit;` +
      ` rounds: ${firstRun.all.map((seconds) => `${seconds.toFixed(2)} s`).join(', ')}`,
  );
  return {
    id: '11',
    measure: 'first run of examples/hello.yaml, new HOME and folder',
    overseer: `${firstRun.seconds.toFixed(2)} s`,
    baseline: '-',
    ratio: firstRun.seconds,
    direction: 'lower',
    target: SETTINGS.firstRun.targetSeconds,
    unit: 's',
  };
}

async function benchTarget(target: BenchTarget, shared: { run?: RecordedRun; scaled: boolean }): Promise<{ rows: Row[]; notes: string[] }> {
  const notes: string[] = [];
  const started = Date.now();
  const store = await target.openStore();
  const raw = await target.openRaw();
  const rows = await storeRows(target, store, raw, shared, notes);
  // Scale is the engine's own cost: measured once, on the first store.
  if (!shared.scaled && wanted('9', '10')) {
    shared.scaled = true;
    rows.push(...scaleRows(await benchScale(store, target.workDir, SETTINGS.scale, (line) => log(`${target.name}: ${line}`)), notes));
  }
  // The CLI opens the store itself, as it does for a user: let go of ours first.
  await store.close();
  await raw?.close();

  if (wanted('4', '5', '7', '7b', '7c', '8')) {
    log(`${target.name}: processes`);
    const result = await benchProcessesInChild({
      db: target.db,
      workDir: target.workDir,
      sleepRun: SETTINGS.sleepRun,
      startupRounds: SETTINGS.startupRounds,
      spawnRun: { ...SETTINGS.spawnRun, dbosUrl: await target.peerDatabaseUrl() },
      rssRun: SETTINGS.rssRun,
    });
    rows.push(...processRows(target, result, notes));
  }
  // The first run uses the default store, which is the embedded one: its row belongs to that table.
  if (target.name === 'embedded' && wanted('11')) {
    log(`first run of examples/hello.yaml with a new HOME and folder (${String(SETTINGS.firstRun.rounds)} rounds)`);
    rows.push(firstRunRow(await benchFirstRun(SETTINGS.firstRun.rounds), notes));
  }
  const shown = rows.filter((row) => wanted(row.id));
  shown.sort((a, b) => Number.parseInt(a.id, 10) - Number.parseInt(b.id, 10) || a.id.localeCompare(b.id));
  log(`${target.name}: done in ${String(Math.round((Date.now() - started) / 1000))} s`);
  return { rows: shown, notes };
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

/** Which spawn server the engines here start their workers through (fork-server-launcher.ts). */
function spawnServerInUse(): string {
  const name = preferredSpawnServer().name;
  if (name === 'native') return 'the native spawn server (posix_spawn; dist/native/spawn-server)';
  return name === 'perl' ? 'the Perl spawn server (no native one was built: no C compiler at build time)' : 'the Node spawn server (no native one built, no perl)';
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
    `postgres  ${server === null ? `unreachable at ${redact(adminUrl)} (table skipped)` : `${server} at ${redact(adminUrl)} (fresh databases per bench)`}`,
    'embedded  the store `--db <folder>` opens (a fresh folder per bench)',
    `spawns    ${spawnServerInUse()}`,
    '',
    'Ratios: rows 1-3b and 6 are Overseer throughput / raw throughput (higher is better; >1 means Overseer is faster).',
    '        rows 4-5 and 7 are Overseer wall time / the other side\'s (lower is better; 1 means no overhead).',
    '        row 8 is the engine\'s peak RSS; rows 9-10 compare cost per unit at two sizes (1 means linear).',
    '        row 11 is the wall time of a first run on a machine that never ran Overseer, in seconds.',
    'Each ratio is the median of per-round ratios over rounds that interleave the sides; figures are medians.',
    'Rows without a target are for reference: printed, never judged.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  let missed = 0;
  try {
    if (wanted('4', '5', '7', '7b', '7c', '8')) {
      const settled = await settledFileCreation(await newWorkDir(cleanup, 'overseer-bench-files-'), log);
      const waited = settled.waitedMs < 1000 ? '' : ` after waiting ${String(Math.round(settled.waitedMs / 1000))} s for the filesystem to settle`;
      process.stdout.write(`files     creating a file takes ${settled.us.toFixed(0)} us here${waited} (rows 4 and 7: see bench/lib/file-creation.ts)\n\n`);
    }
    const targets: (() => Promise<BenchTarget>)[] = [];
    // OVERSEER_BENCH_ONLY=embedded|postgres runs one store (for working on the bench itself).
    const only = process.env.OVERSEER_BENCH_ONLY;
    if (server !== null && only !== 'embedded') targets.push(() => postgresTarget(adminUrl, cleanup));
    if (only !== 'postgres') targets.push(() => embeddedTarget(cleanup));
    const shared: { run?: RecordedRun; scaled: boolean } = { scaled: false };
    for (const makeTarget of targets) {
      const target = await makeTarget();
      const { rows, notes } = await benchTarget(target, shared);
      missed += rows.filter(misses).length;
      const title = target.name === 'postgres' ? 'Postgres server (raw side: pg.Pool, one connection)' : 'Embedded store (--db <folder>)';
      process.stdout.write(`${formatTable(title, rows)}\n${notes.map((note) => `  note: ${note}\n`).join('')}\n`);
    }
    // Rows 12-13 need real `overseer worker` processes on a server: a table of their own, reference only.
    if (server !== null && only !== 'embedded' && wanted('12-2', '12-4', '13')) {
      const figures = await benchWorkers(adminUrl, WORKERS_SETTINGS, (line) => log(`workers: ${line}`));
      process.stdout.write(`${formatTable('Workers on one Postgres server (reference rows)', workersRows(figures, WORKERS_SETTINGS))}\n\n`);
    }
  } finally {
    await cleanup.runAll();
  }
  process.stdout.write(`${missed === 0 ? 'all targets met' : `${String(missed)} target(s) missed`}; bench took ${String(Math.round((Date.now() - benchStarted) / 1000))} s\n`);
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
