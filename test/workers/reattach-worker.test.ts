import { spawn } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { killProcessTree } from '../../src/os/kill-process-tree.js';
import { findShellWorker, reattachShellWorker } from '../../src/workers/reattach-worker.js';
import { startShellWorker, type StartedShellWorker } from '../../src/workers/shell-worker.js';
import { waitFor } from './proc.js';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'overseer-reattach-')));
const started: number[] = [];
afterEach(async () => {
  for (const pid of started.splice(0)) await killProcessTree(pid, { graceMs: 100 });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Started, then forgotten: from here on the test knows only what a restarted engine would. */
async function startAndForget(workerId: string, command: string): Promise<StartedShellWorker> {
  const result = await startShellWorker({
    command,
    cwd: root,
    runId: 'r',
    workerId,
    attempt: 1,
    packet: { id: workerId, objective: 'x' },
    objective: 'x',
    logDir: root,
  });
  if (!result.ok) throw new Error(result.error);
  started.push(result.pid);
  result.unref();
  return result;
}

describe('a worker that outlived its engine', () => {
  it('is found by its process file and waited for until its status is written', async () => {
    const original = await startAndForget('slow', 'sleep 0.3; exit 4');
    // The wrapper writes its pid line itself, before the command runs.
    let found = findShellWorker({ workerId: 'slow', attempt: 1, logDir: root });
    for (let i = 0; found === null && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 10));
      found = findShellWorker({ workerId: 'slow', attempt: 1, logDir: root });
    }
    expect(found).toEqual({
      pid: original.pid,
      processStartTime: original.processStartTime,
      logFile: original.logFile,
      statusFile: original.statusFile,
    });
    if (found === null) throw new Error('not found');
    expect(await reattachShellWorker(found, { pollMs: 20 })).toEqual({ code: 4, signal: null });
  });

  it('gives its exit code at once when it finished while no engine watched', async () => {
    const original = await startAndForget('quick', 'exit 0');
    await original.exited;
    expect(await reattachShellWorker(original)).toEqual({ code: 0, signal: null });
  });

  it('is lost when it was killed without leaving a status', async () => {
    const original = await startAndForget('doomed', 'sleep 30');
    process.kill(-original.pid, 'SIGKILL');
    await original.exited;
    expect(await reattachShellWorker(original, { pollMs: 20 })).toBe('lost');
  });

  it('is not mistaken for a later process that reuses its pid', async () => {
    const original = await startAndForget('reused', 'sleep 30');
    const impostor = { ...original, processStartTime: '1' };
    expect(await reattachShellWorker(impostor, { pollMs: 20 })).toBe('lost');
  });

  it('is found and waited for when an Overseer from before the process file started it', async () => {
    // Such a wrapper wrote its pid to <stem>.pid and, once done, its exit code alone to <stem>.status.
    const script = `echo "{\\"pid\\":$$,\\"processStartTime\\":null}" > old.1.pid; while [ ! -e old.release ]; do sleep 0.02; done; echo 4 > old.1.status`;
    const child = spawn('/bin/sh', ['-c', script], { cwd: root, detached: true, stdio: 'ignore' });
    child.unref();
    started.push(child.pid as number);
    const found = await waitFor(() => findShellWorker({ workerId: 'old', attempt: 1, logDir: root }) ?? false, 60_000);
    expect(found).toEqual({ pid: child.pid, processStartTime: null, logFile: join(root, 'old.1.log'), statusFile: join(root, 'old.1.status') });
    const waited = reattachShellWorker(found, { pollMs: 20 });
    writeFileSync(join(root, 'old.release'), '');
    expect(await waited).toEqual({ code: 4, signal: null });
  });

  it('is not found when no engine started it', () => {
    expect(findShellWorker({ workerId: 'never', attempt: 1, logDir: root })).toBeNull();
  });

  it('can be stopped waiting for without stopping the worker', async () => {
    const original = await startAndForget('waited', 'sleep 30');
    const controller = new AbortController();
    const waiting = reattachShellWorker(original, { pollMs: 20, signal: controller.signal });
    controller.abort(new Error('engine stopping'));
    await expect(waiting).rejects.toThrow('engine stopping');
    expect(() => process.kill(original.pid, 0)).not.toThrow();
  });
});
