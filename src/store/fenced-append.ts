/**
 * The append of a writer that holds a lease epoch (docs/scaling.md, "Fencing"): ONE statement that
 * inserts the events only while the run's epoch is still the writer's. A takeover commits a new epoch
 * before the new owner reads the log, so a paused engine that wakes up after it writes nothing: its
 * statement sees the new epoch (or waits for the takeover's row lock, then sees it) and inserts no row.
 */
import { CompiledQuery, type Kysely } from 'kysely';
import { INSERT_COLUMNS, insertParameters, maxPosition, type InsertRow } from './event-rows.js';
import type { RunStatus } from './event-store.js';
import type { StoreDatabase } from './schema.js';

/** Casts for VALUES inside a SELECT, which, unlike a plain INSERT … VALUES, does not take the column types. */
const COLUMN_TYPES: Readonly<Record<(typeof INSERT_COLUMNS)[number], string>> = {
  stream_id: 'text',
  version: 'int',
  type: 'text',
  payload: 'jsonb',
  machine: 'text',
  worker_id: 'text',
  state_after: 'jsonb',
  created_at: 'timestamptz',
  hash: 'text',
  prev_hash: 'text',
};

const sqlBySize = new Map<string, string>();

function fencedSql(count: number, withStatus: boolean): string {
  const key = `${String(count)}:${String(withStatus)}`;
  let text = sqlBySize.get(key);
  if (text !== undefined) return text;
  const tuples: string[] = [];
  for (let row = 0; row < count; row += 1) {
    const first = row * INSERT_COLUMNS.length + 1;
    tuples.push(`(${INSERT_COLUMNS.map((column, index) => `$${String(first + index)}::${COLUMN_TYPES[column]}`).join(',')})`);
  }
  const next = count * INSERT_COLUMNS.length + 1;
  const [epoch, runId, status, updatedAt] = [next, next + 1, next + 2, next + 3].map((n) => `$${String(n)}`);
  // `for share` takes the run row's lock: a takeover committing meanwhile is waited for, then seen.
  const insert =
    `insert into events (${INSERT_COLUMNS.join(', ')}, epoch) ` +
    `select v.*, ${epoch}::bigint from (values ${tuples.join(',')}) as v ` +
    `where exists (select 1 from runs where run_id = ${runId} and owner_epoch = ${epoch}::bigint for share) returning position`;
  text = withStatus
    ? `with appended as (${insert}), run_update as (update runs set status = ${status}, updated_at = ${updatedAt} where run_id = ${runId} and exists (select 1 from appended) returning run_id) select position from appended`
    : insert;
  if (sqlBySize.size < 256) sqlBySize.set(key, text);
  return text;
}

/** The positions inserted; none when the run's epoch has moved past `epoch` (or the run does not exist). */
export async function insertFenced(db: Kysely<StoreDatabase>, streamId: string, rows: InsertRow[], epoch: bigint, runStatus: RunStatus | undefined): Promise<bigint | null> {
  const parameters = [...insertParameters(rows), epoch.toString(), streamId];
  if (runStatus !== undefined) parameters.push(runStatus, new Date());
  const result = await db.executeQuery<{ position: bigint }>(CompiledQuery.raw(fencedSql(rows.length, runStatus !== undefined), parameters));
  return result.rows.length === 0 ? null : maxPosition(result.rows);
}
