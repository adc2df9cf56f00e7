/**
 * Where an embedded store's files live.
 *
 * The store folder (`--db DIR`, by default `./.overseer/pg`) holds Overseer's own files: the start
 * and keeper locks, and the pointer file `location`, written once the cluster exists. The cluster
 * lives in a "home": the store folder itself (the pointer says `.`), or, when the server runs as the
 * `postgres` user (as root) and that user cannot enter the project, a per-project folder that user
 * owns, `/var/lib/overseer/<hash of the store folder>` (not /tmp: a cleaner there would delete a
 * cluster's files). The home holds `data/` (the cluster), `run/` (its unix socket) and `server.log`.
 *
 * A unix socket path holds at most 107 bytes, and Postgres reads its socket folder from a
 * comma-separated setting: a home whose `run/.s.PGSQL.5432` is too long or has unusual characters
 * gets its socket in `/tmp/overseer-<hash>` instead (Postgres touches its socket files so that /tmp
 * cleaners leave them alone).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { StoreUnavailableError } from '../store-errors.js';
import { canEnter, giveTo, type ServerUser } from './server-user.js';

export const SOCKET_PORT = 5432;
const SOCKET_NAME = `.s.PGSQL.${String(SOCKET_PORT)}`;
/** sun_path is 108 bytes on Linux (104 on macOS) with its NUL; keep to the smaller. */
const MAX_SOCKET_PATH_BYTES = 103;
const RELOCATED_BASE = '/var/lib/overseer';
const POINTER = 'location';
/** The pointer's content for a cluster in the store folder itself: relative, so the project can move. */
const HERE = '.';
/** What Overseer itself leaves in a store folder (and a home), including leftovers of interrupted starts. */
const OUR_FILES = /^(start\.lock|keeper\.lock|location|server\.log(\.old)?|run|store|data\.new-.*|.*\.stale\..*|location\..*)$/;
/** In a relocated home: the store folder it belongs to, so a lost pointer can be found again. */
const BACK_POINTER = 'store';

export interface StoreLocation {
  readonly storeDir: string;
  readonly home: string;
  /** The pointer file, present once the cluster exists. */
  readonly pointerFile: string;
  readonly dataDir: string;
  readonly socketDir: string;
  readonly logFile: string;
  readonly startLock: string;
  readonly keeperLock: string;
}

export function locationAt(storeDir: string, home: string): StoreLocation {
  return {
    storeDir,
    home,
    pointerFile: join(storeDir, POINTER),
    dataDir: join(home, 'data'),
    socketDir: socketDirFor(home),
    logFile: join(home, 'server.log'),
    startLock: join(storeDir, 'start.lock'),
    keeperLock: join(storeDir, 'keeper.lock'),
  };
}

/** Where the store's cluster is, following the pointer file when there is one. Creates nothing. */
export async function locateStore(storeDir: string): Promise<StoreLocation> {
  const pointer = join(storeDir, POINTER);
  let home: string;
  try {
    home = (await readFile(pointer, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return locationAt(storeDir, storeDir);
    throw error;
  }
  if (home === HERE) return locationAt(storeDir, storeDir);
  if (!isAbsolute(home)) throw new StoreUnavailableError(`the store ${storeDir} is damaged: ${pointer} should name a folder, it holds "${home.slice(0, 80)}"`);
  return locationAt(storeDir, home);
}

/**
 * Decides where a store without a cluster keeps one, and prepares that home (the caller holds the
 * start lock). A store folder holding something else is refused rather than mixed into.
 */
export async function prepareHome(location: StoreLocation, user: ServerUser | undefined): Promise<StoreLocation> {
  const { storeDir } = location;
  if (existsSync(location.dataDir)) return location;
  await refuseForeignFolder(storeDir);
  if (canEnter(user, storeDir)) return location;
  const home = join(RELOCATED_BASE, hashOf(storeDir));
  await mkdir(RELOCATED_BASE, { recursive: true, mode: 0o755 });
  await mkdir(home, { mode: 0o700 }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  });
  const owner = await readFile(join(home, BACK_POINTER), 'utf8').catch(() => undefined);
  if (owner !== undefined && owner !== storeDir) {
    throw new StoreUnavailableError(`cannot place the store ${storeDir} in ${home}: that folder belongs to the store ${owner}`);
  }
  // A home that already names this store lost its pointer (a user removed it): take it back, data and all.
  if (owner === undefined) await writeFile(join(home, BACK_POINTER), storeDir);
  await giveTo(user, home);
  return locationAt(storeDir, home);
}

/**
 * Writes the pointer once the cluster exists (also for a cluster in the store folder itself): from
 * then on a missing cluster is reported as such, never replaced by a new, empty one.
 */
export async function recordHome(location: StoreLocation): Promise<void> {
  await writeWhole(location.pointerFile, `${location.home === location.storeDir ? HERE : location.home}\n`);
}

/** Only our own files may be in a store folder that has no cluster yet. */
async function refuseForeignFolder(storeDir: string): Promise<void> {
  const entries: string[] = await readdir(storeDir).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  });
  if (entries.includes('PG_VERSION') && !entries.includes('data')) {
    throw new StoreUnavailableError(
      `${storeDir} holds a store of an earlier Overseer (PGlite), which this version does not read; name another folder with --db, or move it aside`,
    );
  }
  const foreign = entries.filter((name) => !OUR_FILES.test(name));
  if (foreign.length > 0) {
    throw new StoreUnavailableError(`${storeDir} is not an Overseer store (it holds ${foreign.slice(0, 3).join(', ')}); name an empty or new folder with --db`);
  }
}

export function socketDirFor(home: string): string {
  const inHome = join(home, 'run');
  const plain = /^[A-Za-z0-9/._+-]+$/.test(inHome);
  if (plain && Buffer.byteLength(join(inHome, SOCKET_NAME)) <= MAX_SOCKET_PATH_BYTES) return inHome;
  return join('/tmp', `overseer-${hashOf(home)}`);
}

export function socketPath(socketDir: string): string {
  return join(socketDir, SOCKET_NAME);
}

/** Creates the socket folder for the server user, private to it, and checks nobody else made it. */
export async function prepareSocketDir(socketDir: string, user: ServerUser | undefined): Promise<void> {
  await mkdir(socketDir, { recursive: true, mode: 0o700 });
  await giveTo(user, socketDir);
  const info = await stat(socketDir);
  const uid = user?.uid ?? process.getuid?.();
  if (uid !== undefined && info.uid !== uid) {
    throw new StoreUnavailableError(`the store's socket folder ${socketDir} belongs to another user (uid ${String(info.uid)}); remove it and try again`);
  }
}

function hashOf(path: string): string {
  return createHash('sha256').update(path).digest('hex').slice(0, 16);
}

async function writeWhole(path: string, text: string): Promise<void> {
  const temporary = `${path}.${String(process.pid)}.${randomBytes(4).toString('hex')}`;
  await writeFile(temporary, text);
  await rename(temporary, path);
}
