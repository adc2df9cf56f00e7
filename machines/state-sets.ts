/**
 * The facts about the machines' states that the CLI, the fold, the web API and the page need, read
 * from the definitions so that no list of state names is written down anywhere else:
 * - final: the state nodes declared `type: 'final'` (a run or worker in one never moves again);
 * - waiting: the state nodes tagged WAITS_FOR_PERSON (they move only on a person's answer);
 * - active: every other top-level state (the machine still moves on its own or on its effects).
 * Both machines are flat (no nested states), so the top-level nodes are all the states there are.
 */
import type { AnyStateMachine } from 'xstate';
import { WAITS_FOR_PERSON } from './state-tags.js';
import { workerMachine } from './worker.js';
import { workflowMachine } from './workflow.js';

export interface StateSets {
  final: readonly string[];
  waiting: readonly string[];
  active: readonly string[];
}

function stateSets(machine: AnyStateMachine): StateSets {
  const nodes = Object.values(machine.root.states);
  const final = nodes.filter((node) => node.type === 'final');
  const waiting = nodes.filter((node) => node.tags.includes(WAITS_FOR_PERSON));
  return {
    final: final.map((node) => node.key),
    waiting: waiting.map((node) => node.key),
    active: nodes.filter((node) => !final.includes(node) && !waiting.includes(node)).map((node) => node.key),
  };
}

/** Plain arrays, so the web API can hand them to the page as they are. */
export const STATE_SETS: Readonly<Record<'workflow' | 'worker', StateSets>> = Object.freeze({
  workflow: stateSets(workflowMachine),
  worker: stateSets(workerMachine),
});

const FINAL_WORKFLOW = new Set(STATE_SETS.workflow.final);
const WAITING_WORKER = new Set(STATE_SETS.worker.waiting);

/** The workflow state ends the run (completed, failed, cancelled). */
export const isFinalWorkflowState = (state: string): boolean => FINAL_WORKFLOW.has(state);

/** The worker state waits for a person (a trust gate, a failure escalated to a human). */
export const isWaitingWorkerState = (state: string): boolean => WAITING_WORKER.has(state);
