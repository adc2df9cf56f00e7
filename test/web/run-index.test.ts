/**
 * The viewer's index of a run answers every position as the fold does: each worker's state, the run's
 * status and the waiting workers, after every event of a real run (driven by the engine: workers that
 * finish, fail and wait at their trust gates), read back through each store backend.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driveFleetRun, fleetTaskId } from '../../bench/lib/fleet-run.js';
import { foldEvents } from '../../src/fold/rebuild-run.js';
import { importRun } from '../../src/inspect/run-import.js';
import { summarizeRun, waitingWorkers } from '../../src/fold/run-status.js';
import type { EventStore, StoredEvent } from '../../src/store/event-store.js';
import { INDEX_PAYLOADS, RunIndex } from '../../src/web/run-index.js';
import { foldView } from '../../src/web/run-view.js';
import { testBackends, type TestTarget } from '../support/backends.js';
import { GOLDEN_LOGS, goldenLog } from '../support/golden-logs.js';

describe.each(testBackends())('the run index on $name', (backend) => {
  let target: TestTarget;
  let store: EventStore;
  let cwd: string;
  let runId: string;
  let machineVersion: string;
  let events: StoredEvent[];

  beforeAll(async () => {
    target = await backend.newTarget();
    store = await target.open();
    cwd = await mkdtemp(join(tmpdir(), 'overseer-index-'));
    const fleet = await driveFleetRun(store, cwd, { tasks: 24, concurrency: 4, waiting: [fleetTaskId(2), fleetTaskId(20)], failing: [fleetTaskId(5)] });
    runId = fleet.runId;
    machineVersion = fleet.run.machineVersion;
    events = await store.readStream(runId);
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    await target?.dispose();
    await rm(cwd, { recursive: true, force: true });
  });

  it('gives, after every event, the workers, status and waiting workers the fold gives', async () => {
    const index = new RunIndex(runId, machineVersion);
    // Built the way serve builds it: the log in outline, then the events after it (repeats skipped).
    await store.readOutlines(runId, { payloadTypes: INDEX_PAYLOADS, toVersion: 40 }, (event) => index.add(event));
    await store.readOutlines(runId, { payloadTypes: INDEX_PAYLOADS, fromVersion: 38 }, (event) => index.add(event));
    expect(index.version).toBe(events.length);
    const noPackets = () => undefined;
    for (let version = 1; version <= events.length; version += 1) {
      const summary = summarizeRun(foldEvents(events.slice(0, version)));
      const lanes = Object.fromEntries(index.lanesAt(version).map(({ lane, entry }) => [lane.workerId, [entry.state, entry.attempt]]));
      expect([version, lanes]).toEqual([version, Object.fromEntries(summary.workers.map((w) => [w.workerId, [w.state, w.attempt]]))]);
      const view = foldView(index.at(version), noPackets);
      expect([version, view.status, view.waiting.map((w) => w.workerId).sort()]).toEqual([version, summary.status, waitingWorkers(summary).sort()]);
    }
    const last = foldView(index.at(events.length), noPackets);
    expect(last.groups.slice(0, 2)).toEqual([
      { state: 'awaitingTrust', count: 2 },
      { state: 'failed', count: 1 },
    ]);
    expect(last.failureKinds).toEqual([{ kind: 'exit_nonzero', count: 1 }]);
    expect(index.versionAtPosition(events[9]!.position)).toBe(10);
    expect(index.versionAtPosition(0n)).toBe(0);
    expect(index.eventAt(events.length)).toEqual({
      version: events.length,
      position: events.at(-1)!.position,
      at: events.at(-1)!.createdAt.getTime(),
      type: events.at(-1)!.type,
      machine: events.at(-1)!.machine,
      workerId: events.at(-1)!.workerId,
      state: index.workflowStateAt(events.length),
      machineEvent: events.at(-1)!.type,
      before: expect.any(String) as unknown,
    });
  });

  // Runs of the released machine versions (workflow@1 with worker@1 or worker@2, agent lanes among them).
  it.each(GOLDEN_LOGS)('gives, after every event of golden log %s, what the fold gives', async (file) => {
    const { runId: golden } = await importRun(store, goldenLog(file));
    const log = await store.readStream(golden);
    const index = new RunIndex(golden, (await store.getRun(golden))!.machineVersion);
    await store.readOutlines(golden, { payloadTypes: INDEX_PAYLOADS }, (event) => index.add(event));
    expect(index.version).toBe(log.length);
    for (let version = 1; version <= log.length; version += 1) {
      const summary = summarizeRun(foldEvents(log.slice(0, version)));
      const lanes = Object.fromEntries(index.lanesAt(version).map(({ lane, entry }) => [lane.workerId, [entry.state, entry.attempt]]));
      expect([version, lanes]).toEqual([version, Object.fromEntries(summary.workers.map((w) => [w.workerId, [w.state, w.attempt]]))]);
      const view = foldView(index.at(version), () => undefined);
      expect([version, view.status, view.waiting.map((w) => w.workerId).sort()]).toEqual([version, summary.status, waitingWorkers(summary).sort()]);
    }
  });
});
