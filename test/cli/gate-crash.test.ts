/**
 * A quality gate outlives an engine killed with SIGKILL, as workers do. `resume` finds it again and
 * waits for it instead of running it a second time; `cancel` stops it, with or without a live engine.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends, type TestTarget } from '../support/backends.js';
import { eventually, overseer, overseerProcess } from '../support/cli.js';
import { isRunning } from '../workers/proc.js';

describe.each(testBackends())('a quality gate across an engine crash on $name', (backend) => {
  let target: TestTarget;
  let cwd: string;
  /** Release files of the gates started here: written at the end so no gate waits on after a failed test. */
  const releases: string[] = [];
  const gates: number[] = [];
  const cli = (args: string[], timeoutMs?: number) => overseer([...args, '--db', target.db], { cwd, ...(timeoutMs === undefined ? {} : { timeoutMs }) });

  beforeAll(async () => {
    target = await backend.newTarget();
    cwd = await mkdtemp(join(tmpdir(), 'overseer-gate-crash-'));
  });
  afterAll(async () => {
    await Promise.all(releases.map((release) => writeFile(release, '')));
    await eventually(() => (gates.some(isRunning) ? undefined : true), 30_000, 'the gates to end');
    await target.dispose();
    await rm(cwd, { recursive: true, force: true });
  });

  /**
   * Starts a run whose gate records its start, waits for a release file, then records its end; and
   * returns once the gate runs. `others` are more packets for the same plan.
   */
  async function runUntilGate(name: string, others: object[] = []) {
    const lines = join(cwd, `${name}.lines`);
    const release = join(cwd, `${name}.release`);
    const plan = join(cwd, `${name}.json`);
    releases.push(release);
    const gate = `echo "start $$" >> ${lines}; while [ ! -e ${release} ]; do sleep 0.05; done; echo "end $$" >> ${lines}`;
    await writeFile(plan, JSON.stringify({ packets: [{ id: name, objective: 'checked work', command: 'true', gates: [{ name: 'slow', command: gate }] }, ...others] }));
    const engine = overseerProcess(['run', '--plan', plan, '--auto-approve', '--db', target.db], { cwd });
    const gatePid = await eventually(() => (existsSync(lines) ? Number(/^start (\d+)$/m.exec(readFileSync(lines, 'utf8'))?.[1]) : undefined), 60_000, 'the gate to start');
    gates.push(gatePid);
    const runId = /run (\w+) started/.exec(engine.output().stderr)?.[1];
    if (runId === undefined) throw new Error(`no run id in: ${engine.output().stderr}`);
    return { engine, runId, lines, release, gatePid };
  }

  /** The same, and the engine is killed with SIGKILL while the gate runs. */
  async function crashDuringGate(name: string) {
    const { engine, ...rest } = await runUntilGate(name);
    engine.kill('SIGKILL');
    await engine.done;
    return rest;
  }

  it('resume waits for the gate that outlived the engine instead of running it again', async () => {
    const { runId, lines, release, gatePid } = await crashDuringGate('resumed');
    expect(isRunning(gatePid), 'the gate outlived the engine').toBe(true);

    const resumed = overseerProcess(['resume', runId, '--json', '--db', target.db], { cwd });
    await eventually(() => (/resumed/.test(resumed.output().stderr) ? true : undefined), 60_000, 'the run to resume');
    await writeFile(release, '');
    const done = await resumed.done;

    expect(done.code, done.stderr).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ status: 'completed' });
    expect(readFileSync(lines, 'utf8')).toBe(`start ${String(gatePid)}\nend ${String(gatePid)}\n`);
  }, 180_000);

  it('cancel with no engine alive stops the gate the crashed engine left running', async () => {
    const { runId, gatePid } = await crashDuringGate('cancelled');
    expect(isRunning(gatePid), 'the gate outlived the engine').toBe(true);

    const cancel = await cli(['cancel', runId]);
    expect(cancel.code, cancel.stderr).toBe(0);
    await eventually(() => (isRunning(gatePid) ? undefined : true), 30_000, 'the gate to be stopped');
    const status = await cli(['status', runId, '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ status: 'cancelled' });
  }, 180_000);

  it('a run that fails at once stops the gate of another worker', async () => {
    const broken = { id: 'broken', objective: 'fail the run', command: `while [ ! -e gated.lines ]; do sleep 0.05; done; exit 1`, recovery: { exit_nonzero: { escalate: 'fail_run' } } };
    const { engine, gatePid } = await runUntilGate('gated', [broken]);
    const done = await engine.done;
    expect(done.code, done.stderr).toBe(1);
    expect(done.stderr).toMatch(/broken failed/);
    await eventually(() => (isRunning(gatePid) ? undefined : true), 30_000, 'the gate to be stopped');
  }, 180_000);

  it('cancel from another process stops the gate of a live run', async () => {
    const { engine, runId, gatePid } = await runUntilGate('live');
    const cancel = await cli(['cancel', runId]);
    expect(cancel.code, cancel.stderr).toBe(0);
    const done = await engine.done;
    expect(done.stderr).toMatch(/cancelled/);
    await eventually(() => (isRunning(gatePid) ? undefined : true), 30_000, 'the gate to be stopped');
  }, 180_000);
});
