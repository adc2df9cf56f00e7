import { sql, type Kysely, type Migration } from 'kysely';

/**
 * The latest snapshot of each run's folded state, so rebuilding a long run reads one row and the
 * events after it instead of folding from the first event. A snapshot is a cache of the log, never
 * the truth: it is only used when its machine version matches, and replay/verify ignore it.
 */
export const runSnapshotsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await sql`
      create table run_snapshots (
        stream_id text primary key,
        version int not null,
        machine_version text not null,
        state jsonb not null,
        created_at timestamptz not null default now()
      )`.execute(db);
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await sql`drop table run_snapshots`.execute(db);
  },
};
