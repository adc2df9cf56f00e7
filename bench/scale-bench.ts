/**
 * Cost against size: the same kind of plan at two sizes (1,000 and 10,000 tasks), run through the
 * real engine with workers that exit at once (so what is timed is the engine and its store: every
 * event folded, appended and acted on), then rebuilt by a full fold of the log. Linear cost shows as
 * the same cost per task (run) and per event (rebuild) at both sizes: the ratio large/small near 1.
 *
 * The plan is `lanes` interleaved chains (each task depends on the one `lanes` places before it), so
 * dependencies, the ready queue and skipping by dependents are all exercised, not only a flat list.
 */
import { isDeepStrictEqual } from 'node:util';
import { foldEvents } from '../src/runtime/rebuild-run.js';
import { persistRunState } from '../src/runtime/run-state.js';
import type { EventStore } from '../src/store/event-store.js';
import { median, msPerCall } from './lib/measure.js';
import { driveRun } from './rebuild-bench.js';

export interface SizeFigures {
  tasks: number;
  events: number;
  /** Engine milliseconds per task, driving the whole run. */
  runMsPerTask: number;
  /** Microseconds per event of a full rebuild (read the stream, fold every event), median over rounds. */
  rebuildUsPerEvent: number;
  /** The rebuild gives exactly the engine's live final state. */
  matchesLive: boolean;
}

export interface ScaleFigures {
  small: SizeFigures;
  large: SizeFigures;
  /** large / small, per task and per event: 1 is perfectly linear. */
  runRatio: number;
  rebuildRatio: number;
}

async function measureSize(store: EventStore, workDir: string, tasks: number, options: ScaleOptions): Promise<SizeFigures> {
  const run = await driveRun(store, workDir, tasks, options.concurrency, options.lanes);
  let matchesLive: boolean | undefined;
  const perRound: number[] = [];
  for (let round = 0; round < options.rounds; round += 1) {
    perRound.push(
      await msPerCall(async () => {
        const rebuilt = foldEvents(await store.readStream(run.runId));
        matchesLive ??= isDeepStrictEqual(persistRunState(rebuilt), run.live);
      }, 300),
    );
  }
  return {
    tasks,
    events: run.log.length,
    runMsPerTask: run.driveMs / tasks,
    rebuildUsPerEvent: (median(perRound) * 1000) / run.log.length,
    matchesLive: matchesLive ?? false,
  };
}

export interface ScaleOptions {
  small: number;
  large: number;
  concurrency: number;
  lanes: number;
  rounds: number;
}

export async function benchScale(store: EventStore, workDir: string, options: ScaleOptions, log: (line: string) => void): Promise<ScaleFigures> {
  log(`${String(options.small)}-task run and rebuild`);
  const small = await measureSize(store, workDir, options.small, options);
  log(`${String(options.large)}-task run and rebuild`);
  const large = await measureSize(store, workDir, options.large, options);
  return { small, large, runRatio: large.runMsPerTask / small.runMsPerTask, rebuildRatio: large.rebuildUsPerEvent / small.rebuildUsPerEvent };
}
