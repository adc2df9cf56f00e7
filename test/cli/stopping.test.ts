/**
 * Stopping work for real: a timeout kills a worker's whole process tree, and `overseer cancel` from
 * another process stops a live run cleanly (its workers killed, the run cancelled).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends, type TestTarget } from '../support/backends.js';
import { eventually, overseer, overseerProcess } from '../support/cli.js';

/** Processes whose command line carries the marker: what a leaked worker would look like. */
function survivors(marker: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return out.split('\n').filter((line) => line.includes(marker) && !line.includes('ps -eo'));
}

describe.each(testBackends())('stopping work on $name', (backend) => {
  let target: TestTarget;
  let cwd: string;
  const cli = (args: string[]) => overseer([...args, '--db', target.db], { cwd });

  beforeAll(async () => {
    target = await backend.newTarget();
    cwd = await mkdtemp(join(tmpdir(), 'overseer-stop-'));
  });
  afterAll(async () => {
    await target.dispose();
    await rm(cwd, { recursive: true, force: true });
  });

  it('a timeout kills the whole process tree and fails the task', async () => {
    const marker = `overseer-timeout-${backend.name}-${String(process.pid)}`;
    const plan = join(cwd, 'timeout.json');
    // Two grandchildren in the background and one in front, each a shell named by the marker: all must go.
    const child = (n: number) => `sh -c 'sleep ${String(n)}; :' ${marker}`;
    await writeFile(plan, JSON.stringify({ packets: [{ id: 'hang', objective: 'hang', command: `${child(31)} & ${child(32)} & ${child(33)}`, timeout: '1s' }] }));
    const run = await cli(['run', '--plan', plan, '--auto-approve', '--json']);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'failed', workers: [{ workerId: 'hang', failure: expect.stringMatching(/^timeout/) as unknown }] });
    await eventually(() => (survivors(marker).length === 0 ? true : undefined), 10_000, 'the process tree to be gone');
  });

  it('cancel from another process stops a live run and kills its workers', async () => {
    const marker = `overseer-cancel-${backend.name}-${String(process.pid)}`;
    const plan = join(cwd, 'long.json');
    await writeFile(plan, JSON.stringify({ packets: [{ id: 'long', objective: 'long', command: `sh -c 'sleep 60; :' ${marker}` }, { id: 'later', objective: 'never', command: 'true', dependsOn: ['long'] }] }));
    const running = overseerProcess(['run', '--plan', plan, '--auto-approve', '--json', '--db', target.db], { cwd });
    await eventually(() => (/long running/.test(running.output().stderr) ? true : undefined), 20_000, 'the worker to run');
    const runId = /run (\w+) started/.exec(running.output().stderr)?.[1] as string;

    const cancel = await cli(['cancel', runId, '--reason', 'changed my mind']);
    expect(cancel.code).toBe(0);
    const done = await running.done;
    expect(done.code).toBe(1);
    expect(JSON.parse(done.stdout)).toMatchObject({ status: 'cancelled', workflow: 'cancelled' });
    await eventually(() => (survivors(marker).length === 0 ? true : undefined), 10_000, 'the worker to be killed');

    const again = await cli(['cancel', runId]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already cancelled/);
  });
});
