import { CompiledQuery, sql } from 'kysely';
import type {
  AppendOptions,
  AppendResult,
  Checkpoint,
  ClaimedRun,
  EventOutline,
  EventStore,
  ExpectedVersion,
  FailureRecords,
  LeaseHolder,
  LeaseResult,
  MachineKind,
  NewEvent,
  NewRun,
  RunFilter,
  RunRow,
  RunSnapshot,
  RunStatus,
  StoredEvent,
  StreamRange,
  SubscribeOptions,
  Subscription,
  WorkerHead,
} from './event-store.js';
import { chain, EVENT_COLUMNS, LEAN_EVENT_COLUMNS, insertEventsSql, insertParameters, maxPosition, MAX_VERSION, OUTLINE_COLUMNS, outlineFromColumns, storedEventFromColumns, toRunRow, toStoredEvent, type InsertRow } from './event-rows.js';
import { acquireLease, releaseLease, renewLease } from './run-leases.js';
import { claimRun, nextLeaseExpiry, notifyClaimable } from './run-claims.js';
import { insertFenced } from './fenced-append.js';
import { loadSnapshot, saveSnapshot } from './run-snapshots.js';
import { RUNS_PRIMARY_KEY, STREAM_VERSION_CONSTRAINT, storeChannels } from './schema.js';
import type { StoreBackend } from './store-backend.js';
import { CONFLICT_RETRIES, ConcurrencyError, FencedError } from './store-errors.js';
import { StreamHeads, type StreamHead } from './stream-heads.js';
import { PollingSubscription, WakeupHub } from './subscription.js';
import { firstVersionOfType, readLastOutline, readWorkerHeads, readWorkerOutlines } from './worker-heads.js';

const DEFAULT_READ_LIMIT = 1000;
const DEFAULT_RUN_LIMIT = 100;

/**
 * The one EventStore, over any backend that speaks Postgres through Kysely.
 *
 * Every write is ONE statement (data-modifying CTEs where a run row changes with events): it is
 * atomic on its own, costs one round trip, and never leaves a transaction open across statements,
 * which would hold back every commit-safe global reader on the server (see `readAll`).
 */
export class KyselyEventStore implements EventStore {
  readonly backend: 'pg' | 'embedded';
  readonly #source: StoreBackend;
  readonly #heads = new StreamHeads();
  readonly #wakeups: WakeupHub;
  readonly #subscriptions = new Set<Subscription>();
  #closing: Promise<void> | undefined;

  constructor(source: StoreBackend) {
    this.#source = source;
    this.backend = source.name;
    this.#wakeups = new WakeupHub((wake) => source.listen(storeChannels(source.schema).events, wake));
  }

