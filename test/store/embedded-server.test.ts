/**
 * The embedded store's server, as a user meets it through the real `overseer` command: started by
 * whichever process needs it first (once, however many race), shared by everyone else, stopped by
 * `overseer store stop` or after a quiet period, restarted after a kill -9 with nothing committed
 * lost, and a damaged store reported in one line. As root, a project in a folder the server's user
 * cannot enter keeps its cluster in a folder that user owns.
 */
import { existsSync } from 'node:fs';
import { appendFile, chmod, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureServer } from '../../src/store/embedded/embedded-server.js';
import { readLock } from '../../src/store/embedded/file-lock.js';
import { runningServer } from '../../src/store/embedded/server-process.js';
import { locateStore } from '../../src/store/embedded/store-location.js';
import { isSameProcessAlive } from '../../src/os/process-identity.js';
import { newEmbeddedTarget, removeEmbeddedStore, type TestTarget } from '../support/backends.js';
import { eventually, overseer, overseerProcess, type CliResult } from '../support/cli.js';

interface StoreStatusJson {
  dataDir: string;
  pointerFile: string | null;
  server: { pid: number; clients: Array<{ name: string; connections: number }> | null } | null;
  keeperPid: number | null;
}

let target: TestTarget;
let cwd: string;
beforeEach(async () => {
  target = await newEmbeddedTarget();
  cwd = await mkdtemp(join(tmpdir(), 'overseer-server-'));
});
afterEach(async () => {
  await target.dispose();
  await rm(cwd, { recursive: true, force: true });
});

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => overseer([...args, '--db', target.db], { cwd, env });

async function storeStatus(): Promise<StoreStatusJson> {
  const result = await cli(['store', 'status', '--json']);
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as StoreStatusJson;
}

async function serverLog(): Promise<string> {
  return readFile((await locateStore(target.db)).logFile, 'utf8');
}

function expectOneLine(result: CliResult, code: number, message: RegExp): void {
  expect(result.code).toBe(code);
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(message);
}

