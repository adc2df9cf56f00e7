/**
 * Trust gates answered by a person from another process: while `run` waits, and after `--detach`
 * (exit 3) with `resume`; and no answer (nor a cancel) written to a run whose log was cut short. On
 * each store backend.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends, type TestTarget } from '../support/backends.js';
import { eventually, overseer, overseerProcess } from '../support/cli.js';
import { cutShortRun, lastVersion } from '../support/cut-short-run.js';

interface EventLine {
  type: string;
  workerId: string | null;
  stateAfter: unknown;
  payload: Record<string, unknown>;
}

describe.each(testBackends())('approval on $name', (backend) => {
  let target: TestTarget;
  let cwd: string;
  let plan: string;
  const cli = (args: string[]) => overseer([...args, '--db', target.db], { cwd });
  const events = async (runId: string) =>
    (await cli(['events', runId, '--json'])).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as EventLine);

  beforeAll(async () => {
    target = await backend.newTarget();
    cwd = await mkdtemp(join(tmpdir(), 'overseer-approve-'));
    plan = join(cwd, 'gated.json');
    await writeFile(
      plan,
      JSON.stringify({
        packets: [
          { id: 'safe', objective: 'trusted by the plan', command: 'echo safe', trusted: true },
          { id: 'risky', objective: 'needs a yes', command: 'echo risky' },
          { id: 'after', objective: 'runs after risky', command: 'echo after', dependsOn: ['risky'], trusted: true },
        ],
      }),
    );
  });
  afterAll(async () => {
    await target.dispose();
    await rm(cwd, { recursive: true, force: true });
  });

  it('approve from a second process releases a worker while run waits', async () => {
    const running = overseerProcess(['run', '--plan', plan, '--json', '--db', target.db], { cwd });
    const runId = await eventually(() => /run (\w+) started/.exec(running.output().stderr)?.[1], 20_000, 'run to start');
    await eventually(() => (running.output().stderr.includes('waiting for approval') ? true : undefined), 20_000, 'the trust gate');

    const notWaiting = await cli(['approve', runId, 'safe']);
    expect(notWaiting.code).toBe(2);
    expect(notWaiting.stderr).toMatch(/safe .* is done, not waiting for approval/);
    const unknown = await cli(['approve', runId, 'ghost']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/has no worker ghost/);
    const unknownRun = await cli(['approve', 'nosuchrun', 'risky']);
    expect(unknownRun.code).toBe(2);

    // The waiting engine still owns the run: a second engine is refused, and writes nothing.
    const second = await cli(['resume', runId]);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(new RegExp(`run ${runId} is owned by a live engine \\(pid ${String(running.pid)} `));

    const approved = await cli(['approve', runId, 'risky', '--reason', 'reviewed the diff']);
    expect(approved.code).toBe(0);
    const done = await running.done;
    expect(done.code).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ runId, status: 'completed' });

    const log = await events(runId);
    const approval = log.find((e) => e.type === 'trust.approved');
    expect(approval).toMatchObject({ workerId: 'risky', stateAfter: 'trusted', payload: { by: userInfo().username, source: 'cli', reason: 'reviewed the diff' } });
    expect(log.find((e) => e.type === 'trust.decided' && e.workerId === 'safe')?.payload).toMatchObject({ decision: 'trust', source: 'plan:trusted' });
    // The failed approvals wrote nothing.
    expect(log.filter((e) => e.type.startsWith('trust.approved'))).toHaveLength(1);
  });

  it('--detach exits 3, then approve and resume finish the run', async () => {
    const detached = await cli(['run', '--plan', plan, '--detach', '--json']);
    expect(detached.code).toBe(3);
    const { runId } = JSON.parse(detached.stdout) as { runId: string };
    expect(detached.stderr).toContain('waiting for approval: risky');
    const status = JSON.parse((await cli(['status', '--json'])).stdout) as { runs: Array<{ runId: string; status: string }> };
    expect(status.runs.find((r) => r.runId === runId)?.status).toBe('waiting');

    expect((await cli(['approve', runId, 'risky'])).code).toBe(0);
    const resumed = await cli(['resume', runId, '--json']);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ status: 'completed', tasks: { total: 3, done: 3 } });
  });

  it('a run detached at an escalation names the escalated worker as the one waiting', async () => {
    const escalating = join(cwd, 'escalating.json');
    const recovery = { exit_nonzero: { max_attempts: 1, escalate: 'ask_human' } };
    await writeFile(escalating, JSON.stringify({ packets: [{ id: 'flaky', objective: 'fails once', command: 'exit 1', trusted: true, recovery }] }));
    const detached = await cli(['run', '--plan', escalating, '--detach']);
    expect(detached.code).toBe(3);
    expect(detached.stderr).toContain('waiting for approval: flaky\n');
  });

  it('a denial skips the task and its dependents and fails the run', async () => {
    const detached = await cli(['run', '--plan', plan, '--detach', '--json']);
    const { runId } = JSON.parse(detached.stdout) as { runId: string };
    expect((await cli(['approve', runId, 'risky', '--deny', '--reason', 'too risky'])).code).toBe(0);
    const resumed = await cli(['resume', runId, '--json']);
    expect(resumed.code).toBe(1);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ status: 'failed', tasks: { done: 1, denied: 1, skipped: 1 } });
    const denial = (await events(runId)).find((e) => e.type === 'trust.denied');
    expect(denial?.payload).toMatchObject({ reason: 'too risky', source: 'cli' });
  });

  it('approve and cancel refuse a run whose log was cut short, and write nothing', async () => {
    // Back to where risky waited at its gate: the log alone says it still waits, its caches say completed.
    const { runId, waitedAt, reached } = await cutShortRun(cli, target, plan);

    const refusal = `run ${runId} lost events from its end: the log ends at version ${String(waitedAt)} but the run's snapshot says it reached version ${String(reached)} and the runs row says the run is completed; see overseer verify ${runId}\n`;
    const approved = await cli(['approve', runId, 'risky']);
    expect({ code: approved.code, stdout: approved.stdout, stderr: approved.stderr }).toEqual({ code: 2, stdout: '', stderr: `overseer approve: ${refusal}` });
    const cancelled = await cli(['cancel', runId]);
    expect({ code: cancelled.code, stdout: cancelled.stdout, stderr: cancelled.stderr }).toEqual({ code: 2, stdout: '', stderr: `overseer cancel: ${refusal}` });
    expect(await lastVersion(target, runId)).toBe(waitedAt);
  });
});
