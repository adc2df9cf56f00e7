/**
 * What the run page shows, computed from the log alone: the events, and the fold of the log up to a
 * position — the same `foldEvents` the live engine's state comes from — with the run's summary at that
 * moment and the machines' diagrams with each instance's state marked.
 */
import { STATE_SETS, type StateSets } from '../../machines/state-sets.js';
import { workerMachine } from '../../machines/worker.js';
import { workflowMachine } from '../../machines/workflow.js';
import { toMermaid } from '../inspect/diagram-mermaid.js';
import { machineDiagram, type MachineDiagram } from '../inspect/machine-diagram.js';
import { foldEvents } from '../fold/rebuild-run.js';
import { runDiagram, type RunDiagram } from '../inspect/run-diagram.js';
import { summarizeRun, waitingWorkers, type RunSummary } from '../fold/run-status.js';
import { stateText } from '../fold/state-value.js';
import type { MachineKind, RunRow, StoredEvent } from '../store/event-store.js';
import { compactDiagram } from './compact-diagram.js';

export interface EventView {
  version: number;
  /** Global position, as a string (JSON has no 64-bit integers). */
  position: string;
  at: string;
  type: string;
  machine: MachineKind;
  workerId: string | null;
  stateAfter: string;
  payload: unknown;
}

export interface FoldView {
  /** The last event folded in. */
  version: number;
  position: string;
  at: string;
  /** Null when the log does not fold through these machines (then `foldError` says why). */
  summary: RunSummary | null;
  foldError: string | null;
  /** Workers a person can answer: at a trust gate, or escalated after a failure. */
  waiting: string[];
  /** Mermaid `stateDiagram-v2` text (compacted for a page), current states marked (classDef `current`). */
  diagrams: { workflow: string; worker: string };
}

export interface RunView extends FoldView {
  run: { runId: string; objective: string; cwd: string; status: string; createdAt: string; updatedAt: string };
  events: EventView[];
  /** The machines' final, waiting and active states, so the page writes none of them down. */
  states: Readonly<Record<'workflow' | 'worker', StateSets>>;
}

let diagrams: { workflow: MachineDiagram; worker: MachineDiagram } | undefined;
function machineDiagrams(): { workflow: MachineDiagram; worker: MachineDiagram } {
  diagrams ??= { workflow: machineDiagram(workflowMachine), worker: machineDiagram(workerMachine) };
  return diagrams;
}

/** Left to right: both machines read as a flow from start to finish, and fit a page's width. */
function pageDiagram(diagram: RunDiagram): string {
  return toMermaid([compactDiagram(diagram)]).replace(/^stateDiagram-v2\n/, 'stateDiagram-v2\n  direction LR\n');
}

export function eventView(event: StoredEvent): EventView {
  return {
    version: event.version,
    position: event.position.toString(),
    at: event.createdAt.toISOString(),
    type: event.type,
    machine: event.machine,
    workerId: event.workerId,
    stateAfter: stateText(event.stateAfter),
    payload: event.payload,
  };
}

/** How many of `events` (in stream order) lie at or before `at`: 0 when `at` is before the first. */
export function foldLength(events: readonly StoredEvent[], at: bigint | undefined): number {
  if (at === undefined) return events.length;
  const after = events.findIndex((e) => e.position > at);
  return after === -1 ? events.length : after;
}

/** The fold of the first `length` events of a run's stream. */
export function foldView(events: readonly StoredEvent[], length: number = events.length): FoldView {
  const slice = events.slice(0, length);
  const last = slice.at(-1);
  if (last === undefined) throw new Error('a run has at least its run.started event');
  let summary: RunSummary | null = null;
  let foldError: string | null = null;
  try {
    summary = summarizeRun(foldEvents(slice));
  } catch (error) {
    // A log of other machines, or a tampered one: show it as it is, and say why it does not fold.
    foldError = error instanceof Error ? error.message : String(error);
  }
  const { workflow, worker } = machineDiagrams();
  return {
    version: last.version,
    position: last.position.toString(),
    at: last.createdAt.toISOString(),
    summary,
    foldError,
    waiting: summary === null ? [] : waitingWorkers(summary),
    diagrams: { workflow: pageDiagram(runDiagram(workflow, slice)), worker: pageDiagram(runDiagram(worker, slice)) },
  };
}

/** The run with its whole log, and the fold of its first `length` events. */
export function runView(run: RunRow, events: readonly StoredEvent[], length: number): RunView {
  return {
    run: {
      runId: run.runId,
      objective: run.objective,
      cwd: run.cwd,
      status: run.status,
      createdAt: run.createdAt.toISOString(),
      updatedAt: run.updatedAt.toISOString(),
    },
    events: events.map(eventView),
    states: STATE_SETS,
    ...foldView(events, length),
  };
}
