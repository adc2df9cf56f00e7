import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bootstrapService, DEFAULT_BOOTSTRAP_PHASES, phaseFailureReason } from '../../src/planning/bootstrap-service.js';
import { EXAMPLE_COMMANDS, peerCommand, recording, serviceTestContext, type ServiceTestContext } from '../support/service-peers.js';

let ctx: ServiceTestContext;
beforeEach(async () => {
  ctx = await serviceTestContext();
});
afterEach(async () => {
  await ctx.dispose();
});

async function bootstrap(command: string) {
  const client = ctx.client(command, { name: 'bootstrap' });
  const started = await client.start();
  if (!started.ok) throw started.error;
  return bootstrapService(client);
}

describe('execute_phase', () => {
  it('runs the seed\'s phases on the example bootstrap and keeps their artifacts', async () => {
    const service = await bootstrap(EXAMPLE_COMMANDS.bootstrap);
    const replies = [];
    for (const phase of DEFAULT_BOOTSTRAP_PHASES) {
      const reply = await service.executePhase(phase);
      if (!reply.ok) throw reply.error;
      replies.push(reply.value);
    }
    expect(replies).toEqual([
      { phase: 'system_prompt_fastpath', success: true, artifacts: { system_prompt: 'You are a helpful assistant...' } },
      { phase: 'mcp_fastpath', success: true, artifacts: { mcp_servers: ['stdio'] } },
    ]);
  });

  it('hands back success: false as an answer, with a one-line reason', async () => {
    const reply = await (await bootstrap(EXAMPLE_COMMANDS.bootstrap)).executePhase('warm_caches');
    if (!reply.ok) throw reply.error;
    expect(reply.value).toEqual({ phase: 'warm_caches', success: false, error: 'unknown' });
    expect(phaseFailureReason(reply.value)).toBe('warm_caches failed: unknown');
  });

  it('sends a phase object\'s other fields beside phase and context, which a seed service ignores', async () => {
    const client = ctx.client(EXAMPLE_COMMANDS.bootstrap, { name: 'bootstrap' });
    if (!(await client.start()).ok) throw new Error('the example bootstrap did not start');
    const recorded = recording(client);
    const reply = await bootstrapService(recorded).executePhase({ phase: 'mcp_fastpath', servers: ['git'] }, { run: 'r1' });
    if (!reply.ok) throw reply.error;
    expect(reply.value.success).toBe(true);
    expect(recorded.calls).toEqual([{ method: 'execute_phase', params: { servers: ['git'], phase: 'mcp_fastpath', context: { run: 'r1' } } }]);
  });

  it('reports a reply without success as bad_reply, naming the field', async () => {
    const reply = await (await bootstrap(peerCommand('reply', '{"phase": "mcp_fastpath", "ok": true}'))).executePhase('mcp_fastpath');
    if (reply.ok) throw new Error('expected a failure');
    expect(reply.error.code).toBe('bad_reply');
    expect(reply.error.detail).toMatchObject({ reason: 'wrong_shape', problems: [{ path: 'result.success', message: expect.stringMatching(/expected boolean/) as unknown }] });
    expect(reply.error.message).toMatch(/^bootstrap answered execute_phase with a result of the wrong shape \(result\.success: .*expected boolean.*\): /);
  });

  it('keeps extra fields of a phase reply', async () => {
    const reply = await (await bootstrap(peerCommand('reply', '{"phase": "p", "success": true, "artifacts": {}, "took_ms": 12}'))).executePhase('p');
    if (!reply.ok) throw reply.error;
    expect(reply.value).toEqual({ phase: 'p', success: true, artifacts: {}, took_ms: 12 });
  });
});
