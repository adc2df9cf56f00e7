import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { killProcessTree } from '../../src/os/kill-process-tree.js';
import { isSameProcessAlive } from '../../src/os/process-identity.js';
import { readExitStatus } from '../../src/os/read-exit-status.js';
import { startShellWorker, type ShellWorkerSpec, type StartedShellWorker } from '../../src/workers/shell-worker.js';
import { groupMembers, isRunning, procInfo, waitFor } from './proc.js';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'overseer-worker-')));
const logDir = join(root, 'logs', 'run-1');
const started: number[] = [];

afterEach(async () => {
  // A failed test must not leave sleeping process groups behind.
  for (const pid of started.splice(0)) await killProcessTree(pid, { graceMs: 100 });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
function spec(command: string, overrides: Partial<ShellWorkerSpec> = {}): ShellWorkerSpec {
  counter += 1;
  return {
    command,
    cwd: root,
    runId: 'run-1',
    workerId: `task-${String(counter)}`,
    attempt: 1,
    packet: { id: `task-${String(counter)}`, objective: 'test' },
    objective: 'test',
    logDir,
    ...overrides,
  };
}

async function start(command: string, overrides: Partial<ShellWorkerSpec> = {}): Promise<StartedShellWorker> {
  const result = await startShellWorker(spec(command, overrides));
  if (!result.ok) throw new Error(`spawn failed: ${result.error}`);
  started.push(result.pid);
  return result;
}

describe('a shell worker', () => {
  it('reports exit 0, and its stdout and stderr land in the attempt log', async () => {
    const worker = await start('echo to-stdout; echo to-stderr >&2', { workerId: 'build', attempt: 2 });
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect(worker.logFile).toBe(join(logDir, 'build.2.log'));
    expect(readFileSync(worker.logFile, 'utf8')).toBe('to-stdout\nto-stderr\n');
  });

  it('reports a non-zero exit code', async () => {
    const worker = await start('echo failing; exit 3');
    expect(await worker.exited).toEqual({ code: 3, signal: null });
    expect(readFileSync(worker.logFile, 'utf8')).toBe('failing\n');
  });

  it('adds the exit code to its process file, after its pid line, even when the command exits from inside', async () => {
    const ok = await start('true');
    const bad = await start('sh -c "exit 42"; exit 9');
    await Promise.all([ok.exited, bad.exited]);
    expect(readExitStatus(ok.statusFile)).toBe(0);
    expect(readExitStatus(bad.statusFile)).toBe(9);
    expect(readFileSync(bad.statusFile, 'utf8')).toBe(`${JSON.stringify({ pid: bad.pid, processStartTime: bad.processStartTime })}\n9\n`);
  });

  it('leaves the status a command ends with however it ends: a syntax error, set -e, exec, its own trap, a cd', async () => {
    const cases: Array<[string, number]> = [
      ['if', 2],
      ['set -e; false; echo not reached', 1],
      ['set -u; echo "$not_set"', 2],
      ["exec sh -c 'exit 4'", 4],
      ["trap 'echo bye' EXIT; exit 3", 3],
      ['f() { return 7; }; f', 7],
      ['echo "$# $1"; exit 5', 5],
      ['printf() { echo not the status; }; exit 8', 8],
    ];
    const workers = await Promise.all(cases.map(([command]) => start(command)));
    await Promise.all(workers.map((worker) => worker.exited));
    expect(workers.map((worker) => readExitStatus(worker.statusFile))).toEqual(cases.map(([, code]) => code));
    expect(readFileSync(workers[6]?.logFile ?? '', 'utf8')).toBe('0 \n');
    // Given relative to the engine's directory, the files are still found after the command leaves its own.
    const relativeLogs = relative(process.cwd(), join(root, 'relative-logs'));
    const moved = await start('mkdir -p deeper && cd deeper && exit 6', { logDir: relativeLogs });
    expect(await moved.exited).toEqual({ code: 6, signal: null });
    expect(readExitStatus(join(root, 'relative-logs', basename(moved.statusFile)))).toBe(6);
  });

  it('has no status while the command runs, so a supervisor can tell running from finished', async () => {
    const worker = await start('sleep 0.3; exit 5');
    worker.unref();
    expect(readExitStatus(worker.statusFile)).toBeNull();
    expect(isSameProcessAlive(worker.pid, worker.processStartTime ?? '')).toBe(true);
    // Found again the way a restarted engine would: by the status file, not the child handle.
    expect(await waitFor(() => readExitStatus(worker.statusFile) ?? false)).toBe(5);
  });

  it('sees the run, worker, attempt, objective and packet in its environment', async () => {
    const packet = { id: 'deploy', objective: 'ship "it"\nnow', scope: 'module', extra: { ü: [1, null] } };
    const worker = await start(
      `printf '%s|%s|%s|%s|%s|%s\\n' "$OVERSEER_RUN_ID" "$OVERSEER_WORKER_ID" "$OVERSEER_ATTEMPT" "$OVERSEER_OBJECTIVE" "$GREETING" "$PWD"; printf '%s' "$OVERSEER_TASK_PACKET"`,
      { runId: 'r-42', workerId: 'deploy', attempt: 3, packet, objective: 'ship it', env: { GREETING: 'hello world' } },
    );
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    const [line, packetJson] = readFileSync(worker.logFile, 'utf8').split('\n');
    expect(line).toBe(`r-42|deploy|3|ship it|hello world|${root}`);
    expect(JSON.parse(packetJson ?? '')).toEqual(packet);
  });

  it("keeps the engine's environment, lets the packet override it, but not Overseer's own variables", async () => {
    process.env['OVERSEER_TEST_INHERITED'] = 'from-engine';
    const worker = await start('echo "$OVERSEER_TEST_INHERITED $HOME $OVERSEER_RUN_ID"', {
      env: { HOME: '/packet-home', OVERSEER_RUN_ID: 'forged' },
    });
    delete process.env['OVERSEER_TEST_INHERITED'];
    await worker.exited;
    expect(readFileSync(worker.logFile, 'utf8')).toBe('from-engine /packet-home run-1\n');
  });

  it('runs in the directory it is given', async () => {
    const worker = await start('pwd', { cwd: logDir });
    await worker.exited;
    expect(readFileSync(worker.logFile, 'utf8')).toBe(`${logDir}\n`);
  });

  it('runs detached, in a process group of its own', async () => {
    const worker = await start('sleep 5');
    const info = procInfo(worker.pid);
    expect(info?.pgrp).toBe(worker.pid);
    expect(info?.session).toBe(worker.pid);
    expect(worker.processStartTime).toMatch(/^\d+$/);
  });

  it('appends a second start of the same attempt to its log and forgets the old status', async () => {
    const first = await start('echo first', { workerId: 'again' });
    await first.exited;
    const second = await start('echo second; sleep 0.2', { workerId: 'again' });
    expect(readExitStatus(second.statusFile)).toBeNull();
    await second.exited;
    expect(readFileSync(second.logFile, 'utf8')).toBe('first\nsecond\n');
  });

  it('comes back as spawn_failed, not a crash, when its directory does not exist', async () => {
    const missing = join(root, 'no', 'such', 'dir');
    const result = await startShellWorker(spec('echo never', { cwd: missing }));
    expect(result).toEqual({ ok: false, kind: 'spawn_failed', error: `working directory ${missing} does not exist` });
  });

  it('comes back as spawn_failed when its directory is a file', async () => {
    const worker = await start('true');
    await worker.exited;
    const result = await startShellWorker(spec('echo never', { cwd: worker.logFile }));
    expect(result).toMatchObject({ ok: false, kind: 'spawn_failed', error: expect.stringContaining('is not a directory') as unknown });
  });

  it('comes back as spawn_failed when the command cannot be passed to a process', async () => {
    const result = await startShellWorker(spec('echo \0 nul'));
    expect(result).toMatchObject({ ok: false, kind: 'spawn_failed' });
  });

  it('is killed with everything it started, grandchildren included', async () => {
    const worker = await start('sh -c "sleep 30 & sleep 30" & sleep 30 & wait');
    const members = await waitFor(() => {
      const found = groupMembers(worker.pid);
      return found.length >= 5 ? found : null;
    });
    expect(await killProcessTree(worker.pid, { graceMs: 2000 })).toBe('SIGTERM');
    expect(await worker.exited).toEqual({ code: null, signal: 'SIGTERM' });
    expect(members.filter(isRunning)).toEqual([]);
    expect(groupMembers(worker.pid)).toEqual([]);
  });
});

describe('killing a process tree', () => {
  it('escalates to SIGKILL when the tree ignores SIGTERM', async () => {
    const worker = await start(`sh -c "trap '' TERM; echo ready; sleep 30"`);
    await waitFor(() => readFileSync(worker.logFile, 'utf8').includes('ready'));
    const members = groupMembers(worker.pid);
    const began = Date.now();
    expect(await killProcessTree(worker.pid, { graceMs: 300 })).toBe('SIGKILL');
    expect(Date.now() - began).toBeGreaterThanOrEqual(300);
    expect(members.filter(isRunning)).toEqual([]);
  });

  it('is a no-op for a tree that is already gone', async () => {
    const worker = await start('true');
    await worker.exited;
    expect(await killProcessTree(worker.pid, { graceMs: 100 })).toBe('none');
  });

  it('refuses pids that would signal more than one worker', async () => {
    await expect(killProcessTree(0, { graceMs: 10 })).rejects.toThrow(RangeError);
    await expect(killProcessTree(1, { graceMs: 10 })).rejects.toThrow(RangeError);
    await expect(killProcessTree(-5, { graceMs: 10 })).rejects.toThrow(RangeError);
  });
});

describe('reading an exit status', () => {
  it('is null for a status file that does not exist', () => {
    expect(readExitStatus(join(root, 'nothing.status'))).toBeNull();
  });
});
