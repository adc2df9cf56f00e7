import { initialTransition, transition } from 'xstate';
import { describe, expect, it } from 'vitest';
import type { WorkflowEvent } from '../../machines/events.js';
import { workflowMachine } from '../../machines/workflow.js';

function run(events: WorkflowEvent[], concurrency = 2) {
  let [snapshot, actions] = initialTransition(workflowMachine, { runId: 'r1', concurrency });
  const spawned: string[][] = [];
  const cancelled: string[][] = [];
  const collect = () => {
    for (const a of actions) {
      const params = a.params as { taskIds?: string[] } | undefined;
      if (a.type === 'spawnWorkers' && params?.taskIds?.length) spawned.push(params.taskIds);
      if (a.type === 'cancelWorkers' && params?.taskIds?.length) cancelled.push(params.taskIds);
    }
  };
  for (const event of events) {
    [snapshot, actions] = transition(workflowMachine, snapshot, event);
    collect();
  }
  return { snapshot, spawned, cancelled };
}

const diamond: WorkflowEvent = {
  type: 'plan.ready',
  packets: [
    { id: 'a', dependsOn: [] },
    { id: 'b', dependsOn: ['a'] },
    { id: 'c', dependsOn: ['a'] },
    { id: 'd', dependsOn: ['b', 'c'] },
  ],
};
const finished = (taskId: string, outcome: 'done' | 'failed' = 'done', escalation: 'skip' | 'fail_run' | null = null): WorkflowEvent => ({
  type: 'task.finished',
  taskId,
  outcome,
  escalation,
  detail: null,
});

describe('workflow machine', () => {
  it('dispatches a diamond in dependency order and completes', () => {
    const { snapshot, spawned } = run([diamond, { type: 'bootstrap.completed', phases: [], artifacts: {} }, finished('a'), finished('b'), finished('c'), finished('d')]);
    expect(spawned).toEqual([['a'], ['b', 'c'], ['d']]);
    expect(snapshot.value).toBe('completed');
  });

  it('never has more tasks dispatched than the concurrency limit', () => {
    const wide: WorkflowEvent = { type: 'plan.ready', packets: ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id, dependsOn: [] })) };
    const { spawned } = run([wide, { type: 'bootstrap.completed', phases: [], artifacts: {} }, finished('a'), finished('b')], 2);
    expect(spawned).toEqual([['a', 'b'], ['c'], ['d']]);
  });

  it('skips the dependents of a failed task, runs the rest, and ends failed', () => {
    const { snapshot, spawned } = run([diamond, { type: 'bootstrap.completed', phases: [], artifacts: {} }, finished('a'), finished('b', 'failed', 'skip'), finished('c')]);
    expect(spawned).toEqual([['a'], ['b', 'c']]);
    expect(snapshot.value).toBe('failed');
    expect(snapshot.context.tasks.statusOf('d')).toBe('skipped');
  });

  it('fail_run cancels the running workers and fails at once', () => {
    const { snapshot, cancelled } = run([diamond, { type: 'bootstrap.completed', phases: [], artifacts: {} }, finished('a'), finished('b', 'failed', 'fail_run')]);
    expect(snapshot.value).toBe('failed');
    expect(cancelled).toEqual([['c']]);
  });
});
