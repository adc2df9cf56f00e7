/**
 * Finding again, after an engine crash, a shell worker that outlived the engine: by its process
 * file's pid line when its start was never recorded, then by pid + start time while it runs, and by
 * the exit code added to that file once it has finished. A worker is never started twice for one
 * attempt. Gates are found the same way, by their own files.
 */
import * as z from 'zod';
import { DEFAULT_KILL_GRACE_MS, stopProcessGroup } from '../os/kill-process-tree.js';
import { isSameProcessAlive } from '../os/process-identity.js';
import { readExitStatus } from '../os/read-exit-status.js';
import { readIfPresent } from '../os/read-if-present.js';
import { workerFiles, type WorkerExit } from './shell-worker.js';

export interface DetachedWorker {
  pid: number;
  processStartTime: string | null;
  logFile: string;
  statusFile: string;
}

const pidFileSchema = z.object({ pid: z.number().int().positive(), processStartTime: z.string().nullable() });

type Where = { workerId: string; attempt: number; logDir: string };

/** The worker an earlier engine started for this attempt, or null if it never started one. */
export function findShellWorker(where: Where): DetachedWorker | null {
  return findShellWorkerFile(where)?.worker ?? null;
}

/** As findShellWorker, with the file its pid line was read from (its time is when the worker started, until it ends). */
export function findShellWorkerFile(where: Where): { worker: DetachedWorker; pidFile: string } | null {
  const { logFile, processFile, legacy } = workerFiles(where.logDir, where.workerId, where.attempt);
  // Asked before every start, and usually there is none. A wrapper from before the process file
  // (a run resumed across an upgrade) wrote its pid and its status to files of their own.
  const found = readPidLine(processFile, processFile) ?? readPidLine(legacy.pidFile, legacy.statusFile);
  return found === null ? null : { worker: { ...found.identity, logFile, statusFile: found.statusFile }, pidFile: found.pidFile };
}

function readPidLine(pidFile: string, statusFile: string) {
  const text = readIfPresent(pidFile);
  // Empty: its wrapper is between creating and writing it, which is as good as not there yet (see
  // shell-worker.ts). Written by one write(2) otherwise, so a line that does not parse is not ours.
  if (text === null || text === '') return null;
  const parsed = pidFileSchema.safeParse(JSON.parse(text.split('\n', 1)[0] ?? ''));
  if (!parsed.success) throw new Error(`${pidFile}: not a worker pid file`);
  return { identity: parsed.data, pidFile, statusFile };
}

export interface ReattachOptions {
  pollMs?: number;
  /** Stops waiting (the promise rejects with the signal's reason); the worker runs on. */
  signal?: AbortSignal;
  /** How long what the worker left running gets between SIGTERM and SIGKILL once it has ended. */
  graceMs?: number;
}

/**
 * Waits for a worker this engine did not start. Resolves with its exit code from its status file (the process file)
 * (signal is null: a command killed by a signal shows as 128 + its number, as the shell reports it),
 * or `lost` when the process is gone and left no status (it was killed with its wrapper); either way
 * once what it left running in its process group is stopped, as for a worker this engine started.
 */
export async function reattachShellWorker(worker: DetachedWorker, options: ReattachOptions = {}): Promise<WorkerExit | 'lost'> {
  const exit = await waitForExit(worker, options);
  await stopProcessGroup(worker, { graceMs: options.graceMs ?? DEFAULT_KILL_GRACE_MS });
  return exit;
}

async function waitForExit(worker: DetachedWorker, options: ReattachOptions): Promise<WorkerExit | 'lost'> {
  const pollMs = options.pollMs ?? 200;
  for (;;) {
    options.signal?.throwIfAborted();
    const code = readExitStatus(worker.statusFile);
    if (code !== null) return { code, signal: null };
    if (!isSameProcessAlive(worker.pid, worker.processStartTime)) {
      // It may have written its status between our two looks.
      const last = readExitStatus(worker.statusFile);
      return last === null ? 'lost' : { code: last, signal: null };
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
