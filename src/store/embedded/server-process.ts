/**
 * The embedded store's Postgres server process: started directly (not through pg_ctl, whose shell
 * command line would need every path quoted), detached into its own session so that it outlives the
 * `overseer` process that started it and ignores that terminal's Ctrl-C, and known afterwards only
 * through Postgres's own `postmaster.pid` in the data folder.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isSameProcessAlive } from '../../os/process-identity.js';
import { StoreUnavailableError } from '../store-errors.js';
import type { PostgresBinaries } from './postgres-binaries.js';
import { spawnIdentity, type ServerUser } from './server-user.js';
import { prepareSocketDir, SOCKET_PORT, socketPath, type StoreLocation } from './store-location.js';

export interface RunningServer {
  readonly pid: number;
  readonly startedAt: Date;
  /** Where it listens (the first of its socket folders), as it wrote it down itself. */
  readonly socketDir: string;
  /** `starting` (also during crash recovery), `ready`, `stopping`, or `standby`. */
  readonly status: string;
}

/** Starting includes crash recovery after a kill, which replays the log: give it time. */
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 60_000;
const POLL_MS = 20;
/** The log is kept across starts (it tells what happened before a crash) up to about this size. */
const LOG_KEEP_BYTES = 1_000_000;

/** The server that holds the data folder according to postmaster.pid, if its process is alive. */
export function runningServer(dataDir: string): RunningServer | undefined {
  const server = readPostmasterPid(dataDir);
  return server !== undefined && isPostmasterAlive(server.pid) ? server : undefined;
}

/**
 * Starts the server for `location` and resolves once it accepts connections. The caller holds the
 * start lock and has checked the cluster. A server that is already running (or still recovering) is
 * waited for instead of started twice.
 */
export async function startServer(location: StoreLocation, binaries: PostgresBinaries, user: ServerUser | undefined): Promise<RunningServer> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  await prepareSocketDir(location.socketDir, user);
  await trimLog(location.logFile);
  for (;;) {
    const existing = readPostmasterPid(location.dataDir);
    if (existing !== undefined && isPostmasterAlive(existing.pid)) {
      const outcome = await waitUntilReady(location, found(existing), deadline);
      // It was stopping (or died starting): start one of our own.
      if ('exited' in outcome) continue;
      return outcome;
    }
    // A server killed with -9 leaves its lock files behind; its pid may be a zombie or belong to
    // another program by now, and Postgres would then refuse to start.
    await removeStaleLock(join(location.dataDir, 'postmaster.pid'));
    await removeStaleLock(`${socketPath(location.socketDir)}.lock`);

    const logStart = await fileSize(location.logFile);
    const outcome = await waitUntilReady(location, launch(location, binaries, user), deadline);
    if (!('exited' in outcome)) return outcome;
    const complaint = await complaintSince(location.logFile, logStart);
    // The backends of a server killed with -9 can take a moment to notice and leave its shared memory.
    if (/pre-existing shared memory block|lock file .* already exists/.test(complaint) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      continue;
    }
    throw new StoreUnavailableError(`the store server for ${location.storeDir} would not start: ${complaint || `it exited (${outcome.exited})`} (log: ${location.logFile})`);
  }
}

/** Fast shutdown (clients are disconnected, everything committed is kept); resolves once it is gone. */
export async function stopServer(server: RunningServer): Promise<void> {
  signal(server.pid, 'SIGINT');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (isPostmasterAlive(server.pid)) {
    // Immediate shutdown is still safe (the next start recovers from the log), just slower to come back.
    if (Date.now() > deadline) signal(server.pid, 'SIGQUIT');
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

interface Launched {
  readonly pid: number;
  /** How the process ended, once it has. */
  exited(): string | undefined;
}

/** A server this process did not start: known to have exited when its pid is gone. */
function found(server: RunningServer): Launched {
  return { pid: server.pid, exited: () => (isPostmasterAlive(server.pid) ? undefined : 'gone') };
}

function launch(location: StoreLocation, binaries: PostgresBinaries, user: ServerUser | undefined): Launched {
  const log = openSync(location.logFile, 'a');
  try {
    const child = spawn(
      binaries.postgres,
      ['-D', location.dataDir, '-k', location.socketDir, '-p', String(SOCKET_PORT), '-c', 'listen_addresses='],
      { ...spawnIdentity(user), cwd: location.dataDir, detached: true, stdio: ['ignore', log, log], env: { ...process.env, LC_ALL: 'C' } },
    );
    if (child.pid === undefined) throw new StoreUnavailableError(`cannot start ${binaries.postgres}`);
    let exited: string | undefined;
    child.once('exit', (code, signalName) => (exited = signalName ?? `exit ${String(code)}`));
    // The server lives on after this process; only its exit while we wait matters here.
    child.unref();
    return { pid: child.pid, exited: () => exited };
  } finally {
    closeSync(log);
  }
}

/** Waits for `server` (ours, or one found running) to accept connections, or to exit. */
async function waitUntilReady(location: StoreLocation, server: Launched, deadline: number): Promise<RunningServer | { exited: string }> {
  for (;;) {
    const written = readPostmasterPid(location.dataDir);
    if (written?.pid === server.pid && written.status === 'ready' && existsSync(socketPath(written.socketDir))) return written;
    const exited = server.exited();
    if (exited !== undefined) return { exited };
    if (Date.now() > deadline) {
      throw new StoreUnavailableError(`the store server for ${location.storeDir} (pid ${String(server.pid)}) did not get ready in ${String(START_TIMEOUT_MS / 1000)} s (log: ${location.logFile})`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * postmaster.pid, as Postgres documents it (miscadmin.h): pid, data folder, start time (epoch
 * seconds), port, first socket folder, listen address, shared memory key, status.
 */
function readPostmasterPid(dataDir: string): RunningServer | undefined {
  let text: string;
  try {
    text = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8');
  } catch (error) {
    if (['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw error;
  }
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return { pid, startedAt: new Date(Number(lines[2]) * 1000), socketDir: lines[4]?.trim() ?? '', status: lines[7]?.trim() ?? 'starting' };
}

/** Alive, not a zombie, and (where /proc says) a postgres process, not another program with its old pid. */
function isPostmasterAlive(pid: number): boolean {
  if (!isSameProcessAlive(pid, null)) return false;
  try {
    return readFileSync(`/proc/${String(pid)}/comm`, 'utf8').trim() === 'postgres';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !existsSync('/proc/self')) return true;
    if (['ENOENT', 'ESRCH'].includes((error as NodeJS.ErrnoException).code ?? '')) return false;
    throw error;
  }
}

/** Removes a Postgres lock file whose process is gone (the caller holds the start lock: no Overseer is starting one). */
async function removeStaleLock(path: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const pid = Number(text.split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && isPostmasterAlive(pid)) return;
  await unlink(path).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  });
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** The first FATAL or PANIC line the server wrote since `offset`, without its timestamp prefix. */
async function complaintSince(logFile: string, offset: number): Promise<string> {
  const text = (await readFile(logFile)).subarray(offset).toString('utf8');
  const line = text.split('\n').find((l) => /\b(FATAL|PANIC):/.test(l));
  return line === undefined ? '' : line.slice(line.search(/\b(FATAL|PANIC):/));
}

async function trimLog(logFile: string): Promise<void> {
  if ((await fileSize(logFile)) > LOG_KEEP_BYTES) await rename(logFile, `${logFile}.old`);
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}
