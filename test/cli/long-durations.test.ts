/**
 * Durations longer than Node's 32-bit millisecond timers (about 596 hours) wait as long as written
 * instead of firing at once.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends, type TestTarget } from '../support/backends.js';
import { eventually, overseer, overseerProcess } from '../support/cli.js';

describe.each(testBackends())('long durations on $name', (backend) => {
  let target: TestTarget;
  let cwd: string;
  const cli = (args: string[]) => overseer([...args, '--db', target.db], { cwd });

  beforeAll(async () => {
    target = await backend.newTarget();
    cwd = await mkdtemp(join(tmpdir(), 'overseer-long-'));
  });
  afterAll(async () => {
    await target.dispose();
    await rm(cwd, { recursive: true, force: true });
  });

  it('a 597h timeout does not cut short a worker that takes a second, nor a gate', async () => {
    const plan = join(cwd, 'timeout.json');
    await writeFile(plan, JSON.stringify({ packets: [{ id: 'patient', objective: 'take a second', command: 'sleep 1', timeout: '597h', gates: [{ command: 'sleep 1', timeout: '597h' }] }] }));
    const run = await cli(['run', '--plan', plan, '--auto-approve', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/TimeoutOverflowWarning/);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'completed' });
  });

  it('a 1000h back-off waits instead of retrying at once', async () => {
    const plan = join(cwd, 'backoff.json');
    const recovery = { exit_nonzero: { max_attempts: 2, backoff: { initial: '1000h' } } };
    await writeFile(plan, JSON.stringify({ packets: [{ id: 'flaky', objective: 'fail once', command: 'echo ran >> attempts; exit 1', recovery }] }));
    const running = overseerProcess(['run', '--plan', plan, '--auto-approve', '--json', '--db', target.db], { cwd });
    await eventually(() => (/flaky retrying/.test(running.output().stderr) ? true : undefined), 60_000, 'the first attempt to fail');
    const runId = /run (\w+) started/.exec(running.output().stderr)?.[1] as string;
    // The back-off is a timer in the log: the run waits in retrying until someone stops it.
    const cancel = await cli(['cancel', runId]);
    expect(cancel.code, `${cancel.stderr}\n${running.output().stderr}`).toBe(0);
    const done = await running.done;
    expect(JSON.parse(done.stdout)).toMatchObject({ status: 'cancelled' });
    expect(done.stderr).not.toMatch(/TimeoutOverflowWarning/);
    const events = await cli(['events', runId, '--json']);
    expect(events.stdout.split('\n').filter((line) => line.includes('"process.started"'))).toHaveLength(1);
  });
});
