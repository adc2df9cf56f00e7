/** What `overseer store status` tells about an embedded store. Looks only: it never starts the server. */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { serverActivity, type ServerClient } from '../server-activity.js';
import { readLock } from './file-lock.js';
import { runningServer } from './server-process.js';
import { locateStore, SOCKET_PORT, socketPath } from './store-location.js';

export interface EmbeddedStoreStatus {
  readonly storeDir: string;
  readonly dataDir: string;
  /** The pointer file, when the cluster lives outside the store folder. */
  readonly pointerFile: string | null;
  readonly logFile: string;
  readonly server: {
    readonly pid: number;
    readonly startedAt: Date;
    readonly socket: string;
    readonly status: string;
    /** Connected clients, the keeper included; null when the server did not answer. */
    readonly clients: ServerClient[] | null;
  } | null;
  /** The keeper that stops the server when idle, if one runs. */
  readonly keeperPid: number | null;
  readonly sizeBytes: number;
}

export async function embeddedStoreStatus(storeDir: string): Promise<EmbeddedStoreStatus> {
  const location = await locateStore(storeDir);
  const server = runningServer(location.dataDir);
  const keeper = await readLock(location.keeperLock);
  let clients: ServerClient[] | null = null;
  if (server?.status === 'ready') {
    clients = await serverActivity({ host: server.socketDir, port: SOCKET_PORT, user: 'postgres', database: 'postgres' }).then(
      (activity) => activity.clients,
      // Stopping or restarting right now: say it runs, without its clients.
      () => null,
    );
  }
  return {
    storeDir,
    dataDir: location.dataDir,
    pointerFile: location.home === storeDir ? null : location.pointerFile,
    logFile: location.logFile,
    server: server === undefined ? null : { pid: server.pid, startedAt: server.startedAt, socket: socketPath(server.socketDir), status: server.status, clients },
    keeperPid: keeper.kind === 'held' && keeper.alive ? keeper.holder.pid : null,
    sizeBytes: await folderBytes(location.dataDir),
  };
}

async function folderBytes(dir: string): Promise<number> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) return 0;
    throw error;
  }
  const sizes = await Promise.all(
    entries.map(async (entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return folderBytes(path);
      // Files come and go while the server runs (temporary files, recycled log segments).
      return lstat(path).then((info) => info.size, () => 0);
    }),
  );
  return sizes.reduce((sum, size) => sum + size, 0);
}
