/**
 * The one interface the rest of Overseer sees of its event store. The two ways of reaching a server
 * (a URL, or the embedded server Overseer starts itself) live in their own folders and are opened by
 * `openStore`; nothing outside src/store learns which one it has.
 */

/** Which machine an event concerns: the run's workflow or one of its workers. */
export type MachineKind = 'workflow' | 'worker';

export const RUN_STATUSES = ['running', 'waiting', 'completed', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** An event as the runtime hands it to `append`: the store adds position, version, time and hash. */
export interface NewEvent {
  type: string;
  payload: unknown;
  machine: MachineKind;
  workerId: string | null;
  /** The state value of the machine the event concerns, after the event was applied. */
  stateAfter: unknown;
  /** When the event happened by the engine's clock (timers are due relative to it); default: now. */
  createdAt?: Date;
}

export interface StoredEvent extends Omit<NewEvent, 'createdAt'> {
  /** Global position, from an identity column: unique, increasing, with gaps after rollbacks. */
  position: bigint;
  /** The writing transaction's id (xid8, as a decimal string): orders events for safe global reads. */
  txId: string;
  streamId: string;
  /** 1 for a stream's first event, then +1 per event with no gaps. */
  version: number;
  createdAt: Date;
  /** sha256 over this event's fields and the previous event's hash (see event-hash.ts). */
  hash: string;
  prevHash: string | null;
  /**
   * The lease epoch the event was written under: 0 before the run's first claim (and for appends
   * that carry none). Not covered by the hash (docs/scaling.md, "Epochs and the hash chain").
   */
  epoch: bigint;
}

/**
 * What the caller believes the stream's last version to be. `no_stream`: the stream must not exist;
 * `any`: no check (still atomic and gap-free).
 */
export type ExpectedVersion = number | 'no_stream' | 'any';

export interface AppendResult {
  /** The stream's version after the append. */
  nextVersion: number;
  lastPosition: bigint;
}

/** Where a global reader stands: the pair (transaction id, position) of the last event it saw. */
export interface Checkpoint {
  txId: string;
  position: bigint;
}
export const START: Checkpoint = Object.freeze({ txId: '0', position: 0n });

export interface NewRun {
  runId: string;
  objective: string;
  /** The directory `overseer run` was started from: commands run there, resume works from anywhere. */
  cwd: string;
  machineVersion: string;
  status: RunStatus;
}

export interface RunRow extends NewRun {
  createdAt: Date;
  updatedAt: Date;
  /** The run's lease epoch now: 0 until an engine first claims it, +1 with every claim. */
  epoch: bigint;
  /** When it was submitted for `overseer worker` (`run --submit`); null for a run its own command runs. */
  submittedAt: Date | null;
}

/** Which part of a stream `readStream` reads. */
export interface StreamRange {
  fromVersion?: number;
  toVersion?: number;
  /**
   * Only events of these types come back with their payload; the others' payload is null. A lean read
   * for a reader that needs states and types of a long log, not its packets. Such events come without
   * their hashes (`hash` empty, `prevHash` null): they cannot be checked.
   */
  payloadTypes?: readonly string[];
}

/**
 * An event as a reader of a whole long log's states needs it (`readOutlines`): no hashes, no
 * transaction or epoch, its time as a number, and a payload only for the types asked for. What the
 * viewer's index reads of a fleet's 50,000 events: decoding every column of every row was most of its cost.
 */
export interface EventOutline {
  position: bigint;
  version: number;
  type: string;
  machine: MachineKind;
  workerId: string | null;
  stateAfter: unknown;
  /** Milliseconds since the epoch (Date.getTime()). */
  createdAtMs: number;
  /** The payload for the types in `payloadTypes`, null for the others. */
  payload: unknown;
}

/** Which events of a worker say it met a failure (their payload's `kind`), and which that it got over it. */
export interface FailureRecords {
  met: readonly string[];
  overcome: readonly string[];
}

/** A worker in brief (`readWorkerHeads`): where it first appears, its state now, its last failure. */
export interface WorkerHead {
  /** '' for worker events that name no worker. */
  workerId: string;
  firstVersion: number;
  /** The state after its last event. */
  stateAfter: unknown;
  /** The `kind` of its latest failure record; null when it has none, or got over it since. */
  failureKind: string | null;
}

/** Which runs `listRuns` lists, besides how many. */
export interface RunFilter {
  /** Runs listed after this one (newest first): the cursor of the page before. */
  after?: { createdAt: Date; runId: string } | undefined;
  status?: RunStatus | undefined;
  /** Runs whose objective holds this text, case aside. */
  objective?: string | undefined;
}

export interface AppendOptions {
  /** When the run's status changes with these events, the runs row is updated in the same transaction. */
  runStatus?: RunStatus;
  /**
   * The writer's lease epoch (a fencing token): the append is refused with a FencedError, in the same
   * statement, unless it is still the run's epoch. The events record it. Left out: no fence, epoch 0.
   */
  epoch?: bigint;
}

export interface Subscription {
  /** Resolves once the subscription has stopped and no handler call is in flight. */
  close(): Promise<void>;
}

export interface SubscribeOptions {
  /** Only events of this stream are delivered (the checkpoint still moves over all events). */
  streamId?: string;
  /** Polling fallback in ms, for notifications lost or not delivered across processes. */
  pollMs?: number;
  /**
   * Wake-ups within this many ms of the last read are served by one read at the end of that time
   * (default 0: every wake-up reads at once). For a subscriber that mostly hears its own appends.
   */
  coalesceMs?: number;
  /**
   * Deliver only where each event is (position, txId, stream, version, type, machine, workerId,
   * createdAt, epoch): payload and stateAfter come as null, hash and prevHash as ''/null. For a
   * subscriber that only learns THAT a run moved and reads what it needs itself (an engine watching
   * for other writers mostly reads back its own appends, whose payloads were a fifth of its reads).
   */
  placesOnly?: boolean;
  onError?: (error: unknown) => void;
}

/** A run's folded state at a version: a cache of the log, checked against the machine version. */
export interface RunSnapshot {
  streamId: string;
  version: number;
  machineVersion: string;
  state: unknown;
}

/** Who owns a run: one engine at a time, proven by an epoch that grows with every takeover. */
export interface LeaseHolder {
  ownerId: string;
  epoch: bigint;
  heartbeatAt: Date | null;
  expiresAt: Date | null;
}

export type LeaseResult = { acquired: true; epoch: bigint } | { acquired: false; holder: LeaseHolder };

/** A run an engine claimed: it owns it at this epoch until its lease lapses. */
export interface ClaimedRun {
  runId: string;
  epoch: bigint;
}

export interface EventStore {
  readonly backend: 'pg' | 'embedded';
  /**
   * Creates the runs row and appends the run's first events in one transaction. `submit`: the run is
   * left for `overseer worker` to claim, and workers listening are told.
   */
  startRun(run: NewRun, events: NewEvent[], options?: { submit?: boolean }): Promise<AppendResult>;
  getRun(runId: string): Promise<RunRow | undefined>;
  /** Newest first. */
  listRuns(limit?: number, filter?: RunFilter): Promise<RunRow[]>;
  append(streamId: string, expected: ExpectedVersion, events: NewEvent[], options?: AppendOptions): Promise<AppendResult>;
  readStream(streamId: string, range?: StreamRange): Promise<StoredEvent[]>;
  /**
   * Hands `each` the stream's events in outline, in version order, as they arrive (with the payloads of
   * `payloadTypes` only); resolves once all are handed. Once `each` throws, the read fails with that error.
   */
  readOutlines(streamId: string, range: Omit<StreamRange, 'payloadTypes'> & { payloadTypes: readonly string[] }, each: (event: EventOutline) => void): Promise<void>;
  /** The stream's last event up to `toVersion` (of `machine`, when named), in outline without its payload; undefined for none. */
  readLastOutline(streamId: string, options?: { machine?: MachineKind; toVersion?: number }): Promise<EventOutline | undefined>;
  /**
   * Each worker of the stream up to `toVersion` in brief, in order of first appearance: a summary of
   * thousands of lanes without reading their events (the server aggregates).
   */
  readWorkerHeads(streamId: string, toVersion: number, failures: FailureRecords): Promise<WorkerHead[]>;
  /**
   * `readOutlines` of these workers' events only (a worker event naming no worker is worker ''), up to
   * `toVersion`, with the workflow's events of type `named.type` whose payload field `named.field` names one of them.
   */
  readWorkerOutlines(
    streamId: string,
    workerIds: readonly string[],
    range: { toVersion: number; payloadTypes: readonly string[]; named: { type: string; field: string } },
    each: (event: EventOutline) => void,
  ): Promise<void>;
  /** The version of the stream's first event of this type; undefined for none. */
  firstVersionOfType(streamId: string, type: string): Promise<number | undefined>;
  /** Events after the checkpoint in commit-safe global order; never returns an event a later read could precede. */
  readAll(after: Checkpoint, limit?: number): Promise<StoredEvent[]>;
  /** Catch-up from the checkpoint, then live; each event is delivered once, in `readAll` order. */
  subscribe(after: Checkpoint, onEvents: (events: StoredEvent[]) => Promise<void> | void, options?: SubscribeOptions): Subscription;
  /**
   * Takes the run's lease when it is free, expired, already ours, or when `takeOver` says its holder
   * is gone (a dead process on this host). Undefined when the run does not exist.
   */
  acquireLease(runId: string, ownerId: string, ttlMs: number, takeOver: (holder: LeaseHolder) => boolean): Promise<LeaseResult | undefined>;
  /** Extends the lease; false when it is no longer ours (taken over after it expired). */
  renewLease(runId: string, ownerId: string, epoch: bigint, ttlMs: number): Promise<boolean>;
  /** Gives the lease up; a submitted run that has not ended is then free for another worker, who is told. */
  releaseLease(runId: string, ownerId: string, epoch: bigint): Promise<void>;
  /**
   * Claims the oldest submitted run that has not ended and whose lease is free or expired (`FOR UPDATE
   * SKIP LOCKED`: engines claiming at once never wait on, or get, the same run); undefined when none.
   */
  claimRun(ownerId: string, ttlMs: number, skip?: readonly string[]): Promise<ClaimedRun | undefined>;
  /** Milliseconds until the next lease of a submitted, unended run held by another owner expires (database clock); null if none is held. */
  nextLeaseExpiry(exceptOwner?: string): Promise<number | null>;
  /** Calls `wake` when a run is submitted or handed back; resolves to the function that stops it. */
  watchClaimable(wake: () => void): Promise<() => Promise<void>>;
  /** Keeps the newer of the stored and the given snapshot; `replace` stores the given one regardless. */
  saveSnapshot(snapshot: RunSnapshot, options?: { replace?: boolean }): Promise<void>;
  loadSnapshot(streamId: string): Promise<RunSnapshot | undefined>;
  close(): Promise<void>;
}
