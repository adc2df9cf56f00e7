/**
 * Many engines on one store, with real processes and real signals (docs/scaling.md): runs submitted
 * with `run --submit` are spread over `overseer worker`s; a worker killed -9 has its runs taken over
 * by the others; a worker paused past its lease writes nothing once it continues; two workers racing
 * for one run never both run it; a worker of another host has its running workers recorded lost.
 * Short leases (2s) with generous overall timeouts; every wait is for something the store shows.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { testBackends, type TestTarget } from '../support/backends.js';
import { eventually, overseer, overseerProcess } from '../support/cli.js';

const LEASE = '2s';
const LONG = 180_000;

interface EventRow {
  version: number;
  type: string;
  worker_id: string | null;
  epoch: string;
  payload: { host?: string; detail?: string };
}

describe.each(testBackends())('workers sharing a store on $name', (backend) => {
  let target: TestTarget;
  let cwd: string;
  const workers: ReturnType<typeof overseerProcess>[] = [];

  beforeAll(async () => {
    target = await backend.newTarget();
    cwd = await mkdtemp(join(tmpdir(), 'overseer-scale-'));
  });
  afterEach(async () => {
    for (const worker of workers.splice(0)) {
      if (worker.exitCode === null && worker.signalCode === null) {
        worker.kill('SIGCONT');
        worker.kill('SIGKILL');
        await worker.done;
      }
    }
  });
  afterAll(async () => {
    await target.dispose();
    await rm(cwd, { recursive: true, force: true });
  });

  function startWorker(name: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}) {
    const worker = overseerProcess(['worker', '--db', target.db, '--lease', LEASE, ...extra], { cwd, env: { OVERSEER_HOST_ID: 'host-a', ...env } });
    workers.push(worker);
    return Object.assign(worker, { name });
  }

  async function submit(objective: string, command: string, flags: string[] = []): Promise<string> {
    const result = await overseer(['run', '--submit', '--db', target.db, '--worker', command, ...flags, objective], { cwd });
    expect(result.code, result.stderr).toBe(0);
    return result.stdout.trim();
  }

  async function runsRows(ids: readonly string[]) {
    return target.query<{ run_id: string; status: string; owner_id: string | null; owner_epoch: string }>(
      'select run_id, status, owner_id, owner_epoch::text from runs where run_id = any($1)',
      [ids],
    );
  }

  async function events(runId: string): Promise<EventRow[]> {
    return target.query<EventRow>('select version, type, worker_id, epoch::text, payload from events where stream_id = $1 order by version', [runId]);
  }

  async function lines(file: string): Promise<string[]> {
    return (await readFile(file, 'utf8').catch(() => '')).split('\n').filter((line) => line !== '');
  }

  const ownedBy = (ownerId: string | null, worker: { pid?: number | undefined }) => ownerId !== null && ownerId.split(':').at(-2) === String(worker.pid);

  it('spreads runs over three workers; after one is killed -9 at the trust gates, every run completes on the others, each task once', { timeout: LONG }, async () => {
    const file = join(cwd, 'gated.txt');
    const runIds: string[] = [];
    for (let i = 0; i < 6; i++) runIds.push(await submit(`gated ${String(i)}`, `echo gated-${String(i)} >> ${file}`));
    const pool = [startWorker('w1', ['--max-runs', '2']), startWorker('w2', ['--max-runs', '2']), startWorker('w3', ['--max-runs', '2'])];

    // Each worker holds two runs, each waiting at its trust gate.
    const held = await eventually(
      async () => {
        const rows = await runsRows(runIds);
        return rows.every((row) => row.status === 'waiting') && pool.every((w) => rows.filter((row) => ownedBy(row.owner_id, w)).length === 2) ? rows : undefined;
      },
      LONG / 2,
      'six runs waiting, two on each worker',
    );
    const [victim] = pool as [(typeof pool)[number], ...typeof pool];
    const orphans = held.filter((row) => ownedBy(row.owner_id, victim)).map((row) => row.run_id);
    victim.kill('SIGKILL');
    await victim.done;

    for (const runId of runIds) {
      const approved = await overseer(['approve', runId, 'task-1', '--db', target.db], { cwd });
      expect(approved.code, approved.stderr).toBe(0);
    }
    await eventually(async () => ((await runsRows(runIds)).every((row) => row.status === 'completed') ? true : undefined), LONG / 2, 'every run completed');

    expect((await lines(file)).sort()).toEqual(runIds.map((_, i) => `gated-${String(i)}`).sort());
    for (const runId of orphans) {
      const log = await events(runId);
      // Taken over by a survivor at a later epoch (on a busy machine a 2s lease may change hands again).
      expect(Number(log.at(-1)?.epoch)).toBeGreaterThanOrEqual(2);
      expect(log.filter((e) => e.type === 'process.started')).toHaveLength(1);
      expect(pool.slice(1).some((w) => w.output().stderr.includes(`claimed run ${runId} (epoch ${log.at(-1)?.epoch ?? ''})`))).toBe(true);
    }
  });

  it('a worker paused past its lease and taken over writes nothing of its old epoch when it continues, and the run completes once', { timeout: LONG }, async () => {
    const file = join(cwd, 'paused.txt');
    const release = join(cwd, 'paused.release');
    const runId = await submit('paused', `echo start >> ${file}; while [ ! -e ${release} ]; do sleep 0.05; done; echo done >> ${file}`, ['--auto-approve']);
    const first = startWorker('first');
    await eventually(async () => ((await events(runId)).some((e) => e.type === 'process.started') ? true : undefined), LONG / 3, 'the task started');
    first.kill('SIGSTOP');

    const second = startWorker('second');
    await eventually(() => (second.output().stderr.includes(`claimed run ${runId} (epoch 2)`) ? true : undefined), LONG / 3, 'the takeover');
    const takenAt = Math.max(...(await events(runId)).map((e) => e.version));
    first.kill('SIGCONT');
    await eventually(() => (first.output().stderr.includes(`run ${runId} taken over by another engine`) ? true : undefined), LONG / 3, 'the paused worker to notice');

    await writeFile(release, '');
    await eventually(async () => ((await runsRows([runId]))[0]?.status === 'completed' ? true : undefined), LONG / 3, 'the run completed');
    const log = await events(runId);
    expect(log.filter((e) => e.version > takenAt && e.epoch !== '2')).toEqual([]);
    expect(log.filter((e) => e.type === 'process.started' || e.type === 'process.exited')).toHaveLength(2);
    expect(await lines(file)).toEqual(['start', 'done']);
    // One line says it stopped working on the run; nothing else about the run follows.
    const said = first.output().stderr.split('\n').filter((line) => line.includes(`run ${runId} `));
    expect(said).toEqual([expect.stringContaining(`claimed run ${runId} (epoch 1)`), `overseer worker: run ${runId} taken over by another engine: stopped working on it`]);

    first.kill('SIGTERM');
    expect((await first.done).code).toBe(0);
  });

  it('gives a run two workers race for to exactly one of them', { timeout: LONG }, async () => {
    const file = join(cwd, 'raced.txt');
    const pair = [startWorker('left'), startWorker('right')];
    await eventually(() => (pair.every((w) => w.output().stderr.includes('waiting for runs')) ? true : undefined), LONG / 3, 'both workers listening');
    const runId = await submit('raced', `echo once >> ${file}`, ['--auto-approve']);
    await eventually(async () => ((await runsRows([runId]))[0]?.status === 'completed' ? true : undefined), LONG / 3, 'the run completed');

    expect(pair.filter((w) => w.output().stderr.includes(`claimed run ${runId}`))).toHaveLength(1);
    expect(await lines(file)).toEqual(['once']);
    expect(new Set((await events(runId)).map((e) => e.epoch))).toEqual(new Set(['0', '1']));
    for (const worker of pair) worker.kill('SIGTERM');
    expect((await Promise.all(pair.map((w) => w.done))).map((r) => r.code)).toEqual([0, 0]);
  });

  it('keeps runs submitted under --schema to that schema, and refuses a schema name that is not one', async () => {
    const submitted = await overseer(['run', '--submit', '--schema', 'team_x', '--db', target.db, '--worker', 'true', 'in team x'], { cwd });
    expect(submitted.code, submitted.stderr).toBe(0);
    const runId = submitted.stdout.trim();
    expect((await overseer(['status', '--schema=team_x', '--db', target.db], { cwd })).stdout).toContain(runId);
    expect((await overseer(['status', '--db', target.db], { cwd })).stdout).not.toContain(runId);
    const bad = await overseer(['status', '--schema', 'Team-X', '--db', target.db], { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });

  it("records lost, and retries, the running workers of a dead worker on another host", { timeout: LONG }, async () => {
    const file = join(cwd, 'hosts.txt');
    const release = join(cwd, 'hosts.release');
    const runId = await submit('hosts', `echo "start $OVERSEER_HOST_ID" >> ${file}; while [ ! -e ${release} ]; do sleep 0.05; done`, ['--auto-approve']);
    const far = startWorker('far', [], { OVERSEER_HOST_ID: 'host-far' });
    await eventually(async () => ((await events(runId)).some((e) => e.type === 'process.started') ? true : undefined), LONG / 3, 'the task started on host-far');
    far.kill('SIGKILL');
    await far.done;
    await writeFile(release, '');

    startWorker('near', [], { OVERSEER_HOST_ID: 'host-near' });
    await eventually(async () => ((await runsRows([runId]))[0]?.status === 'completed' ? true : undefined), LONG / 3, 'the run completed on host-near');
    const log = await events(runId);
    expect(log.filter((e) => e.type === 'process.started').map((e) => e.payload.host)).toEqual(['host-far', 'host-near']);
    expect(log.find((e) => e.type === 'worker.lost')?.payload.detail).toContain('host-far');
  });
});
