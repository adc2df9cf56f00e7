/**
 * Opening the embedded store: the server is made to run (see embedded-server.ts), then reached like
 * any Postgres server, through `pg` on its unix socket, by the one Kysely store.
 */
import { sql } from 'kysely';
import type { EventStore } from '../event-store.js';
import { describeConnectError, migratedStore } from '../pg/open-pg-store.js';
import { createPgBackend } from '../pg/pg-backend.js';
import type { StoreBackend } from '../store-backend.js';
import { isGoneServer, StoreUnavailableError } from '../store-errors.js';
import { ensureServer } from './embedded-server.js';
import type { RunningServer } from './server-process.js';
import { SOCKET_PORT } from './store-location.js';

export async function openEmbeddedStore(storeDir: string, env: NodeJS.ProcessEnv, schema: string | null = null): Promise<EventStore> {
  if (process.platform === 'win32') throw new StoreUnavailableError('the embedded store needs unix sockets, which Windows lacks here; use --db postgres://…');
  let { server } = await ensureServer(storeDir, { env });
  let backend = await connect(storeDir, server, schema);
  if (!('db' in backend)) {
    // It stopped (idle, `store stop`) or died after we looked: start it again, once.
    ({ server } = await ensureServer(storeDir, { env, distrustRunning: true }));
    backend = await connect(storeDir, server, schema);
    if (!('db' in backend)) {
      throw new StoreUnavailableError(
        `cannot reach the store server for ${storeDir} (pid ${String(server.pid)}, socket ${server.socketDir}): ${describeConnectError(backend.error)}; overseer store stop --db ${storeDir} stops it`,
        { cause: backend.error },
      );
    }
  }
  return migratedStore(backend);
}

async function connect(storeDir: string, server: RunningServer, schema: string | null): Promise<StoreBackend | { error: unknown }> {
  const backend = createPgBackend({
    schema,
    connection: { host: server.socketDir, port: SOCKET_PORT, user: 'postgres', database: 'postgres', application_name: `overseer ${String(process.pid)}` },
    name: 'embedded',
    serverName: `the store server for ${storeDir}`,
    pollMs: 250,
    maxConnections: 10,
    keepIdleConnections: true,
    connectRetries: 0,
  });
  try {
    await sql`select 1`.execute(backend.db);
    return backend;
  } catch (error) {
    await backend.close();
    if (isGoneServer(error)) return { error };
    throw new StoreUnavailableError(`the store server for ${storeDir} refused the connection: ${describeConnectError(error)}`, { cause: error });
  }
}
