/**
 * Whole processes, timed from spawn to exit: the Overseer CLI (optionally reporting its peak RSS),
 * and the bare pool it is compared with.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { OVERSEER_BIN } from './overseer-bin.js';
import { RSS_LINE } from './rss-line.js';

export interface Exited {
  code: number | null;
  ms: number;
  stderr: string;
}

/** Spawns a command and resolves when it exits (not when detached grandchildren close its pipes). */
export function timedSpawn(command: string, args: readonly string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<Exited> {
  return new Promise((resolvePromise, reject) => {
    const start = performance.now();
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], ...(env === undefined ? {} : { env }) });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.on('error', reject);
    child.on('exit', (code) => resolvePromise({ code, ms: performance.now() - start, stderr }));
  });
}

export interface OverseerRun {
  ms: number;
  /** Peak resident set size of the CLI process, when asked for. */
  peakRssMiB: number | null;
}

const RSS_PROBE = pathToFileURL(resolve(fileURLToPath(import.meta.url), '..', 'rss-probe.js')).href;

/** `overseer ARGS` as a user runs it (bin/overseer.js, the built bundle); throws unless it exits 0. */
export async function overseer(args: readonly string[], cwd: string, options: { peakRss?: boolean } = {}): Promise<OverseerRun> {
  const node = options.peakRss === true ? ['--import', RSS_PROBE, OVERSEER_BIN] : [OVERSEER_BIN];
  const exited = await timedSpawn(process.execPath, [...node, ...args], cwd);
  if (exited.code !== 0) throw new Error(`overseer ${args.join(' ')} exited ${String(exited.code)}:\n${exited.stderr}`);
  const reported = new RegExp(`${RSS_LINE} (\\d+)`).exec(exited.stderr)?.[1];
  return { ms: exited.ms, peakRssMiB: reported === undefined ? null : Number(reported) / 1024 };
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

/** A plan of `tasks` packets running COMMAND, written to FILE for `overseer run --plan`. */
export function commandPlan(command: string, tasks: number, prefix: string): string {
  const packets = Array.from({ length: tasks }, (_, index) => ({ id: `${prefix}-${String(index + 1)}`, objective: `${prefix} ${String(index + 1)}`, command }));
  return JSON.stringify({ packets });
}
