/**
 * What a worker starts in the background does not outlive it: once its command ends, the rest of its
 * process group is stopped, whether this engine started it or found it again after a crash.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processStartTime } from '../../src/os/process-identity.js';
import { reattachShellWorker } from '../../src/workers/reattach-worker.js';
import { startShellWorker, type StartedShellWorker } from '../../src/workers/shell-worker.js';
import { groupMembers, isRunning, waitFor } from './proc.js';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'overseer-leftovers-')));
/** Process groups started here: a failed test must not leave a sleep behind for two minutes. */
const groups: number[] = [];
afterAll(() => {
  for (const pgid of groups) if (groupMembers(pgid).length > 0) process.kill(-pgid, 'SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

async function start(workerId: string, command: string, graceMs = 2000): Promise<StartedShellWorker> {
  const result = await startShellWorker({ command, cwd: root, runId: 'r', workerId, attempt: 1, packet: { id: workerId, objective: 'x' }, objective: 'x', logDir: root, graceMs });
  if (!result.ok) throw new Error(result.error);
  groups.push(result.pid);
  return result;
}

/** The pid a command wrote to `file`, once it is written whole. */
function backgroundPid(file: string): number | null {
  const path = join(root, file);
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  return /^\d+\n$/.test(text) ? Number(text) : null;
}

describe("a worker's background processes", () => {
  it('are stopped when the worker ends', async () => {
    const worker = await start('forks', 'sleep 123 & echo $! > forks.pid; echo forked');
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect(isRunning(await waitFor(() => backgroundPid('forks.pid')))).toBe(false);
    expect(groupMembers(worker.pid)).toEqual([]);
  });

  it('are killed after the grace when they ignore SIGTERM', async () => {
    const worker = await start('stubborn', `sh -c 'trap "" TERM; echo $$ > stubborn.pid; sleep 123' & while [ ! -s stubborn.pid ]; do sleep 0.01; done`, 200);
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect(isRunning(await waitFor(() => backgroundPid('stubborn.pid')))).toBe(false);
  });

  it('are stopped when a worker an engine found again after a crash ends', async () => {
    // Started as a crashed engine's worker would be: detached, with a status file, and nobody in
    // this process watching its exit.
    const script = 'sleep 123 & echo $! > forgotten.pid; while [ ! -e forgotten.release ]; do sleep 0.02; done; echo 0 > forgotten.status';
    const child = spawn('/bin/sh', ['-c', script], { cwd: root, detached: true, stdio: 'ignore' });
    child.unref();
    const pid = child.pid as number;
    groups.push(pid);
    const sleep = await waitFor(() => backgroundPid('forgotten.pid'));
    const reattached = reattachShellWorker({ pid, processStartTime: processStartTime(pid), logFile: '', statusFile: join(root, 'forgotten.status') }, { pollMs: 20 });
    writeFileSync(join(root, 'forgotten.release'), '');
    expect(await reattached).toEqual({ code: 0, signal: null });
    expect(isRunning(sleep)).toBe(false);
  });
});
