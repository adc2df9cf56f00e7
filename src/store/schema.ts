import type { ColumnType, Generated } from 'kysely';

/** The tables as Kysely sees them; only src/store queries them. */
export interface EventsTable {
  position: ColumnType<bigint, never, never>;
  tx_id: ColumnType<string, never, never>;
  stream_id: string;
  version: number;
  type: string;
  /** Written as JSON text (so arrays are not mistaken for Postgres arrays), read back parsed. */
  payload: ColumnType<unknown, string, string>;
  machine: string;
  worker_id: string | null;
  state_after: ColumnType<unknown, string | null, string | null>;
  created_at: Date;
  hash: string;
  prev_hash: string | null;
  /** The lease epoch the event was written under (0: before the run's first claim, or unfenced). */
  epoch: ColumnType<bigint, bigint | undefined, never>;
}

export interface RunsTable {
  run_id: string;
  objective: string;
  cwd: string;
  machine_version: string;
  status: string;
  created_at: Date;
  updated_at: Date;
  owner_id: string | null;
  owner_epoch: Generated<bigint>;
  heartbeat_at: Date | null;
  lease_expires_at: Date | null;
  /** Set when the run was submitted for `overseer worker` to claim (`run --submit`). */
  submitted_at: Date | null;
}

export interface RunSnapshotsTable {
  stream_id: string;
  version: number;
  machine_version: string;
  /** Written as JSON text, read back parsed. */
  state: ColumnType<unknown, string, string>;
  created_at: Generated<Date>;
}

export interface StoreDatabase {
  events: EventsTable;
  runs: RunsTable;
  run_snapshots: RunSnapshotsTable;
}

/**
 * The channels of a schema: the events trigger notifies `events` on every insert statement with the
 * run ids it wrote; `runs` hears of runs submitted or handed back (for `overseer worker`). Tables
 * outside `public` (`--schema`) have channels of their own, so installations sharing a server never
 * wake each other. Keep in step with the trigger function (migrations/003_run_ownership.ts).
 */
export function storeChannels(schema: string | null): { events: string; runs: string } {
  const suffix = schema === null || schema === 'public' ? '' : `:${schema}`;
  return { events: `overseer_events${suffix}`, runs: `overseer_runs${suffix}` };
}
/** Names the unique (stream_id, version) constraint: a violation of it is a lost append race. */
export const STREAM_VERSION_CONSTRAINT = 'events_stream_version_unique';
export const RUNS_PRIMARY_KEY = 'runs_pkey';
