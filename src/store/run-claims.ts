/**
 * How `overseer worker` finds work (docs/scaling.md): submitted runs that have not ended and whose
 * lease is free or expired, claimed one at a time with `FOR UPDATE SKIP LOCKED`, so engines claiming
 * at the same moment pass over each other's candidate instead of queueing on it. Expiry is judged by
 * the database clock, which every engine shares.
 */
import { sql, type Kysely } from 'kysely';
import type { ClaimedRun } from './event-store.js';
import { expiry } from './run-leases.js';
import { storeChannels, type StoreDatabase } from './schema.js';
import type { StoreBackend } from './store-backend.js';

const claimable = sql<boolean>`submitted_at is not null and status in ('running', 'waiting')`;

/** `skip`: runs this engine could not resume (a damaged log): left for a person, not claimed again and again. */
export async function claimRun(db: Kysely<StoreDatabase>, ownerId: string, ttlMs: number, skip: readonly string[]): Promise<ClaimedRun | undefined> {
  const row = await db
    .updateTable('runs')
    .set({ owner_id: ownerId, owner_epoch: sql`owner_epoch + 1`, heartbeat_at: sql`now()`, lease_expires_at: expiry(ttlMs) })
    .where('run_id', '=', (eb) =>
      eb
        .selectFrom('runs')
        .select('run_id')
        .where(claimable)
        .$if(skip.length > 0, (q) => q.where('run_id', 'not in', skip))
        .where((w) => w.or([w('owner_id', 'is', null), w('lease_expires_at', '<', sql<Date>`now()`)]))
        .orderBy('submitted_at')
        .orderBy('run_id')
        .limit(1)
        .forUpdate()
        .skipLocked(),
    )
    .returning(['run_id', 'owner_epoch'])
    .executeTakeFirst();
  return row === undefined ? undefined : { runId: row.run_id, epoch: BigInt(row.owner_epoch) };
}

export async function nextLeaseExpiry(db: Kysely<StoreDatabase>, exceptOwner: string | undefined): Promise<number | null> {
  const row = await db
    .selectFrom('runs')
    .select(sql<number | null>`extract(epoch from min(lease_expires_at) - now()) * 1000`.as('ms'))
    .where(claimable)
    .where('owner_id', 'is not', null)
    .$if(exceptOwner !== undefined, (q) => q.where('owner_id', '<>', exceptOwner ?? ''))
    .executeTakeFirst();
  const ms = row?.ms ?? null;
  return ms === null ? null : Math.max(0, Number(ms));
}

/** Tells listening workers that `runId` can be claimed (after its commit: NOTIFY is sent at commit). */
export async function notifyClaimable(source: StoreBackend, runId: string): Promise<void> {
  await sql`select pg_notify(${storeChannels(source.schema).runs}, ${runId})`.execute(source.db);
}
