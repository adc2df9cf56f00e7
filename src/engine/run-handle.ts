/**
 * A run driven by an engine inside the caller's own process (the library's `startRun`/`resumeRun`):
 * the program keeps the handle, watches the run, and stops the engine when it is done with it. The run
 * is in the log throughout, so a stopped or crashed program's run resumes like any other.
 */
import type { EventStore } from '../store/event-store.js';
import { deriveRunStatus, summarizeRun, type RunSummary } from '../fold/run-status.js';
import type { RunState } from '../fold/run-state.js';
import { resumeRun } from './resume-run.js';
import type { EngineDeps, RunEngine } from './run-engine.js';
import { runOptionsFor, type RunRequest } from './run-request.js';
import { startRun } from './start-run.js';
import { systemEngineDeps } from './system-deps.js';

export interface RunHandle {
  readonly runId: string;
  /** The run now, as `overseer status RUN --json` prints it. */
  status(): RunSummary;
  /** The run once it has ended or waits for a person (a trust gate, an escalation). */
  settled(): Promise<RunSummary>;
  /** The run once it has ended; the engine is stopped by then. */
  readonly finished: Promise<RunSummary>;
  /** Stops this process's engine (workers keep their state in the log); `resumeRun` carries on. */
  stop(): Promise<void>;
}

function handle(engine: RunEngine, close: () => void): RunHandle {
  let stopped: Promise<void> | null = null;
  const stop = () => (stopped ??= engine.stop().finally(close));
  const finished = engine.finished.then(async (state) => {
    await stop();
    return summarizeRun(state);
  });
  // A caller that only uses settled() or stop() must not see an unhandled rejection from `finished`.
  finished.catch(() => undefined);
  return {
    runId: engine.runId,
    status: () => summarizeRun(engine.current),
    finished,
    settled: () =>
      new Promise<RunSummary>((resolve, reject) => {
        if (deriveRunStatus(engine.current) === 'waiting') return resolve(summarizeRun(engine.current));
        const off = engine.onCommit((_events, state: RunState) => {
          if (deriveRunStatus(state) !== 'waiting') return;
          off();
          resolve(summarizeRun(state));
        });
        finished.then(
          (summary) => {
            off();
            resolve(summary);
          },
          (error: unknown) => {
            off();
            reject(error instanceof Error ? error : new Error(String(error)));
          },
        );
      }),
    stop,
  };
}

/** Checks the request completely (RunRequestError lists every problem), records the run and starts it here. */
export async function startRunHere(store: EventStore, request: RunRequest): Promise<RunHandle> {
  const options = await runOptionsFor(request);
  return engineHere(store, (deps) => startRun(deps, options));
}

/** Rebuilds a stopped or crashed run from its log and carries on here. */
export function resumeRunHere(store: EventStore, runId: string): Promise<RunHandle> {
  return engineHere(store, (deps) => resumeRun(deps, runId));
}

/** An engine in this process, whose process driver is closed with it (or at once if it never starts). */
async function engineHere(store: EventStore, start: (deps: EngineDeps) => Promise<RunEngine>): Promise<RunHandle> {
  const deps = systemEngineDeps(store);
  try {
    return handle(await start(deps), () => deps.driver.close?.());
  } catch (error) {
    deps.driver.close?.();
    throw error;
  }
}
