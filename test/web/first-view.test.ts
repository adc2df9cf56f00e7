/**
 * A run's first answers, given before `serve` has read its log (from the store's per-worker aggregates
 * and the events of the lanes shown), are the answers its index gives, to the byte: for a fleet run
 * driven by the engine (workers done, failed, waiting at their trust gates) with filters and offsets,
 * and for every golden log of the released machine versions (agent lanes, retries, escalations).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driveFleetRun, fleetTaskId } from '../../bench/lib/fleet-run.js';
import { importRun } from '../../src/inspect/run-import.js';
import type { EventStore } from '../../src/store/event-store.js';
import { RunIndexes } from '../../src/web/run-indexes.js';
import { lanePage, runView, runViewLanes, type LaneFilter } from '../../src/web/run-view.js';
import { ViewerStore } from '../../src/web/viewer-store.js';
import { testBackends, type TestTarget } from '../support/backends.js';
import { GOLDEN_LOGS, goldenLog } from '../support/golden-logs.js';

interface Query {
  filter: LaneFilter;
  offset: number;
  limit: number;
}

const FLEET_QUERIES: Query[] = [
  { filter: {}, offset: 0, limit: 120 },
  { filter: {}, offset: 60, limit: 60 },
  { filter: {}, offset: 150, limit: 200 },
  { filter: {}, offset: 10_000, limit: 60 },
  { filter: {}, offset: 0, limit: 1 },
  { filter: { state: 'done' }, offset: 30, limit: 60 },
  { filter: { state: 'awaitingTrust' }, offset: 0, limit: 60 },
  { filter: { state: 'failed' }, offset: 0, limit: 60 },
  { filter: { failureKind: 'exit_nonzero' }, offset: 0, limit: 60 },
  { filter: { worker: 'TASK-0001' }, offset: 0, limit: 60 },
  { filter: { worker: '7', state: 'done' }, offset: 5, limit: 20 },
  { filter: { worker: 'no such worker' }, offset: 0, limit: 60 },
];

/**
 * Each query's view of the run as first answered (read ahead as on the page's request, or not, as for
 * a client of the API alone), and as answered by the index once read.
 */
async function bothAnswers(store: EventStore, runId: string, queries: readonly Query[]): Promise<{ first: unknown[]; indexed: unknown[] }> {
  const first: unknown[] = [];
  const indexed: unknown[] = [];
  const json = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
  for (const readAhead of [true, false]) {
    for (const { filter, offset, limit } of queries) {
      const indexes = new RunIndexes(new ViewerStore(() => Promise.resolve(store), () => undefined));
      if (readAhead) indexes.readAhead(runId);
      const newest = await indexes.newest(runId, undefined, runViewLanes(filter, offset, limit));
      if (newest === undefined) throw new Error('the index was read before the first answer');
      first.push(json(runView(newest.run, newest.at, newest.packets, lanePage(newest.at, filter, offset, limit, newest.packets))));
      const { run, index, packets } = await indexes.get(runId);
      const at = index.at(index.version);
      indexed.push(json(runView(run, at, packets, lanePage(at, filter, offset, limit, packets))));
      expect(await indexes.newest(runId, undefined, runViewLanes(filter, offset, limit))).toBeUndefined();
    }
  }
  return { first, indexed };
}

describe.each(testBackends())('the first answers on $name', (backend) => {
  let target: TestTarget;
  let store: EventStore;
  let cwd: string;

  beforeAll(async () => {
    target = await backend.newTarget();
    store = await target.open();
    cwd = await mkdtemp(join(tmpdir(), 'overseer-first-view-'));
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    await target?.dispose();
    await rm(cwd, { recursive: true, force: true });
  });

  it('are the index answers for a fleet run, whatever the filter and offset', async () => {
    const fleet = await driveFleetRun(store, cwd, { tasks: 400, concurrency: 8, waiting: [fleetTaskId(2), fleetTaskId(200), fleetTaskId(398)], failing: [fleetTaskId(5), fleetTaskId(300)] });
    const { first, indexed } = await bothAnswers(store, fleet.runId, FLEET_QUERIES);
    expect(first).toEqual(indexed);
    // The answers are about something: lanes of each group, packets beside them.
    const whole = first[0] as { groups: unknown[]; waitingTotal: number; lanes: { total: number; rows: { objective: string | null; failure: string | null }[] } };
    expect(whole.groups).toEqual([
      { state: 'awaitingTrust', count: 3 },
      { state: 'failed', count: 2 },
      { state: 'done', count: 395 },
    ]);
    expect(whole.waitingTotal).toBe(3);
    expect(whole.lanes.total).toBe(400);
    expect(whole.lanes.rows[3]).toMatchObject({ objective: 'fleet task 6', failure: expect.stringMatching(/^exit_nonzero/) as unknown });
  }, 120_000);

  it.each(GOLDEN_LOGS)('are the index answers for golden log %s', async (file) => {
    const { runId } = await importRun(store, goldenLog(file));
    const states = ['done', 'failed', 'awaitingTrust', 'escalated', 'denied', 'cancelled', 'running'];
    const queries: Query[] = [{ filter: {}, offset: 0, limit: 60 }, { filter: {}, offset: 1, limit: 2 }, ...states.map((state) => ({ filter: { state }, offset: 0, limit: 60 }))];
    const { first, indexed } = await bothAnswers(store, runId, queries);
    expect(first).toEqual(indexed);
  });
});
