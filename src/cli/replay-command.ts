/**
 * `overseer replay RUN_ID [--to POSITION] [--json]`: the run's log folded through the real machines.
 * With --to, the machines' states right after the last event at or before that global position;
 * without it, every event with what it changed. A log the machines do not accept is refused (exit 2).
 */
import { COMMANDS } from './command-table.js';
import { nothingAtOrBefore } from '../inspect/log-position.js';
import { MachineVersionError } from '../fold/rebuild-run.js';
import { replaySteps, replayTo, workerStates, type ReplayStep } from '../inspect/replay.js';
import { InvalidEventError } from '../fold/run-events.js';
import { LogMismatchError, type PendingTimer } from '../fold/run-state.js';
import { deriveRunStatus, summarizeRun } from '../fold/run-status.js';
import type { StoredEvent } from '../store/event-store.js';
import { withStore } from './cli-store.js';
import { eventHeader } from './event-header.js';
import { findRun } from './find-run.js';
import { flagValue, LOG_POSITION, parseFlags } from './parse-flags.js';
import { UsageError } from './usage-error.js';

const flags = COMMANDS.replay.flags;
const USAGE = 'usage: overseer replay RUN_ID [--to POSITION] [--json]';

/** The replay's own refusals become one line and exit 2; anything else is a real failure. */
function refusing<T>(runId: string, replay: () => T): T {
  try {
    return replay();
  } catch (error) {
    if (error instanceof LogMismatchError || error instanceof MachineVersionError || error instanceof InvalidEventError) {
      throw new UsageError(`overseer replay: run ${runId} cannot be replayed: ${error.message}`);
    }
    throw error;
  }
}

function timerJson(timer: PendingTimer) {
  return { workerId: timer.workerId, timer: timer.timerId, event: timer.event.type, dueAt: new Date(timer.dueAt).toISOString() };
}

export function snapshotJson(step: ReplayStep) {
  const { runId, ...summary } = summarizeRun(step.state);
  return {
    runId,
    position: step.event.position.toString(),
    version: step.event.version,
    at: step.event.createdAt.toISOString(),
    event: step.event.type,
    ...summary,
    timers: Object.values(step.state.timers).map(timerJson),
  };
}

export function stepJson(step: ReplayStep) {
  return {
    ...eventHeader(step.event),
    status: deriveRunStatus(step.state),
    workflow: step.workflow,
    workers: workerStates(step.state),
    changed: step.states,
    context: step.context,
    timers: { armed: step.timers.armed.map(timerJson), cleared: step.timers.cleared.map(timerJson) },
  };
}

/** `xstate.after.attemptTimeout.worker.running` → `attemptTimeout`: the delay's name in the machine. */
function timerName(timer: PendingTimer): string {
  return /^xstate\.after\.([^.]+)\./.exec(timer.timerId)?.[1] ?? timer.timerId;
}

function who(workerId: string | null): string {
  return workerId ?? 'workflow';
}

function changesText(step: ReplayStep): string {
  const parts = [
    ...step.states.map((c) => (c.from === null ? `${who(c.workerId)} created in ${c.to}` : `${who(c.workerId)}: ${c.from} → ${c.to}`)),
    ...step.context.filter((c) => !step.states.some((s) => s.workerId === c.workerId)).map((c) => `${who(c.workerId)} context: ${c.fields.join(', ')}`),
    ...step.timers.armed.map((t) => `timer ${who(t.workerId)} ${timerName(t)} due ${new Date(t.dueAt).toISOString().slice(11, 23)}`),
    ...step.timers.cleared.map((t) => `timer ${who(t.workerId)} ${timerName(t)} cleared`),
  ];
  return parts.length === 0 ? '(a record: no machine changed)' : parts.join('; ');
}

function stepLine(step: ReplayStep): string {
  const e = step.event;
  return `${e.position.toString().padStart(6)}  ${e.createdAt.toISOString().slice(11, 23)}  ${who(e.workerId).padEnd(14)} ${e.type.padEnd(20)} ${changesText(step)}\n`;
}

function snapshotText(step: ReplayStep, total: number): string {
  const s = summarizeRun(step.state);
  const e = step.event;
  const lines = [
    `run ${s.runId} at position ${e.position.toString()} (version ${String(e.version)} of ${String(total)}, ${e.createdAt.toISOString()}, after ${e.type}${e.workerId === null ? '' : ` on ${e.workerId}`})`,
    `status ${s.status}, workflow ${s.workflow}${s.reason === null ? '' : ` — ${s.reason}`}`,
    `tasks: ${Object.entries(s.tasks).map(([k, v]) => `${String(v)} ${k}`).join(', ')}`,
    ...s.workers.map((w) => `  ${w.workerId.padEnd(16)} ${w.state.padEnd(14)} attempt ${String(w.attempt)}${w.failure === null ? '' : `  ${w.failure}`}`),
    ...Object.values(step.state.timers).map((t) => `  timer ${who(t.workerId)} ${timerName(t)} due ${new Date(t.dueAt).toISOString()}`),
  ];
  return `${lines.join('\n')}\n`;
}

export async function replayCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('replay', args, flags);
  const [runId, extra] = positionals;
  if (runId === undefined) throw new UsageError(`overseer replay: which run? ${USAGE}`);
  if (extra !== undefined) throw new UsageError(`overseer replay: one run at a time, got "${extra}" too; ${USAGE}`);
  const to = flagValue('--to', values.to, LOG_POSITION);
  const events: StoredEvent[] = await withStore(values.db, async (store) => {
    await findRun(store, runId);
    return store.readStream(runId);
  });
  if (to !== undefined) {
    const step = refusing(runId, () => replayTo(events, to));
    if (step === undefined) {
      throw new UsageError(`overseer replay: ${nothingAtOrBefore(runId, to, events[0]?.position)}`);
    }
    process.stdout.write(values.json === true ? `${JSON.stringify(snapshotJson(step))}\n` : snapshotText(step, events.length));
    return 0;
  }
  // A first pass checks the whole log, so one that does not fit prints nothing but the refusal;
  // the second prints as it folds (a step's state is only valid until the next one).
  refusing(runId, () => {
    for (const step of replaySteps(events)) void step;
  });
  for (const step of replaySteps(events)) process.stdout.write(values.json === true ? `${JSON.stringify(stepJson(step))}\n` : stepLine(step));
  return 0;
}
