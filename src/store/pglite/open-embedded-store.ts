/**
 * Opening an embedded (PGlite) store so that a user never sees "database is locked".
 *
 * - Whoever holds `<dataDir>.lock` has the folder open. An engine (`owner: true`) also serves it on
 *   a socket, whose address it writes into the lock file.
 * - Anyone else who finds a live holder serving connects through that socket with the pg backend.
 * - With no live holder, a process takes the lock itself (clearing a dead holder's lock first), opens
 *   the folder, and releases the lock on close.
 * - A live holder that does not serve is a short command (`status`, `events`, …): wait for it.
 */
import { dirname } from 'node:path';
import { mkdir, rm } from 'node:fs/promises';
import type { EventStore } from '../event-store.js';
import type { StoreBackend } from '../store-backend.js';
import { KyselyEventStore } from '../kysely-event-store.js';
import { migrateToLatest } from '../migrate.js';
import { openServedStore } from '../pg/open-pg-store.js';
import { errorCode } from '../pg/pg-backend.js';
import { StoreLockedError } from '../store-errors.js';
import { processStartTime } from '../../workers/process-identity.js';
import { openDataDir } from './data-dir.js';
import { createPgliteBackend } from './pglite-backend.js';
import { SOCKET_PORT, serveDatabase, socketDirFor, type DatabaseServer } from './socket-server.js';
import { clearStaleLock, lockPathFor, readLock, tryAcquireLock, type HeldLock, type LockInfo, type SocketAddress } from './store-lock.js';

export interface EmbeddedOpenOptions {
  owner?: boolean;
  /** How long to wait for a holder that does not serve (a short command) before giving up. */
  waitMs?: number;
}

/** A lock file created but still empty belongs to a process between open() and write(). */
const UNWRITTEN_LOCK_GRACE_MS = 2000;
const RETRY_MS = 50;
/** Creating a brand-new folder without a template takes up to ~5 s of initdb on a slow machine. */
const STARTING_ENGINE_WAIT_MS = 30_000;

export async function openEmbeddedStore(dataDir: string, options: EmbeddedOpenOptions = {}): Promise<EventStore> {
  const owner = options.owner ?? false;
  const lockPath = lockPathFor(dataDir);
  const waitMs = options.waitMs ?? 5000;
  // The wait restarts whenever the lock changes hands: a queue of short commands is progress.
  let waitingFor: string | undefined;
  let deadline = 0;
  await mkdir(dirname(dataDir), { recursive: true });
  const me: LockInfo = { pid: process.pid, processStartTime: processStartTime(process.pid), owner };

  for (;;) {
    const lock = await tryAcquireLock(lockPath, me);
    if (lock !== null) return openAsHolder(dataDir, lock, me);

    const state = await readLock(lockPath);
    if (state.kind === 'held' && !state.alive) {
      await clearStaleLock(lockPath, state.text);
      continue;
    }
    if (state.kind === 'unreadable' && state.ageMs > UNWRITTEN_LOCK_GRACE_MS) {
      await clearStaleLock(lockPath, state.text);
      continue;
    }
    if (state.kind === 'held' && state.info.socket !== undefined) {
      try {
        return await openServedStore(connectionFor(state.info.socket));
      } catch (error) {
        // The holder is stopping (or its server just went away): look at the lock again.
        if (!isGoneServer(error)) throw error;
      }
    }
    if (state.kind !== 'free') {
      const holder = state.kind === 'held' ? state.info : undefined;
      if (state.text !== waitingFor) {
        waitingFor = state.text;
        // An engine that has the lock but no socket yet is starting up and will serve soon.
        deadline = Date.now() + (holder?.owner === true ? Math.max(waitMs, STARTING_ENGINE_WAIT_MS) : waitMs);
      }
      if (Date.now() > deadline) throw busy(dataDir, holder, waitMs);
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }
}

async function openAsHolder(dataDir: string, lock: HeldLock, me: LockInfo): Promise<EventStore> {
  let server: DatabaseServer | undefined;
  let backend: StoreBackend | undefined;
  try {
    const opened = await openDataDir(dataDir);
    backend = createPgliteBackend(opened.pglite);
    await migrateToLatest(backend.db, { serialize: false });
    await opened.created();
    if (me.owner) {
      server = await serveDatabase(opened.pglite, dataDir, (error) => process.emitWarning(`overseer store server: ${String(error)}`));
      await lock.update({ ...me, socket: server.address });
    }
  } catch (error) {
    await server?.stop();
    await backend?.close();
    await lock.release();
    throw error;
  }
  const pgliteBackend = backend;
  const served = server;
  return new KyselyEventStore({
    ...pgliteBackend,
    async close() {
      // Clients first, so none is cut off inside a statement; then the folder; then the lock.
      await served?.stop();
      await pgliteBackend.close();
      if (served !== undefined) await rm(socketDirFor(dataDir), { recursive: true, force: true });
      await lock.release();
    },
  });
}

function connectionFor(address: SocketAddress): { host: string; port: number } {
  return 'path' in address ? { host: dirname(address.path), port: SOCKET_PORT } : address;
}

function isGoneServer(error: unknown): boolean {
  return ['ECONNREFUSED', 'ECONNRESET', 'ENOENT', 'EPIPE'].includes(errorCode(error) ?? '') || /Connection terminated/i.test(String(error));
}

function busy(dataDir: string, holder: LockInfo | undefined, waitMs: number): StoreLockedError {
  const who = holder === undefined ? 'another process' : `process ${holder.pid}`;
  const seconds = Math.round(waitMs / 1000);
  return new StoreLockedError(`the store ${dataDir} is busy: ${who} has kept it open for over ${seconds} s without serving it; try again when it exits`);
}
