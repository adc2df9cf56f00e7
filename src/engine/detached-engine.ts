/**
 * An engine in a process of its own: `overseer resume RUN_ID --db TARGET`, detached into its own
 * session, so the run carries on after whoever started it (an MCP client, a script) has gone. It
 * takes the run's lease like any engine; its output goes to `engine.log` in the run's folder.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { isFinalWorkflowState } from '../../machines/state-sets.js';
import { overseerBin } from '../os/overseer-bin.js';
import { rebuildRun, RunNotFoundError } from '../fold/rebuild-run.js';
import { systemClock } from './clock.js';
import { RunLease } from './run-lease.js';
import { runOptionsFor, type RunRequest } from './run-request.js';
import { recordRun } from './start-run.js';
import { NotApplicableError } from './write-to-run.js';
import type { EventStore } from '../store/event-store.js';

export interface DetachedEngine {
  pid: number;
  logFile: string;
}

/** `db` is the store target as the caller resolved it (a URL or an absolute folder). */
async function startDetachedEngine(run: { runId: string; runDir: string; cwd: string }, db: string): Promise<DetachedEngine> {
  mkdirSync(run.runDir, { recursive: true });
  const logFile = join(run.runDir, 'engine.log');
  const log = openSync(logFile, 'a');
  try {
    const child = spawn(process.execPath, [overseerBin(), 'resume', run.runId, '--db', db], {
      detached: true,
      stdio: ['ignore', log, log],
      // The run's commands run in its recorded folder whatever ours is; a folder since removed is no reason not to start.
      cwd: existsSync(run.cwd) ? run.cwd : '/',
    });
    await once(child, 'spawn');
    child.unref();
    return { pid: child.pid ?? 0, logFile };
  } finally {
    closeSync(log);
  }
}

/**
 * Checks the request (RunRequestError lists every problem; nothing is written), records the run and
 * hands it to a detached engine; returns once that engine's process exists. `db` is the store's
 * target (a URL or an absolute folder), for the engine to open.
 */
export async function startRunDetached(store: EventStore, db: string, request: RunRequest, defaultCwd: string = process.cwd()): Promise<DetachedEngine & { runId: string }> {
  const options = await runOptionsFor(request, defaultCwd);
  const { runId, state } = await recordRun({ store, clock: systemClock }, options);
  return { runId, ...(await startDetachedEngine(state.run, db)) };
}

/**
 * Hands a stopped run to a detached engine. Refused, with nothing started, when the run is unknown,
 * has ended, or a live engine owns it (its lease is taken and given back at once to find out).
 */
export async function resumeRunDetached(store: EventStore, db: string, runId: string): Promise<DetachedEngine> {
  const row = await store.getRun(runId);
  if (row === undefined) throw new RunNotFoundError(runId);
  if (isFinalWorkflowState(row.status)) throw new NotApplicableError(`run ${runId} has already ${row.status === 'cancelled' ? 'been cancelled' : row.status}`);
  await (await RunLease.take(store, runId)).release();
  const state = await rebuildRun(store, runId);
  return startDetachedEngine(state.run, db);
}
