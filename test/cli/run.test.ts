/**
 * `overseer run`, `status` and `events` as a user drives them: the real binary, real shell workers,
 * on each store backend.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends, type TestTarget } from '../support/backends.js';
import { eventually, overseer, overseerProcess } from '../support/cli.js';

const examples = join(import.meta.dirname, '..', '..', 'examples');

describe.each(testBackends())('overseer run on $name', (backend) => {
  let target: TestTarget;
  let cwd: string;
  const cli = (args: string[]) => overseer([...args, '--db', target.db], { cwd });

  beforeAll(async () => {
    target = await backend.newTarget();
    cwd = await mkdtemp(join(tmpdir(), 'overseer-cli-'));
  });
  afterAll(async () => {
    await target.dispose();
    await rm(cwd, { recursive: true, force: true });
  });

  it('completes the README example with dependencies, and another process can see it', async () => {
    const run = await cli(['run', '--plan', join(examples, 'hello.yaml'), '--auto-approve', '--json']);
    expect(run.stderr).toContain('completed');
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as { runId: string; status: string; tasks: Record<string, number> };
    expect(result.status).toBe('completed');
    expect(result.tasks).toMatchObject({ total: 6, done: 6 });

    const status = await cli(['status', '--json']);
    const runs = (JSON.parse(status.stdout) as { runs: Array<{ runId: string; status: string }> }).runs;
    expect(runs[0]).toMatchObject({ runId: result.runId, status: 'completed' });

    const events = await cli(['events', result.runId, '--json']);
    const lines = events.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; workerId: string | null; stateAfter: unknown });
    expect(lines[0]?.type).toBe('run.started');
    expect(lines.at(-1)?.stateAfter).toBe('completed');
    // goodbye depends on count, packet and objective: it can only have started after all three were done.
    const index = (workerId: string, state: string) => lines.findIndex((e) => e.workerId === workerId && e.stateAfter === state);
    for (const dep of ['count', 'packet', 'objective']) expect(index(dep, 'done')).toBeLessThan(index('goodbye', 'spawned'));

    const log = await readFile(join(cwd, '.overseer', 'runs', result.runId, 'goodbye.1.log'), 'utf8');
    expect(log).toContain('Goodbye from goodbye');
  });

  it('fails the run with exit 1 when a task fails, skips its dependents and runs the rest', async () => {
    const plan = join(cwd, 'fails.json');
    await writeFile(
      plan,
      JSON.stringify({
        packets: [
          { id: 'bad', objective: 'fail', command: 'echo broken >&2; exit 4' },
          { id: 'after-bad', objective: 'never runs', command: 'echo no', dependsOn: ['bad'] },
          { id: 'independent', objective: 'runs anyway', command: 'echo yes' },
        ],
      }),
    );
    const run = await cli(['run', '--plan', plan, '--auto-approve', '--json']);
    expect(run.code).toBe(1);
    const result = JSON.parse(run.stdout) as { status: string; tasks: Record<string, number>; workers: Array<{ workerId: string; state: string; failure: string | null }> };
    expect(result.status).toBe('failed');
    expect(result.tasks).toMatchObject({ total: 3, done: 1, failed: 1, skipped: 1 });
    expect(result.workers.find((w) => w.workerId === 'bad')?.failure).toBe('exit_nonzero: exit code 4');
    // The progress line says what the command said last.
    expect(run.stderr).toMatch(/bad failed \(exit_nonzero: exit code 4\) — broken /);
    expect(result.workers.map((w) => w.workerId)).not.toContain('after-bad');
  });

  it('never runs more tasks at once than --concurrency', async () => {
    const trace = join(cwd, 'trace.txt');
    const packets = Array.from({ length: 6 }, (_, i) => ({
      id: `t${String(i)}`,
      objective: 'overlap probe',
      command: `echo start >> ${trace}; sleep 0.3; echo end >> ${trace}`,
    }));
    const plan = join(cwd, 'wide.json');
    await writeFile(plan, JSON.stringify({ packets }));
    const run = await cli(['run', '--plan', plan, '--auto-approve', '--concurrency', '2']);
    expect(run.code).toBe(0);
    let live = 0;
    let peak = 0;
    for (const line of (await readFile(trace, 'utf8')).trim().split('\n')) {
      live += line === 'start' ? 1 : -1;
      peak = Math.max(peak, live);
    }
    expect(peak).toBe(2);
  });

  it('shows a run in progress to `status` from a second process', async () => {
    const plan = join(cwd, 'slow.json');
    await writeFile(plan, JSON.stringify({ packets: [{ id: 'slow', objective: 'take a while', command: 'sleep 3' }] }));
    const running = overseerProcess(['run', '--plan', plan, '--auto-approve', '--db', target.db], { cwd });
    const runId = await eventually(() => /run (\w+) started/.exec(running.output().stderr)?.[1], 20_000, 'run to start');
    const seen = await eventually(async () => {
      const status = await cli(['status', runId, '--json']);
      const parsed = status.code === 0 ? (JSON.parse(status.stdout) as { status: string; workers: Array<{ state: string }> }) : undefined;
      return parsed?.workers[0]?.state === 'running' ? parsed : undefined;
    }, 20_000, 'status to show the worker running');
    expect(seen.status).toBe('running');
    expect((await running.done).code).toBe(0);
  });

  it('exits 3 with the waiting workers listed when --detach meets a trust gate', async () => {
    const plan = join(cwd, 'untrusted.json');
    await writeFile(plan, JSON.stringify({ packets: [{ id: 'needs-ok', objective: 'ask first', command: 'echo hi' }] }));
    const run = await cli(['run', '--plan', plan, '--detach', '--json']);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('waiting for approval: needs-ok');
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'waiting' });
  });
});
