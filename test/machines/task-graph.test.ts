/**
 * The incremental task table decides exactly as the task table of workflow@1 did (a list scanned on
 * every event, kept below as the reference), so runs recorded under workflow@1 fold to the same
 * states; and a table read back from its JSON (a snapshot) carries on as the live one would.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WorkerOutcome } from '../../machines/events.js';
import type { Escalation } from '../../machines/recovery.js';
import { activeTaskIds, allDone, allSettled, markDispatched, readyTasks, recordOutcome, TaskTable, type TaskEntry } from '../../machines/task-graph.js';

/** workflow@1's task table, as released. */
const reference = {
  ready(tasks: TaskEntry[], concurrency: number): string[] {
    const done = new Set(tasks.filter((t) => t.status === 'done').map((t) => t.id));
    const free = concurrency - tasks.filter((t) => t.status === 'dispatched').length;
    if (free <= 0) return [];
    return tasks
      .filter((t) => t.status === 'pending' && t.dependsOn.every((d) => done.has(d)))
      .slice(0, free)
      .map((t) => t.id);
  },
  dispatch(tasks: TaskEntry[], ids: readonly string[]): TaskEntry[] {
    const chosen = new Set(ids);
    return tasks.map((t) => (chosen.has(t.id) ? { ...t, status: 'dispatched' } : t));
  },
  outcome(tasks: TaskEntry[], taskId: string, outcome: WorkerOutcome, escalation: Escalation | null): TaskEntry[] {
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
  },
};

/** Plans as a planner might send them before validation: any dependency, even on itself, later tasks or unknown ids. */
const planArb = fc.integer({ min: 0, max: 12 }).chain((n) =>
  fc.tuple(...Array.from({ length: n }, () => fc.uniqueArray(fc.integer({ min: 0, max: n + 1 }), { maxLength: 3 }))).map((deps) =>
    deps.map((d, i): TaskEntry => ({ id: `t${String(i)}`, dependsOn: d.map((j) => `t${String(j)}`), status: 'pending' })),
  ),
);

const stepArb = fc.record({
  pick: fc.nat(),
  outcome: fc.constantFrom<WorkerOutcome>('done', 'done', 'failed', 'denied', 'cancelled'),
  escalation: fc.constantFrom<Escalation | null>(null, 'skip', 'fail_run', 'ask_human'),
  restore: fc.boolean(),
});

describe('task table', () => {
  it('dispatches, records outcomes and skips exactly as workflow@1 did, also after a snapshot', () => {
    fc.assert(
      fc.property(planArb, fc.integer({ min: 1, max: 4 }), fc.array(stepArb, { maxLength: 40 }), (plan, concurrency, steps) => {
        let expected = plan;
        let table = TaskTable.fromEntries(plan);
        const check = () => {
          expect(table.entries()).toEqual(expected);
          expect(readyTasks(table, concurrency)).toEqual(reference.ready(expected, concurrency));
          expect(activeTaskIds(table)).toEqual(expected.filter((t) => t.status === 'dispatched').map((t) => t.id));
          expect(allSettled(table)).toBe(expected.every((t) => !['pending', 'dispatched'].includes(t.status)));
          expect(allDone(table)).toBe(expected.every((t) => t.status === 'done'));
        };
        const dispatch = () => {
          const ids = reference.ready(expected, concurrency);
          expected = reference.dispatch(expected, ids);
          table = markDispatched(table, readyTasks(table, concurrency));
        };
        dispatch();
        check();
        for (const step of steps) {
          // Mostly a dispatched task finishing, as the machine sends it; now and then any task at all.
          const active = expected.filter((t) => t.status === 'dispatched');
          const pool = active.length > 0 && step.pick % 5 !== 0 ? active : expected;
          const task = pool[step.pick % Math.max(pool.length, 1)];
          if (task === undefined) break;
          expected = reference.outcome(expected, task.id, step.outcome, step.escalation);
          table = recordOutcome(table, task.id, step.outcome, step.escalation);
          dispatch();
          // A snapshot: the table's JSON read back, as a resumed run gets it.
          if (step.restore) table = TaskTable.fromEntries(JSON.parse(JSON.stringify(table)) as TaskEntry[]);
          check();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('leaves every earlier version as it was', () => {
    const plan: TaskEntry[] = ['a', 'b', 'c'].map((id) => ({ id, dependsOn: id === 'a' ? [] : ['a'], status: 'pending' }));
    const first = TaskTable.fromEntries(plan);
    const dispatched = markDispatched(first, readyTasks(first, 2));
    const finished = recordOutcome(dispatched, 'a', 'done', null);
    expect(first.entries().map((t) => t.status)).toEqual(['pending', 'pending', 'pending']);
    expect(dispatched.entries().map((t) => t.status)).toEqual(['dispatched', 'pending', 'pending']);
    expect(readyTasks(dispatched, 2)).toEqual([]);
    expect(readyTasks(finished, 2)).toEqual(['b', 'c']);
  });
});
