import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gateFiles, runGate, type GateRunContext } from '../../src/gates/gate-runner.js';
import type { RequiredGate } from '../../src/gates/quality-gates.js';
import type { PidFileContent } from '../../src/workers/shell-worker.js';
import { groupMembers, isRunning } from '../workers/proc.js';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'overseer-gates-')));
const logDir = join(root, 'logs');
afterAll(() => rmSync(root, { recursive: true, force: true }));

function context(overrides: Partial<GateRunContext> = {}): GateRunContext {
  return {
    runId: 'run-7',
    workerId: 'build',
    attempt: 2,
    cwd: root,
    env: { GREETING: 'hi' },
    logDir,
    packet: { id: 'build', objective: 'build it' },
    ...overrides,
  };
}

function gate(name: string, command: string, overrides: Partial<RequiredGate> = {}): RequiredGate {
  return { name, command, level: 'package', timeoutMs: 10_000, ...overrides };
}

/** The gate's process group, found the way a restarted engine would: by its process file's pid line. */
function gatePid(workerId: string, name: string, attempt: number): number {
  const { processFile } = gateFiles(logDir, workerId, name, attempt);
  return (JSON.parse(readFileSync(processFile, 'utf8').split('\n')[0] ?? '') as PidFileContent).pid;
}

describe('running a quality gate', () => {
  it('passes on exit 0, with its output in a log file of its own beside the worker', async () => {
    const result = await runGate(
      gate('unit', 'echo "$OVERSEER_GATE $OVERSEER_GATE_LEVEL $OVERSEER_WORKER_ID $OVERSEER_RUN_ID $OVERSEER_ATTEMPT $GREETING $PWD"; echo warn >&2'),
      context(),
    );
    expect(result).toEqual({
      gate: 'unit',
      level: 'package',
      command: 'echo "$OVERSEER_GATE $OVERSEER_GATE_LEVEL $OVERSEER_WORKER_ID $OVERSEER_RUN_ID $OVERSEER_ATTEMPT $GREETING $PWD"; echo warn >&2',
      exitCode: 0,
      signal: null,
      timedOut: false,
      logFile: join(logDir, 'build.gate-unit.2.log'),
      passed: true,
      detail: null,
    });
    expect(readFileSync(join(logDir, 'build.gate-unit.2.log'), 'utf8')).toBe(`unit package build run-7 2 hi ${root}\nwarn\n`);
  });

  it('fails on a non-zero exit, naming the code', async () => {
    const result = await runGate(gate('lint', 'echo "3 problems"; exit 3'), context());
    expect(result).toMatchObject({ gate: 'lint', exitCode: 3, signal: null, timedOut: false, passed: false, detail: 'exit code 3' });
    expect(readFileSync(result.logFile ?? '', 'utf8')).toBe('3 problems\n');
  });

  it('stops a gate that overruns its time limit, with everything it started', async () => {
    const began = Date.now();
    const result = await runGate(gate('slow', 'sh -c "sleep 30" & sleep 30; wait', { timeoutMs: 300 }), context({ workerId: 'slowpoke' }));
    expect(Date.now() - began).toBeLessThan(5000);
    expect(result).toMatchObject({ gate: 'slow', exitCode: null, signal: 'SIGTERM', timedOut: true, passed: false, detail: 'timed out after 300ms' });
    const pid = gatePid('slowpoke', 'slow', 2);
    expect(isRunning(pid)).toBe(false);
    expect(groupMembers(pid)).toEqual([]);
  });

  it('kills a gate that ignores SIGTERM once its grace is up', async () => {
    const began = Date.now();
    const result = await runGate(
      gate('stubborn', `trap '' TERM; sleep 30 & wait; sleep 30`, { timeoutMs: 200 }),
      context({ workerId: 'stubborn', graceMs: 300 }),
    );
    // The time limit, then the grace the stubborn shell ignored.
    expect(Date.now() - began).toBeGreaterThanOrEqual(500);
    expect(result).toMatchObject({ timedOut: true, passed: false, detail: 'timed out after 200ms' });
    expect(groupMembers(gatePid('stubborn', 'stubborn', 2))).toEqual([]);
  });

  it('does not leave behind what a passing gate started in the background', async () => {
    const result = await runGate(gate('server', 'sleep 30 & echo started'), context({ workerId: 'bg' }));
    expect(result).toMatchObject({ passed: true, exitCode: 0 });
    expect(groupMembers(gatePid('bg', 'server', 2))).toEqual([]);
  });

  it('comes back red, not rejected, when its directory does not exist', async () => {
    const missing = join(root, 'no', 'such', 'dir');
    const result = await runGate(gate('unit', 'true'), context({ workerId: 'nowhere', cwd: missing }));
    expect(result).toEqual({
      gate: 'unit',
      level: 'package',
      command: 'true',
      exitCode: null,
      signal: null,
      timedOut: false,
      logFile: null,
      passed: false,
      detail: `could not start: working directory ${missing} does not exist`,
    });
  });

  it('is red with the shell code when the command does not exist', async () => {
    const result = await runGate(gate('ghost', 'no-such-command-overseer'), context());
    expect(result).toMatchObject({ passed: false, exitCode: 127, detail: 'exit code 127' });
    expect(readFileSync(result.logFile ?? '', 'utf8')).toContain('not found');
  });

  it('stops when the run is cancelled', async () => {
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 200);
    const result = await runGate(gate('long', 'sleep 30', { timeoutMs: null }), context({ workerId: 'cancelled', abort: abort.signal }));
    expect(result).toMatchObject({ passed: false, timedOut: false, detail: 'cancelled' });
    expect(groupMembers(gatePid('cancelled', 'long', 2))).toEqual([]);
    const before = await runGate(gate('never', 'touch never-ran'), context({ abort: abort.signal }));
    expect(before).toMatchObject({ passed: false, detail: 'cancelled', logFile: null });
    expect(existsSync(join(root, 'never-ran'))).toBe(false);
  });
});
