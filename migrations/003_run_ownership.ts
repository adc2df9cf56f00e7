import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Many engines on one Postgres (docs/scaling.md): each event records the lease epoch it was written
 * under (0 for everything before this migration and before a run's first claim); a run submitted for
 * `overseer worker` says so; and the events notification names the runs it concerns and goes to a
 * channel of the schema the tables live in, so installations sharing a server do not wake each other
 * and an engine wakes only for its own runs.
 */
export const runOwnershipMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    // A constant default: Postgres 11+ adds the column without rewriting the table.
    await sql`alter table events add column epoch bigint not null default 0`.execute(db);
    await sql`alter table runs add column submitted_at timestamptz null`.execute(db);
    // What `overseer worker` looks through on every claim: only submitted runs that have not ended.
    await sql`
      create index runs_claimable_idx on runs (submitted_at, run_id)
      where submitted_at is not null and status in ('running', 'waiting')`.execute(db);

    await sql`
      create or replace function overseer_notify_events() returns trigger language plpgsql as $$
      declare
        ids text;
      begin
        select string_agg(distinct stream_id, ',') into ids from inserted;
        -- A payload must stay under 8000 bytes: an empty one wakes every listener of the schema.
        if ids is null or length(ids) > 7000 then ids := ''; end if;
        perform pg_notify(case when TG_TABLE_SCHEMA = 'public' then 'overseer_events' else 'overseer_events:' || TG_TABLE_SCHEMA end, ids);
        return null;
      end
      $$`.execute(db);
    await sql`drop trigger events_notify on events`.execute(db);
    await sql`
      create trigger events_notify after insert on events
      referencing new table as inserted
      for each statement execute function overseer_notify_events()`.execute(db);
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await sql`drop trigger events_notify on events`.execute(db);
    await sql`
      create or replace function overseer_notify_events() returns trigger language plpgsql as $$
      begin
        perform pg_notify('overseer_events', '');
        return null;
      end
      $$`.execute(db);
    await sql`create trigger events_notify after insert on events for each statement execute function overseer_notify_events()`.execute(db);
    await sql`drop index runs_claimable_idx`.execute(db);
    await sql`alter table runs drop column submitted_at`.execute(db);
    await sql`alter table events drop column epoch`.execute(db);
  },
};
