/**
 * Rebuild: `rebuildRun` (read the stream through the store, then fold every event through the
 * machines) of a real run of at least 10,000 events, against a raw
 * `SELECT * FROM events WHERE stream_id = $1 ORDER BY version` of the same rows.
 *
 * The run is made by the real engine (`startRun`) with a worker driver whose processes exit 0 at once,
 * so the log is exactly what a live run of that plan writes (run.started, plan.ready,
 * bootstrap.completed, then per task worker.spawned, trust.decided, process.started, process.exited,
 * task.finished …, then the run's end). Driving 10,000 events through the engine takes about half a
 * minute here, so it is done once, on the first backend; the other backend gets the same log written
 * through its store's `startRun`/`append` (see `replayRun`), and both rebuilds are checked against the
 * engine's live final state.
 */
import { mkdir } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import { join } from 'node:path';
import { defaultTrustResolver } from '../src/gates/trust-resolver.js';
import { systemClock } from '../src/engine/clock.js';
import { foldEvents, foldStream, rebuildRun } from '../src/fold/rebuild-run.js';
import { saveRunSnapshot } from '../src/fold/run-snapshot.js';
import { persistRunState } from '../src/fold/run-state.js';
import { deriveRunStatus } from '../src/fold/run-status.js';
import { startRun } from '../src/engine/start-run.js';
import type { EventStore, NewEvent, NewRun } from '../src/store/event-store.js';
import { interleave, median, medianRatio, msPerCall } from './lib/measure.js';
import { instantWorkerDriver } from './lib/instant-worker-driver.js';
import type { RawDb } from './lib/targets.js';

/** A run the real engine drove, with its whole log, so it can be written again into another store. */
export interface RecordedRun {
  runId: string;
  tasks: number;
  /** How long the engine took to drive it (writing every event to the store it ran on). */
  driveMs: number;
  /** persistRunState of the engine's final state, to check every rebuild against. */
  live: unknown;
  run: NewRun;
  log: NewEvent[];
}

/** Packets of `true`; with `lanes`, each depends on the one `lanes` places before it (that many chains, interleaved). */
export function benchPackets(tasks: number, lanes?: number): { id: string; objective: string; command: string; dependsOn: string[] }[] {
  const id = (index: number) => `task-${String(index + 1)}`;
  return Array.from({ length: tasks }, (_, index) => ({
    id: id(index),
    objective: `bench task ${String(index + 1)}`,
    command: 'true',
    dependsOn: lanes !== undefined && index >= lanes ? [id(index - lanes)] : [],
  }));
}

/** Runs `tasks` packets (`benchPackets`) through the real engine on `store`, and reads its log back. */
export async function driveRun(store: EventStore, workDir: string, tasks: number, concurrency: number, lanes?: number): Promise<RecordedRun> {
  const runsDir = join(workDir, 'runs');
  await mkdir(runsDir, { recursive: true });
  const packets = benchPackets(tasks, lanes);
  const started = Date.now();
  const engine = await startRun(
    { store, clock: systemClock, driver: instantWorkerDriver(), trust: defaultTrustResolver, random: Math.random },
    { objective: 'rebuild bench', cwd: workDir, runsDir, concurrency, packets, autoApprove: true, workerCommand: null },
  );
  // The engine stops its own timers when the run finishes.
  const final = await engine.finished;
  const driveMs = Date.now() - started;
  const status = deriveRunStatus(final);
  if (status !== 'completed') throw new Error(`the rebuild bench run ended ${status}, not completed`);
  const row = await store.getRun(engine.runId);
  if (row === undefined) throw new Error(`run ${engine.runId} has no runs row`);
  const stored = await store.readStream(engine.runId);
  const log = stored.map(({ type, payload, machine, workerId, stateAfter, createdAt }) => ({ type, payload, machine, workerId, stateAfter, createdAt }));
  const run: NewRun = { runId: row.runId, objective: row.objective, cwd: row.cwd, machineVersion: row.machineVersion, status: 'running' };
  return { runId: engine.runId, tasks, driveMs, live: persistRunState(final), run, log };
}

/**
 * Writes a recorded run's log, event for event (same types, payloads, states and times), into
 * another store through its public API: `startRun` with run.started, then appends of 500 events.
 * The store numbers and hash-chains them itself, as it did for the engine.
 */
