/**
 * Run leases over the runs table: each is one statement, so it is atomic on its own. Times come from
 * the database clock so engines on different machines agree on expiry.
 */
import { sql, type Kysely } from 'kysely';
import type { LeaseHolder, LeaseResult } from './event-store.js';
import type { StoreDatabase } from './schema.js';

export const expiry = (ttlMs: number) => sql<Date>`now() + make_interval(secs => ${ttlMs / 1000})`;

export async function acquireLease(
  db: Kysely<StoreDatabase>,
  runId: string,
  ownerId: string,
  ttlMs: number,
  takeOver: (holder: LeaseHolder) => boolean,
): Promise<LeaseResult | undefined> {
  const take = (holder: LeaseHolder | null) =>
    db
      .updateTable('runs')
      .set({ owner_id: ownerId, owner_epoch: sql`owner_epoch + 1`, heartbeat_at: sql`now()`, lease_expires_at: expiry(ttlMs) })
      .where('run_id', '=', runId)
      .where((eb) =>
        holder === null
          ? eb.or([eb('owner_id', 'is', null), eb('lease_expires_at', '<', sql<Date>`now()`), eb('owner_id', '=', ownerId)])
          : eb.and([eb('owner_id', '=', holder.ownerId), eb('owner_epoch', '=', holder.epoch)]),
      )
      .returning('owner_epoch')
      .executeTakeFirst();

  const free = await take(null);
  if (free !== undefined) return { acquired: true, epoch: BigInt(free.owner_epoch) };
  const row = await db.selectFrom('runs').select(['owner_id', 'owner_epoch', 'heartbeat_at', 'lease_expires_at']).where('run_id', '=', runId).executeTakeFirst();
  if (row === undefined) return undefined;
  const holder: LeaseHolder = { ownerId: row.owner_id ?? '', epoch: BigInt(row.owner_epoch), heartbeatAt: row.heartbeat_at, expiresAt: row.lease_expires_at };
  if (row.owner_id === null || !takeOver(holder)) return { acquired: false, holder };
  // Conditional on the holder we judged: if it renewed or someone else took over meanwhile, we lose.
  const taken = await take(holder);
  return taken === undefined ? { acquired: false, holder } : { acquired: true, epoch: BigInt(taken.owner_epoch) };
}

export async function renewLease(db: Kysely<StoreDatabase>, runId: string, ownerId: string, epoch: bigint, ttlMs: number): Promise<boolean> {
  const row = await db
    .updateTable('runs')
    .set({ heartbeat_at: sql`now()`, lease_expires_at: expiry(ttlMs) })
    .where('run_id', '=', runId)
    .where('owner_id', '=', ownerId)
    .where('owner_epoch', '=', epoch)
    .returning('run_id')
    .executeTakeFirst();
  return row !== undefined;
}

/** True when it freed a submitted run that has not ended: another worker may claim it now. */
export async function releaseLease(db: Kysely<StoreDatabase>, runId: string, ownerId: string, epoch: bigint): Promise<boolean> {
  const row = await db
    .updateTable('runs')
    .set({ owner_id: null, heartbeat_at: null, lease_expires_at: null })
    .where('run_id', '=', runId)
    .where('owner_id', '=', ownerId)
    .where('owner_epoch', '=', epoch)
    .returning(['submitted_at', 'status'])
    .executeTakeFirst();
  return row !== undefined && row.submitted_at !== null && (row.status === 'running' || row.status === 'waiting');
}
