import { Kysely, PostgresDialect, type PostgresPool } from 'kysely';
import pg from 'pg';
import { EVENTS_CHANNEL, type StoreDatabase } from '../schema.js';
import type { StoreBackend } from '../store-backend.js';

const INT8_OID = 20;

/** The subset of pg's connection settings a store needs; the rest stays pg's default. */
export interface PgConnection {
  connectionString?: string;
  /** A host name, or the directory of a unix socket (`<dir>/.s.PGSQL.<port>`). */
  host?: string;
  port?: number;
  user?: string;
  database?: string;
  /** Shown in pg_stat_activity: which overseer process a connection belongs to. */
  application_name?: string;
}

export interface PgBackendOptions {
  readonly connection: PgConnection;
  /** Reported as the store's backend: 'embedded' for the server Overseer starts itself. */
  readonly name: 'pg' | 'embedded';
  readonly pollMs: number;
  readonly maxConnections: number;
  /**
   * Keep idle connections open for as long as the store is: an embedded server stops after a quiet
   * period without clients, and a process with the store open must count as one.
   */
  readonly keepIdleConnections: boolean;
  /** Connection attempts refused or reset (a server starting or restarting) are retried this often. */
  readonly connectRetries: number;
}

/** int8 as BigInt for this pool only, leaving pg's global parsers alone for everyone else. */
const storeTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID && format !== 'binary') return (value: string) => BigInt(value);
    return pg.types.getTypeParser(oid, format) as (value: string) => unknown;
  }) as pg.CustomTypesConfig['getTypeParser'],
};

export function clientConfig(connection: PgConnection): pg.ClientConfig {
  return { ...connection, types: storeTypes, connectionTimeoutMillis: 3000 };
}

export function createPgBackend(options: PgBackendOptions): StoreBackend {
  const pool = new pg.Pool({
    ...clientConfig(options.connection),
    max: options.maxConnections,
    ...(options.keepIdleConnections ? { idleTimeoutMillis: 0 } : {}),
  });
  // An idle client that dies (server restart, database dropped) is discarded by the pool; whoever
  // needs a connection next gets the error from connect(). Without a listener Node would crash.
  pool.on('error', () => undefined);
  const watched = new WeakSet<pg.PoolClient>();
  const retryingPool: PostgresPool = {
    async connect() {
      const client = await connectWithRetry(() => pool.connect(), options.connectRetries);
      if (!watched.has(client)) {
        watched.add(client);
        // A checked-out client whose connection breaks (server stopped, database dropped) emits
        // 'error'; its query in flight rejects on its own, and without a listener Node would crash.
        client.on('error', () => undefined);
      }
      return client;
    },
    end: () => pool.end(),
  };
  const db = new Kysely<StoreDatabase>({ dialect: new PostgresDialect({ pool: retryingPool }) });
  return {
    name: options.name,
    db,
    pollMs: options.pollMs,
    listen: (wake) => listenForEvents(options.connection, wake),
    close: () => db.destroy(),
  };
}

const RETRYABLE_CONNECT = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOENT', 'EPIPE']);

async function connectWithRetry<T>(connect: () => Promise<T>, retries: number): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await connect();
    } catch (error) {
      if (attempt >= retries || !RETRYABLE_CONNECT.has(errorCode(error) ?? '')) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
    }
  }
}

export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code } = error as { code?: unknown };
  return typeof code === 'string' ? code : undefined;
}

/**
 * LISTEN on a connection of its own (a pooled one would be handed to queries). When it drops it is
 * re-established after a pause; subscriptions keep polling meanwhile.
 */
async function listenForEvents(connection: PgConnection, wake: () => void): Promise<() => Promise<void>> {
  let stopped = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    const next = new pg.Client(clientConfig(connection));
    next.on('notification', wake);
    next.on('error', () => {
      // Only an established connection reaches here (a failed connect() rejects instead).
      if (client !== next) return;
      client = undefined;
      // A notification may have been lost with the connection: let readers look now.
      wake();
      scheduleReconnect();
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${EVENTS_CHANNEL}`);
    } catch (error) {
      await next.end().catch(() => undefined);
      throw error;
    }
    if (stopped) await next.end();
    else client = next;
  };
  const scheduleReconnect = (): void => {
    if (stopped) return;
    retry = setTimeout(() => {
      connect().catch(scheduleReconnect);
    }, 1000);
  };

  await connect();
  return async () => {
    stopped = true;
    clearTimeout(retry);
    const current = client;
    client = undefined;
    await current?.end();
  };
}
