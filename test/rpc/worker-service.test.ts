import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runFailureReason, workerService } from '../../src/workers/worker-service.js';
import { EXAMPLE_COMMANDS, peerCommand, recording, serviceTestContext, type ServiceTestContext } from '../support/service-peers.js';

let ctx: ServiceTestContext;
beforeEach(async () => {
  ctx = await serviceTestContext();
});
afterEach(async () => {
  await ctx.dispose();
});

async function workers(command: string) {
  const client = ctx.client(command, { name: 'worker service' });
  const started = await client.start();
  if (!started.ok) throw started.error;
  const recorded = recording(client);
  return { service: workerService(recorded), calls: recorded.calls };
}

function ok<T>(result: { ok: true; value: T } | { ok: false; error: Error }): T {
  if (!result.ok) throw result.error;
  return result.value;
}

describe('the worker service', () => {
  it('spawns, checks trust, marks trusted and runs a worker on the example service', async () => {
    const { service } = await workers(EXAMPLE_COMMANDS.worker);
    const packet = { id: 'implement', objective: 'Implement: dark mode', scope: 'module', scope_path: 'src', acceptance_tests: ['npm test'] };
    const { worker_id: workerId } = ok(await service.spawnWorker(packet));
    expect(workerId).toBe('worker_1');
    expect(ok(await service.checkTrust(workerId))).toEqual({ requires_approval: true });
    expect(ok(await service.markTrusted(workerId, 'overseer_policy'))).toEqual({ worker_id: 'worker_1', trusted: true });
    expect(ok(await service.runWorker(workerId))).toEqual({
      supported: true,
      reply: { status: 'done', output: 'Implement: dark mode (scope src; acceptance tests: npm test)' },
    });
    expect(service.runWorkerSupported).toBe(true);
  });

  it('gets the same worker back when spawn_worker is repeated for a packet (a retry or a resume)', async () => {
    const { service } = await workers(EXAMPLE_COMMANDS.worker);
    const first = ok(await service.spawnWorker({ id: 'implement', objective: 'Implement: dark mode' }));
    const again = ok(await service.spawnWorker({ id: 'implement', objective: 'Implement: dark mode' }));
    const other = ok(await service.spawnWorker({ id: 'verify', objective: 'Verify' }));
    expect([first.worker_id, again.worker_id, other.worker_id]).toEqual(['worker_1', 'worker_1', 'worker_2']);
  });

  it('reports a failed run with its reason', async () => {
    const { service } = await workers(EXAMPLE_COMMANDS.worker);
    const { worker_id: workerId } = ok(await service.spawnWorker({ objective: 'break', trusted: true, simulate_failure: 'disk full' }));
    expect(ok(await service.checkTrust(workerId))).toEqual({ requires_approval: false });
    ok(await service.markTrusted(workerId, 'plan'));
    const outcome = ok(await service.runWorker(workerId));
    if (!outcome.supported) throw new Error('run_worker should be supported');
    expect(outcome.reply).toEqual({ status: 'failed', error: 'disk full' });
    expect(runFailureReason(outcome.reply)).toBe('disk full');
  });

  it('treats a JSON-RPC -32601 to run_worker as unsupported, and asks only once', async () => {
    const { service, calls } = await workers(peerCommand('seed-worker'));
    const first = ok(await service.spawnWorker({ objective: 'a' }));
    const second = ok(await service.spawnWorker({ objective: 'b' }));
    expect(ok(await service.runWorker(first.worker_id))).toEqual({ supported: false, reason: 'Method not found' });
    expect(ok(await service.runWorker(second.worker_id))).toEqual({ supported: false, reason: 'Method not found' });
    expect(service.runWorkerSupported).toBe(false);
    expect(calls.map((c) => c.method)).toEqual(['spawn_worker', 'spawn_worker', 'run_worker']);
  });

  it('treats "Unknown method" in words as unsupported too', async () => {
    const { service } = await workers(peerCommand('seed-worker', 'string'));
    expect(ok(await service.runWorker('worker_1'))).toEqual({ supported: false, reason: 'Unknown method: run_worker' });
  });

  it('keeps any other error reply to run_worker as error_reply, not as done', async () => {
    const { service } = await workers(peerCommand('error'));
    const result = await service.runWorker('worker_1');
    if (result.ok) throw new Error('expected a failure');
    expect(result.error.code).toBe('error_reply');
    expect(service.runWorkerSupported).toBeNull();
  });

  it('reports a spawn_worker reply without worker_id as bad_reply', async () => {
    const { service } = await workers(peerCommand('reply', '{"worker": "w1"}'));
    const result = await service.spawnWorker({ objective: 'a' });
    if (result.ok) throw new Error('expected a failure');
    expect(result.error.code).toBe('bad_reply');
    expect(result.error.message).toMatch(/^worker service answered spawn_worker with a result of the wrong shape \(result\.worker_id: .*\): \{"worker":"w1"\}$/);
  });

  it('passes a numeric worker_id back exactly as the service gave it', async () => {
    const { service, calls } = await workers(peerCommand('reply', '{"worker_id": 7, "requires_approval": false}'));
    const { worker_id: workerId } = ok(await service.spawnWorker({ objective: 'a' }));
    expect(workerId).toBe(7);
    ok(await service.checkTrust(workerId));
    expect(calls[1]).toEqual({ method: 'check_trust', params: { worker_id: 7 } });
  });
});
