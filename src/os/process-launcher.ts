/**
 * Starting a worker's process: what a launcher takes and gives, and the launcher that spawns from
 * this process (right for a small process, and what tests use). An engine launches through a spawn
 * server instead (fork-server-launcher.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

/**
 * How the process's environment differs from the launching process's: a value sets a variable,
 * undefined removes it. Only the changes travel: copying the whole environment (`process.env` is
 * read through C++, ~0.2 ms a copy) on every launch was a measurable part of a short task's cost.
 */
export type EnvChanges = Readonly<Record<string, string | undefined>>;

export interface LaunchRequest {
  file: string;
  args: string[];
  cwd: string;
  env: EnvChanges;
  /** Opened for appending and given to the process as stdout and stderr. */
  logFile: string;
}

export interface ProcessExit {
  code: number | null;
  signal: string | null;
}

export type Launched =
  | {
      ok: true;
      pid: number;
      /**
       * Read by a launcher that spawned the process (its parent, which has not reaped it yet, so it
       * is always there to read); undefined when the launcher did not read it.
       */
      processStartTime?: string | null;
      exited: Promise<ProcessExit | 'lost'>;
      unref(): void;
    }
  | { ok: false; error: string };

export interface ProcessLauncher {
  launch(request: LaunchRequest): Promise<Launched>;
  close(): void;
}

/** The changes as two lists, as a spawn server takes them: the variables to set, and those to remove. */
export function splitEnvChanges(changes: EnvChanges): { set: [string, string][]; unset: string[] } {
  const set: [string, string][] = [];
  const unset: string[] = [];
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) unset.push(name);
    else set.push([name, value]);
  }
  return { set, unset };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** This process's environment with the changes applied. */
function withChanges(base: NodeJS.ProcessEnv, changes: EnvChanges): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** Spawns from this process. */
export const directLauncher: ProcessLauncher = {
  launch(request) {
    let fd: number;
    try {
      fd = openSync(request.logFile, 'a');
    } catch (error) {
      return Promise.resolve({ ok: false, error: `cannot open log file ${request.logFile}: ${message(error)}` });
    }
    let child: ChildProcess;
    try {
      // File descriptors, not pipes: output reaches the file even after the engine is gone.
      child = spawn(request.file, request.args, { cwd: request.cwd, env: withChanges(process.env, request.env), detached: true, stdio: ['ignore', fd, fd] });
    } catch (error) {
      // Invalid arguments (a NUL byte in the command or env) throw synchronously.
      return Promise.resolve({ ok: false, error: message(error) });
    } finally {
      closeSync(fd);
    }
    const pid = child.pid;
    if (pid === undefined) return new Promise((resolve) => child.once('error', (error) => resolve({ ok: false, error: message(error) })));
    const exited = new Promise<ProcessExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    return Promise.resolve({ ok: true, pid, exited, unref: () => child.unref() });
  },
  close: () => undefined,
};
