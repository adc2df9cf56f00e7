/**
 * The workflow's view of its task packets: the task table and pure functions over it, so dispatch
 * order, skipping and completion are the same live and on replay.
 *
 * The table is immutable, as an xstate context must be, and incremental: statuses live in a
 * persistent vector, the tasks whose dependencies are all done in a ready queue, and each task's
 * dependents in an index built once per plan, so an event costs what it changes rather than the
 * size of the plan. Its JSON is the plain list of entries in plan order, `{ id, dependsOn, status }`:
 * persisted snapshots keep that shape, and `TaskTable.fromEntries` derives the indexes again.
 *
 * Task ids are unique within a plan (plan files and planner results are validated for it).
 */
import { PersistentVector } from './persistent-vector.js';
import { EMPTY_QUEUE, peek, pop, push, type ReadyQueue } from './ready-queue.js';
import type { Escalation } from './recovery.js';
import type { WorkerOutcome } from './events.js';

export const TASK_STATUSES = ['pending', 'dispatched', 'done', 'failed', 'denied', 'skipped', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export interface TaskEntry {
  id: string;
  dependsOn: string[];
  status: TaskStatus;
}

type Counts = Readonly<Record<TaskStatus, number>>;

/** What never changes for one plan: shared by every version of its table. */
interface PlanIndex {
  /** In plan order: the order the user wrote is the order ties are broken in. */
  readonly ids: readonly string[];
  readonly dependsOn: readonly string[][];
  readonly positions: ReadonlyMap<string, number>;
  /** For each task, the positions of the tasks that depend on it (each once). */
  readonly dependents: readonly (readonly number[])[];
  /** For each task, its distinct dependencies (an id the plan does not have is never done). */
  readonly distinctDeps: readonly (readonly string[])[];
}

export class TaskTable {
  // Private fields keep the table opaque to xstate's persistContext, which walks enumerable keys.
  readonly #plan: PlanIndex;
  readonly #status: PersistentVector<TaskStatus>;
  /** Per task, how many of its dependencies are not done yet. */
  readonly #waitingOn: PersistentVector<number>;
  /** Every pending task with nothing left to wait on, by plan position; its front is always one. */
  readonly #ready: ReadyQueue;
  readonly #counts: Counts;
  /**
   * The last `ready` answer and the queue without the entries it looked at: the workflow asks twice
   * per event (what to spawn, then what to mark dispatched) and then dispatches exactly those, so
   * `with` can start from the rest instead of taking them off the queue a second and third time.
   * A cache of a pure function of this table, not part of its value.
   */
  #readyMemo: { limit: number; ids: string[]; positions: number[]; rest: ReadyQueue } | undefined;

  private constructor(plan: PlanIndex, status: PersistentVector<TaskStatus>, waitingOn: PersistentVector<number>, ready: ReadyQueue, counts: Counts) {
    this.#plan = plan;
    this.#status = status;
    this.#waitingOn = waitingOn;
    this.#ready = ready;
    this.#counts = counts;
  }

  /** A table from its entries: a new plan, or a persisted table read back. */
  static fromEntries(entries: readonly TaskEntry[]): TaskTable {
    const ids = entries.map((t) => t.id);
    const positions = new Map(ids.map((id, position) => [id, position]));
    const distinctDeps = entries.map((t) => [...new Set(t.dependsOn)]);
    const dependents: number[][] = ids.map(() => []);
    distinctDeps.forEach((deps, position) => {
      for (const dep of deps) {
        const at = positions.get(dep);
        if (at !== undefined) dependents[at]?.push(position);
      }
    });
    const isDone = (id: string) => entries[positions.get(id) ?? -1]?.status === 'done';
    const waitingOn = distinctDeps.map((deps) => deps.filter((dep) => !isDone(dep)).length);
    const counts = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
    let ready = EMPTY_QUEUE;
    entries.forEach((t, position) => {
      counts[t.status] += 1;
      if (t.status === 'pending' && waitingOn[position] === 0) ready = push(ready, position);
    });
    const plan: PlanIndex = { ids, dependsOn: entries.map((t) => t.dependsOn), positions, dependents, distinctDeps };
    return new TaskTable(plan, PersistentVector.from(entries.map((t) => t.status)), PersistentVector.from(waitingOn), ready, counts);
  }

  get size(): number {
    return this.#plan.ids.length;
  }

  count(status: TaskStatus): number {
    return this.#counts[status];
  }

  statusOf(id: string): TaskStatus | undefined {
    const position = this.#plan.positions.get(id);
    return position === undefined ? undefined : this.#status.get(position);
  }

  /** The ids of the tasks that depend on `id`. */
  dependentsOf(id: string): string[] {
    const position = this.#plan.positions.get(id);
    return position === undefined ? [] : (this.#plan.dependents[position] ?? []).map((p) => this.#plan.ids[p] as string);
  }

  /** Up to `limit` pending tasks whose dependencies are all done, in plan order. */
  ready(limit: number): string[] {
    if (this.#readyMemo?.limit !== limit) {
      const positions: number[] = [];
      const seen = new Set<number>();
      let queue = this.#ready;
      for (let position = peek(queue); position !== undefined && positions.length < limit; position = peek(queue)) {
        if (this.#isReady(position) && !seen.has(position)) positions.push(position);
        seen.add(position);
        queue = pop(queue);
      }
      this.#readyMemo = { limit, ids: positions.map((p) => this.#plan.ids[p] as string), positions, rest: queue };
    }
    return [...this.#readyMemo.ids];
  }

  /** A new version with the given statuses; ids the plan does not have are ignored. Always a new object. */
  with(changes: Iterable<readonly [string, TaskStatus]>): TaskTable {
    let status = this.#status;
    let waitingOn = this.#waitingOn;
    // Pushes below go onto this queue: the memo's rest when the changes take every task it answered
    // out of pending (see #readyMemo), which `status` tells once they are applied.
    const memo = this.#readyMemo;
    const pushed: number[] = [];
    const counts = { ...this.#counts };
    for (const [id, next] of changes) {
      const position = this.#plan.positions.get(id);
      if (position === undefined) continue;
      const before = status.get(position);
      if (before === next) continue;
      status = status.set(position, next);
      counts[before] -= 1;
      counts[next] += 1;
      // Leaving or reaching `done` changes what each dependent still waits on.
      const step = before === 'done' ? 1 : next === 'done' ? -1 : 0;
      if (step !== 0) {
        for (const dependent of this.#plan.dependents[position] ?? []) {
          const waits = waitingOn.get(dependent) + step;
          waitingOn = waitingOn.set(dependent, waits);
          if (waits === 0 && status.get(dependent) === 'pending') pushed.push(dependent);
        }
      }
      if (next === 'pending' && waitingOn.get(position) === 0) pushed.push(position);
    }
    const answeredAll = memo !== undefined && memo.positions.every((p) => status.get(p) !== 'pending');
    let ready = answeredAll ? memo.rest : this.#ready;
    for (const position of pushed) ready = push(ready, position);
    const table = new TaskTable(this.#plan, status, waitingOn, ready, counts);
    return table.#withReadyFront();
  }

  entries(): TaskEntry[] {
    const statuses = this.#status.toArray();
    return this.#plan.ids.map((id, position) => ({ id, dependsOn: this.#plan.dependsOn[position] ?? [], status: statuses[position] ?? 'pending' }));
  }

  toJSON(): TaskEntry[] {
    return this.entries();
  }

  #isReady(position: number): boolean {
    return this.#status.get(position) === 'pending' && this.#waitingOn.get(position) === 0;
  }

  /** Drops entries that stopped being ready (dispatched, mostly) from the front of the queue. */
  #withReadyFront(): TaskTable {
    let ready = this.#ready;
    for (let front = peek(ready); front !== undefined && !this.#isReady(front); front = peek(ready)) ready = pop(ready);
    return ready === this.#ready ? this : new TaskTable(this.#plan, this.#status, this.#waitingOn, ready, this.#counts);
  }
}

/** Pending tasks whose dependencies are all done, at most as many as free worker slots. */
export function readyTasks(tasks: TaskTable, concurrency: number): string[] {
  const free = concurrency - tasks.count('dispatched');
  return free <= 0 ? [] : tasks.ready(free);
}

export function markDispatched(tasks: TaskTable, ids: readonly string[]): TaskTable {
  return tasks.with(ids.map((id) => [id, 'dispatched'] as const));
}

/** Records a worker's outcome; a task that did not succeed takes every pending dependent with it. */
export function recordOutcome(tasks: TaskTable, taskId: string, outcome: WorkerOutcome, escalation: Escalation | null): TaskTable {
  const changes = new Map<string, TaskStatus>();
  if (tasks.statusOf(taskId) === 'dispatched') changes.set(taskId, outcome);
  if (outcome === 'done' || escalation === 'fail_run') return tasks.with(changes);
  const blocked = [taskId];
  for (let id = blocked.pop(); id !== undefined; id = blocked.pop()) {
    for (const dependent of tasks.dependentsOf(id)) {
      if (tasks.statusOf(dependent) !== 'pending' || changes.has(dependent)) continue;
      changes.set(dependent, 'skipped');
      blocked.push(dependent);
    }
  }
  return tasks.with(changes);
}

/** The dispatched tasks, in plan order (asked when a run stops, so a scan is fine). */
export function activeTaskIds(tasks: TaskTable): string[] {
  return tasks.entries().filter((t) => t.status === 'dispatched').map((t) => t.id);
}

export function allSettled(tasks: TaskTable): boolean {
  return tasks.count('pending') + tasks.count('dispatched') === 0;
}

export function allDone(tasks: TaskTable): boolean {
  return tasks.count('done') === tasks.size;
}

/** How many tasks ended any other way than done. */
export function unfinishedCount(tasks: TaskTable): number {
  return tasks.size - tasks.count('done');
}
