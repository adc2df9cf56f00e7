import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ServiceError, ServiceResult } from '../../src/rpc/service-errors.js';
import { plannerService } from '../../src/planning/planner-service.js';
import { EXAMPLE_COMMANDS, peerCommand, serviceTestContext, type ServiceTestContext } from '../support/service-peers.js';

let ctx: ServiceTestContext;
beforeEach(async () => {
  ctx = await serviceTestContext();
});
afterEach(async () => {
  await ctx.dispose();
});

async function planner(command: string) {
  const client = ctx.client(command, { name: 'planner' });
  const started = await client.start();
  if (!started.ok) throw started.error;
  return plannerService(client);
}

function failure(result: ServiceResult<unknown>): ServiceError {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.value)}`);
  return result.error;
}

describe('decompose', () => {
  it('turns the example planner\'s packets into a plan, keeping Claw Code\'s fields', async () => {
    const result = await (await planner(EXAMPLE_COMMANDS.planner)).decompose({ objective: 'add dark mode to the dashboard' });
    if (!result.ok) throw result.error;
    const { plan, packets } = result.value;
    expect(plan.source).toBe('planner');
    expect(plan.objective).toBe('add dark mode to the dashboard');
    expect(plan.packets.map((p) => [p.id, p.dependsOn])).toEqual([
      ['survey', []],
      ['implement', ['survey']],
      ['verify', ['implement']],
    ]);
    expect(plan.packets[1]).toMatchObject({ scope: 'module', scope_path: 'src', acceptance_tests: ['npm test -- --run'], commit_policy: 'one_commit_per_packet' });
    expect(packets).toHaveLength(3);
    expect(packets[2]).toMatchObject({ id: 'verify', verification_plan: ['run the test suite', 'check the change by hand in a browser'] });
  });

  it('keeps fields Overseer does not know, and gives packets without ids the plan\'s default ids', async () => {
    const reply = [{ objective: 'one', custom: { tickets: ['UI-7'] } }, { objective: 'two', dependsOn: ['task-1'] }];
    const result = await (await planner(peerCommand('reply', JSON.stringify(reply)))).decompose({ objective: 'x', context: { repo: '.' } });
    if (!result.ok) throw result.error;
    expect(result.value.plan.packets.map((p) => p.id)).toEqual(['task-1', 'task-2']);
    expect(result.value.plan.packets[0]).toMatchObject({ custom: { tickets: ['UI-7'] } });
    expect(result.value.packets).toEqual(reply);
  });

  it('reports a result that is not a list as bad_reply', async () => {
    const error = failure(await (await planner(peerCommand('reply', '{"packets": []}'))).decompose({ objective: 'x' }));
    expect(error.code).toBe('bad_reply');
    expect(error.detail).toMatchObject({ reason: 'wrong_shape', problems: [{ path: 'result', message: 'expected a list of task packets, got an object' }] });
    expect(error.message).toBe(
      'planner answered decompose with a result of the wrong shape (result: expected a list of task packets, got an object): {"packets":[]}',
    );
  });

  it('reports every problem of a bad packet list at once, with paths into the result', async () => {
    const reply = [{ id: 'a' }, { id: 'b', objective: 'build', dependsOn: ['zz'] }, 'just a string'];
    const error = failure(await (await planner(peerCommand('reply', JSON.stringify(reply)))).decompose({ objective: 'x' }));
    expect(error.code).toBe('bad_reply');
    expect(error.detail).toMatchObject({
      reason: 'wrong_shape',
      problems: [
        { path: 'result[0].objective', message: 'required' },
        { path: 'result[1].dependsOn[0]', message: 'unknown packet "zz"' },
        { path: 'result[2]', message: 'expected a task packet (an object with an objective)' },
      ],
    });
    expect(error.message).toMatch(
      /^planner answered decompose with packets that do not make a valid plan \(result\[0\]\.objective: required; result\[1\]\.dependsOn\[0\]: unknown packet "zz"; result\[2\]: expected a task packet \(an object with an objective\)\): /,
    );
  });

  it('reports an empty list as bad_reply', async () => {
    const error = failure(await (await planner(peerCommand('reply', '[]'))).decompose({ objective: 'x' }));
    expect(error.detail).toMatchObject({ code: 'bad_reply', problems: [{ path: 'result', message: 'must not be empty' }] });
  });

  it('passes an error reply through as error_reply', async () => {
    const error = failure(await (await planner(peerCommand('error'))).decompose({ objective: 'x' }));
    expect(error.code).toBe('error_reply');
    expect(error.message).toBe('planner answered decompose with an error: out of ideas for decompose (code -32000)');
  });
});
