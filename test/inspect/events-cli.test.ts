/**
 * `overseer events` as a user reads a run: filtered by worker, type prefix and position or time, and
 * followed live while the run goes on — the follower prints each event once as it is stored and
 * stops when the run ends, or on Ctrl-C; following never keeps an approval or a resume out.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends, type TestTarget } from '../support/backends.js';
import { eventually, overseer, overseerProcess } from '../support/cli.js';

interface EventLine {
  position: string;
  version: number;
  at: string;
  type: string;
  workerId: string | null;
  stateAfter: unknown;
}

function lines(stdout: string): EventLine[] {
  return stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as EventLine);
}

describe.each(testBackends())('overseer events on $name', (backend) => {
  let target: TestTarget;
  let cwd: string;
  let runId: string;
  let all: EventLine[];
  const db = () => ['--db', target.db];
  const cli = (args: string[]) => overseer([...args, ...db()], { cwd });

  beforeAll(async () => {
    target = await backend.newTarget();
    cwd = await mkdtemp(join(tmpdir(), 'overseer-events-'));
    const plan = join(cwd, 'two.json');
    await writeFile(plan, JSON.stringify({ packets: [{ id: 'one', objective: 'first', command: 'echo one' }, { id: 'two', objective: 'second', command: 'echo two', dependsOn: ['one'] }] }));
    const run = await cli(['run', '--plan', plan, '--auto-approve', '--json']);
    expect(run.code).toBe(0);
    runId = (JSON.parse(run.stdout) as { runId: string }).runId;
    all = lines((await cli(['events', runId, '--json'])).stdout);
  });
  afterAll(async () => {
    await target.dispose();
    await rm(cwd, { recursive: true, force: true });
  });

  it('filters by worker, by type prefix and from a position or a time', async () => {
    const two = lines((await cli(['events', runId, '--json', '--worker', 'two'])).stdout);
    expect(two.length).toBeGreaterThan(2);
    expect(two.every((e) => e.workerId === 'two')).toBe(true);

    const process = lines((await cli(['events', runId, '--json', '--type', 'process.', '--type', 'task.'])).stdout);
    expect(new Set(process.map((e) => e.type))).toEqual(new Set(['process.started', 'process.exited', 'task.finished']));

    const middle = all[Math.floor(all.length / 2)]!;
    const since = lines((await cli(['events', runId, '--json', '--since', middle.position])).stdout);
    expect(since).toEqual(all.filter((e) => BigInt(e.position) >= BigInt(middle.position)));
    const sinceTime = lines((await cli(['events', runId, '--json', '--since', middle.at])).stdout);
    expect(sinceTime).toEqual(all.filter((e) => e.at >= middle.at));

    const combined = lines((await cli(['events', runId, '--json', '--worker', 'one', '--type', 'process.exited'])).stdout);
    expect(combined.map((e) => [e.workerId, e.type])).toEqual([['one', 'process.exited']]);

    const table = await cli(['events', runId, '--worker', 'one', '--type', 'trust.']);
    expect(table.stdout.trim().split('\n')).toHaveLength(1);
    expect(table.stdout).toMatch(/^\s+\d+\s+\d\d:\d\d:\d\d\.\d{3}\s+one\s+trust\.decided\s+"trusted"/);
  });

  it('says so for an unknown worker or a --since it cannot read', async () => {
    const worker = await cli(['events', runId, '--worker', 'three']);
    expect(worker.code).toBe(2);
    expect(worker.stderr).toBe(`overseer events: run ${runId} has no worker three (its workers: one, two)\n`);
    const since = await cli(['events', runId, '--since', 'last tuesday']);
    expect(since.code).toBe(2);
    expect(since.stderr).toMatch(/^--since: expected an event position .* or an ISO time .*, got "last tuesday"\n$/);
  });

  it('--follow on a finished run prints it and exits', async () => {
    const result = await cli(['events', runId, '--follow', '--json']);
    expect(result.code).toBe(0);
    expect(lines(result.stdout)).toEqual(all);
  });

  it('--follow tails a live run, each event once, and exits when the run ends', async () => {
    const plan = join(cwd, 'slow.json');
    // slow goes on until the test lets it (a file), however long the followers take to start.
    const release = join(cwd, 'release-slow');
    await writeFile(plan, JSON.stringify({ packets: [{ id: 'slow', objective: 'take a while', command: `while [ ! -f '${release}' ]; do sleep 0.05; done; echo done` }, { id: 'after', objective: 'then', command: 'echo after', dependsOn: ['slow'] }] }));
    const running = overseerProcess(['run', '--plan', plan, '--auto-approve', ...db()], { cwd });
    const live = await eventually(() => /run (\w+) started/.exec(running.output().stderr)?.[1], 30_000, 'run to start');
    const follower = overseerProcess(['events', live, '--follow', '--json', ...db()], { cwd });
    const typed = overseerProcess(['events', live, '--follow', '--type', 'process.', ...db()], { cwd });
    // Events arrive while the run is still going: the slow task is seen running before the run exits.
    await eventually(() => (lines(follower.output().stdout).some((e) => e.workerId === 'slow' && e.stateAfter === 'running') ? true : undefined), 30_000, 'the follower to see slow running');
    expect(running.exitCode).toBeNull();
    await writeFile(release, '');

    const [run, followed, filtered] = await Promise.all([running.done, follower.done, typed.done]);
    expect(run.code).toBe(0);
    expect(followed.code).toBe(0);
    const seen = lines(followed.stdout);
    expect(seen.map((e) => e.version)).toEqual(seen.map((_, i) => i + 1));
    expect(seen.at(-1)?.stateAfter).toBe('completed');
    expect(seen).toEqual(lines((await cli(['events', live, '--json'])).stdout));
    expect(filtered.code).toBe(0);
    expect(filtered.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/)[3])).toEqual(['process.started', 'process.exited', 'process.started', 'process.exited']);
  });

  it('--follow of a waiting run lets an approval and a resume in, follows them, and stops on Ctrl-C otherwise', async () => {
    const plan = join(cwd, 'gated.json');
    await writeFile(plan, JSON.stringify({ packets: [{ id: 'gated', objective: 'wait for a person', command: 'echo ok' }] }));
    const run = await cli(['run', '--plan', plan, '--detach', '--json']);
    expect(run.code).toBe(3);
    const waiting = (JSON.parse(run.stdout) as { runId: string }).runId;

    const interrupted = overseerProcess(['events', waiting, '--follow', ...db()], { cwd });
    const follower = overseerProcess(['events', waiting, '--follow', '--json', ...db()], { cwd });
    await eventually(() => (lines(follower.output().stdout).some((e) => e.stateAfter === 'awaitingTrust') ? true : undefined), 30_000, 'the waiting run');
    await eventually(() => (interrupted.output().stdout.includes('awaitingTrust') ? true : undefined), 30_000, 'the second follower');
    interrupted.kill('SIGINT');
    expect((await interrupted.done).code).toBe(130);

    const approve = await cli(['approve', waiting, 'gated']);
    expect(approve.code).toBe(0);
    const resume = await cli(['resume', waiting]);
    expect(resume.code).toBe(0);
    const followed = await follower.done;
    expect(followed.code).toBe(0);
    const seen = lines(followed.stdout);
    expect(seen.map((e) => e.type)).toEqual(expect.arrayContaining(['trust.approved', 'process.started', 'process.exited']));
    expect(seen.map((e) => e.version)).toEqual(seen.map((_, i) => i + 1));
    expect(seen.at(-1)?.stateAfter).toBe('completed');
  });
});
