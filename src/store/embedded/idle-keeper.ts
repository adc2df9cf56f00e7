/**
 * The keeper: a small detached process (`overseer store keep`) that stops an embedded store's server
 * once no client has been connected for the quiet period (`OVERSEER_STORE_IDLE`, default 5 minutes;
 * `never` keeps it running until `overseer store stop`).
 *
 * Every process that has the store open holds a connection for as long as it does (the embedded
 * pool never closes idle connections), so "no client" means no `overseer` process is using the store.
 * One keeper per store (`keeper.lock`); whoever opens the store starts one when there is none. The
 * keeper stops the server under the start lock, so it never races a process that is starting it.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import pg from 'pg';
import { parseDuration } from '../../os/duration.js';
import { overseerBin } from '../../os/overseer-bin.js';
import { StoreUnavailableError } from '../store-errors.js';
import { isSameProcessAlive } from '../../os/process-identity.js';
import { adoptLock, readLock, tryTakeLock } from './file-lock.js';
import { runningServer, stopServer, type RunningServer } from './server-process.js';
import { locateStore, SOCKET_PORT, type StoreLocation } from './store-location.js';

export const IDLE_VARIABLE = 'OVERSEER_STORE_IDLE';
const DEFAULT_IDLE_MS = 5 * 60_000;
export const KEEPER_APPLICATION_NAME = 'overseer keeper';
/** After its server went away, how long the keeper looks for a new one before it exits. */
const LOOK_AGAIN_MS = 2000;

/** The quiet period from the environment: milliseconds, or null for never. */
export function idleSetting(env: NodeJS.ProcessEnv): number | null {
  const value = env[IDLE_VARIABLE];
  if (value === undefined || value.trim() === '') return DEFAULT_IDLE_MS;
  if (value.trim() === 'never') return null;
  const ms = parseDuration(value);
  if (ms === null) throw new StoreUnavailableError(`${IDLE_VARIABLE} must be a duration like 30s, 5m or 1h, or "never"; got "${value}"`);
  return ms;
}

/**
 * Starts a keeper for the store unless one is alive. The keeper's lock is taken here and handed to
 * the child, so the keeper is seen (by `store stop`, by the next process) from the moment it is
 * spawned, not only once it has booted: a stop in between would otherwise miss it, and it would go
 * on to write in a folder being removed.
 */
export async function ensureKeeper(location: StoreLocation, idleMs: number | null): Promise<void> {
  if (idleMs === null) return;
  // Null when a live keeper holds it, the usual case.
  const lock = await tryTakeLock(location.keeperLock);
  if (lock === null) return;
  const log = openSync(location.logFile, 'a');
  let pid: number | undefined;
  try {
    const child = spawn(process.execPath, [overseerBin(), 'store', 'keep', '--db', location.storeDir, '--idle', String(idleMs)], {
      detached: true,
      stdio: ['ignore', log, log],
      cwd: '/',
    });
    child.on('error', (error) => process.emitWarning(`overseer: could not start the store keeper: ${error.message}`));
    child.unref();
    pid = child.pid;
  } finally {
    closeSync(log);
    await (pid === undefined ? lock.release() : lock.handOver(pid));
  }
}

const KEEPER_STOP_WAIT_MS = 5000;

/**
 * Ends the store's keeper, for `store stop`: with its server stopped it would still look for a new one
 * for a while, writing in the store folder, so a folder removed right after the stop could lose the
 * race. Its lock is left behind, stale, and the next keeper takes it over.
 */
export async function stopKeeper(location: StoreLocation): Promise<void> {
  const lock = await readLock(location.keeperLock);
  if (lock.kind !== 'held' || !lock.alive) return;
  const { pid, processStartTime } = lock.holder;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + KEEPER_STOP_WAIT_MS;
  while (isSameProcessAlive(pid, processStartTime) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** The keeper's whole life; returns when it stopped the server, or the server is gone. */
export async function keepStore(storeDir: string, idleMs: number): Promise<void> {
  const location = await locateStore(storeDir);
  const lock = (await adoptLock(location.keeperLock)) ?? (await tryTakeLock(location.keeperLock));
  if (lock === null) return;
  try {
    for (;;) {
      const server = await readyServer(location);
      if (server === undefined) return;
      if ((await watch(location, server, idleMs)) === 'stopped') return;
    }
  } finally {
    await lock.release();
  }
}

/** A server that accepts connections, waiting briefly for one being started right now. */
async function readyServer(location: StoreLocation): Promise<RunningServer | undefined> {
  const until = Date.now() + LOOK_AGAIN_MS;
  for (;;) {
    const server = runningServer(location.dataDir);
    if (server?.status === 'ready') return server;
    if (Date.now() > until) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Watches one server until it is idle long enough (then stops it) or goes away. */
async function watch(location: StoreLocation, server: RunningServer, idleMs: number): Promise<'stopped' | 'lost'> {
  const client = new pg.Client({ host: server.socketDir, port: SOCKET_PORT, user: 'postgres', database: 'postgres', application_name: KEEPER_APPLICATION_NAME });
  let lost = false;
  let wakeUp = (): void => undefined;
  const onLoss = (): void => {
    lost = true;
    wakeUp();
  };
  // The server stopping (or killed) ends our connection: stop waiting at once.
  client.on('error', onLoss);
  client.on('end', onLoss);
  try {
    await client.connect();
  } catch {
    // Stopped or restarted between reading postmaster.pid and connecting: look again.
    return 'lost';
  }
  const pollMs = Math.min(5000, Math.max(50, Math.floor(idleMs / 5)));
  let quietSince = Date.now();
  try {
    for (;;) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      const connected = lost ? undefined : await clients(client).catch(() => undefined);
      if (connected === undefined) return 'lost';
      if (connected > 0) quietSince = Date.now();
      else if (Date.now() - quietSince >= idleMs && (await stopIfStillQuiet(location, server, client))) return 'stopped';
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Under the start lock (a process starting the server right now is activity too). */
async function stopIfStillQuiet(location: StoreLocation, server: RunningServer, client: pg.Client): Promise<boolean> {
  const startLock = await tryTakeLock(location.startLock);
  if (startLock === null) return false;
  try {
    if ((await clients(client)) > 0) return false;
    await stopServer(server);
    return true;
  } finally {
    await startLock.release();
  }
}

async function clients(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    `select count(*)::int as n from pg_stat_activity
      where backend_type = 'client backend' and pid <> pg_backend_pid() and application_name <> $1`,
    [KEEPER_APPLICATION_NAME],
  );
  return rows[0]?.n ?? 0;
}
