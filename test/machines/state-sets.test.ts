/** The state sets every reader uses are read from the machine definitions, and fit the run statuses. */
import { describe, expect, it } from 'vitest';
import { STATE_SETS } from '../../machines/state-sets.js';
import { RUN_STATUSES } from '../../src/store/event-store.js';

describe('state sets', () => {
  it('name the final, waiting and active states of both machines', () => {
    expect(STATE_SETS.workflow).toEqual({ final: ['completed', 'failed', 'cancelled'], waiting: [], active: ['planning', 'bootstrapping', 'dispatching', 'verifying'] });
    expect(STATE_SETS.worker).toEqual({
      final: ['done', 'failed', 'denied', 'cancelled'],
      waiting: ['awaitingTrust', 'escalated'],
      active: ['spawned', 'trusted', 'running', 'verifying', 'merging', 'retrying'],
    });
  });

  it("an ended run's status is a workflow final state", () => {
    for (const state of STATE_SETS.workflow.final) expect(RUN_STATUSES).toContain(state);
  });
});
