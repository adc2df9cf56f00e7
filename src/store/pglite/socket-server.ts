import { mkdir, unlink } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketHandler, type PGLiteSocketHandlerOptions } from '@electric-sql/pglite-socket';
import { SessionGate } from './session-gate.js';
import type { SocketAddress } from './store-lock.js';

/** sun_path holds 108 bytes on Linux (104 on macOS) including the terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 103;
/** pg clients look for `<host dir>/.s.PGSQL.<port>`; the port in the name is all the port means. */
const SOCKET_NAME = '.s.PGSQL.5432';
export const SOCKET_PORT = 5432;

export interface DatabaseServer {
  readonly address: SocketAddress;
  stop(): Promise<void>;
}

/** Where an embedded store's server listens: `<dataDir>.socket/.s.PGSQL.5432`. */
export function socketDirFor(dataDir: string): string {
  return `${dataDir}.socket`;
}

/**
 * Serves an open PGlite to other processes over a unix socket (private to the user: the socket's
 * directory is 0700), or on 127.0.0.1 with a free port when the path would be too long for a unix
 * socket or the file system refuses one. Each client gets pglite-socket's protocol handler; all of
 * them pass through one SessionGate, so their statements and transactions never interleave.
 */
export async function serveDatabase(db: PGlite, dataDir: string, onError: (error: unknown) => void): Promise<DatabaseServer> {
  const gate = new SessionGate(db, onError);
  const handlers = new Set<PGLiteSocketHandler>();
  const server = createServer((socket) => accept(socket));

  function accept(socket: Socket): void {
    const handler = new PGLiteSocketHandler({
      // The handler only calls enqueue/clearQueueForHandler/clearTransactionIfNeeded/getQueueLength,
      // which SessionGate implements; the declared type is a class with private fields.
      queryQueue: gate as unknown as PGLiteSocketHandlerOptions['queryQueue'],
      closeOnDetach: true,
    });
    handlers.add(handler);
    handler.addEventListener('close', () => handlers.delete(handler));
    handler.addEventListener('error', () => handlers.delete(handler));
    handler.attach(socket).catch((error: unknown) => {
      handlers.delete(handler);
      socket.destroy();
      onError(error);
    });
  }

  const address = await listen(server, dataDir);
  return {
    address,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...handlers].map((handler) => handler.detach(true)));
      handlers.clear();
      await closed;
    },
  };
}

async function listen(server: Server, dataDir: string): Promise<SocketAddress> {
  const socketDir = socketDirFor(dataDir);
  const path = join(socketDir, SOCKET_NAME);
  if (Buffer.byteLength(path) <= MAX_SOCKET_PATH_BYTES) {
    try {
      await mkdir(socketDir, { recursive: true, mode: 0o700 });
      // We hold the store's lock, so a socket file here is a dead holder's leftover.
      await unlink(path).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      });
      await listenOn(server, () => server.listen(path));
      return { path };
    } catch (error) {
      // Some file systems (network mounts, some containers' volumes) refuse unix sockets.
      if (!['EACCES', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EINVAL', 'EADDRINUSE'].includes((error as NodeJS.ErrnoException).code ?? '')) {
        throw error;
      }
    }
  }
  await listenOn(server, () => server.listen(0, '127.0.0.1'));
  const bound = server.address();
  if (bound === null || typeof bound === 'string') throw new Error('socket server has no TCP address');
  return { host: '127.0.0.1', port: bound.port };
}

function listenOn(server: Server, start: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (error: Error): void => reject(error);
    server.once('error', fail);
    server.once('listening', () => {
      server.off('error', fail);
      resolve();
    });
    start();
  });
}
