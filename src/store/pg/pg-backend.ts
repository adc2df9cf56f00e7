import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import pg from 'pg';
import type { StoreDatabase } from '../schema.js';
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
  /** Server settings for the session, e.g. `-c search_path=…` for `--schema`. */
  options?: string;
}

export interface PgBackendOptions {
  readonly connection: PgConnection;
  /** Reported as the store's backend: 'embedded' for the server Overseer starts itself. */
  readonly name: 'pg' | 'embedded';
  /** How errors name the server when the connection to it is lost, e.g. `the store server for DIR`. */
  readonly serverName: string;
  readonly pollMs: number;
  readonly maxConnections: number;
  /**
   * Keep idle connections open for as long as the store is: an embedded server stops after a quiet
   * period without clients, and a process with the store open must count as one.
   */
  readonly keepIdleConnections: boolean;
  /** Connection attempts refused or reset (a server starting or restarting) are retried this often. */
  readonly connectRetries: number;
  /** The tables' schema (`--schema`); null: the server's default search path. */
  readonly schema?: string | null;
}

/** A schema name as an identifier: only names that need no quoting anywhere (checked where they come in). */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** The connection with every session's search path set to the schema alone, so its tables are the store's. */
function inSchema(connection: PgConnection, schema: string | null): PgConnection {
  if (schema === null) return connection;
  if (!SCHEMA_NAME.test(schema)) throw new Error(`schema name ${JSON.stringify(schema)}: use lower-case letters, digits and _`);
  return { ...connection, options: `-c search_path=${schema}` };
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
  const schema = options.schema ?? null;
  const connection = inSchema(options.connection, schema);
  const pool = new pg.Pool({
    ...clientConfig(connection),
    max: options.maxConnections,
    ...(options.keepIdleConnections ? { idleTimeoutMillis: 0 } : {}),
  });
  // An idle client that dies (server restart, database dropped) is discarded by the pool; whoever
  // needs a connection next gets the error from connect(). Without a listener Node would crash.
  pool.on('error', () => undefined);
  const explained = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const checkout = async (): Promise<{ client: pg.PoolClient; wrapped: PostgresPoolClient }> => {
    const client = await connectWithRetry(() => pool.connect(), options.connectRetries).catch((error: unknown) => {
      throw explainLoss(error, options.serverName);
    });
    let wrapped = explained.get(client);
    if (wrapped === undefined) {
      // A checked-out client whose connection breaks (server stopped, database dropped) emits
      // 'error'; its query in flight rejects on its own, and without a listener Node would crash.
      client.on('error', () => undefined);
      wrapped = explaining(client, options.serverName);
      explained.set(client, wrapped);
    }
    return { client, wrapped };
  };
  const retryingPool: PostgresPool = {
    connect: async () => (await checkout()).wrapped,
    end: () => pool.end(),
  };
  const eachArray = async (text: string, values: readonly unknown[], each: (row: unknown[]) => void): Promise<void> => {
    const { client } = await checkout();
    try {
      await new Promise<void>((resolve, reject) => {
        let failed: Error | undefined;
        // pg's Query takes rowMode as client.query does; its types leave it out of the constructor's.
        const config: pg.QueryArrayConfig = { text, values: [...values], rowMode: 'array' };
        const query = new pg.Query<unknown[]>(config);
        query.on('row', (row) => {
          if (failed !== undefined) return;
          try {
            each(row);
          } catch (error) {
            failed = error instanceof Error ? error : new Error(String(error));
          }
        });
        query.on('error', reject);
        query.on('end', () => (failed === undefined ? resolve() : reject(failed)));
        client.query(query);
      });
    } catch (error) {
      throw explainLoss(error, options.serverName);
    } finally {
      client.release();
    }
  };
  const selectArrays = async (text: string, values: readonly unknown[]): Promise<unknown[][]> => {
    const rows: unknown[][] = [];
    await eachArray(text, values, (row) => rows.push(row));
    return rows;
  };
  const db = new Kysely<StoreDatabase>({ dialect: new PostgresDialect({ pool: retryingPool }) });
  return {
    name: options.name,
    db,
    pollMs: options.pollMs,
    schema,
    listen: (channel, wake) => listenOn(connection, channel, wake),
    selectArrays,
    eachArray,
    close: () => db.destroy(),
  };
}

/** Queries through `client` whose connection is lost fail with an error that says so (see explainLoss). */
function explaining(client: pg.PoolClient, serverName: string): PostgresPoolClient {
  const query = (text: unknown, parameters?: unknown[]): unknown => {
    // Kysely streams through a cursor object (not used by the store): passed through untouched.
    if (typeof text !== 'string') return client.query(text as never);
    return client.query(text, parameters).catch((error: unknown) => {
      throw explainLoss(error, serverName);
    });
  };
  return { query: query as PostgresPoolClient['query'], release: (destroy?: boolean) => client.release(destroy) };
}

const LOST_CONNECTION = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOENT', 'EPIPE', '57P01', '57P02', '57P03']);

/**
 * A server that went away (stopped, killed) surfaces as `write EPIPE` or `Connection terminated`:
 * say which server, keeping the error itself (its code and text) for callers that tell it apart.
 */
function explainLoss(error: unknown, serverName: string): unknown {
  if (!(error instanceof Error)) return error;
  if (!LOST_CONNECTION.has(errorCode(error) ?? '') && !/Connection terminated|not queryable/i.test(error.message)) return error;
  error.message = `${serverName} went away (${error.message.split('\n')[0] ?? ''})`;
  return error;
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
async function listenOn(connection: PgConnection, channel: string, wake: (payload: string) => void): Promise<() => Promise<void>> {
  let stopped = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    const next = new pg.Client(clientConfig(connection));
    next.on('notification', (message) => wake(message.payload ?? ''));
    next.on('error', () => {
      // Only an established connection reaches here (a failed connect() rejects instead).
      if (client !== next) return;
      client = undefined;
      // A notification may have been lost with the connection: let every reader look now.
      wake('');
      scheduleReconnect();
    });
    try {
      await next.connect();
      // Quoted: a schema's channel holds a ':' (see storeChannels).
      await next.query(`LISTEN "${channel}"`);
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
