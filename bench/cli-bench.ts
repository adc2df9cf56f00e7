/**
 * Whole-process figures through the real CLI (`node bin/overseer.js …`, the built dist/ code):
 *
 * - a 200-task run of `sleep 0.1` at `--concurrency 8`, timed from spawning the CLI to its exit (so it
 *   includes Node start-up, opening and migrating the store, and writing every event), against the
 *   same 200 `sh -c 'sleep 0.1'` processes run 8 at a time by a tiny pool inside this process;
 * - start-up: `overseer status --db <store>` against `node -e 0`, each spawned the same way.
 *
 * Both are ratios of wall-clock times (engine / bare: lower is better), median over interleaved rounds.
 * Everything here is spawned from a small child process (`benchProcessesInChild`), never from the
 * bench process itself.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { interleave, median, medianRatio } from './lib/measure.js';

/** dist/bench/cli-bench.js → <repo>/bin/overseer.js */
export const OVERSEER_BIN = resolve(fileURLToPath(import.meta.url), '..', '..', '..', 'bin', 'overseer.js');

interface Exited {
  code: number | null;
  ms: number;
  stderr: string;
}

/** Spawns a command and resolves when it exits (not when detached grandchildren close its pipes). */
function timedSpawn(command: string, args: readonly string[], cwd: string): Promise<Exited> {
  return new Promise((resolvePromise, reject) => {
    const start = performance.now();
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.on('error', reject);
    child.on('exit', (code) => resolvePromise({ code, ms: performance.now() - start, stderr }));
  });
}

async function overseer(args: readonly string[], cwd: string): Promise<number> {
  const exited = await timedSpawn(process.execPath, [OVERSEER_BIN, ...args], cwd);
  if (exited.code !== 0) throw new Error(`overseer ${args.join(' ')} exited ${String(exited.code)}:\n${exited.stderr}`);
  return exited.ms;
}

/** `tasks` processes of `sh -c COMMAND`, at most `concurrency` at a time: no engine, no store. */
export async function barePool(command: string, tasks: number, concurrency: number, cwd: string): Promise<number> {
  const start = performance.now();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < tasks) {
      next += 1;
      const exited = await timedSpawn('sh', ['-c', command], cwd);
      if (exited.code !== 0) throw new Error(`sh -c '${command}' exited ${String(exited.code)}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return performance.now() - start;
}

export interface RunFigures {
  tasks: number;
  /** Tasks per second through the CLI (median over rounds). */
  overseerPerSec: number;
  /** Tasks per second through the bare pool (median over rounds). */
  barePerSec: number;
  /** Median over rounds of engine wall time / bare wall time (lower is better). */
  ratio: number;
  rounds: number;
}

export async function benchCliRun(db: string, workDir: string, options: { tasks: number; concurrency: number; rounds: number }): Promise<RunFigures> {
  const { tasks, concurrency, rounds } = options;
  const command = 'sleep 0.1';
  const planFile = join(workDir, 'sleep-plan.json');
  const packets = Array.from({ length: tasks }, (_, index) => ({ id: `sleep-${String(index + 1)}`, objective: `sleep ${String(index + 1)}`, command }));
  await writeFile(planFile, JSON.stringify({ packets }));
  const args = ['run', '--plan', planFile, '--auto-approve', '--concurrency', String(concurrency), '--db', db];
  const measured = await interleave(
    rounds,
    () => overseer(args, workDir),
    () => barePool(command, tasks, concurrency, workDir),
  );
  return {
    tasks,
    overseerPerSec: (tasks * 1000) / median(measured.overseerMs),
    barePerSec: (tasks * 1000) / median(measured.rawMs),
    ratio: medianRatio(measured.overseerMs, measured.rawMs),
    rounds,
  };
}

export interface StartupFigures {
  /** Median ms of `overseer status --db …`. */
  overseerMs: number;
  /** Median ms of `node -e 0`. */
  nodeMs: number;
  /** Median over rounds of status time / `node -e 0` time (lower is better). */
  ratio: number;
  rounds: number;
}

export async function benchStartup(db: string, workDir: string, rounds: number): Promise<StartupFigures> {
  // One untimed call of each: file caches, and a store that has something to list.
  await overseer(['status', '--db', db], workDir);
  await timedSpawn(process.execPath, ['-e', '0'], workDir);
  const measured = await interleave(
    rounds,
    () => overseer(['status', '--db', db], workDir),
    async () => (await timedSpawn(process.execPath, ['-e', '0'], workDir)).ms,
  );
  return {
    overseerMs: median(measured.overseerMs),
    nodeMs: median(measured.rawMs),
    ratio: medianRatio(measured.overseerMs, measured.rawMs),
    rounds,
  };
}

export interface ProcessBenchRequest {
  db: string;
  workDir: string;
  run: { tasks: number; concurrency: number; rounds: number };
  startupRounds: number;
}

export interface ProcessBenchResult {
  run: RunFigures;
  startup: StartupFigures;
}

/**
 * Runs both process benchmarks in a small child Node process (dist/bench/process-bench.js) rather
 * than in the bench process itself: by now that one holds a gigabyte of PGlite WebAssembly memory,
 * and every fork from so large a process costs about twice as much here, which would slow the bare
 * pool (200 spawns) far more than the engine (one spawn) and flatter the ratio.
 */
export async function benchProcessesInChild(request: ProcessBenchRequest): Promise<ProcessBenchResult> {
  const script = resolve(fileURLToPath(import.meta.url), '..', 'process-bench.js');
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [script, JSON.stringify(request)], { stdio: ['ignore', 'pipe', 'inherit'] });
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
        resolvePromise(JSON.parse(stdout) as ProcessBenchResult);
      } catch (error) {
        reject(new Error(`process-bench printed no result: ${String(error)}`));
      }
    });
  });
}
