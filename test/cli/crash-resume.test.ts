/**
 * The engine is killed with SIGKILL at random moments of a 10-task run, again and again; `resume`
 * each time. Afterwards every task has run exactly once (each appends one line to a file) and the run
 * has completed. The moments come from a seeded generator so a failure can be replayed.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends, type TestTarget } from '../support/backends.js';
import { overseer, overseerProcess } from '../support/cli.js';

const KILLS = 22;
const TASKS = 10;

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe.each(testBackends())('crash and resume on $name', (backend) => {
  let target: TestTarget;
  let cwd: string;

  beforeAll(async () => {
    target = await backend.newTarget();
    cwd = await mkdtemp(join(tmpdir(), 'overseer-crash-'));
  });
  afterAll(async () => {
    await target.dispose();
    await rm(cwd, { recursive: true, force: true });
  });

  it(`runs every task exactly once across ${String(KILLS)} SIGKILLs of the engine`, async () => {
    const lines = join(cwd, 'lines.txt');
    const packets = Array.from({ length: TASKS }, (_, i) => ({
      id: `t${String(i)}`,
      objective: `append line ${String(i)}`,
      // Workers outlive a killed engine; each waits for the test to release it, so the run lasts
      // through every engine life whatever the store's start-up time.
      command: `echo "$OVERSEER_WORKER_ID" >> ${lines}; while [ ! -e ${join(cwd, 'release', `t${String(i)}`)} ]; do sleep 0.05; done`,
      // A chain with some fan-out, so crashes land between dependent steps too.
      dependsOn: i === 0 ? [] : [`t${String(Math.floor((i - 1) / 2))}`],
    }));
    await mkdir(join(cwd, 'release'));
    const plan = join(cwd, 'plan.json');
    await writeFile(plan, JSON.stringify({ packets }));
    const random = seeded(Number(process.env['OVERSEER_CRASH_SEED'] ?? 20261125));

    let runId: string | undefined;
    const kills: string[] = [];
    for (let kill = 0; kill < KILLS; kill++) {
      // Two engine lives per task: release tasks one by one as the kills go on.
      for (let i = 0; i < Math.min(TASKS, Math.floor(kill / 2)); i++) await writeFile(join(cwd, 'release', `t${String(i)}`), '');
      const args = runId === undefined ? ['run', '--plan', plan, '--auto-approve', '--concurrency', '3'] : ['resume', runId];
      const engine = overseerProcess([...args, '--db', target.db], { cwd });
      const done = engine.done.then(() => true as const);
      const sleep = (ms: number) => new Promise<false>((r) => setTimeout(() => r(false), ms));
      // A quarter of the kills land anywhere in start-up; the rest while the engine works, which
      // on a fast store is only a few hundred milliseconds per life.
      const inStartUp = random() < 0.25;
      const delay = Math.floor(random() * (inStartUp ? 600 : 300));
      let ended: boolean;
      if (inStartUp) ended = await Promise.race([done, sleep(delay)]);
      else {
        const working = (async () => {
          while (!/ (started|resumed)/.test(engine.output().stderr)) await sleep(10);
          return sleep(delay);
        })();
        ended = await Promise.race([done, working]);
      }
      if (!ended) {
        engine.kill('SIGKILL');
        await engine.done;
      }
      runId ??= /run (\w+) started/.exec(engine.output().stderr)?.[1] ?? (await latestRun());
      kills.push(`${inStartUp ? 'start-up+' : 'working+'}${String(delay)}ms${ended ? ' (ended first)' : ''}`);
    }
    expect(runId, 'a run was created').toBeDefined();

    for (let i = 0; i < TASKS; i++) await writeFile(join(cwd, 'release', `t${String(i)}`), '');
    const final = await overseer(['resume', runId as string, '--json', '--db', target.db], { cwd, timeoutMs: 120_000 });
    expect(final.code, `${final.stderr}\nkills: ${kills.join(', ')}`).toBe(0);
    expect(JSON.parse(final.stdout)).toMatchObject({ status: 'completed', tasks: { total: TASKS, done: TASKS } });

    const written = (await readFile(lines, 'utf8')).trim().split('\n').sort();
    expect(written).toEqual(packets.map((p) => p.id).sort());
    expect(kills.filter((k) => !k.includes('ended first')).length, kills.join(', ')).toBeGreaterThanOrEqual(20);
  }, 300_000);

  async function latestRun(): Promise<string | undefined> {
    const status = await overseer(['status', '--json', '--db', target.db], { cwd });
    if (status.code !== 0) return undefined;
    return (JSON.parse(status.stdout) as { runs: Array<{ runId: string }> }).runs[0]?.runId;
  }
});
