/** Starts a new run: records `run.started` with everything resume will need, then hands it to an engine. */
import { join } from 'node:path';
import { MACHINE_VERSION } from '../../machines/index.js';
import { ConcurrencyError } from '../store/store-errors.js';
import type { EngineDeps } from './run-engine.js';
import { RunEngine } from './run-engine.js';
import type { RunStarted } from '../fold/run-events.js';
import { newRunId } from './run-id.js';
import { RunLease } from './run-lease.js';
import { startRunState } from '../fold/run-state.js';
import { isEffect } from '../fold/run-batch.js';

export interface RunOptions {
  objective: string;
  cwd: string;
  /** Where logs and status files go; default `<cwd>/.overseer/runs`. */
  runsDir?: string;
  concurrency: number;
  packets: RunStarted['packets'];
  autoApprove: boolean;
  workerCommand: string | null;
  policy?: RunStarted['policy'];
  services?: RunStarted['services'];
  bootstrap?: RunStarted['bootstrap'];
  lanes?: RunStarted['lanes'] | null;
}

export async function startRun(deps: EngineDeps, options: RunOptions): Promise<RunEngine> {
  for (let tries = 0; ; tries++) {
    const runId = newRunId();
    const payload: RunStarted = {
      runId,
      objective: options.objective,
      cwd: options.cwd,
      runDir: join(options.runsDir ?? join(options.cwd, '.overseer', 'runs'), runId),
      machineVersion: MACHINE_VERSION,
      concurrency: options.concurrency,
      packets: options.packets,
      autoApprove: options.autoApprove,
      workerCommand: options.workerCommand,
      policy: options.policy ?? null,
      services: options.services ?? { planner: null, bootstrap: null, workerService: null, callTimeoutMs: 30_000 },
      bootstrap: options.bootstrap ?? [],
      ...(options.lanes == null ? {} : { lanes: options.lanes }),
    };
    const event = { type: 'run.started', machine: 'workflow' as const, workerId: null, payload };
    const at = new Date(deps.clock.now());
    const { state, actions, stateAfter } = startRunState(event, at);
    try {
      await deps.store.startRun(
        { runId, objective: options.objective, cwd: options.cwd, machineVersion: MACHINE_VERSION, status: 'running' },
        [{ ...event, stateAfter, createdAt: at }],
      );
    } catch (error) {
      if (error instanceof ConcurrencyError && tries < 3) continue;
      throw error;
    }
    const engine = new RunEngine(deps, state);
    engine.hold(await RunLease.take(deps.store, runId));
    await engine.watchForeignEvents();
    engine.perform(actions.filter(isEffect));
    return engine;
  }
}
