import { sql, type Kysely, type Migration } from 'kysely';

/**
 * The event log and the runs table. Written with raw SQL where Kysely's schema builder has no words
 * for it (xid8 default, identity column, trigger), so the same text runs on Postgres and PGlite.
 */
export const eventStoreMigration: Migration = {
  // Kysely hands migrations an untyped database: the schema does not exist yet.
  async up(db: Kysely<unknown>): Promise<void> {
    await sql`
      create table runs (
        run_id text primary key,
        objective text not null,
        cwd text not null,
        machine_version text not null,
        status text not null,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        owner_id text null,
        owner_epoch bigint not null default 0,
        heartbeat_at timestamptz null,
        lease_expires_at timestamptz null
      )`.execute(db);
    await sql`create index runs_created_at_idx on runs (created_at desc, run_id desc)`.execute(db);

    // tx_id orders events for safe global reads: positions are taken at insert, not at commit
    // (see FACTS.md "Reading events by global position").
    await sql`
      create table events (
        position bigint generated always as identity primary key,
        tx_id xid8 not null default pg_current_xact_id(),
        stream_id text not null,
        version int not null,
        type text not null,
        payload jsonb not null,
        machine text not null,
        worker_id text null,
        state_after jsonb null,
        created_at timestamptz not null,
        hash text not null,
        prev_hash text null,
        constraint events_stream_version_unique unique (stream_id, version)
      )`.execute(db);
    await sql`create index events_tx_position_idx on events (tx_id, position)`.execute(db);

    // One wake-up per insert statement, sent at commit: pg LISTEN sessions and PGlite's in-process
    // db.listen (which also sees inserts made through the socket server) both receive it.
    await sql`
      create function overseer_notify_events() returns trigger language plpgsql as $$
      begin
        perform pg_notify('overseer_events', '');
        return null;
      end
      $$`.execute(db);
    await sql`
      create trigger events_notify after insert on events
      for each statement execute function overseer_notify_events()`.execute(db);
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await sql`drop trigger if exists events_notify on events`.execute(db);
    await sql`drop function if exists overseer_notify_events()`.execute(db);
    await sql`drop table if exists events`.execute(db);
    await sql`drop table if exists runs`.execute(db);
  },
};