export async function replayRun(store: EventStore, recorded: RecordedRun): Promise<void> {
  const [first, ...rest] = recorded.log;
  if (first === undefined) throw new Error('the recorded run has no events');
  let version = (await store.startRun(recorded.run, [first])).nextVersion;
  for (let offset = 0; offset < rest.length; offset += 500) {
    const chunk = rest.slice(offset, offset + 500);
    const last = offset + 500 >= rest.length;
    version = (await store.append(recorded.runId, version, chunk, last ? { runStatus: 'completed' } : {})).nextVersion;
  }
}

/**
 * How many independent tasks make a run of at least `events` events: measured on two small runs
 * (events per task, and the run's own events), so the figure follows the engine as it changes.
 */
export async function tasksForEvents(store: EventStore, workDir: string, events: number): Promise<number> {
  const small = (await driveRun(store, workDir, 20, 8)).log.length;
  const large = (await driveRun(store, workDir, 60, 8)).log.length;
  const perTask = (large - small) / 40;
  const fixed = small - 20 * perTask;
  if (perTask <= 0) throw new Error('the engine wrote no events per task');
  return Math.ceil((events - fixed) / perTask);
}

export interface RebuildFigures {
  events: number;
  /** The rebuilt state equals the engine's live final state (persistRunState of both). */
  matchesLive: boolean;
  /** Where a rebuild's time goes: ms of `store.readStream` alone, and the rest (the fold). */
  readMs: number;
  foldMs: number;
  /** Rebuilds per second (median over rounds). */
  overseerPerSec: number;
  /** Raw SELECTs of the same rows per second (median over rounds). */
  rawPerSec: number;
  /** Median over rounds of Overseer throughput / raw throughput (>1: Overseer faster). */
  ratio: number;
  rounds: number;
}

/** How a rebuild starts: from the first event, or from a snapshot with this many events after it. */
export type RebuildMode = { kind: 'full' } | { kind: 'snapshot'; tail: number };

/**
 * Puts the run's snapshot where the engine's periodic snapshots would leave it: `tail` events before
 * the end (the engine snapshots every SNAPSHOT_EVERY events, so a resumed run folds at most that many).
 */
export async function placeSnapshot(store: EventStore, run: RecordedRun, tail: number): Promise<void> {
  const stored = await store.readStream(run.runId, { toVersion: run.log.length - tail });
  await saveRunSnapshot(store, foldEvents(stored), { replace: true });
}

export async function benchRebuild(store: EventStore, raw: RawDb, table: string, run: RecordedRun, rounds: number, mode: RebuildMode): Promise<RebuildFigures> {
  const select = `select * from ${table} where stream_id = $1 order by version`;
  // A rebuild takes seconds, so there is no separate warm-up: the first call of each side is timed
  // too (interleave alternates which side goes first), and is checked — the rebuild must be the
  // engine's live state, and the raw select must see the whole run.
  let matchesLive: boolean | undefined;
  if (mode.kind === 'snapshot') await placeSnapshot(store, run, mode.tail);
  const rebuild = async (): Promise<void> => {
    // A full fold is what rebuildRun does when no snapshot fits: every event through the machines,
    // folded as it is read (foldStream).
    const rebuilt = mode.kind === 'full' ? await foldStream(store, run.runId) : await rebuildRun(store, run.runId);
    if (rebuilt === undefined) throw new Error(`run ${run.runId} has no events`);
    matchesLive ??= isDeepStrictEqual(persistRunState(rebuilt), run.live);
  };
  let rawChecked = false;
  const selectRaw = async (): Promise<void> => {
    const rows = await raw.query(select, [run.runId]);
    if (!rawChecked && rows.length !== run.log.length) throw new Error(`raw select saw ${String(rows.length)} rows, the run has ${String(run.log.length)}`);
    rawChecked = true;
  };
  await selectRaw();
  const measured = await interleave(
    rounds,
    () => msPerCall(rebuild, 300),
    () => msPerCall(selectRaw, 300),
  );
  // For the note only: how much of a rebuild is reading (the rest is the fold through the machines).
  const readMs = await msPerCall(() => store.readStream(run.runId), 300);
  const rebuildMs = median(measured.overseerMs);
  return {
    events: run.log.length,
    matchesLive: matchesLive ?? false,
    readMs,
    foldMs: rebuildMs - readMs,
    overseerPerSec: 1000 / rebuildMs,
    rawPerSec: 1000 / median(measured.rawMs),
    ratio: medianRatio(measured.rawMs, measured.overseerMs),
    rounds,
  };
}
