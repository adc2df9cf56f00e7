/**
 * How events and runs become rows and back: numbering and hash-linking new events, the hand-written
 * multi-row INSERT of the append hot path, and parsing what the database returns.
 */
import type { Selectable } from 'kysely';
import { canonicalJson, hashEventJson } from './event-hash.js';
import { RUN_STATUSES, type EventOutline, type MachineKind, type NewEvent, type RunRow, type StoredEvent } from './event-store.js';
import type { EventsTable, RunsTable } from './schema.js';
import type { StreamHead } from './stream-heads.js';

/** An events row as selected (tx_id as text); position may arrive as a number where no parser is set. */
export type EventRow = Omit<Selectable<EventsTable>, 'position' | 'epoch'> & { position: bigint | number | string; epoch?: bigint | number | string };

export interface InsertRow {
  stream_id: string;
  version: number;
  type: string;
  /** JSON text, not the value: pg would send a JS array as a Postgres array. */
  payload: string;
  machine: MachineKind;
  worker_id: string | null;
  state_after: string | null;
  created_at: Date;
  hash: string;
  prev_hash: string | null;
}

/** Numbers and hash-links the new events after `previous`; `createdAt` stands in for events that bring no time of their own. */
export function chain(
  streamId: string,
  previous: StreamHead | undefined,
  events: readonly NewEvent[],
  createdAt: Date,
): { rows: InsertRow[]; head: StreamHead | undefined } {
  const rows: InsertRow[] = [];
  let head = previous;
  for (const event of events) {
    // The engine's clock decides when an event happened: timers fall due relative to it, live and on replay.
    const at = event.createdAt ?? createdAt;
    const version = (head?.version ?? 0) + 1;
    const prevHash = head?.hash ?? null;
    // Canonical text is what gets stored too (jsonb reorders keys anyway): each value is serialised once.
    const payloadJson = canonicalJson(event.payload ?? null);
    const stateAfterJson = canonicalJson(event.stateAfter ?? null);
    const hash = hashEventJson({ streamId, version, type: event.type, machine: event.machine, workerId: event.workerId, createdAt: at, prevHash, payloadJson, stateAfterJson });
    rows.push({
      stream_id: streamId,
      version,
      type: event.type,
      payload: payloadJson,
      machine: event.machine,
      worker_id: event.workerId,
      state_after: stateAfterJson === 'null' ? null : stateAfterJson,
      created_at: at,
      hash,
      prev_hash: prevHash,
    });
    head = { version, hash };
  }
  return { rows, head };
}

export const INSERT_COLUMNS = ['stream_id', 'version', 'type', 'payload', 'machine', 'worker_id', 'state_after', 'created_at', 'hash', 'prev_hash'] as const;
const insertSqlBySize = new Map<number, string>();

export function insertEventsSql(count: number): string {
  let text = insertSqlBySize.get(count);
  if (text === undefined) {
    const tuples: string[] = [];
    for (let row = 0; row < count; row += 1) {
      const first = row * INSERT_COLUMNS.length + 1;
      tuples.push(`(${INSERT_COLUMNS.map((_, column) => `$${String(first + column)}`).join(',')})`);
    }
    text = `insert into events (${INSERT_COLUMNS.join(', ')}) values ${tuples.join(',')} returning position`;
    if (insertSqlBySize.size < 256) insertSqlBySize.set(count, text);
  }
  return text;
}

export function insertParameters(rows: readonly InsertRow[]): unknown[] {
  const parameters: unknown[] = [];
  for (const row of rows) for (const column of INSERT_COLUMNS) parameters.push(row[column]);
  return parameters;
}

export function maxPosition(rows: readonly { position: bigint | number | string }[]): bigint {
  let max = 0n;
  for (const row of rows) {
    const position = BigInt(row.position);
    if (position > max) max = position;
  }
  return max;
}

export function toStoredEvent(row: EventRow): StoredEvent {
  return {
    position: BigInt(row.position),
    txId: row.tx_id,
    streamId: row.stream_id,
    version: row.version,
    type: row.type,
    payload: row.payload,
    machine: parseMachine(row.machine),
    workerId: row.worker_id,
    stateAfter: row.state_after ?? null,
    createdAt: row.created_at,
    hash: row.hash,
    prevHash: row.prev_hash,
    // Rows of a store not yet migrated to 003 have no epoch: written before any claim.
    epoch: row.epoch === undefined ? 0n : BigInt(row.epoch),
  };
}

/** The largest `version` (an int4 column): the open end of a stream read. */
export const MAX_VERSION = 2 ** 31 - 1;

/** The columns `readStream` selects, in the order `storedEventFromColumns` takes them. */
export const EVENT_COLUMNS = 'position, tx_id::text, stream_id, version, type, payload, machine, worker_id, state_after, created_at, hash, prev_hash, epoch';

/**
 * EVENT_COLUMNS for a lean read (StreamRange.payloadTypes, bound as $4): other types' payloads are
 * left out, and the hashes too (such events cannot be checked anyway), which halves what a long stream sends.
 */
export const LEAN_EVENT_COLUMNS = "position, tx_id::text, stream_id, version, type, case when type = any($4::text[]) then payload end, machine, worker_id, state_after, created_at, '' as hash, null as prev_hash, epoch";

/**
 * The columns `readOutlines` selects, in the order `outlineFromColumns` takes them (payloadTypes bound
 * as $4). The time comes as whole milliseconds: pg's parser of timestamptz text cost more than the rest of a row.
 */
export const OUTLINE_COLUMNS = 'position, version, type, machine, worker_id, state_after, floor(extract(epoch from created_at) * 1000)::float8, case when type = any($4::text[]) then payload end';

export function outlineFromColumns(row: readonly unknown[]): EventOutline {
  return {
    position: row[0] as bigint,
    version: row[1] as number,
    type: row[2] as string,
    machine: parseMachine(row[3] as string),
    workerId: row[4] as string | null,
    stateAfter: row[5] ?? null,
    createdAtMs: row[6] as number,
    payload: row[7] ?? null,
  };
}

/** An events row selected as an array of EVENT_COLUMNS (int8 already a BigInt, jsonb parsed). */
export function storedEventFromColumns(row: readonly unknown[]): StoredEvent {
  return {
    position: BigInt(row[0] as bigint),
    txId: row[1] as string,
    streamId: row[2] as string,
    version: row[3] as number,
    type: row[4] as string,
    payload: row[5],
    machine: parseMachine(row[6] as string),
    workerId: row[7] as string | null,
    stateAfter: row[8] ?? null,
    createdAt: row[9] as Date,
    hash: row[10] as string,
    prevHash: row[11] as string | null,
    epoch: BigInt(row[12] as bigint),
  };
}

function parseMachine(value: string): MachineKind {
  if (value === 'workflow' || value === 'worker') return value;
  throw new Error(`event store holds an event for unknown machine ${JSON.stringify(value)}`);
}

export function toRunRow(row: Selectable<RunsTable>): RunRow {
  const status = RUN_STATUSES.find((known) => known === row.status);
  if (status === undefined) throw new Error(`run ${row.run_id} has unknown status ${JSON.stringify(row.status)}`);
  return {
    runId: row.run_id,
    objective: row.objective,
    cwd: row.cwd,
    machineVersion: row.machine_version,
    status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    epoch: BigInt(row.owner_epoch),
    submittedAt: row.submitted_at ?? null,
  };
}
