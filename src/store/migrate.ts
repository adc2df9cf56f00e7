import { Migrator, sql, type Kysely } from 'kysely';
import { MIGRATION_NAMES, migrationProvider } from '../../migrations/index.js';
import type { StoreDatabase } from './schema.js';

/**
 * Brings the schema to the latest migration. With `serialize`, a session-level advisory lock keeps
 * engines that start at the same moment on one Postgres from racing to create Kysely's own tables
 * (Kysely's lock only covers the migrations themselves). An embedded store is already exclusive.
 */
export async function migrateToLatest(db: Kysely<StoreDatabase>, options: { serialize: boolean; schema?: string | null }): Promise<void> {
  // Every command opens the store: when nothing is pending, two small reads instead of the Migrator's dozen.
  if (await isUpToDate(db)) return;
  const schema = options.schema ?? null;
  if (!options.serialize) return migrateOn(db, schema);
  await db.connection().execute(async (connection) => {
    await sql`select pg_advisory_lock(hashtext('overseer.migrations'))`.execute(connection);
    try {
      await migrateOn(connection, schema);
    } finally {
      await sql`select pg_advisory_unlock(hashtext('overseer.migrations'))`.execute(connection);
    }
  });
}

async function isUpToDate(db: Kysely<StoreDatabase>): Promise<boolean> {
  const { rows } = await sql<{ present: boolean }>`select to_regclass('kysely_migration') is not null as present`.execute(db);
  if (rows[0]?.present !== true) return false;
  const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
  const names = applied.rows.map((row) => row.name);
  return names.length === MIGRATION_NAMES.length && names.every((name, index) => name === MIGRATION_NAMES[index]);
}

async function migrateOn(db: Kysely<StoreDatabase>, schema: string | null): Promise<void> {
  // `--schema`: every session's search path is this schema alone, so the migrations create their tables there.
  if (schema !== null) await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
  // Kysely looks for its own tables by introspection across schemas: name the one they belong in.
  const { error } = await new Migrator({ db, provider: migrationProvider, ...(schema === null ? {} : { migrationTableSchema: schema }) }).migrateToLatest();
  if (error === undefined) return;
  throw error instanceof Error ? error : new Error('migration failed', { cause: error });
}
