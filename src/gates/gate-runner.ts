/**
 * Running one quality gate: its command goes through the shell worker driver, so it runs detached in
 * a process group of its own with its output in a log file, and a gate that overruns its time limit
 * is stopped with everything it started. A gate that fails, times out or cannot start is a result,
 * `passed: false` with a detail, never a rejection: a red gate is ordinary news for a recovery recipe.
 *
 * A gate outlives an engine that crashes, as a worker does. Its files are named by run folder, worker,
 * gate and attempt, so the next engine finds it by its pid file and waits for its exit status instead
 * of running it a second time, and `overseer cancel` finds it to stop it.
 */
import { statSync } from 'node:fs';
import { setLongTimeout } from '../os/long-timeout.js';
import { DEFAULT_KILL_GRACE_MS, stopProcessGroup, type GroupLeader } from '../os/kill-process-tree.js';
import { findShellWorker, findShellWorkerFile, reattachShellWorker } from '../workers/reattach-worker.js';
import { formatDuration } from '../os/duration.js';
import { startShellWorker, workerFiles, type WorkerExit, type WorkerFiles } from '../workers/shell-worker.js';
import type { GateLevel, RequiredGate } from './quality-gates.js';

export interface GateRunContext {
  runId: string;
  /** The worker whose result the gate checks. */
  workerId: string;
  attempt: number;
  cwd: string;
  /** The packet's variables; the gate also gets OVERSEER_GATE and OVERSEER_GATE_LEVEL. */
  env?: Record<string, string> | undefined;
  logDir: string;
  packet: Record<string, unknown>;
  /** How long a timed-out or cancelled gate gets between SIGTERM and SIGKILL; 2s when not given. */
  graceMs?: number | undefined;
  /** Stops the gate (the run was cancelled); it then comes back red with detail `cancelled`. */
  abort?: AbortSignal | undefined;
}

export interface GateResult {
  gate: string;
  level: GateLevel;
  command: string;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Null when the gate never started. */
  logFile: string | null;
  passed: boolean;
  /** Why it did not pass, in a few words; null when it passed. */
  detail: string | null;
}

/** Which gate of which attempt: its files are found from this alone. */
export interface GatePlace {
  logDir: string;
  workerId: string;
  attempt: number;
}

/** Where a gate's files go: `<workerId>.gate-<name>.<attempt>.log` (and .proc, .packet.json), beside the worker's own. */
export function gateFiles(logDir: string, workerId: string, gateName: string, attempt: number): WorkerFiles {
  return workerFiles(logDir, gateFilesId(workerId, gateName), attempt);
}

function gateFilesId(workerId: string, gateName: string): string {
  return `${workerId}.gate-${gateName}`;
}

export async function runGate(gate: RequiredGate, context: GateRunContext): Promise<GateResult> {
  const base = { gate: gate.name, level: gate.level, command: gate.command };
  // A function, not a property read, because the signal can flip while the gate starts.
  const aborted = (): boolean => context.abort?.aborted === true;
  if (aborted()) return red(base, null, 'cancelled');

  const graceMs = context.graceMs ?? DEFAULT_KILL_GRACE_MS;
  const running = await startOrFindGate(gate, context, graceMs);
  if (!running.ok) return red(base, null, `could not start: ${running.error}`);

  const stopped: { why: 'timeout' | 'cancelled' | null; killing: Promise<unknown> | null } = { why: null, killing: null };
  const stop = (why: 'timeout' | 'cancelled'): void => {
    if (stopped.why !== null) return;
    stopped.why = why;
    stopped.killing = stopProcessGroup(running.leader, { graceMs });
  };
  // A gate found again after a crash has been running since its start, not since this engine's.
  const timer = gate.timeoutMs === null ? null : setLongTimeout(() => stop('timeout'), gate.timeoutMs - (Date.now() - running.startedAt));
  const onAbort = (): void => stop('cancelled');
  context.abort?.addEventListener('abort', onAbort, { once: true });
  if (aborted()) stop('cancelled');
  let exit: WorkerExit;
  try {
    const ended = await running.exited;
    // Gone without a status: it was killed with its wrapper, and nothing says it passed.
    exit = ended === 'lost' ? { code: null, signal: 'SIGKILL' } : ended;
  } finally {
    timer?.clear();
    context.abort?.removeEventListener('abort', onAbort);
  }
  // What the gate left running in its group was stopped as it ended; a kill of ours may still be under way.
  await stopped.killing;

  const { why } = stopped;
  const result = { ...base, exitCode: exit.code, signal: exit.signal, timedOut: why === 'timeout', logFile: running.logFile };
  if (why === 'timeout') return { ...result, passed: false, detail: `timed out after ${formatDuration(gate.timeoutMs ?? 0)}` };
  if (why === 'cancelled') return { ...result, passed: false, detail: 'cancelled' };
  if (exit.code === 0) return { ...result, passed: true, detail: null };
  const detail = exit.code === null ? `killed by ${exit.signal ?? 'a signal'}` : `exit code ${String(exit.code)}`;
  return { ...result, passed: false, detail };
}

type RunningGate =
  | { ok: true; leader: GroupLeader; logFile: string; startedAt: number; exited: Promise<WorkerExit | 'lost'> }
  | { ok: false; error: string };

/**
 * This attempt's run of the gate: the one an earlier engine started, if it got that far (its pid line
 * is written before the command runs, so a started gate always has one), else a new one.
 */
async function startOrFindGate(gate: RequiredGate, context: GateRunContext, graceMs: number): Promise<RunningGate> {
  const filesId = gateFilesId(context.workerId, gate.name);
  const earlier = findShellWorkerFile({ logDir: context.logDir, workerId: filesId, attempt: context.attempt });
  if (earlier !== null) {
    const { worker, pidFile } = earlier;
    return { ok: true, leader: worker, logFile: worker.logFile, startedAt: statSync(pidFile).mtimeMs, exited: reattachShellWorker(worker, { graceMs }) };
  }
  const objective = context.packet['objective'];
  const started = await startShellWorker({
    command: gate.command,
    cwd: context.cwd,
    env: { ...context.env, OVERSEER_GATE: gate.name, OVERSEER_GATE_LEVEL: gate.level },
    runId: context.runId,
    workerId: context.workerId,
    filesId,
    attempt: context.attempt,
    packet: context.packet,
    objective: typeof objective === 'string' ? objective : '',
    logDir: context.logDir,
    graceMs,
  });
  if (!started.ok) return started;
  return { ok: true, leader: started, logFile: started.logFile, startedAt: Date.now(), exited: started.exited };
}

/**
 * Stops whatever still runs of these gates in one attempt. A live engine stops its own gates when the
 * worker is cancelled; this is for `overseer cancel` when no engine may be alive to do it.
 */
export async function stopGates(gates: readonly RequiredGate[], place: GatePlace, graceMs = DEFAULT_KILL_GRACE_MS): Promise<void> {
  for (const gate of gates) {
    const found = findShellWorker({ logDir: place.logDir, workerId: gateFilesId(place.workerId, gate.name), attempt: place.attempt });
    if (found !== null) await stopProcessGroup(found, { graceMs });
  }
}

function red(base: Pick<GateResult, 'gate' | 'level' | 'command'>, logFile: string | null, detail: string): GateResult {
  return { ...base, exitCode: null, signal: null, timedOut: false, logFile, passed: false, detail };
}

