/**
 * Running one quality gate: its command goes through the shell worker driver, so it runs detached in
 * a process group of its own with its output in a log file, and a gate that overruns its time limit
 * is stopped with everything it started. A gate that fails, times out or cannot start is a result,
 * `passed: false` with a detail, never a rejection: a red gate is ordinary news for a recovery recipe.
 */
import { killProcessTree } from '../workers/kill-process-tree.js';
import { startShellWorker, workerFiles, type WorkerExit } from '../workers/shell-worker.js';
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

const DEFAULT_GRACE_MS = 2000;

/** Where a gate's files go: `<workerId>.gate-<name>.<attempt>.log`, beside the worker's own. */
export function gateFiles(logDir: string, workerId: string, gateName: string, attempt: number): ReturnType<typeof workerFiles> {
  return workerFiles(logDir, gateWorkerId(workerId, gateName), attempt);
}

function gateWorkerId(workerId: string, gateName: string): string {
  return `${workerId}.gate-${gateName}`;
}

export async function runGate(gate: RequiredGate, context: GateRunContext): Promise<GateResult> {
  const base = { gate: gate.name, level: gate.level, command: gate.command };
  // A function, not a property read, because the signal can flip while the gate starts.
  const aborted = (): boolean => context.abort?.aborted === true;
  if (aborted()) return red(base, null, 'cancelled');

  const objective = context.packet['objective'];
  const started = await startShellWorker({
    command: withWorkerId(gate.command, context.workerId),
    cwd: context.cwd,
    env: { ...context.env, OVERSEER_GATE: gate.name, OVERSEER_GATE_LEVEL: gate.level },
    runId: context.runId,
    workerId: gateWorkerId(context.workerId, gate.name),
    attempt: context.attempt,
    packet: context.packet,
    objective: typeof objective === 'string' ? objective : '',
    logDir: context.logDir,
  });
  if (!started.ok) return red(base, null, `could not start: ${started.error}`);

  const graceMs = context.graceMs ?? DEFAULT_GRACE_MS;
  const stopped: { why: 'timeout' | 'cancelled' | null; killing: Promise<unknown> | null } = { why: null, killing: null };
  const stop = (why: 'timeout' | 'cancelled'): void => {
    if (stopped.why !== null) return;
    stopped.why = why;
    stopped.killing = killProcessTree(started.pid, { graceMs });
  };
  const timer = gate.timeoutMs === null ? null : setTimeout(() => stop('timeout'), gate.timeoutMs);
  const onAbort = (): void => stop('cancelled');
  context.abort?.addEventListener('abort', onAbort, { once: true });
  if (aborted()) stop('cancelled');
  let exit: WorkerExit;
  try {
    const ended = await started.exited;
    // Gone without a status: it was killed with its wrapper, and nothing says it passed.
    exit = ended === 'lost' ? { code: null, signal: 'SIGKILL' } : ended;
  } finally {
    if (timer !== null) clearTimeout(timer);
    context.abort?.removeEventListener('abort', onAbort);
  }
  // Whatever the gate left running in its group (a server, a watcher) does not outlive it.
  await (stopped.killing ?? killProcessTree(started.pid, { graceMs }));

  const { why } = stopped;
  const result = { ...base, exitCode: exit.code, signal: exit.signal, timedOut: why === 'timeout', logFile: started.logFile };
  if (why === 'timeout') return { ...result, passed: false, detail: `timed out after ${formatMs(gate.timeoutMs ?? 0)}` };
  if (why === 'cancelled') return { ...result, passed: false, detail: 'cancelled' };
  if (exit.code === 0) return { ...result, passed: true, detail: null };
  const detail = exit.code === null ? `killed by ${exit.signal ?? 'a signal'}` : `exit code ${String(exit.code)}`;
  return { ...result, passed: false, detail };
}

function red(base: Pick<GateResult, 'gate' | 'level' | 'command'>, logFile: string | null, detail: string): GateResult {
  return { ...base, exitCode: null, signal: null, timedOut: false, logFile, passed: false, detail };
}

/**
 * The driver names the process by the id it is given, and the gate's files need an id of their own;
 * the gate's command is told the worker's real id.
 */
function withWorkerId(command: string, workerId: string): string {
  return `OVERSEER_WORKER_ID=${shellQuote(workerId)}; export OVERSEER_WORKER_ID\n${command}`;
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${String(ms / 1000)}s` : `${String(ms)}ms`;
}
