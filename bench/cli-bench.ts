/**
 * Whole-process figures through the real CLI (`node bin/overseer.js …`, the built bundle), each
 * against the same work without Overseer, as ratios of wall-clock times (lower is better), median over
 * interleaved rounds:
 *
 * - a 200-task run of `sleep 0.1` at `--concurrency 8`, timed from spawning the CLI to its exit (so it
 *   includes Node start-up, opening the store, and writing every event), against the same 200
 *   `sh -c 'sleep 0.1'` processes run 8 at a time by a tiny pool inside this process;
 * - start-up: `overseer status --db <store>` against `node -e 0`, each spawned the same way.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { interleave, median, medianRatio } from './lib/measure.js';
import { barePool, commandPlan, overseer, timedSpawn } from './lib/processes.js';

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
  await writeFile(planFile, commandPlan(command, tasks, 'sleep'));
  const args = ['run', '--plan', planFile, '--auto-approve', '--concurrency', String(concurrency), '--db', db];
  const measured = await interleave(
    rounds,
    async () => (await overseer(args, workDir)).ms,
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
    async () => (await overseer(['status', '--db', db], workDir)).ms,
    async () => (await timedSpawn(process.execPath, ['-e', '0'], workDir)).ms,
  );
  return {
    overseerMs: median(measured.overseerMs),
    nodeMs: median(measured.rawMs),
    ratio: medianRatio(measured.overseerMs, measured.rawMs),
    rounds,
  };
}
