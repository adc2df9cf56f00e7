/**
 * A gate started by an engine that then crashed is found again by its files: waited for (never run a
 * second time in one attempt), its exit status read when it has ended, and stopped by `stopGates`.
 */
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gateFiles, runGate, stopGates, type GateRunContext } from '../../src/gates/gate-runner.js';
import type { RequiredGate } from '../../src/gates/quality-gates.js';
import { readExitStatus } from '../../src/os/read-exit-status.js';
import { startShellWorker } from '../../src/workers/shell-worker.js';
import { groupMembers, waitFor } from '../workers/proc.js';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'overseer-gate-reattach-')));
const groups: number[] = [];
afterAll(() => {
  for (const pgid of groups) if (groupMembers(pgid).length > 0) process.kill(-pgid, 'SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

function context(workerId: string): GateRunContext {
  return { runId: 'r', workerId, attempt: 1, cwd: root, logDir: root, packet: { id: workerId, objective: 'check' } };
}

/** Starts the gate as the crashed engine did, and returns once its pid line is written. */
async function startedByAnEarlierEngine(gate: RequiredGate, workerId: string): Promise<number> {
  const started = await startShellWorker({
    command: gate.command,
    cwd: root,
    runId: 'r',
    workerId,
    filesId: `${workerId}.gate-${gate.name}`,
    attempt: 1,
    packet: { id: workerId, objective: 'check' },
    objective: 'check',
    logDir: root,
  });
  if (!started.ok) throw new Error(started.error);
  started.unref();
  groups.push(started.pid);
  // Whole, not just there: the wrapper creates it and then writes it, and that write sets its time.
  const { processFile } = gateFiles(root, workerId, gate.name, 1);
  await waitFor(() => existsSync(processFile) && readFileSync(processFile, 'utf8').endsWith('\n'));
  return started.pid;
}

const waiting = (name: string): string => `echo "start $$" >> ${name}.lines; while [ ! -e ${name}.release ]; do sleep 0.02; done; echo "end $$" >> ${name}.lines; exit 3`;

describe('a gate that outlived its engine', () => {
  it('is waited for instead of run again, and its exit status read', async () => {
    const gate: RequiredGate = { name: 'slow', command: waiting('slow'), level: 'package', timeoutMs: 60_000 };
    await startedByAnEarlierEngine(gate, 'w1');
    const result = runGate(gate, context('w1'));
    writeFileSync(join(root, 'slow.release'), '');
    expect(await result).toMatchObject({ gate: 'slow', exitCode: 3, passed: false, detail: 'exit code 3', logFile: gateFiles(root, 'w1', 'slow', 1).logFile });
    const lines = readFileSync(join(root, 'slow.lines'), 'utf8').trim().split('\n');
    expect(lines.map((line) => line.split(' ')[0])).toEqual(['start', 'end']);
  });

  it('that finished while no engine watched is not run again', async () => {
    const gate: RequiredGate = { name: 'done', command: 'echo ran >> done.lines', level: 'package', timeoutMs: null };
    await startedByAnEarlierEngine(gate, 'w2');
    await waitFor(() => readExitStatus(gateFiles(root, 'w2', 'done', 1).processFile) !== null);
    expect(await runGate(gate, context('w2'))).toMatchObject({ exitCode: 0, passed: true });
    expect(readFileSync(join(root, 'done.lines'), 'utf8')).toBe('ran\n');
  });

  it('keeps the time limit it started with', async () => {
    const gate: RequiredGate = { name: 'late', command: 'sleep 30', level: 'package', timeoutMs: 600_000 };
    const pid = await startedByAnEarlierEngine(gate, 'w3');
    // As if it had started an hour ago: its ten minutes ran out while no engine watched.
    const anHourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(gateFiles(root, 'w3', 'late', 1).processFile, anHourAgo, anHourAgo);
    // So it is stopped at once, not given ten minutes more.
    expect(await runGate(gate, context('w3'))).toMatchObject({ timedOut: true, passed: false, detail: 'timed out after 600s' });
    expect(groupMembers(pid)).toEqual([]);
  });

  it('is stopped by stopGates, found by its pid line', async () => {
    const gate: RequiredGate = { name: 'orphan', command: 'sleep 30 & sleep 30', level: 'package', timeoutMs: null };
    const pid = await startedByAnEarlierEngine(gate, 'w4');
    await stopGates([gate, { ...gate, name: 'never-started' }], { logDir: root, workerId: 'w4', attempt: 1 });
    expect(groupMembers(pid)).toEqual([]);
  });
});
