/**
 * The example services answer the seed orchestrator's whole call sequence, through the same facades
 * the engine uses: decompose once; execute_phase for each phase in order; spawn_worker once per
 * packet; check_trust then mark_trusted per worker; and our run_worker extension.
 */
import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { bootstrapService, DEFAULT_BOOTSTRAP_PHASES } from '../../src/planning/bootstrap-service.js';
import { plannerService } from '../../src/planning/planner-service.js';
import type { ServiceResult } from '../../src/rpc/service-errors.js';
import { workerService } from '../../src/workers/worker-service.js';
import { EXAMPLE_COMMANDS, recording, serviceTestContext, type ServiceTestContext } from '../support/service-peers.js';

let ctx: ServiceTestContext;
beforeEach(async () => {
  ctx = await serviceTestContext();
});
afterEach(async () => {
  await ctx.dispose();
});

function ok<T>(result: ServiceResult<T>): T {
  if (!result.ok) throw result.error;
  return result.value;
}

it('the example services answer the seed\'s call sequence', async () => {
  const wire: string[] = [];
  const clients = {
    planner: ctx.client(EXAMPLE_COMMANDS.planner, { name: 'planner', trace: (d, line) => wire.push(`planner ${d} ${line}`) }),
    bootstrap: ctx.client(EXAMPLE_COMMANDS.bootstrap, { name: 'bootstrap' }),
    worker: ctx.client(EXAMPLE_COMMANDS.worker, { name: 'worker' }),
  };
  await Promise.all(Object.values(clients).map(async (client) => ok(await client.start())));
  const planner = recording(clients.planner);
  const bootstrap = recording(clients.bootstrap);
  const worker = recording(clients.worker);

  const { plan, packets } = ok(await plannerService(planner).decompose({ objective: 'add dark mode to the dashboard', context: {} }));
  expect(plan.packets).toHaveLength(3);

  const phases = [];
  for (const phase of DEFAULT_BOOTSTRAP_PHASES) phases.push(ok(await bootstrapService(bootstrap).executePhase(phase, {})));
  expect(phases.every((reply) => reply.success)).toBe(true);

  const workers = workerService(worker);
  const ids = [];
  for (const packet of packets) ids.push(ok(await workers.spawnWorker(packet)).worker_id);
  for (const id of ids) {
    expect(ok(await workers.checkTrust(id)).requires_approval).toBe(true);
    ok(await workers.markTrusted(id, 'orchestrator_auto'));
  }
  // Runs go out together; the service answers them in whatever order they finish.
  const runs = await Promise.all(ids.map((id) => workers.runWorker(id)));
  expect(runs.map((run) => ok(run))).toEqual(ids.map(() => ({ supported: true, reply: { status: 'done', output: expect.any(String) as unknown } })));

  expect(planner.calls).toEqual([{ method: 'decompose', params: { objective: 'add dark mode to the dashboard', context: {} } }]);
  expect(bootstrap.calls).toEqual(DEFAULT_BOOTSTRAP_PHASES.map((phase) => ({ method: 'execute_phase', params: { phase, context: {} } })));
  expect(worker.calls).toEqual([
    ...packets.map((packet) => ({ method: 'spawn_worker', params: { task_packet: packet } })),
    ...ids.flatMap((id) => [
      { method: 'check_trust', params: { worker_id: id } },
      { method: 'mark_trusted', params: { worker_id: id, approval_source: 'orchestrator_auto' } },
    ]),
    ...ids.map((id) => ({ method: 'run_worker', params: { worker_id: id } })),
  ]);
  // Packets reach the worker service with every field the planner gave them.
  expect(worker.calls[1]?.params).toMatchObject({ task_packet: { id: 'implement', scope: 'module', acceptance_tests: ['npm test -- --run'] } });

  expect(wire[0]).toBe('planner sent {"id":"req_1","method":"decompose","params":{"objective":"add dark mode to the dashboard","context":{}}}');
  expect(wire[1]).toMatch(/^planner received \{"id": "req_1", "result": \[/);

  await Promise.all(Object.values(clients).map((client) => client.stop()));
  expect(await readFile(clients.planner.logFile, 'utf8')).toContain('[planner] decompose -> ok');
  expect(await readFile(clients.bootstrap.logFile, 'utf8')).toContain('[bootstrap] execute_phase {"phase": "mcp_fastpath", "context": {}}');
  expect(await readFile(clients.worker.logFile, 'utf8')).toContain('[worker] worker_3 trusted by orchestrator_auto');
});
