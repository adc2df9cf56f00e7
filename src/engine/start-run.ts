/** Starts a new run: records `run.started` with everything resume will need, then hands it to an engine. */
import { join } from 'node:path';
import { MACHINE_VERSION } from '../../machines/index.js';
import { ConcurrencyError } from '../store/store-errors.js';
import type { EngineDeps } from './run-engine.js';
import { RunEngine } from './run-engine.js';
import type { RunStarted } from '../fold/run-events.js';
import { newRunId } from './run-id.js';
import { RunLease } from './run-lease.js';
import { startRunState, type RunState } from '../fold/run-state.js';
import type { MachineAction } from '../fold/machine-actions.js';
import { isEffect } from '../fold/run-batch.js';
import { recordedPacket } from '../fold/packet-spec.js';

export interface RunOptions {
  objective: string;
  cwd: string;
  /** Where logs and process files go; default `<cwd>/.overseer/runs`. */
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

/** A run recorded but not yet in any engine's hands: what `resume` (here or detached) carries on from. */
export interface RecordedRun {
  runId: string;
  state: RunState;
  actions: readonly MachineAction[];
}

export async function startRun(deps: EngineDeps, options: RunOptions): Promise<RunEngine> {
  const { runId, state, actions } = await recordRun(deps, options);
  const engine = new RunEngine(deps, state);
  engine.hold(await RunLease.take(deps.store, runId));
  await engine.watchForeignEvents();
  engine.perform(actions.filter(isEffect));
  return engine;
}

/**
 * `overseer run --submit`: records the run and leaves it for `overseer worker` to claim (the workers
 * listening are told); nothing of it runs here. Its events so far are of epoch 0: it was never claimed.
 */
export async function submitRun(deps: Pick<EngineDeps, 'store' | 'clock'>, options: RunOptions): Promise<string> {
  return (await recordRun(deps, options, { submit: true })).runId;
}

/**
 * Records `run.started` (and the runs row, under a fresh run id if the id was taken) and nothing else:
 * no engine takes it. Resuming it, in this process or in a detached `overseer resume`, starts it exactly
 * as `startRun` would have; a submitted one is left for `overseer worker` to claim.
 */
export async function recordRun(deps: Pick<EngineDeps, 'store' | 'clock'>, options: RunOptions, { submit = false } = {}): Promise<RecordedRun> {
  for (let tries = 0; ; tries++) {
    const runId = newRunId();
    const payload: RunStarted = {
      runId,
      objective: options.objective,
      cwd: options.cwd,
      runDir: join(options.runsDir ?? join(options.cwd, '.overseer', 'runs'), runId),
      machineVersion: MACHINE_VERSION,
      concurrency: options.concurrency,
      packets: options.packets === null ? null : options.packets.map(recordedPacket),
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
        { submit },
      );
    } catch (error) {
      if (error instanceof ConcurrencyError && tries < 3) continue;
      throw error;
    }
    return { runId, state, actions };
  }
}
