/**
 * A large run as a fleet leaves it: thousands of workers, most done, a few failed, a few waiting at
 * their trust gates. It is driven by the real engine (`startRun`) with workers that exit at once (those
 * named in `failing` exit 1), so every event is one a live run writes; the engine is stopped once only
 * people can move the run on, and its log is read back so it can be written again into another store.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { systemClock } from '../../src/engine/clock.js';
import { startRun } from '../../src/engine/start-run.js';
import { defaultTrustResolver } from '../../src/gates/trust-resolver.js';
import type { EventStore, NewEvent, NewRun, RunStatus } from '../../src/store/event-store.js';
import { instantWorkerDriver } from './instant-worker-driver.js';

export interface FleetPlan {
  tasks: number;
  concurrency: number;
  /** Task ids left waiting at their trust gate (not trusted by the plan, no --auto-approve). */
  waiting: readonly string[];
  /** Task ids whose process exits 1 (default recovery: no retry, the worker fails, its task is skipped). */
  failing: readonly string[];
}

export interface FleetRun {
  runId: string;
  run: NewRun;
  status: RunStatus;
  log: NewEvent[];
  driveMs: number;
}

export const fleetTaskId = (index: number): string => `task-${String(index + 1).padStart(5, '0')}`;

/** Drives the plan on `store` until nothing moves without a person (or the run ends), then stops the engine. */
export async function driveFleetRun(store: EventStore, workDir: string, plan: FleetPlan): Promise<FleetRun> {
  const runsDir = join(workDir, 'runs');
  await mkdir(runsDir, { recursive: true });
  const waiting = new Set(plan.waiting);
  const packets = Array.from({ length: plan.tasks }, (_, index) => {
    const id = fleetTaskId(index);
    return { id, objective: `fleet task ${String(index + 1)}`, command: 'true', ...(waiting.has(id) ? {} : { trusted: true }) };
  });
  const started = Date.now();
  const engine = await startRun(
    { store, clock: systemClock, driver: instantWorkerDriver(new Set(plan.failing), 200_000), trust: defaultTrustResolver, random: Math.random },
    { objective: `fleet of ${String(plan.tasks)} tasks`, cwd: workDir, runsDir, concurrency: plan.concurrency, packets, autoApprove: false, workerCommand: null },
  );
  // Done when every task has settled but the waiting ones: the run's row says `waiting` (or it ended).
  for (;;) {
    const row = await store.getRun(engine.runId);
    if (row !== undefined && row.status !== 'running') break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await engine.idle();
  await engine.stop();
  const driveMs = Date.now() - started;
  const row = await store.getRun(engine.runId);
  if (row === undefined) throw new Error(`run ${engine.runId} has no runs row`);
  const stored = await store.readStream(engine.runId);
  const log = stored.map(({ type, payload, machine, workerId, stateAfter, createdAt }) => ({ type, payload, machine, workerId, stateAfter, createdAt }));
  const run: NewRun = { runId: row.runId, objective: row.objective, cwd: row.cwd, machineVersion: row.machineVersion, status: 'running' };
  return { runId: engine.runId, run, status: row.status, log, driveMs };
}

/** Writes a driven fleet run, event for event, into another store through its public API. */
export async function writeFleetRun(store: EventStore, fleet: FleetRun): Promise<void> {
  const [first, ...rest] = fleet.log;
  if (first === undefined) throw new Error('the fleet run has no events');
  let version = (await store.startRun(fleet.run, [first])).nextVersion;
  for (let offset = 0; offset < rest.length; offset += 500) {
    const last = offset + 500 >= rest.length;
    version = (await store.append(fleet.runId, version, rest.slice(offset, offset + 500), last ? { runStatus: fleet.status } : {})).nextVersion;
  }
}
