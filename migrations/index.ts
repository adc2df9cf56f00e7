import type { Migration, MigrationProvider } from 'kysely';
import { eventStoreMigration } from './001_event_store.js';
import { runSnapshotsMigration } from './002_run_snapshots.js';
import { runOwnershipMigration } from './003_run_ownership.js';
import { snapshotJsonMigration } from './004_snapshot_json.js';

/**
 * Every migration, by the name Kysely records in its table. Names sort in the order they run and
 * never change once released; both store backends run exactly this set.
 */
export const MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '001_event_store': eventStoreMigration,
  '002_run_snapshots': runSnapshotsMigration,
  '003_run_ownership': runOwnershipMigration,
  '004_snapshot_json': snapshotJsonMigration,
});

export const migrationProvider: MigrationProvider = Object.freeze({
  getMigrations: () => Promise.resolve({ ...MIGRATIONS }),
});

export const MIGRATION_NAMES: readonly string[] = Object.freeze(Object.keys(MIGRATIONS).sort());
