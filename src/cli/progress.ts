/** One line on stderr per state change of the workflow or a worker, with task counts and elapsed time. */
import type { CommittedEvent } from '../engine/run-engine.js';
import type { RunState } from '../fold/run-state.js';
import { lastLine } from '../os/last-line.js';

function elapsed(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  return s < 60 ? `${s.toFixed(1)}s` : `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
}

function counts(state: RunState): string {
  const tasks = state.workflow.context.tasks;
  const parts = [`${String(tasks.count('done'))}/${String(tasks.size)} done`];
  for (const status of ['dispatched', 'failed', 'skipped', 'denied', 'cancelled'] as const) {
    const n = tasks.count(status);
    if (n > 0) parts.push(`${String(n)} ${status === 'dispatched' ? 'active' : status}`);
  }
  return parts.join(', ');
}

/** A command that exited non-zero usually said why last ("claude: not found"): shown with the failure. */
function lastWords(kind: string | undefined, logFile: string | undefined): string {
  if (kind !== 'exit_nonzero' || logFile === undefined) return '';
  const line = lastLine(logFile);
  return line === null ? '' : ` — ${line}`;
}

function describe(event: CommittedEvent, state: RunState): string {
  if (event.machine === 'workflow') {
    const reason = state.workflow.context.reason;
    return `run ${String(event.stateAfter)}${reason !== null && state.workflow.status === 'done' ? ` — ${reason}` : ''}`;
  }
  const worker = event.workerId === null ? undefined : state.workers[event.workerId];
  const detail =
    event.stateAfter === 'running'
      ? ` (attempt ${String(worker?.context.attempt ?? 1)}, pid ${String(worker?.context.process?.pid ?? '?')})`
      : event.stateAfter === 'failed' || event.stateAfter === 'retrying'
        ? ` (${worker?.context.failure?.kind ?? ''}: ${worker?.context.failure?.detail ?? ''})${lastWords(worker?.context.failure?.kind, worker?.context.process?.logFile)}`
        : event.stateAfter === 'awaitingTrust'
          ? ` — approve with: overseer approve ${state.run.runId} ${event.workerId ?? ''}`
          : '';
  return `${event.workerId ?? ''} ${String(event.stateAfter)}${detail}`;
}

/** Calls `write` once per commit with its lines (one write per line was most of a busy run's output cost). */
export function progressPrinter(write: (lines: string) => void, startedAt: number) {
  const lastState = new Map<string, unknown>();
  return (events: readonly CommittedEvent[], state: RunState): void => {
    const lines: string[] = [];
    for (const event of events) {
      const key = event.workerId ?? 'workflow';
      if (lastState.get(key) === event.stateAfter) continue;
      lastState.set(key, event.stateAfter);
      lines.push(`[${elapsed(event.at.getTime() - startedAt)}] ${describe(event, state)}  [${counts(state)}]`);
    }
    if (lines.length > 0) write(lines.join('\n'));
  };
}
