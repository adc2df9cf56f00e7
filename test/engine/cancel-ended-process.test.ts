/**
 * Cancelling a worker whose own process has already ended (it is verifying: its gates run) must not
 * signal whoever holds that pid now. The log names a process by its pid and start time; a later
 * process given the same pid (its start time differs) is someone else's, and is left alone.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelEvent } from '../../src/engine/human-decisions.js';
import { startRun } from '../../src/engine/start-run.js';
import { systemClock } from '../../src/engine/clock.js';
import { processStartTime } from '../../src/os/process-identity.js';
import { createShellDriver } from '../../src/workers/shell-driver.js';
import type { WorkerDriver } from '../../src/workers/worker-driver.js';
import { testBackends, useStore } from '../support/backends.js';
import { isRunning, waitFor } from '../workers/proc.js';

describe.each(testBackends())('cancelling a worker whose process ended, on $name', (backend) => {
  const fixture = useStore(backend);
  let cwd: string;
  // Another program's process group, as a new process that was handed the worker's old pid would be.
  const stranger = spawn('sleep', ['600'], { detached: true, stdio: 'ignore' });
  beforeAll(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'overseer-cancel-ended-'));
  });
  afterAll(async () => {
    if (stranger.pid !== undefined && isRunning(stranger.pid)) process.kill(-stranger.pid, 'SIGKILL');
    await rm(cwd, { recursive: true, force: true });
  });

  it('leaves alone a later process that was given its pid', async () => {
    const strangerPid = stranger.pid as number;
    const strangerStart = processStartTime(strangerPid);
    expect(strangerStart).not.toBeNull();
    const shell = createShellDriver();
    const driver: WorkerDriver = {
      ...shell,
      async start(spec) {
        const started = await shell.start(spec);
        if (!started.ok) return started;
        // The worker's pid has since gone to the stranger: the log's record of the worker is that pid
        // with the worker's own start time, a tick before the stranger's.
        return { ...started, process: { ...started.process, pid: strangerPid, processStartTime: String(Number(strangerStart) - 1) } };
      },
    };
    const engine = await startRun(
      { store: fixture.store, clock: systemClock, driver, trust: () => ({ decision: 'trust', source: 'test' }), random: Math.random },
      {
        objective: 'cancel while verifying',
        cwd,
        concurrency: 1,
        // The worker ends at once; its gate waits until the run is cancelled.
        packets: [{ id: 'w', objective: 'w', command: 'true', dependsOn: [], gates: [{ command: 'sleep 600', level: 'targeted_tests' }] }],
        autoApprove: false,
        workerCommand: null,
      },
    );
    await waitFor(() => engine.current.workers['w']?.value === 'verifying', 60_000);
    await engine.commit([cancelEvent(engine.current, { by: 'test', source: 'test' })]);
    const end = await engine.finished;
    await engine.idle();
    expect(end.workflow.value).toBe('cancelled');
    expect(end.workers['w']?.value).toBe('cancelled');
    expect(isRunning(strangerPid)).toBe(true);
  }, 120_000);
});
