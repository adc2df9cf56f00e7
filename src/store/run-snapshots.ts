/** Run snapshots over the run_snapshots table: one upsert that never replaces a newer snapshot. */
import { sql, type Kysely } from 'kysely';
import type { RunSnapshot } from './event-store.js';
import type { StoreDatabase } from './schema.js';

export async function saveSnapshot(db: Kysely<StoreDatabase>, snapshot: RunSnapshot, replace: boolean): Promise<void> {
  const row = {
    stream_id: snapshot.streamId,
    version: snapshot.version,
    machine_version: snapshot.machineVersion,
    state: JSON.stringify(snapshot.state),
  };
  await db
    .insertInto('run_snapshots')
    .values(row)
    .onConflict((oc) =>
      oc
        .column('stream_id')
        // From `excluded`: naming the values again would send the state (megabytes for a large run) twice.
        .doUpdateSet((eb) => ({
          version: eb.ref('excluded.version'),
          machine_version: eb.ref('excluded.machine_version'),
          state: eb.ref('excluded.state'),
          created_at: sql`now()`,
        }))
        .where((eb) => (replace ? eb.lit(true) : eb('run_snapshots.version', '<', eb.ref('excluded.version')))),
    )
    .execute();
}

export async function loadSnapshot(db: Kysely<StoreDatabase>, streamId: string): Promise<RunSnapshot | undefined> {
  const row = await db.selectFrom('run_snapshots').select(['version', 'machine_version', 'state']).where('stream_id', '=', streamId).executeTakeFirst();
  return row === undefined ? undefined : { streamId, version: row.version, machineVersion: row.machine_version, state: row.state };
}
