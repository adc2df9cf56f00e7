/**
 * `overseer fork RUN_ID --at POSITION`: a new run from another run's state at one of its events. Work
 * finished by then is not done again, workers in flight then start afresh, and the fork's log replays
 * and verifies like any run's. A position that is not one of the run's events is refused.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends, type TestTarget } from '../support/backends.js';
import { overseer } from '../support/cli.js';

interface Line {
  position: string;
  type: string;
  workerId: string | null;
  payload: Record<string, unknown>;
}

describe.each(testBackends())('fork on $name', { timeout: 180_000 }, (backend) => {
  let target: TestTarget;
  let cwd: string;
  const cli = (args: string[]) => overseer([...args, '--db', target.db], { cwd, timeoutMs: 120_000 });
  const events = async (runId: string): Promise<Line[]> => {
    const result = await cli(['events', runId, '--json']);
    expect(result.code).toBe(0);
    return result.stdout.trim().split('\n').map((l) => JSON.parse(l) as Line);
  };
  /** How many times each task ran: every task appends its id to one file. */
  const runs = async (file: string) => {
    const counts: Record<string, number> = {};
    for (const id of (await readFile(join(cwd, file), 'utf8')).trim().split('\n')) counts[id] = (counts[id] ?? 0) + 1;
    return counts;
  };
  const count = async (table: 'runs' | 'events') => Number((await target.query<{ n: string }>(`select count(*)::text as n from ${table}`))[0]?.n);
  const startRun = async (name: string, packets: object[]) => {
    await writeFile(join(cwd, `${name}.json`), JSON.stringify({ packets }));
    return cli(['run', '--plan', `${name}.json`, '--auto-approve', '--json']);
  };

  beforeAll(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'overseer-fork-'));
    target = await backend.newTarget();
  });
  afterAll(async () => {
    await target.dispose();
    await rm(cwd, { recursive: true, force: true });
  });

  it('carries a failed run on from after its last good task: finished tasks are not run again, the failed one is', async () => {
    const run = await startRun('chain', [
      { id: 'a', objective: 'first', command: 'echo a >> chain.txt' },
      { id: 'b', objective: 'second', command: 'echo b >> chain.txt', dependsOn: ['a'] },
      // Fails until the file the test makes between the run and the fork is there.
      { id: 'c', objective: 'third', command: 'echo c >> chain.txt; test -f c-fixed', dependsOn: ['b'], recovery: { exit_nonzero: { max_attempts: 1 } } },
    ]);
    expect(run.code).toBe(1);
    const source = (JSON.parse(run.stdout) as { runId: string }).runId;
    const afterB = (await events(source)).find((e) => e.type === 'task.finished' && e.payload['taskId'] === 'b');
    expect(afterB).toBeDefined();

    await writeFile(join(cwd, 'c-fixed'), '');
    const fork = await cli(['fork', source, '--at', afterB!.position, '--json']);
    expect(fork.stderr).toContain(`forked from run ${source} at position ${afterB!.position}`);
    expect(fork.code).toBe(0);
    const result = JSON.parse(fork.stdout) as { runId: string; status: string; tasks: Record<string, number> };
    expect(result).toMatchObject({ status: 'completed', tasks: { total: 3, done: 3 } });
    expect(result.runId).not.toBe(source);
    expect(await runs('chain.txt')).toEqual({ a: 1, b: 1, c: 2 });

    const log = await events(result.runId);
    expect(log[0]?.type).toBe('run.started');
    expect(log[0]?.payload['forkedFrom']).toEqual({ runId: source, position: afterB!.position });
    expect(log[0]?.payload['autoApprove']).toBe(true);
    expect((await cli(['verify', result.runId])).code).toBe(0);
    expect((await cli(['replay', result.runId])).code).toBe(0);
    // The source is as it was.
    expect((await events(source)).at(-1)?.type).toBe('task.finished');
    expect(JSON.parse((await cli(['status', source, '--json'])).stdout)).toMatchObject({ status: 'failed' });
  });

  it('starts a worker that was running at the position afresh', async () => {
    const run = await startRun('single', [{ id: 'w', objective: 'work', command: 'echo w >> single.txt' }]);
    expect(run.code).toBe(0);
    const source = (JSON.parse(run.stdout) as { runId: string }).runId;
    const running = (await events(source)).find((e) => e.type === 'process.started' && e.workerId === 'w');
    expect(running).toBeDefined();

    const fork = await cli(['fork', source, '--at', running!.position, '--json']);
    expect(fork.code).toBe(0);
    const forkId = (JSON.parse(fork.stdout) as { runId: string }).runId;
    expect(await runs('single.txt')).toEqual({ w: 2 });
    const started = (await events(forkId)).filter((e) => e.type === 'process.started' && e.workerId === 'w');
    expect(started).toHaveLength(1);
    expect(started[0]?.payload['logFile']).toContain(join('.overseer', 'runs', forkId));
  });

  it('refuses a --concurrency too low for the history it keeps, and writes nothing', async () => {
    await writeFile(join(cwd, 'pair.json'), JSON.stringify({ packets: [{ id: 'p', objective: 'one', command: 'true' }, { id: 'q', objective: 'two', command: 'true' }] }));
    const run = await cli(['run', '--plan', 'pair.json', '--auto-approve', '--concurrency', '2', '--json']);
    expect(run.code).toBe(0);
    const source = (JSON.parse(run.stdout) as { runId: string }).runId;
    const last = (await events(source)).at(-1)!.position;
    const [runsBefore, eventsBefore] = [await count('runs'), await count('events')];
    const fork = await cli(['fork', source, '--at', last, '--concurrency', '1']);
    expect(fork.code).toBe(2);
    expect(fork.stderr).toMatch(/^overseer fork: task q had started by then, which --concurrency 1 would not have allowed; fork with a larger --concurrency\n$/);
    expect([await count('runs'), await count('events')]).toEqual([runsBefore, eventsBefore]);
  });

  it('refuses a position that is not in the run: exit 2, one line, nothing written', async () => {
    const run = await startRun('short', [{ id: 's', objective: 'one', command: 'true' }]);
    expect(run.code).toBe(0);
    const source = (JSON.parse(run.stdout) as { runId: string }).runId;
    const last = BigInt((await events(source)).at(-1)!.position);
    const [runsBefore, eventsBefore] = [await count('runs'), await count('events')];
    for (const at of [(last + 1000n).toString(), '0', '1e3']) {
      const fork = await cli(['fork', source, '--at', at]);
      expect(fork.code).toBe(2);
      expect(fork.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(fork.stdout).toBe('');
    }
    expect((await cli(['fork', source, '--at', (last + 1000n).toString()])).stderr).toMatch(new RegExp(`^overseer fork: run ${source} has no event at position ${String(last + 1000n)} `));
    expect([await count('runs'), await count('events')]).toEqual([runsBefore, eventsBefore]);
  });
});
