/**
 * A stream read by worker, for a reader that shows a few lanes of thousands before it has read the
 * whole log (the viewer's first answer): each worker in brief, by one aggregate the server runs, and
 * the events of only the workers shown. Each query is bounded by a version, so answers read at
 * different moments of a growing log still describe one moment.
 */
import type { EventOutline, FailureRecords, MachineKind, WorkerHead } from './event-store.js';
import { MAX_VERSION, OUTLINE_COLUMNS, outlineFromColumns } from './event-rows.js';
import type { StoreBackend } from './store-backend.js';

/**
 * Per worker: the first version and the state after the last, in one sort of the stream's worker
 * events, newest first within each worker ("C": ids are grouped by their bytes, which is how they are
 * told apart anyway).
 */
const WORKER_STATES = `
select distinct on (worker) worker, min(version) over by_worker, state_after
from (select coalesce(worker_id, '') collate "C" as worker, version, state_after from events where stream_id = $1 and machine = 'worker' and version <= $2) worker_events
window by_worker as (partition by worker order by version desc rows between unbounded preceding and unbounded following)
order by worker, version desc`;

/**
 * Per worker with a failure record: the kind of its latest one, null when a record of the failure
 * overcome is the latest. A record whose `kind` is not a string says nothing, as for the lanes' own
 * fold (src/web/run-lanes.ts). Few rows: most workers never fail.
 */
const WORKER_FAILURES = `
select distinct on (worker) worker, case when type = any($4::text[]) then null else payload->>'kind' end
from (
  select coalesce(worker_id, '') collate "C" as worker, version, type, payload from events
  where stream_id = $1 and machine = 'worker' and version <= $2
    and (type = any($4::text[]) or (type = any($3::text[]) and jsonb_typeof(payload->'kind') = 'string'))
) failure_records
order by worker, version desc`;

/** Each worker in brief up to `toVersion`, in order of first appearance; the two reads run side by side. */
export async function readWorkerHeads(source: StoreBackend, streamId: string, toVersion: number, failures: FailureRecords): Promise<WorkerHead[]> {
  const [states, kinds] = await Promise.all([
    source.selectArrays(WORKER_STATES, [streamId, toVersion]),
    source.selectArrays(WORKER_FAILURES, [streamId, toVersion, failures.met, failures.overcome]),
  ]);
  const kindOf = new Map(kinds.map((row) => [row[0] as string, (row[1] as string | null) ?? null]));
  return states
    .map((row) => ({ workerId: row[0] as string, firstVersion: row[1] as number, stateAfter: row[2] ?? null, failureKind: kindOf.get(row[0] as string) ?? null }))
    .sort((a, b) => a.firstVersion - b.firstVersion);
}

export function readWorkerOutlines(
  source: StoreBackend,
  streamId: string,
  workerIds: readonly string[],
  range: { toVersion: number; payloadTypes: readonly string[]; named: { type: string; field: string } },
  each: (event: EventOutline) => void,
): Promise<void> {
  // OUTLINE_COLUMNS takes the payload types as $4.
  return source.eachArray(
    `select ${OUTLINE_COLUMNS} from events
     where stream_id = $1 and version >= $2 and version <= $3
       and ((machine = 'worker' and coalesce(worker_id, '') = any($5::text[])) or (machine = 'workflow' and type = $6 and payload->>$7 = any($5::text[])))
     order by version`,
    [streamId, 1, range.toVersion, range.payloadTypes, workerIds, range.named.type, range.named.field],
    (row) => each(outlineFromColumns(row)),
  );
}

export async function readLastOutline(source: StoreBackend, streamId: string, options: { machine?: MachineKind; toVersion?: number }): Promise<EventOutline | undefined> {
  const machine = options.machine === undefined ? '' : 'and machine = $5';
  const values: unknown[] = [streamId, 1, options.toVersion ?? MAX_VERSION, []];
  if (options.machine !== undefined) values.push(options.machine);
  // Backwards along (stream_id, version) from the newest: the workflow's events are never far apart.
  const [row] = await source.selectArrays(`select ${OUTLINE_COLUMNS} from events where stream_id = $1 and version >= $2 and version <= $3 ${machine} order by version desc limit 1`, values);
  return row === undefined ? undefined : outlineFromColumns(row);
}

export async function firstVersionOfType(source: StoreBackend, streamId: string, type: string): Promise<number | undefined> {
  const [row] = await source.selectArrays('select version from events where stream_id = $1 and type = $2 order by version limit 1', [streamId, type]);
  return row === undefined ? undefined : (row[0] as number);
}
