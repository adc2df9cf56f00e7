/** Follows a live engine to its end (or to a wait for a person with --detach) and turns that into an exit code. */
import type { RunEngine } from '../engine/run-engine.js';
import { deriveRunStatus, summarizeRun, waitingWorkers } from '../fold/run-status.js';
import type { RunState } from '../fold/run-state.js';
import { progressPrinter } from './progress.js';
import { EXIT } from './usage-error.js';

export interface FollowOptions {
  json: boolean;
  detach: boolean;
  resumed?: boolean;
  /** A run `overseer fork` made: announced as forked from its source. */
  forkedFrom?: { runId: string; position: string };
}

function startLine(engine: RunEngine, options: FollowOptions): string {
  if (options.forkedFrom !== undefined) return `forked from run ${options.forkedFrom.runId} at position ${options.forkedFrom.position}, carrying on at ${String(engine.current.workflow.value)}`;
  return options.resumed === true ? `resumed at ${String(engine.current.workflow.value)}` : 'started';
}

function exitCodeFor(state: RunState): number {
  const status = deriveRunStatus(state);
  if (status === 'completed') return EXIT.completed;
  if (status === 'waiting') return EXIT.waiting;
  return EXIT.failed;
}

export async function followRun(engine: RunEngine, options: FollowOptions): Promise<number> {
  const startedAt = Date.now();
  process.stderr.write(`overseer: run ${engine.runId} ${startLine(engine, options)}\n`);
  if (options.detach && deriveRunStatus(engine.current) === 'waiting') return finish(engine, engine.current, options, startedAt);
  const print = progressPrinter((line) => process.stderr.write(`${line}\n`), startedAt);
  let announcedWait = false;
  const waiting = new Promise<RunState>((resolve) => {
    engine.onCommit((events, state) => {
      print(events, state);
      if (deriveRunStatus(state) !== 'waiting') return;
      if (options.detach) resolve(state);
      else if (!announcedWait) {
        announcedWait = true;
        process.stderr.write(`overseer: waiting for approval — overseer approve ${engine.runId} WORKER_ID (or --deny)\n`);
      }
    });
  });

  const interrupted = new Promise<'interrupted'>((resolve) => {
    const onSignal = () => resolve('interrupted');
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });

  let end: RunState | 'interrupted';
  try {
    end = await Promise.race([engine.finished, waiting, interrupted]);
  } catch (error) {
    // The engine stopped on an error it could not turn into an event (the store went away): the log
    // holds everything up to that point, so the run is resumable.
    await engine.stop();
    const why = error instanceof Error ? error.message : String(error);
    process.stderr.write(`overseer: run ${engine.runId} stopped: ${why}; the run is kept — overseer resume ${engine.runId}\n`);
    return EXIT.failed;
  }
  await engine.stop();
  if (end === 'interrupted') {
    process.stderr.write(`overseer: stopped; the run is kept — overseer resume ${engine.runId}\n`);
    return EXIT.interrupted;
  }
  return finish(engine, end, options, startedAt);
}

function finish(engine: RunEngine, end: RunState, options: FollowOptions, startedAt: number): number {
  const summary = summarizeRun(end);
  if (options.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  process.stderr.write(`overseer: run ${engine.runId} ${summary.status} in ${seconds}s${summary.reason === null ? '' : ` — ${summary.reason}`}\n`);
  if (summary.status === 'waiting') {
    process.stderr.write(`overseer: waiting for approval: ${waitingWorkers(summary).join(', ')}\n`);
  }
  return exitCodeFor(end);
}
