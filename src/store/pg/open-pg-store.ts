import { sql } from 'kysely';
import type { EventStore } from '../event-store.js';
import { KyselyEventStore } from '../kysely-event-store.js';
import { migrateToLatest } from '../migrate.js';
import type { StoreBackend } from '../store-backend.js';
import { StoreUnavailableError } from '../store-errors.js';
import { createPgBackend, errorCode } from './pg-backend.js';

/** A store on a Postgres server (`postgres://…`): checks the server answers, then migrates. */
export async function openPgStore(url: string, schema: string | null = null): Promise<EventStore> {
  const backend = createPgBackend({
    schema,
    connection: { connectionString: url },
    name: 'pg',
    serverName: `the database server ${redactUrl(url)}`,
    pollMs: 250,
    maxConnections: 10,
    keepIdleConnections: false,
    connectRetries: 0,
  });
  try {
    await sql`select 1`.execute(backend.db);
  } catch (error) {
    await backend.close();
    throw new StoreUnavailableError(`cannot reach database ${redactUrl(url)}: ${describeConnectError(error)}`, { cause: error });
  }
  return migratedStore(backend);
}

/** The store over a connected backend, its schema brought up to date first (closed if that fails). */
export async function migratedStore(backend: StoreBackend): Promise<EventStore> {
  try {
    await migrateToLatest(backend.db, { serialize: true, schema: backend.schema });
  } catch (error) {
    await backend.close();
    throw error;
  }
  return new KyselyEventStore(backend);
}

export function describeConnectError(error: unknown): string {
  const code = errorCode(error);
  if (code !== undefined && !/^[0-9A-Z]{5}$/.test(code)) return code;
  const message = error instanceof Error ? error.message : String(error);
  if (/timeout/i.test(message)) return 'connection timed out';
  return message.split('\n')[0] ?? message;
}

/** The URL without its password, fit for a message a user may paste somewhere. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    // Not a URL after all: say nothing of it rather than risk echoing a secret.
    return 'postgres://…';
  }
}
