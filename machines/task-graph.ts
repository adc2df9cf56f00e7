/**
 * The workflow's view of its task packets: pure functions over the task table, so dispatch order,
 * skipping and completion are the same live and on replay.
 */
import type { Escalation } from './recovery.js';
import type { WorkerOutcome } from './events.js';

export const TASK_STATUSES = ['pending', 'dispatched', 'done', 'failed', 'denied', 'skipped', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export interface TaskEntry {
  id: string;
  dependsOn: string[];
  status: TaskStatus;
}

/** In plan order: the order the user wrote is the order ties are broken in. */
export type TaskTable = TaskEntry[];

const SETTLED: ReadonlySet<TaskStatus> = new Set(['done', 'failed', 'denied', 'skipped', 'cancelled']);

export function isSettled(task: TaskEntry): boolean {
  return SETTLED.has(task.status);
}

/** Pending tasks whose dependencies are all done, at most as many as free worker slots. */
export function readyTasks(tasks: TaskTable, concurrency: number): string[] {
  const done = new Set(tasks.filter((t) => t.status === 'done').map((t) => t.id));
  const free = concurrency - tasks.filter((t) => t.status === 'dispatched').length;
  if (free <= 0) return [];
  return tasks
    .filter((t) => t.status === 'pending' && t.dependsOn.every((d) => done.has(d)))
    .slice(0, free)
    .map((t) => t.id);
}

export function markDispatched(tasks: TaskTable, ids: readonly string[]): TaskTable {
  const chosen = new Set(ids);
  return tasks.map((t) => (chosen.has(t.id) ? { ...t, status: 'dispatched' } : t));
}

/** Records a worker's outcome; a task that did not succeed takes every pending dependent with it. */
export function recordOutcome(tasks: TaskTable, taskId: string, outcome: WorkerOutcome, escalation: Escalation | null): TaskTable {
  let next = tasks.map((t) => (t.id === taskId && t.status === 'dispatched' ? { ...t, status: outcome } : t));
  if (outcome === 'done' || escalation === 'fail_run') return next;
  const blocked = new Set([taskId]);
  let grew = true;
  while (grew) {
    grew = false;
    next = next.map((t) => {
      if (t.status !== 'pending' || !t.dependsOn.some((d) => blocked.has(d))) return t;
      blocked.add(t.id);
      grew = true;
      return { ...t, status: 'skipped' };
    });
  }
  return next;
}

export function activeTaskIds(tasks: TaskTable): string[] {
  return tasks.filter((t) => t.status === 'dispatched').map((t) => t.id);
}

export function allSettled(tasks: TaskTable): boolean {
  return tasks.every(isSettled);
}

export function allDone(tasks: TaskTable): boolean {
  return tasks.every((t) => t.status === 'done');
}
