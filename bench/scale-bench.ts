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
import { foldEvents } from '../src/fold/rebuild-run.js';
import { persistRunState } from '../src/fold/run-state.js';
import type { EventStore } from '../src/store/event-store.js';
import { median, msPerCall } from './lib/measure.js';
import { driveRun, type RecordedRun } from './rebuild-bench.js';

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

interface Driven {
  run: RecordedRun;
  /** Microseconds per event of each full rebuild round (read the stream, fold every event). */
  rebuilds: number[];
  matchesLive: boolean | undefined;
}

async function rebuildRound(store: EventStore, driven: Driven): Promise<void> {
  const ms = await msPerCall(async () => {
    const rebuilt = foldEvents(await store.readStream(driven.run.runId));
    driven.matchesLive ??= isDeepStrictEqual(persistRunState(rebuilt), driven.run.live);
  }, 300);
  driven.rebuilds.push((ms * 1000) / driven.run.log.length);
}

function figures(driven: Driven, runMs: number): SizeFigures {
  return {
    tasks: driven.run.tasks,
    events: driven.run.log.length,
    runMsPerTask: runMs / driven.run.tasks,
    rebuildUsPerEvent: median(driven.rebuilds),
    matchesLive: driven.matchesLive ?? false,
  };
}

export interface ScaleOptions {
  small: number;
  large: number;
  concurrency: number;
  lanes: number;
  rounds: number;
}

/**
 * The small plan is driven before and after the large one (its figure is the mean of both), and the
 * rebuild rounds alternate between the two sizes, so a machine that gets busier or quieter during the
 * large run does not pass for a change of cost with size.
 */
export async function benchScale(store: EventStore, workDir: string, options: ScaleOptions, log: (line: string) => void): Promise<ScaleFigures> {
  const drive = (tasks: number) => driveRun(store, workDir, tasks, options.concurrency, options.lanes);
  log(`${String(options.small)}-task run`);
  const before = await drive(options.small);
  log(`${String(options.large)}-task run`);
  const large: Driven = { run: await drive(options.large), rebuilds: [], matchesLive: undefined };
  log(`${String(options.small)}-task run again`);
  const small: Driven = { run: await drive(options.small), rebuilds: [], matchesLive: undefined };
  log('rebuilds of both, alternating');
  for (let round = 0; round < options.rounds; round += 1) {
    await rebuildRound(store, round % 2 === 0 ? small : large);
    await rebuildRound(store, round % 2 === 0 ? large : small);
  }
  const smallFigures = figures(small, (before.driveMs + small.run.driveMs) / 2);
  const largeFigures = figures(large, large.run.driveMs);
  return {
    small: smallFigures,
    large: largeFigures,
    runRatio: largeFigures.runMsPerTask / smallFigures.runMsPerTask,
    rebuildRatio: largeFigures.rebuildUsPerEvent / smallFigures.rebuildUsPerEvent,
  };
}
