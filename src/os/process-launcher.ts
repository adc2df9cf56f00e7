/**
 * Starting a worker's process. A spawn from Node forks the whole process first: from an engine of
 * ~130 MB (a run of a few thousand tasks on a server store) that is ~1.6 ms of system time per spawn,
 * during which its event loop is blocked; from a small process, a third of that. So the engine hands
 * spawns to a fork server — a tiny Node child that opens the log file, spawns detached, and reports
 * the pid and, later, the exit — which also spawns on the other core while the engine appends.
 * (Measured on 500 tasks of `true`: the engine with the fork server used about as much CPU in all as
 * spawning directly, and finished sooner.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createInterface } from 'node:readline';

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

/** Spawns from this process: right for a small process, and what tests use. */
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

/**
 * The fork server's whole program: small on purpose, so its own forks stay cheap. A request carries
 * only how the process's environment differs from the server's (which it inherited from the engine
 * when the launcher was made): the whole environment, serialised and parsed on every spawn, was most
 * of the cost of a request.
 */
const FORK_SERVER = `
const { spawn } = require('node:child_process');
const { openSync, closeSync, readFileSync } = require('node:fs');
const startTime = (pid) => { try { const s = readFileSync('/proc/' + pid + '/stat', 'utf8'); return s.slice(s.lastIndexOf(')') + 2).split(' ')[19] ?? null; } catch { return null; } };
const out = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
const base = { ...process.env };
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const req = JSON.parse(line);
  const env = { ...base, ...req.env };
  for (const name of req.unset) delete env[name];
  let fd;
  try { fd = openSync(req.logFile, 'a'); } catch (e) { return out({ id: req.id, error: 'cannot open log file ' + req.logFile + ': ' + e.message }); }
  let child;
  try { child = spawn(req.file, req.args, { cwd: req.cwd, env, detached: true, stdio: ['ignore', fd, fd] }); }
  catch (e) { return out({ id: req.id, error: e.message }); }
  finally { closeSync(fd); }
  child.on('error', (e) => out({ id: req.id, error: e.message }));
  if (child.pid !== undefined) out({ id: req.id, pid: child.pid, processStartTime: startTime(child.pid) });
  child.on('exit', (code, signal) => out({ id: req.id, exit: { code, signal } }));
  child.unref();
}).on('close', () => process.exit(0));
`;

interface Pending {
  started: (launched: Launched) => void;
  exited: (exit: ProcessExit | 'lost') => void;
}

interface ServerReply {
  id: number;
  pid?: number;
  processStartTime?: string | null;
  error?: string;
  exit?: ProcessExit;
}

/** The changes as the fork server takes them: the variables to set, and those to remove. */
function setAndUnset(changes: EnvChanges): { env: Record<string, string>; unset: string[] } {
  const env: Record<string, string> = {};
  const unset: string[] = [];
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) unset.push(name);
    else env[name] = value;
  }
  return { env, unset };
}

/**
 * A launcher whose processes start from this process's environment as it is now: changes made to
 * `process.env` later do not reach them (the engine makes its launcher when it starts).
 */
export function forkServerLauncher(): ProcessLauncher {
  const server = spawn(process.execPath, ['-e', FORK_SERVER], { env: { ...process.env }, stdio: ['pipe', 'pipe', 'inherit'] });
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let gone = false;
  // The server must not keep the engine alive, nor outlive it: it exits when our end of its stdin closes.
  server.unref();
  (server.stdout as unknown as { unref(): void }).unref();
  (server.stdin as unknown as { unref(): void }).unref();
  server.stdin.on('error', () => undefined);

  createInterface({ input: server.stdout }).on('line', (line) => {
    const reply = JSON.parse(line) as ServerReply;
    const waiting = pending.get(reply.id);
    if (waiting === undefined) return;
    if (reply.error !== undefined) {
      pending.delete(reply.id);
      waiting.started({ ok: false, error: reply.error });
    } else if (reply.pid !== undefined) {
      const exited = new Promise<ProcessExit | 'lost'>((resolve) => (waiting.exited = resolve));
      waiting.started({ ok: true, pid: reply.pid, processStartTime: reply.processStartTime ?? null, exited, unref: () => undefined });
    } else if (reply.exit !== undefined) {
      pending.delete(reply.id);
      waiting.exited(reply.exit);
    }
  });
  // A dead fork server cannot tell us how its children end: callers then find out from the files
  // the workers leave ('lost' sends them to the same reattach path as after an engine crash).
  server.on('exit', () => {
    gone = true;
    for (const waiting of pending.values()) {
      waiting.started({ ok: false, error: 'the process launcher exited' });
      waiting.exited('lost');
    }
    pending.clear();
  });

  return {
    launch(request) {
      if (gone) return directLauncher.launch(request);
      const id = nextId++;
      return new Promise((resolve) => {
        pending.set(id, { started: resolve, exited: () => undefined });
        const { env, ...rest } = request;
        server.stdin.write(`${JSON.stringify({ id, ...rest, ...setAndUnset(env) })}\n`);
      });
    },
    close() {
      server.stdin.end();
    },
  };
}
