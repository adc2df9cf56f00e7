/**
 * The run's services retrying calls: a call bound to a worker-service process that another caller
 * replaced meanwhile was never sent, so it goes again on the new process without counting as a failure.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { succeeded } from '../../src/rpc/service-errors.js';
import { RunServices, type ServiceFailure } from '../../src/workers/run-services.js';
import { peerCommand, REPO_ROOT } from '../support/service-peers.js';

let runDir: string;
let services: RunServices;
beforeEach(async () => {
  runDir = await mkdtemp(join(tmpdir(), 'overseer-run-services-'));
  // The peer answers ping and exits on any other call; back-offs pass at once.
  const run = { runId: 'r', cwd: REPO_ROOT, runDir, services: { workerService: peerCommand('exit-mid-call'), callTimeoutMs: 30_000 } };
  services = new RunServices(run, { setTimer: (fn) => setTimeout(fn, 0) });
});
afterEach(async () => {
  await services.stop();
  await rm(runDir, { recursive: true, force: true });
});

it('a call bound to a process another caller replaced meanwhile goes again on the new one, and no failure is counted', async () => {
  const reported: Array<{ caller: string; failure: ServiceFailure }> = [];
  const report = (caller: string) => (failure: ServiceFailure) => Promise.resolve(void reported.push({ caller, failure }));
  const tried: Array<{ caller: string; incarnation: number }> = [];

  const checked = await services.withRetries(
    'worker service',
    'check_trust',
    async (incarnation) => {
      tried.push({ caller: 'check_trust', incarnation });
      if (incarnation !== 1) return succeeded({ requires_approval: false });
      // Meanwhile another worker's call kills process 1, and that caller's retry replaces it with process 2.
      const other = await services.withRetries(
        'worker service',
        'spawn_worker',
        async (on) => {
          tried.push({ caller: 'spawn_worker', incarnation: on });
          return on === 1 ? services.worker().spawnWorker({ id: 'other' }, { incarnation: on }) : succeeded({ worker_id: 'worker_1' });
        },
        report('spawn_worker'),
      );
      expect(other.ok).toBe(true);
      // This worker's id came from process 1: the call is not sent to process 2.
      return services.worker().checkTrust('worker_1', { incarnation });
    },
    report('check_trust'),
  );

  expect(checked).toEqual(succeeded({ requires_approval: false }));
  expect(tried).toEqual([
    { caller: 'check_trust', incarnation: 1 },
    { caller: 'spawn_worker', incarnation: 1 },
    { caller: 'spawn_worker', incarnation: 2 },
    { caller: 'check_trust', incarnation: 2 },
  ]);
  // Only the call that met the exit failed; the stale one is no service.error.
  expect(reported.map(({ caller, failure }) => [caller, failure.attempt, failure.error.code])).toEqual([['spawn_worker', 1, 'spawn_failed']]);
});
