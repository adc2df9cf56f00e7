import { Migrator, sql, type Kysely } from 'kysely';
import { migrationProvider } from '../../migrations/index.js';
import type { StoreDatabase } from './schema.js';

/**
 * Brings the schema to the latest migration. With `serialize`, a session-level advisory lock keeps
 * engines that start at the same moment on one Postgres from racing to create Kysely's own tables
 * (Kysely's lock only covers the migrations themselves). An embedded store is already exclusive.
 */
export async function migrateToLatest(db: Kysely<StoreDatabase>, options: { serialize: boolean }): Promise<void> {
  if (!options.serialize) return migrateOn(db);
  await db.connection().execute(async (connection) => {
    await sql`select pg_advisory_lock(hashtext('overseer.migrations'))`.execute(connection);
    try {
      await migrateOn(connection);
    } finally {
      await sql`select pg_advisory_unlock(hashtext('overseer.migrations'))`.execute(connection);
    }
  });
}

async function migrateOn(db: Kysely<StoreDatabase>): Promise<void> {
  const { error } = await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
  if (error === undefined) return;
  throw error instanceof Error ? error : new Error('migration failed', { cause: error });
}