function literally(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function runIdOf(result: CliResult): string {
  return (JSON.parse(result.stdout) as { runId: string }).runId;
}

describe('the embedded store server', () => {
  it('is started once when three overseer processes need it at the same moment, and serves them all', async () => {
    const runs = await Promise.all([1, 2, 3].map((n) => cli(['run', `task ${String(n)}`, '--worker', 'true', '--auto-approve', '--json'])));
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
    expect((await serverLog()).match(/database system is ready to accept connections/g)).toHaveLength(1);
    const listed = JSON.parse((await cli(['status', '--json'])).stdout) as { runs: Array<{ runId: string; status: string }> };
    expect(listed.runs.map((r) => r.runId).sort()).toEqual(runs.map(runIdOf).sort());
    expect(listed.runs.every((r) => r.status === 'completed')).toBe(true);
  });

  it('is restarted after a kill -9 mid-run: the engine stops with one line, and resume runs each task once', async () => {
    const lines = join(cwd, 'lines.txt');
    const release = join(cwd, 'release');
    const plan = join(cwd, 'plan.json');
    const packets = ['a', 'b', 'c'].map((id, i) => ({
      id,
      objective: `append ${id}`,
      command: `echo ${id} >> ${lines}; while [ ! -e ${release} ]; do sleep 0.05; done`,
      dependsOn: i === 0 ? [] : [['a', 'b', 'c'][i - 1] ?? ''],
    }));
    await writeFile(plan, JSON.stringify({ packets }));
    const engine = overseerProcess(['run', '--plan', plan, '--auto-approve', '--db', target.db], { cwd });
    await eventually(async () => ((await readFile(lines, 'utf8').catch(() => '')).includes('a') ? true : undefined), 30_000, 'task a to start');
    const runId = /run (\w+) started/.exec(engine.output().stderr)?.[1] ?? '';

    const { server } = await storeStatus();
    process.kill(server?.pid ?? 0, 'SIGKILL');
    const stopped = await engine.done;
    expect(stopped.code).toBe(1);
    const complaint = stopped.stderr.split('\n').filter((line) => /stopped/.test(line));
    expect(complaint).toEqual([
      expect.stringMatching(new RegExp(`^overseer: run ${runId} stopped: the store server for ${literally(target.db)} went away \\(.*\\); the run is kept — overseer resume ${runId}$`)) as string,
    ]);
    expect(stopped.stderr).not.toMatch(/^\s+at /m);

    await writeFile(release, '');
    const resumed = await cli(['resume', runId, '--json']);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ runId, status: 'completed' });
    expect((await readFile(lines, 'utf8')).trim().split('\n').sort()).toEqual(['a', 'b', 'c']);
    const restarted = await storeStatus();
    expect(restarted.server?.pid).not.toBe(server?.pid);
    expect(await serverLog()).toMatch(/database system was interrupted|not properly shut down/);
  });

  it('says where it is and who uses it; store stop refuses while a client is connected, --force stops it, and nothing is lost', async () => {
    const first = await cli(['run', 'kept', '--worker', 'true', '--auto-approve', '--json']);
    expect(first.code).toBe(0);
    const client = await target.open();

    const status = await storeStatus();
    expect(status.server?.clients?.map((c) => c.name)).toContain(`overseer ${String(process.pid)}`);
    const text = await cli(['store', 'status']);
    expect(text.stdout).toMatch(new RegExp(`server +running, pid ${String(status.server?.pid)} `));
    expect(text.stdout).toMatch(/^size +\d+\.\d MB$/m);

    expectOneLine(await cli(['store', 'stop']), 2, new RegExp(`store ${literally(target.db)} is in use \\(overseer ${String(process.pid)}\\).*--force`));
    expect((await storeStatus()).server?.pid).toBe(status.server?.pid);

    const keeperPid = status.keeperPid;
    expect(keeperPid).not.toBeNull();
    const forced = await cli(['store', 'stop', '--force']);
    expect(forced.code).toBe(0);
    // Its keeper is gone too: nothing writes in the store folder once the stop returns.
    expect(isSameProcessAlive(keeperPid ?? 0, null)).toBe(false);
    expect(forced.stdout).toMatch(new RegExp(`stopped the store server for ${literally(target.db)} \\(pid ${String(status.server?.pid)}\\)`));
    expect((await storeStatus()).server).toBeNull();
    await client.close().catch(() => undefined);
    expect((await cli(['store', 'stop'])).stdout).toMatch(/is not running/);

    // The next command starts it again, with everything committed before.
    const after = JSON.parse((await cli(['status', runIdOf(first), '--json'])).stdout) as { status: string };
    expect(after.status).toBe('completed');
    expect((await storeStatus()).server).not.toBeNull();
  });

  it('knows its keeper from the moment it is spawned, so a stop right after a start ends it before it has booted', async () => {
    const { location } = await ensureServer(target.db, { env: {} });
    // No wait: the keeper is a Node process still booting, and `store stop` must already see it.
    const lock = await readLock(location.keeperLock);
    if (lock.kind !== 'held') throw new Error(`keeper.lock is ${lock.kind} right after the start`);
    expect(lock.alive).toBe(true);
    expect(lock.holder.pid).not.toBe(process.pid);
    expect((await cli(['store', 'stop'])).code).toBe(0);
    expect(isSameProcessAlive(lock.holder.pid, lock.holder.processStartTime)).toBe(false);
  });

  it('stops by itself once no client has been connected for the quiet period', async () => {
    const quick = { OVERSEER_STORE_IDLE: '1s' };
    expect((await cli(['run', 'one', '--worker', 'true', '--auto-approve'], quick)).code).toBe(0);
    // Looked at from outside (a `store status` would connect, and be a client; and on a busy machine
    // it could come after the quiet second, to find the server already stopped): wait generously.
    const { dataDir } = await locateStore(target.db);
    await eventually(() => (runningServer(dataDir) === undefined ? true : undefined), 60_000, 'the idle server to stop');
    expect(await serverLog()).toMatch(/received fast shutdown request/);
    expect((await cli(['status', '--json'])).code).toBe(0);
  });

  it('reports a damaged store in one line naming it, exit 2, and never starts over on an empty one', async () => {
    // An open parent folder: the cluster is in the store folder itself, whoever runs the test.
    await chmod(dirname(target.db), 0o755);
    expect((await cli(['run', 'x', '--worker', 'true', '--auto-approve'])).code).toBe(0);
    expect((await cli(['store', 'stop'])).code).toBe(0);
    const { dataDir, home } = await locateStore(target.db);
    expect(home).toBe(target.db);
    const damaged = new RegExp(`^the store ${literally(target.db)} is damaged: .*(restore|move)`);

    const version = join(dataDir, 'PG_VERSION');
    await writeFile(version, 'garbage\n');
    expectOneLine(await cli(['status']), 2, damaged);
    await writeFile(version, '18\n');

    const control = join(dataDir, 'global', 'pg_control');
    await rename(control, `${control}.aside`);
    expectOneLine(await cli(['status']), 2, damaged);
    await rename(`${control}.aside`, control);

    const conf = join(dataDir, 'postgresql.conf');
    const settings = await readFile(conf, 'utf8');
    await appendFile(conf, 'this is not a setting\n');
    expectOneLine(await cli(['status']), 2, new RegExp(`^the store server for ${literally(target.db)} would not start: FATAL: .*\\(log: .*server\\.log\\)$`));
    await writeFile(conf, settings);

    await rename(dataDir, `${dataDir}.aside`);
    expectOneLine(await cli(['status']), 2, damaged);
    expect(existsSync(dataDir)).toBe(false);
    await rename(`${dataDir}.aside`, dataDir);

    expect((await cli(['status', '--json'])).code).toBe(0);
  });

  it('keeps every committed event when the pointer and lock files are removed while an engine runs', async () => {
    const plan = join(cwd, 'gated.json');
    await writeFile(plan, JSON.stringify({ packets: [{ id: 'risky', objective: 'needs a yes', command: 'echo risky' }] }));
    const engine = overseerProcess(['run', '--plan', plan, '--json', '--db', target.db], { cwd });
    await eventually(() => (engine.output().stderr.includes('waiting for approval') ? true : undefined), 30_000, 'the trust gate');
    const runId = /run (\w+) started/.exec(engine.output().stderr)?.[1] ?? '';
    const before = (await cli(['events', runId, '--json'])).stdout.trim().split('\n');

    for (const name of ['location', 'keeper.lock', 'start.lock']) await rm(join(target.db, name), { force: true });
    expect((await cli(['events', runId, '--json'])).stdout.trim().split('\n')).toEqual(before);
    expect((await cli(['approve', runId, 'risky'])).code).toBe(0);
    expect((await engine.done).code).toBe(0);
    const after = (await cli(['events', runId, '--json'])).stdout.trim().split('\n');
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.length).toBeGreaterThan(before.length);
    expect(JSON.parse((await cli(['status', runId, '--json'])).stdout)).toMatchObject({ status: 'completed' });
    expect((await serverLog()).match(/database system is ready to accept connections/g)).toHaveLength(1);
  });

  it('refuses a folder that is not a store instead of mixing into it', async () => {
    const elsewhere = join(cwd, 'notes');
    await mkdir(elsewhere);
    await writeFile(join(elsewhere, 'todo.txt'), 'buy milk\n');
    const result = await overseer(['run', 'x', '--worker', 'true', '--auto-approve', '--db', elsewhere], { cwd });
    expectOneLine(result, 2, new RegExp(`^${literally(elsewhere)} is not an Overseer store \\(it holds todo\\.txt\\)`));
    expect(existsSync(join(elsewhere, 'data'))).toBe(false);
  });

  it.runIf(process.getuid?.() === 0)('runs for a root user in a project inside a 0700 folder: the cluster lives in a folder the postgres user owns', async () => {
    const locked = await mkdtemp(join(tmpdir(), 'overseer-locked-'));
    const project = join(locked, 'project');
    await mkdir(project);
    const storeDir = join(project, '.overseer', 'pg');
    try {
      expect((await stat(locked)).mode & 0o777).toBe(0o700);
      const env = { OVERSEER_DB: '' };
      const result = await overseer(['run', 'hello', '--worker', 'echo hi', '--auto-approve', '--json'], { cwd: project, env });
      expect(result.code).toBe(0);
      const home = (await readFile(join(storeDir, 'location'), 'utf8')).trim();
      expect(home).toMatch(/^\/var\/lib\/overseer\/[0-9a-f]{16}$/);
      const owner = (await stat(join(home, 'data'))).uid;
      expect(owner).not.toBe(0);
      const status = JSON.parse((await overseer(['status', runIdOf(result), '--json'], { cwd: project, env })).stdout) as { status: string };
      expect(status.status).toBe('completed');
    } finally {
      await removeEmbeddedStore(storeDir, locked);
    }
  });
});
