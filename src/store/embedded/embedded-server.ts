/**
 * Getting an embedded store's server running, whoever asks first, and stopping it.
 *
 * - A server that runs (its postmaster.pid names a live postgres that is ready) is used as it is:
 *   one file read, no lock.
 * - Otherwise the start lock decides: the first process takes it, makes the cluster if there is none
 *   (from the cached template, or initdb), starts the server, and lets go; processes that arrive
 *   meanwhile wait for the lock and then find the server running. Two processes starting at the same
 *   moment get one server (and Postgres's own postmaster.pid would refuse a second one anyway).
 * - A server killed with -9 leaves a postmaster.pid naming a dead process: the next start removes it,
 *   and Postgres recovers everything committed from its write-ahead log.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { StoreUnavailableError } from '../store-errors.js';
import { checkCluster, createCluster } from './cluster-files.js';
import { acquireLock } from './file-lock.js';
import { ensureKeeper, idleSetting, stopKeeper } from './idle-keeper.js';
import { postgresBinaries, reachableBinaries } from './postgres-binaries.js';
import { runningServer, startServer, stopServer, type RunningServer } from './server-process.js';
import { serverUser } from './server-user.js';
import { locateStore, prepareHome, recordHome, type StoreLocation } from './store-location.js';

/** A start includes initdb (seconds on a busy disk) and crash recovery; waiting longer is pointless. */
const START_LOCK_WAIT_MS = 180_000;

export interface EnsureOptions {
  readonly env: NodeJS.ProcessEnv;
  /** Skip the look at postmaster.pid: a server it names did not answer. */
  readonly distrustRunning?: boolean;
}

/** The store's server, running and ready; started (and its cluster made) when it is not. */
export async function ensureServer(storeDir: string, options: EnsureOptions): Promise<{ server: RunningServer; location: StoreLocation }> {
  const idleMs = idleSetting(options.env);
  const known = await locateStore(storeDir);
  const running = options.distrustRunning === true ? undefined : runningServer(known.dataDir);
  if (running?.status === 'ready') {
    await ensureKeeper(known, idleMs);
    return { server: running, location: known };
  }
  await mkdir(storeDir, { recursive: true });
  const lock = await acquireLock(known.startLock, START_LOCK_WAIT_MS);
  if (lock === null) {
    throw new StoreUnavailableError(`the store ${storeDir} has been starting in another process for over ${String(START_LOCK_WAIT_MS / 60_000)} minutes; see ${known.logFile}`);
  }
  let started: { server: RunningServer; location: StoreLocation };
  try {
    const user = serverUser();
    const binaries = await reachableBinaries(await postgresBinaries(), user);
    let location = await locateStore(storeDir);
    if (!existsSync(location.pointerFile)) {
      location = await prepareHome(location, user);
      if (!existsSync(location.dataDir)) await createCluster(location, { binaries, user, env: options.env });
      await recordHome(location);
    }
    await checkCluster(location, binaries);
    started = { server: await startServer(location, binaries, user), location };
  } finally {
    await lock.release();
  }
  await ensureKeeper(started.location, idleMs);
  return started;
}

export type StopOutcome = { stopped: false } | { stopped: true; pid: number };

/** Stops the server if it runs (fast shutdown: clients are cut off, nothing committed is lost). */
export async function stopStoreServer(storeDir: string): Promise<StopOutcome> {
  const location = await locateStore(storeDir);
  if (runningServer(location.dataDir) === undefined) {
    // A keeper outlives its server for a moment, looking for a new one.
    await stopKeeper(location);
    return { stopped: false };
  }
  // Under the start lock, so that nobody is half-way through starting it.
  const lock = await acquireLock(location.startLock, START_LOCK_WAIT_MS);
  if (lock === null) throw new StoreUnavailableError(`the store ${storeDir} has been starting in another process for too long; try again`);
  try {
    const server = runningServer(location.dataDir);
    if (server === undefined) return { stopped: false };
    await stopServer(server);
    await stopKeeper(location);
    return { stopped: true, pid: server.pid };
  } finally {
    await lock.release();
  }
}
