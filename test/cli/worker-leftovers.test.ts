/**
 * What a worker starts in the background does not outlive it: when its command ends, whatever is left
 * of its process group is stopped, as for gates.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends, type TestTarget } from '../support/backends.js';
import { overseer } from '../support/cli.js';
import { isRunning } from '../workers/proc.js';

describe.each(testBackends())("a worker's background processes on $name", (backend) => {
  let target: TestTarget;
  let cwd: string;

  beforeAll(async () => {
    target = await backend.newTarget();
    cwd = await mkdtemp(join(tmpdir(), 'overseer-leftovers-'));
  });
  afterAll(async () => {
    await target.dispose();
    await rm(cwd, { recursive: true, force: true });
  });

  it('are stopped when the worker ends', async () => {
    const plan = join(cwd, 'forks.json');
    await writeFile(plan, JSON.stringify({ packets: [{ id: 'forks', objective: 'fork and finish', command: 'sleep 123 & echo $! > sleep.pid; echo forked' }] }));
    const run = await overseer(['run', '--plan', plan, '--auto-approve', '--json', '--db', target.db], { cwd });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'completed' });
    const sleepPid = Number(readFileSync(join(cwd, 'sleep.pid'), 'utf8'));
    const survived = isRunning(sleepPid);
    // Not left behind for 123 s when this test fails.
    if (survived) process.kill(sleepPid, 'SIGKILL');
    // The worker's end includes its group being stopped: by the time the run reports, the sleep is gone.
    expect(survived).toBe(false);
  });
});