  async startRun(run: NewRun, events: NewEvent[], options: { submit?: boolean } = {}): Promise<AppendResult> {
    const now = new Date();
    const { rows, head } = chain(run.runId, undefined, events, now);
    const runRow = {
      run_id: run.runId,
      objective: run.objective,
      cwd: run.cwd,
      machine_version: run.machineVersion,
      status: run.status,
      created_at: now,
      updated_at: now,
      submitted_at: options.submit === true ? now : null,
    };
    const db = this.#source.db;
    let lastPosition = 0n;
    try {
      if (rows.length === 0) {
        await db.insertInto('runs').values(runRow).execute();
      } else {
        const inserted = await db
          .with('new_run', (q) => q.insertInto('runs').values(runRow))
          .insertInto('events')
          .values(rows)
          .returning('position')
          .execute();
        lastPosition = maxPosition(inserted);
      }
    } catch (error) {
      if (!isUniqueViolation(error, [RUNS_PRIMARY_KEY, STREAM_VERSION_CONSTRAINT])) throw error;
      throw new ConcurrencyError(run.runId, 'no_stream', (await this.#readHead(run.runId))?.version ?? null);
    }
    if (head !== undefined) this.#heads.set(run.runId, head);
    this.#wakeups.wake();
    if (options.submit === true) await notifyClaimable(this.#source, run.runId);
    return { nextVersion: head?.version ?? 0, lastPosition };
  }

  async getRun(runId: string): Promise<RunRow | undefined> {
    const row = await this.#source.db.selectFrom('runs').selectAll().where('run_id', '=', runId).executeTakeFirst();
    return row === undefined ? undefined : toRunRow(row);
  }

  async listRuns(limit = DEFAULT_RUN_LIMIT, filter: RunFilter = {}): Promise<RunRow[]> {
    let query = this.#source.db.selectFrom('runs').selectAll();
    const { after, status, objective } = filter;
    if (after !== undefined) {
      query = query.where((eb) => eb.or([eb('created_at', '<', after.createdAt), eb.and([eb('created_at', '=', after.createdAt), eb('run_id', '<', after.runId)])]));
    }
    if (status !== undefined) query = query.where('status', '=', status);
    // strpos, not LIKE: the text is matched as it is, with no wildcard of its own to escape.
    if (objective !== undefined && objective !== '') query = query.where(sql<boolean>`strpos(lower(objective), lower(${objective})) > 0`);
    const rows = await query
      .orderBy('created_at', 'desc')
      .orderBy('run_id', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toRunRow);
  }

  async append(streamId: string, expected: ExpectedVersion, events: NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    if (events.length === 0) return this.#appendNothing(streamId, expected);
    for (let attempt = 0; ; attempt += 1) {
      const previous = await this.#headToFollow(streamId, expected);
      const { rows, head } = chain(streamId, previous, events, new Date());
      let lastPosition: bigint;
      try {
        if (options.epoch === undefined) {
          lastPosition = await this.#insert(streamId, rows, options.runStatus);
        } else {
          const fenced = await insertFenced(this.#source.db, streamId, rows, options.epoch, options.runStatus);
          if (fenced === null) {
            this.#heads.forget(streamId);
            throw new FencedError(streamId, options.epoch);
          }
          lastPosition = fenced;
        }
      } catch (error) {
        if (!isUniqueViolation(error, [STREAM_VERSION_CONSTRAINT])) throw error;
        this.#heads.forget(streamId);
        if (expected === 'any' && attempt < CONFLICT_RETRIES) continue;
        throw new ConcurrencyError(streamId, expected, (await this.#readHead(streamId))?.version ?? null);
      }
      // No local wake-up here: the commit's notification wakes every subscription, this process's
      // too, and waking them twice per append doubled the reads of a busy engine's own events.
      if (head !== undefined) this.#heads.set(streamId, head);
      return { nextVersion: head?.version ?? 0, lastPosition };
    }
  }

  async readStream(streamId: string, range: StreamRange = {}): Promise<StoredEvent[]> {
    // Hand-written, rows as arrays (see StoreBackend.selectArrays): rebuild and replay read whole logs.
    const parameters: unknown[] = [streamId, range.fromVersion ?? 1, range.toVersion ?? MAX_VERSION];
    let columns = EVENT_COLUMNS;
    if (range.payloadTypes !== undefined) {
      parameters.push(range.payloadTypes);
      columns = LEAN_EVENT_COLUMNS;
    }
    const rows = await this.#source.selectArrays(
      `select ${columns} from events where stream_id = $1 and version >= $2 and version <= $3 order by version`,
      parameters,
    );
    return rows.map(storedEventFromColumns);
  }

  readOutlines(streamId: string, range: Omit<StreamRange, 'payloadTypes'> & { payloadTypes: readonly string[] }, each: (event: EventOutline) => void): Promise<void> {
    return this.#source.eachArray(
      `select ${OUTLINE_COLUMNS} from events where stream_id = $1 and version >= $2 and version <= $3 order by version`,
      [streamId, range.fromVersion ?? 1, range.toVersion ?? MAX_VERSION, range.payloadTypes],
      (row) => each(outlineFromColumns(row)),
    );
  }

  readLastOutline(streamId: string, options: { machine?: MachineKind; toVersion?: number } = {}): Promise<EventOutline | undefined> {
    return readLastOutline(this.#source, streamId, options);
  }

  readWorkerHeads(streamId: string, toVersion: number, failures: FailureRecords): Promise<WorkerHead[]> {
    return readWorkerHeads(this.#source, streamId, toVersion, failures);
  }

  readWorkerOutlines(
    streamId: string,
    workerIds: readonly string[],
    range: { toVersion: number; payloadTypes: readonly string[]; named: { type: string; field: string } },
    each: (event: EventOutline) => void,
  ): Promise<void> {
    return readWorkerOutlines(this.#source, streamId, workerIds, range, each);
  }

  firstVersionOfType(streamId: string, type: string): Promise<number | undefined> {
    return firstVersionOfType(this.#source, streamId, type);
  }

  readAll(after: Checkpoint, limit = DEFAULT_READ_LIMIT): Promise<StoredEvent[]> {
    return this.#readAfter(after, limit, undefined, false);
  }

  subscribe(after: Checkpoint, onEvents: (events: StoredEvent[]) => Promise<void> | void, options: SubscribeOptions = {}): Subscription {
    if (this.#closing !== undefined) throw new Error('the event store is closed');
    const source = {
      readAfter: (from: Checkpoint, limit: number, streamId: string | undefined) => this.#readAfter(from, limit, streamId, options.placesOnly === true),
      onWake: (wake: () => void, streamId: string | undefined) =>
        this.#wakeups.add(wake, options.onError ?? ((error) => process.emitWarning(`overseer store notifications: ${String(error)}`)), streamId),
    };
    const subscription = new PollingSubscription(source, after, onEvents, options, this.#source.pollMs);
    this.#subscriptions.add(subscription);
    return {
      close: async () => {
        await subscription.close();
        this.#subscriptions.delete(subscription);
      },
    };
  }

  acquireLease(runId: string, ownerId: string, ttlMs: number, takeOver: (holder: LeaseHolder) => boolean): Promise<LeaseResult | undefined> {
    return acquireLease(this.#source.db, runId, ownerId, ttlMs, takeOver);
  }

  renewLease(runId: string, ownerId: string, epoch: bigint, ttlMs: number): Promise<boolean> {
    return renewLease(this.#source.db, runId, ownerId, epoch, ttlMs);
  }

  async releaseLease(runId: string, ownerId: string, epoch: bigint): Promise<void> {
    if (await releaseLease(this.#source.db, runId, ownerId, epoch)) await notifyClaimable(this.#source, runId);
  }

  claimRun(ownerId: string, ttlMs: number, skip: readonly string[] = []): Promise<ClaimedRun | undefined> {
    return claimRun(this.#source.db, ownerId, ttlMs, skip);
  }

  nextLeaseExpiry(exceptOwner?: string): Promise<number | null> {
    return nextLeaseExpiry(this.#source.db, exceptOwner);
  }

  watchClaimable(wake: () => void): Promise<() => Promise<void>> {
    return this.#source.listen(storeChannels(this.#source.schema).runs, wake);
  }

  saveSnapshot(snapshot: RunSnapshot, options: { replace?: boolean } = {}): Promise<void> {
    return saveSnapshot(this.#source.db, snapshot, options.replace === true);
  }

  loadSnapshot(streamId: string): Promise<RunSnapshot | undefined> {
    return loadSnapshot(this.#source.db, streamId);
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all([...this.#subscriptions].map((subscription) => subscription.close()));
      await this.#wakeups.close();
      await this.#source.close();
    })();
    return this.#closing;
  }

  /**
   * The head a new event must follow, or undefined for a new stream; throws when the expected
   * version is already known to be wrong. Reads the database only when the cache cannot answer.
   */
  async #headToFollow(streamId: string, expected: ExpectedVersion): Promise<StreamHead | undefined> {
    const cached = this.#heads.get(streamId);
    if (expected === 'no_stream') {
      if (cached !== undefined) throw new ConcurrencyError(streamId, expected, cached.version);
      return undefined;
    }
    if (typeof expected === 'number') {
      if (cached?.version === expected) return cached;
      if (cached !== undefined && cached.version > expected) throw new ConcurrencyError(streamId, expected, cached.version);
    } else if (cached !== undefined) {
      return cached;
    }
    const head = await this.#readHead(streamId);
    if (typeof expected === 'number' && (head?.version ?? 0) !== expected) {
      throw new ConcurrencyError(streamId, expected, head?.version ?? null);
    }
    if (head !== undefined) this.#heads.set(streamId, head);
    return head;
  }

  async #appendNothing(streamId: string, expected: ExpectedVersion): Promise<AppendResult> {
    const head = await this.#readHead(streamId);
    const version = head?.version ?? 0;
    if ((expected === 'no_stream' && head !== undefined) || (typeof expected === 'number' && expected !== version)) {
      throw new ConcurrencyError(streamId, expected, head?.version ?? null);
    }
    return { nextVersion: version, lastPosition: head?.position ?? 0n };
  }

  async #insert(streamId: string, rows: InsertRow[], runStatus: RunStatus | undefined): Promise<bigint> {
    const db = this.#source.db;
    if (runStatus === undefined) {
      // The hot path, written by hand: Kysely's builder costs more than the hashing for 100 rows.
      const result = await db.executeQuery<{ position: bigint }>(CompiledQuery.raw(insertEventsSql(rows.length), insertParameters(rows)));
      return maxPosition(result.rows);
    }
    // One statement, so the status changes exactly when the events commit.
    const inserted = await db
      .with('appended', (q) => q.insertInto('events').values(rows).returning('position'))
      .with('run_update', (q) =>
        q.updateTable('runs').set({ status: runStatus, updated_at: new Date() }).where('run_id', '=', streamId).returning('run_id'),
      )
      .selectFrom('appended')
      .select('position')
      .execute();
    return maxPosition(inserted);
  }

  async #readHead(streamId: string): Promise<(StreamHead & { position: bigint }) | undefined> {
    const row = await this.#source.db
      .selectFrom('events')
      .select(['version', 'hash', 'position'])
      .where('stream_id', '=', streamId)
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row === undefined ? undefined : { version: row.version, hash: row.hash, position: BigInt(row.position) };
  }

  /**
   * Positions are taken at insert, not at commit (docs/store.md, "Reading in global order"): only
   * transactions older than every one still in flight are visible, so a writer that commits late is
   * read before anything that follows it.
   */
  async #readAfter(after: Checkpoint, limit: number, streamId: string | undefined, placesOnly: boolean): Promise<StoredEvent[]> {
    let query = this.#selectEvents(placesOnly)
      .where(sql<boolean>`(tx_id, position) > (${after.txId}::xid8, ${after.position.toString()}::bigint)`)
      .where(sql<boolean>`tx_id < pg_snapshot_xmin(pg_current_snapshot())`);
    if (streamId !== undefined) query = query.where('stream_id', '=', streamId);
    // `events.tx_id`, the xid8 column: a bare `tx_id` in ORDER BY names the selected text alias, which
    // sorts '1000' before '999' and, once transaction ids gain a digit, reorders and repeats events.
    const rows = await query.orderBy(sql`events.tx_id`).orderBy('position').limit(limit).execute();
    return rows.map(toStoredEvent);
  }

  /** `placesOnly` (SubscribeOptions.placesOnly): payload, state and hashes left out, for a reader of versions alone. */
  #selectEvents(placesOnly = false) {
    return this.#source.db
      .selectFrom('events')
      .select([
        'position',
        sql<string>`tx_id::text`.as('tx_id'),
        'stream_id',
        'version',
        'type',
        placesOnly ? sql<unknown>`null::jsonb`.as('payload') : 'payload',
        'machine',
        'worker_id',
        placesOnly ? sql<unknown>`null::jsonb`.as('state_after') : 'state_after',
        'created_at',
        placesOnly ? sql<string>`''`.as('hash') : 'hash',
        placesOnly ? sql<string | null>`null::text`.as('prev_hash') : 'prev_hash',
        'epoch',
      ]);
  }
}

function isUniqueViolation(error: unknown, constraints: readonly string[]): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, constraint } = error as { code?: unknown; constraint?: unknown };
  return code === '23505' && typeof constraint === 'string' && constraints.includes(constraint);
}
