/** The fork server starts workers for a big engine process: same outcomes as spawning directly. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { directLauncher, forkServerLauncher, type ProcessLauncher } from '../../src/os/process-launcher.js';
import { startShellWorker } from '../../src/workers/shell-worker.js';

const dir = mkdtempSync(join(tmpdir(), 'overseer-launcher-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each([
  ['direct', () => directLauncher],
  ['fork server', () => forkServerLauncher()],
] as const)('%s launcher', (_name, make: () => ProcessLauncher) => {
  it('starts a detached process with its output in the log file and reports its exit', async () => {
    const launcher = make();
    const logFile = join(dir, `${_name}.log`);
    const launched = await launcher.launch({ file: '/bin/sh', args: ['-c', 'echo hello; echo oops >&2; exit 7'], cwd: dir, env: {}, logFile });
    expect(launched.ok).toBe(true);
    if (!launched.ok) return;
    expect(await launched.exited).toEqual({ code: 7, signal: null });
    expect(readFileSync(logFile, 'utf8')).toBe('hello\noops\n');
    launcher.close();
  });

  it('reports a process that cannot start as a value', async () => {
    const launcher = make();
    const launched = await launcher.launch({ file: '/no/such/program', args: [], cwd: dir, env: {}, logFile: join(dir, 'x.log') });
    expect(launched).toMatchObject({ ok: false, error: expect.stringContaining('ENOENT') as unknown });
    launcher.close();
  });
});

it('a worker whose fork server died is still followed to its end through its status file', async () => {
  const launcher = forkServerLauncher();
  const started = await startShellWorker({ command: 'sleep 0.3; exit 5', cwd: dir, runId: 'r', workerId: 'w', attempt: 1, packet: {}, objective: 'o', logDir: dir, launcher });
  if (!started.ok) throw new Error(started.error);
  launcher.close(); // the server exits: it can no longer report the exit
  expect(await started.exited).toEqual({ code: 5, signal: null });
});
