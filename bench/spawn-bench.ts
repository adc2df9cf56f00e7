/**
 * The engine's own cost per task: `overseer run` of `tasks` packets of `true` (a command that does
 * nothing, so what is left is the engine: its events, its appends, its process starts) at
 * `--concurrency`, timed from spawning the CLI to its exit, against
 *
 * - the same `sh -c true` processes, as many at a time, from a tiny pool inside this process; and
 * - the same job through DBOS Transact on the same Postgres server (see dbos-peer.ts), as a process
 *   of its own timed the same way, when the store has a server beside it for DBOS.
 *
 * The three sides run in every round, starting with a different one each round; ratios are medians
 * of per-round ratios.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { interleaveAll, median, medianRatio } from './lib/measure.js';
import { barePool, commandPlan, overseer } from './lib/processes.js';

const DBOS_PEER = resolve(fileURLToPath(import.meta.url), '..', 'dbos-peer.js');

export interface SpawnRunRequest {
  tasks: number;
  concurrency: number;
  rounds: number;
  /** The DBOS system database, on the same server as the store; null: no DBOS side. */
  dbosUrl: string | null;
}

export interface SpawnRunFigures {
  tasks: number;
  concurrency: number;
  /** Median milliseconds per task of each side. */
  engineMsPerTask: number;
  bareMsPerTask: number;
  dbosMsPerTask: number | null;
  /** Medians of per-round ratios of wall times (lower is better for the first side). */
  engineVsBare: number;
  engineVsDbos: number | null;
  dbosVsBare: number | null;
}

function runDbos(request: SpawnRunRequest, url: string, cwd: string): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const start = performance.now();
    const args = [DBOS_PEER, JSON.stringify({ systemDatabaseUrl: url, tasks: request.tasks, concurrency: request.concurrency, command: 'true' })];
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolvePromise(performance.now() - start) : reject(new Error(`dbos-peer exited ${String(code)}:\n${stderr}`))));
  });
}

export async function benchSpawnRun(db: string, workDir: string, request: SpawnRunRequest): Promise<SpawnRunFigures> {
  const { tasks, concurrency, rounds, dbosUrl } = request;
  const planFile = join(workDir, 'true-plan.json');
  await writeFile(planFile, commandPlan('true', tasks, 'true'));
  const args = ['run', '--plan', planFile, '--auto-approve', '--concurrency', String(concurrency), '--db', db];
  const engine = async () => (await overseer(args, workDir)).ms;
  const bare = () => barePool('true', tasks, concurrency, workDir);
  // Untimed: DBOS creates its system tables on its first launch, as the store was migrated before.
  if (dbosUrl !== null) await runDbos({ ...request, tasks: 1 }, dbosUrl, workDir);
  const sides = dbosUrl === null ? [engine, bare] : [engine, bare, () => runDbos(request, dbosUrl, workDir)];
  const [engineMs = [], bareMs = [], dbosMs] = await interleaveAll(rounds, sides);
  return {
    tasks,
    concurrency,
    engineMsPerTask: median(engineMs) / tasks,
    bareMsPerTask: median(bareMs) / tasks,
    dbosMsPerTask: dbosMs === undefined ? null : median(dbosMs) / tasks,
    engineVsBare: medianRatio(engineMs, bareMs),
    engineVsDbos: dbosMs === undefined ? null : medianRatio(engineMs, dbosMs),
    dbosVsBare: dbosMs === undefined ? null : medianRatio(dbosMs, bareMs),
  };
}
