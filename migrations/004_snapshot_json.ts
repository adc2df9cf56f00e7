import { sql, type Kysely, type Migration } from 'kysely';

/**
 * A snapshot's state is stored as `json` (the text as sent, checked) instead of `jsonb` (converted
 * into its binary form): nothing queries inside a snapshot, it is only written whole and read back
 * whole, and the conversion was most of storing one. A 500-task run's final snapshot (2.2 MB of
 * JSON, stored before the run ends) took 64 ms as jsonb and 25 ms as json on the bench's Postgres 15.
 */
export const snapshotJsonMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await sql`alter table run_snapshots alter column state type json using state::json`.execute(db);
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await sql`alter table run_snapshots alter column state type jsonb using state::jsonb`.execute(db);
  },
};
