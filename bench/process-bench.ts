/**
 * The process rows, run in a small child Node process rather than in the bench process itself: by
 * then the bench holds the stores and runs it drove, and a spawn from a bigger process costs more,
 * which would slow the bare pool (one spawn per task) more than the engine and flatter the ratios.
 *
 * As a module: `benchProcessesInChild` (called by run.ts). As a program (dist/bench/process-bench.js
 * REQUEST): runs the rows and prints one JSON result on stdout. It imports nothing that opens a store.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { benchCliRun, benchStartup, type RunFigures, type StartupFigures } from './cli-bench.js';
import { benchPeakRss, type RssFigures } from './rss-bench.js';
import { benchSpawnRun, type SpawnRunFigures, type SpawnRunRequest } from './spawn-bench.js';
import { fileCreationUs } from './lib/file-creation.js';

export interface ProcessBenchRequest {
  db: string;
  workDir: string;
  sleepRun: { tasks: number; concurrency: number; rounds: number };
  startupRounds: number;
  spawnRun: SpawnRunRequest;
  rssRun: { tasks: number; concurrency: number };
}

export interface ProcessBenchResult {
  sleepRun: RunFigures;
  startup: StartupFigures;
  spawnRun: SpawnRunFigures;
  rss: RssFigures;
  /** Microseconds per new file in the work folder, measured before the rows. */
  fileCreationUs: number;
}

const SELF = fileURLToPath(import.meta.url);

export function benchProcessesInChild(request: ProcessBenchRequest): Promise<ProcessBenchResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SELF, JSON.stringify(request)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`process-bench exited ${String(code)}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout) as ProcessBenchResult);
      } catch (error) {
        reject(new Error(`process-bench printed no result: ${String(error)}`));
      }
    });
  });
}

async function main(request: ProcessBenchRequest): Promise<void> {
  const say = (what: string) => process.stderr.write(`bench:        ${what} (from a small child process)\n`);
  const { db, workDir } = request;
  const creation = fileCreationUs(workDir);
  say(`${String(request.spawnRun.tasks)} x true, conc. ${String(request.spawnRun.concurrency)}: engine, bare pool${request.spawnRun.dbosUrl === null ? '' : ', DBOS'}`);
  const spawnRun = await benchSpawnRun(db, workDir, request.spawnRun);
  say(`${String(request.sleepRun.tasks)} x sleep 0.1: engine and bare pool`);
  const sleepRun = await benchCliRun(db, workDir, request.sleepRun);
  say('start-up');
  const startup = await benchStartup(db, workDir, request.startupRounds);
  say(`peak RSS of a ${String(request.rssRun.tasks)}-task run`);
  const rss = await benchPeakRss(db, workDir, request.rssRun);
  const result: ProcessBenchResult = { sleepRun, startup, spawnRun, rss, fileCreationUs: creation };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (process.argv[1] === SELF) {
  main(JSON.parse(process.argv[2] ?? '{}') as ProcessBenchRequest).catch((error: unknown) => {
    process.stderr.write(`process-bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  });
}
