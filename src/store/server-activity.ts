/**
 * Who is connected to a store's server, and how big its database is: what `overseer store status`
 * shows and `overseer store stop` checks. Every overseer connection names its process in
 * `application_name` (`overseer <pid>`), so clients are counted per process.
 */
import pg from 'pg';
import type { PgConnection } from './pg/pg-backend.js';

export interface ServerClient {
  /** The connection's application_name, e.g. `overseer 4242`, or `overseer keeper`. */
  readonly name: string;
  readonly connections: number;
}

export interface ServerActivity {
  readonly clients: ServerClient[];
  readonly databaseBytes: number;
}

export async function serverActivity(connection: PgConnection): Promise<ServerActivity> {
  const client = new pg.Client({ ...connection, application_name: 'overseer store status', connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const clients = await client.query<{ name: string; connections: number }>(
      `select coalesce(nullif(application_name, ''), 'other') as name, count(*)::int as connections
         from pg_stat_activity
        where backend_type = 'client backend' and pid <> pg_backend_pid() and datname = current_database()
        group by 1 order by 1`,
    );
    const size = await client.query<{ bytes: string }>('select pg_database_size(current_database())::text as bytes');
    return { clients: clients.rows, databaseBytes: Number(size.rows[0]?.bytes ?? 0) };
  } finally {
    await client.end();
  }
}
