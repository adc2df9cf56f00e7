/**
 * Replay: what `overseer replay RUN_ID` does before it prints — read the stream, then fold it one
 * event at a time through the machines with each step's changes worked out (`replaySteps`) — on the
 * same recorded run as the rebuild rows, against a raw `SELECT` of the same rows. Reported in events
 * per second on both sides.
 */
import { isDeepStrictEqual } from 'node:util';
import { replaySteps } from '../src/inspect/replay.js';
import { persistRunState, type RunState } from '../src/fold/run-state.js';
import type { EventStore } from '../src/store/event-store.js';
import { interleave, median, medianRatio, msPerCall } from './lib/measure.js';
import type { RawDb } from './lib/targets.js';
import type { RecordedRun } from './rebuild-bench.js';

export interface ReplayFigures {
  events: number;
  /** The last step's state equals the engine's live final state. */
  matchesLive: boolean;
  /** Events replayed per second, reading included (median over rounds). */
  overseerPerSec: number;
  /** Rows per second of the raw SELECT (median over rounds). */
  rawPerSec: number;
  ratio: number;
  /** Of one replay: ms reading the stream, and the rest (stepping through the machines). */
  readMs: number;
  stepMs: number;
}

export async function benchReplay(store: EventStore, raw: RawDb, table: string, run: RecordedRun, rounds: number): Promise<ReplayFigures> {
  const select = `select * from ${table} where stream_id = $1 order by version`;
  let matchesLive: boolean | undefined;
  const replay = async (): Promise<void> => {
    let last: RunState | undefined;
    let changes = 0;
    for (const step of replaySteps(await store.readStream(run.runId))) {
      changes += step.states.length + step.context.length;
      last = step.state;
    }
    if (changes === 0 || last === undefined) throw new Error('the replay saw no change');
    matchesLive ??= isDeepStrictEqual(persistRunState(last), run.live);
  };
  const selectRaw = async (): Promise<void> => {
    await raw.query(select, [run.runId]);
  };
  const measured = await interleave(
    rounds,
    () => msPerCall(replay, 300),
    () => msPerCall(selectRaw, 300),
  );
  const readMs = await msPerCall(() => store.readStream(run.runId), 300);
  const replayMs = median(measured.overseerMs);
  const events = run.log.length;
  return {
    events,
    matchesLive: matchesLive ?? false,
    overseerPerSec: (events * 1000) / replayMs,
    rawPerSec: (events * 1000) / median(measured.rawMs),
    ratio: medianRatio(measured.rawMs, measured.overseerMs),
    readMs,
    stepMs: replayMs - readMs,
  };
}
