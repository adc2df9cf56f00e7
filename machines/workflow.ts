/**
 * The run's workflow: planning → bootstrapping → dispatching → verifying → completed | failed,
 * plus cancelled. It decides which task packets get a worker and when the run is over; the runtime
 * performs what it asks for (planning, bootstrap phases, spawning and cancelling workers).
 */
import { assign, setup } from 'xstate';
import { activeTaskIds, allDone, allSettled, markDispatched, readyTasks, recordOutcome, TaskTable, unfinishedCount } from './task-graph.js';
import type { WorkflowEvent } from './events.js';

export interface WorkflowInput {
  runId: string;
  concurrency: number;
}

export interface WorkflowContext {
  runId: string;
  concurrency: number;
  tasks: TaskTable;
  /** Why the run failed or was cancelled, for people. */
  reason: string | null;
}

export const workflowMachine = setup({
  types: {
    context: {} as WorkflowContext,
    events: {} as WorkflowEvent,
    input: {} as WorkflowInput,
  },
  guards: {
    allSettled: ({ context }) => allSettled(context.tasks),
    allDone: ({ context }) => allDone(context.tasks),
    failsRun: ({ event }) => event.type === 'task.finished' && event.outcome !== 'done' && event.escalation === 'fail_run',
  },
  actions: {
    startPlanning: () => {},
    startBootstrap: () => {},
    spawnWorkers: (_, _params: { taskIds: string[] }) => {},
    markDispatched: assign(({ context }) => ({ tasks: markDispatched(context.tasks, readyTasks(context.tasks, context.concurrency)) })),
    cancelWorkers: (_, _params: { taskIds: string[] }) => {},
    runFinished: () => {},
  },
}).createMachine({
  id: 'workflow',
  context: ({ input }) => ({ runId: input.runId, concurrency: input.concurrency, tasks: TaskTable.fromEntries([]), reason: null }),
  initial: 'planning',
  on: {
    'run.cancel': {
      target: '.cancelled',
      actions: [{ type: 'cancelWorkers', params: ({ context }) => ({ taskIds: activeTaskIds(context.tasks) }) }, assign({ reason: ({ event }) => `cancelled by ${event.by}: ${event.reason}` })],
    },
  },
  states: {
    planning: {
      entry: 'startPlanning',
      on: {
        'plan.ready': {
          target: 'bootstrapping',
          actions: assign({
            tasks: ({ event }) => TaskTable.fromEntries(event.packets.map((t) => ({ id: t.id, dependsOn: [...t.dependsOn], status: 'pending' as const }))),
          }),
        },
        'plan.failed': { target: 'failed', actions: assign({ reason: ({ event }) => `planning failed: ${event.reason}` }) },
      },
    },
    bootstrapping: {
      entry: 'startBootstrap',
      on: {
        'bootstrap.completed': 'dispatching',
        'bootstrap.failed': {
          target: 'failed',
          actions: assign({ reason: ({ event }) => `bootstrap phase ${event.phase} failed: ${event.reason}` }),
        },
      },
    },
    dispatching: {
      entry: [{ type: 'spawnWorkers', params: ({ context }) => ({ taskIds: readyTasks(context.tasks, context.concurrency) }) }, 'markDispatched'],
      always: { guard: 'allSettled', target: 'verifying' },
      on: {
        'task.finished': [
          {
            guard: 'failsRun',
            target: 'failed',
            actions: [
              assign(({ context, event }) => ({
                tasks: recordOutcome(context.tasks, event.taskId, event.outcome, event.escalation),
                reason: `task ${event.taskId} ${event.outcome}${event.detail === null ? '' : ` (${event.detail})`}`,
              })),
              { type: 'cancelWorkers', params: ({ context }) => ({ taskIds: activeTaskIds(context.tasks) }) },
            ],
          },
          {
            actions: [
              assign(({ context, event }) => ({ tasks: recordOutcome(context.tasks, event.taskId, event.outcome, event.escalation) })),
              { type: 'spawnWorkers', params: ({ context }) => ({ taskIds: readyTasks(context.tasks, context.concurrency) }) }, 'markDispatched',
            ],
          },
        ],
      },
    },
    verifying: {
      always: [
        { guard: 'allDone', target: 'completed' },
        {
          target: 'failed',
          actions: assign(({ context }) => ({
            reason: `${String(unfinishedCount(context.tasks))} of ${String(context.tasks.size)} tasks did not complete`,
          })),
        },
      ],
    },
    completed: { type: 'final', entry: 'runFinished' },
    failed: { type: 'final', entry: 'runFinished' },
    cancelled: { type: 'final', entry: 'runFinished' },
  },
});
