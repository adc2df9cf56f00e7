/**
 * The host of one run: it folds events through the machines, appends them to the store BEFORE acting
 * (write-ahead), then performs the effects the machines asked for and reports their outcomes back as
 * new events. One commit at a time. Other processes may write to the run too (approve, cancel): their
 * events reach the engine through the store subscription, or as a version conflict on its next
 * append; either way it folds them in, performs their effects, and retries what it was writing.
 */
import type { MachineRegistry } from '../../machines/versions.js';
import { START, type EventStore, type RunStatus, type Subscription } from '../store/event-store.js';
import { ConcurrencyError } from '../store/store-errors.js';
import type { TrustResolver } from '../gates/trust-resolver.js';
import type { WorkerDriver, WorkerExit } from '../workers/worker-driver.js';
import type { Clock } from './clock.js';
import { absorbStored, adoptBatch, buildBatches, type Batch, type CommittedEvent } from '../fold/run-batch.js';
import type { EffectType, EngineAction } from '../fold/run-batch.js';
import type { ActionOf } from '../fold/machine-actions.js';
import type { RunEvent } from '../fold/run-events.js';
import type { RunState } from '../fold/run-state.js';
import { deriveRunStatus } from '../fold/run-status.js';
import { LeaseHeldError, type RunLease } from './run-lease.js';
import { SNAPSHOT_EVERY, saveRunSnapshot } from '../fold/run-snapshot.js';
import { RunServices } from '../workers/run-services.js';
import { bootstrapWithService, planWithService, type ServiceEffectHost } from './service-effects.js';
import { workerKindOf, workerView } from '../fold/worker-kind-of.js';
import type { KindSession, WorkerHost, WorkerKind, WorkerReport } from '../workers/kinds/worker-kind.js';
import { hostId } from '../os/host-id.js';
import { defaultWorkerKinds, type WorkerKinds } from '../workers/kinds/worker-kinds.js';
import { trustInput, trustResolverFor } from '../fold/run-trust.js';
import { verifyWorker } from './verify-worker.js';

export type { CommittedEvent } from '../fold/run-batch.js';

export interface EngineDeps {
  store: EventStore;
  clock: Clock;
  /** The shell kind's processes (tests give a fake); used when `kinds` is not given. */
  driver: WorkerDriver;
  /** The worker kinds this engine runs packets with; by default the service and shell kinds over `driver`. */
  kinds?: WorkerKinds;
  /** Overrides the trust policy recorded with the run (tests that choose every decision). */
  trust?: TrustResolver;
  /** Seeds back-off jitter per worker; recorded in the log, so replays do not call it. */
  random: () => number;
  /** The machine versions known and current (default: this build's released ones; tests add others). */
  machines?: MachineRegistry;
}

/**
 * Called after each commit with its events and the state after them. The engine's states share one
 * workers object (copying it per commit made runs quadratic): a state is whole until the next commit,
 * so read it, or persist it (`persistRunState`), before then.
 */
export type EngineListener = (events: readonly CommittedEvent[], state: RunState) => void;

/** One handler per effect the machines ask of the engine: a new effect without one does not compile. */
export type EngineEffects = { [T in EffectType]: (action: ActionOf<T>) => Promise<void> };

const MAX_CONFLICT_RETRIES = 20;
/**
 * How often at most the engine reads the log for events other processes wrote (an approval, a
 * cancel). Each of its own appends wakes that read too, so while it appends it mostly reads back its
 * own events: at 50 ms that was ~500 reads for a 500-task run of `true`, a tenth of the engine's CPU.
 * One written while it appends shows up as a conflict anyway; one written while it idles is read
 * at once, as the last read was long ago.
 */
const FOREIGN_READ_MS = 250;
/**
 * How long a report that may share an append waits for company (a process's start, see queueCommit).
 * Nothing waits on a start's record (a resume finds the process by its pid file), and at 5 ms 60 of
 * the 147 appends of 500 x `true` (conc. 16) held only starts; at 25 ms most ride with an exit's
 * append: the machine's CPU for the run 1.47 -> 1.36 s.
 */
const START_LINGER_MS = 25;
/**
 * A run's snapshot costs about its size to store (a few hundred ms for a thousand workers), so a
 * large run takes one only every so many events per task: amortised, a small cost per event, and
 * the tail a rebuild folds after it (a task makes about five events) stays short.
 */
const SNAPSHOT_EVENTS_PER_TASK = 4;

interface PendingCommit {
  inputs: readonly RunEvent[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class RunEngine {
  private state: RunState;
  private status: RunStatus;
  private chain: Promise<void> = Promise.resolve();
  /** Commits asked for while an append was in flight: they go into the next append together. */
  private pending: PendingCommit[] = [];
  /** An append is in the chain and has not taken the pending commits yet. */
  private appendQueued = false;
  private lingering: NodeJS.Timeout | undefined;
  private readonly armed = new Map<string, unknown>();
  private readonly listeners = new Set<EngineListener>();
  private settle!: { resolve: (s: RunState) => void; reject: (e: unknown) => void };
  private failed = false;
  private inFlight = 0;
  private subscription: Subscription | null = null;
  private readonly trustFor = (state: RunState): TrustResolver => this.deps.trust ?? trustResolverFor(state.run);
  private lease: RunLease | null = null;
  private snapshotVersion = 0;
  /** Snapshots being stored: beside the commits, never in their way (see `snapshotIfDue`). */
  private snapshotsInFlight = 0;
  private snapshotsStored: Promise<void> = Promise.resolve();
  private servicesForRun: RunServices | null = null;
  private readonly kinds: WorkerKinds;
  /** Each worker kind's session for this run, opened on first use and stopped with the engine. */
  private readonly sessions = new Map<WorkerKind, KindSession>();
  /** Per worker in verification: aborting it stops the gate that runs (the worker was cancelled). */
  private readonly verifications = new Map<string, AbortController>();
  readonly finished: Promise<RunState>;

  constructor(
    private readonly deps: EngineDeps,
    initial: RunState,
  ) {
    this.state = initial;
    this.kinds = deps.kinds ?? defaultWorkerKinds({ driver: deps.driver });
    this.status = deriveRunStatus(initial);
    this.finished = new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // A caller that only listens for events must not see an unhandled rejection from `finished`.
    this.finished.catch(() => undefined);
  }

  get current(): RunState {
    return this.state;
  }

  get runId(): string {
    return this.state.run.runId;
  }

  onCommit(listener: EngineListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Appends the events (and the follow-ups the machines derive from them in the same batch), then acts.
   * Commits asked for while an append is in flight are folded one after the other, in the order they
   * were asked for, and stored together in the next append: one round trip for what arose together.
   */
  commit(events: RunEvent[]): Promise<void> {
    return this.queueCommit(events, 0);
  }

  /**
   * A commit that nothing waits on may wait up to `lingerMs` for company: the next commit, or the
   * next append already due, takes it along. (A process's start: a short task's exit usually comes
   * within that time, and then both are one append instead of two in a row.)
   */
  private queueCommit(events: RunEvent[], lingerMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ inputs: events, resolve, reject });
      this.scheduleAppend(lingerMs);
    });
  }

  private scheduleAppend(lingerMs: number): void {
    if (this.appendQueued) return;
    if (lingerMs > 0) {
      this.lingering ??= setTimeout(() => this.scheduleAppend(0), lingerMs);
      return;
    }
    clearTimeout(this.lingering);
    this.lingering = undefined;
    this.appendQueued = true;
    this.enqueue(() => this.commitPending()).catch(() => undefined);
  }

  /** Performs the given effects as if they had just been asked for: used at start and on resume. */
  perform(actions: readonly EngineAction[]): void {
    for (const action of actions) this.performOne(action);
  }

  /** Holds the run's lease for as long as the engine runs; losing it stops the engine. */
  hold(lease: RunLease): void {
    this.lease = lease;
    lease.keepAlive((error) => this.fail(error));
  }

  /** Watches the store for events other processes write to this run (approvals, cancels). */
  async watchForeignEvents(): Promise<void> {
    if (this.subscription !== null) return;
    // Within one stream a later version always has a later transaction id, so starting from our own
    // last event misses nothing written to this run after it.
    // Only its place is needed: no payload (a new run's last event is run.started, with every packet).
    const [last] = await this.deps.store.readStream(this.runId, { fromVersion: this.state.version, payloadTypes: [] });
    const from = last === undefined ? START : { txId: last.txId, position: last.position };
    this.subscription = this.deps.store.subscribe(
      from,
      (events) => {
        if (events.some((e) => e.version > this.state.version)) void this.enqueue(() => this.catchUp()).catch(() => undefined);
      },
      // Mostly it hears our own appends: one read per FOREIGN_READ_MS at most while they go on.
      // Only versions are looked at: catchUp reads what another process wrote in full.
      { streamId: this.runId, coalesceMs: FOREIGN_READ_MS, placesOnly: true, onError: (error) => this.fail(error) },
    );
  }

  /**
   * After a crash: performs again what each machine's current state is waiting on (effects are
   * idempotent or guarded), reattaches to processes that outlived the old engine, re-arms timers.
   */
  resumeEffects(foreign: ReadonlyMap<string, string> = new Map()): void {
    const workflow = this.state.workflow;
    const own = (type: 'runFinished' | 'startPlanning' | 'startBootstrap'): EngineAction => ({ machine: 'workflow', workerId: null, type, params: undefined });
    const its = (type: 'decideTrust' | 'startProcess' | 'runGates' | 'mergeLane', workerId: string): EngineAction => ({ machine: 'worker', workerId, type, params: undefined });
    if (workflow.status === 'done') this.perform([own('runFinished')]);
    else if (workflow.value === 'planning') this.perform([own('startPlanning')]);
    else if (workflow.value === 'bootstrapping') this.perform([own('startBootstrap')]);
    for (const [workerId, worker] of Object.entries(this.state.workers)) {
      if (worker.status !== 'active') continue;
      if (worker.value === 'spawned') this.perform([its('decideTrust', workerId)]);
      else if (worker.value === 'trusted') this.perform([its('startProcess', workerId)]);
      else if (worker.value === 'verifying') this.perform([its('runGates', workerId)]);
      else if (worker.value === 'merging') this.perform([its('mergeLane', workerId)]);
      else if (worker.value === 'running' && worker.context.process !== null) {
        const elsewhere = foreign.get(workerId);
        if (elsewhere !== undefined) {
          const detail = `its process ran on host ${elsewhere}, whose engine lost the run; this engine cannot reach it`;
          void this.commit([{ type: 'worker.lost', machine: 'worker', workerId, payload: { detail } }]).catch(() => undefined);
          continue;
        }
        const { session, host } = this.worker(workerId);
        this.watchExit(workerId, session.reattach(host, worker.context.process));
      }
    }
    this.syncTimers();
  }

  /** Resolves once no commit is queued, no effect is running and no snapshot is being stored (timers and live processes aside). */
  async idle(): Promise<void> {
    for (;;) {
      // A lingering commit is not worth waiting for here: append it now.
      if (this.pending.length > 0) this.scheduleAppend(0);
      const chain = this.chain;
      const snapshots = this.snapshotsStored;
      await chain;
      await snapshots;
      await new Promise((resolve) => setImmediate(resolve));
      if (chain === this.chain && snapshots === this.snapshotsStored && this.inFlight === 0 && this.pending.length === 0) return;
    }
  }

  /** Stops timers and the store subscription and gives up the lease; the run stays as the log says. */
  async stop(): Promise<void> {
    for (const handle of this.armed.values()) this.deps.clock.clearTimer(handle);
    this.armed.clear();
    if (this.pending.length > 0) this.scheduleAppend(0);
    await this.snapshotsStored;
    const subscription = this.subscription;
    const lease = this.lease;
    const services = this.servicesForRun;
    const sessions = [...this.sessions.values()];
    this.subscription = null;
    this.lease = null;
    this.servicesForRun = null;
    this.sessions.clear();
    await subscription?.close();
    await services?.stop();
    await Promise.all(sessions.map((session) => session.stop?.() ?? Promise.resolve()));
    // With the store gone (a serving process stopped) there is nothing to release: the lease expires by itself.
    await lease?.release().catch(() => undefined);
  }

  /**
   * False, and the engine stopped, once its lease may have passed to another engine (it was paused
   * past it): it then starts nothing more, and leaves whatever runs to the run's new owner.
   */
  private leaseStillValid(): boolean {
    if (this.failed) return false;
    if (this.lease === null || this.lease.isValid()) return true;
    this.fail(new LeaseHeldError(`the lease of run ${this.runId} lapsed (this engine was paused or cut off): another engine may own it now`));
    return false;
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const next = this.chain.then(step);
    this.chain = next.catch((error: unknown) => this.fail(error));
    return next;
  }

  private fail(error: unknown): void {
    if (this.failed) return;
    this.failed = true;
    // Stopping may fail in turn (the store is what failed); the rejection below is what callers see.
    this.stop().catch(() => undefined);
    this.settle.reject(error);
  }

  private async commitPending(): Promise<void> {
    // One turn of the event loop first: commits that arise from the same I/O (several workers'
    // starts or exits read in one go) join this append instead of waiting for the next.
    await new Promise((resolve) => setImmediate(resolve));
    this.appendQueued = false;
    const taken = this.pending;
    this.pending = [];
    try {
      await this.commitNow(taken.map((commit) => commit.inputs));
    } catch (error) {
      for (const commit of taken) commit.reject(error);
      throw error;
    }
    for (const commit of taken) commit.resolve();
  }

  private async commitNow(commits: readonly (readonly RunEvent[])[]): Promise<void> {
    for (let attempt = 0; !this.failed; attempt++) {
      const batch = buildBatches(this.state, commits, new Date(this.deps.clock.now()), this.deps.random, this.trustFor, this.kinds);
      if (batch.events.length === 0) return;
      const status = deriveRunStatus(batch.state);
      try {
        // Fenced by the lease's epoch: after a takeover this append is refused (FencedError) and the engine fails.
        await this.deps.store.append(this.runId, this.state.version, batch.events, {
          ...(status === this.status ? {} : { runStatus: status }),
          ...(this.lease === null ? {} : { epoch: this.lease.epoch }),
        });
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt >= MAX_CONFLICT_RETRIES) throw error;
        // Someone else wrote to the run (an approval, a cancel): fold their events in, then try again.
        await this.catchUp();
        continue;
      }
      this.adopt(batch);
      this.snapshotIfDue();
      return;
    }
  }

  /**
   * Every SNAPSHOT_EVERY events, or SNAPSHOT_EVENTS_PER_TASK per task of a larger plan, so rebuilding
   * a running run folds at most that many events after its latest snapshot; and when the run ends, so
   * a finished run's snapshot is at its last event (a log that no longer reaches it has lost events:
   * truncated-log.ts). The state is persisted at once; storing it (a large row: hundreds of ms for a
   * run of thousands of workers) goes on beside the commits, and a run ends once its snapshots are
   * stored. The store never lets an older snapshot replace a newer one, so the final one may overlap
   * one still being stored.
   */
  private snapshotIfDue(): void {
    const state = this.state;
    const ended = state.workflow.status === 'done';
    const every = Math.max(SNAPSHOT_EVERY, SNAPSHOT_EVENTS_PER_TASK * state.workflow.context.tasks.size);
    if (!ended && (state.version - this.snapshotVersion < every || this.snapshotsInFlight > 0)) return;
    this.snapshotVersion = state.version;
    this.snapshotsInFlight++;
    const stored = saveRunSnapshot(this.deps.store, state)
      .catch((error: unknown) => this.fail(error))
      .finally(() => this.snapshotsInFlight--);
    this.snapshotsStored = Promise.all([this.snapshotsStored, stored]).then(() => undefined);
  }

  private async catchUp(): Promise<void> {
    const stored = await this.deps.store.readStream(this.runId, { fromVersion: this.state.version + 1 });
    if (stored.length === 0) return;
    this.adopt(absorbStored(this.state, stored));
  }

  private adopt(batch: Batch): void {
    this.state = adoptBatch(batch);
    this.status = deriveRunStatus(batch.state);
    this.syncTimers();
    for (const listener of this.listeners) listener(batch.committed, batch.state);
    this.perform(batch.effects);
  }

  private readonly effects: EngineEffects = {
    startPlanning: () => this.plan(),
    startBootstrap: () => this.bootstrap(),
    runFinished: () => this.finish(),
    decideTrust: (action) => this.decideTrust(action.workerId),
    startProcess: (action) => this.startProcess(action.workerId),
    killProcess: (action) => this.killProcess(action.workerId, action.params.pid),
    runGates: (action) => this.verify(action.workerId),
    mergeLane: (action) => this.mergeLane(action.workerId),
  };

  private performOne(action: EngineAction): void {
    if (!this.leaseStillValid()) return;
    // The table's key is the action's own type, so its handler takes exactly this action.
    const handler = this.effects[action.type] as (action: EngineAction) => Promise<void>;
    this.inFlight++;
    handler(action)
      .catch((error: unknown) => this.fail(error))
      .finally(() => this.inFlight--);
  }

  /** The seed's planner and bootstrap services, started on first use; they live and die with this engine. */
  private serviceHost(): ServiceEffectHost {
    this.servicesForRun ??= new RunServices(this.state.run, this.deps.clock);
    return { commit: (events) => this.commit(events), current: () => this.state, services: this.servicesForRun };
  }

  /** The kind that runs this worker, its session for this run (opened on first use), and what the engine lends it. */
  private worker(workerId: string): { kind: WorkerKind; session: KindSession; host: WorkerHost } {
    const kind = workerKindOf(this.state, workerId, this.kinds);
    let session = this.sessions.get(kind);
    if (session === undefined) {
      session = kind.open(this.state.run, this.deps.clock);
      this.sessions.set(kind, session);
    }
    const host: WorkerHost = {
      view: () => {
        const view = workerView(this.state, workerId);
        if (view === null) throw new Error(`run ${this.runId} has no worker ${workerId}`);
        return view;
      },
      report: (events, options) =>
        this.queueCommit(
          events.map((event) => ({ type: event.type, machine: 'worker', workerId, payload: withHost(event) })),
          options?.shareAppend === true ? START_LINGER_MS : 0,
        ),
      watchExit: (exited) => this.watchExit(workerId, exited),
      policyVerdict: () => this.trustFor(this.state)(trustInput(this.state, workerId, kind.name)),
    };
    return { kind, session, host };
  }

  private async plan(): Promise<void> {
    const packets = this.state.run.packets;
    if (packets === null && this.state.run.services.planner !== null) return planWithService(this.serviceHost());
    if (packets === null) {
      await this.commit([{ type: 'plan.failed', machine: 'workflow', workerId: null, payload: { reason: 'no plan and no planner' } }]);
      return;
    }
    await this.commit([{ type: 'plan.ready', machine: 'workflow', workerId: null, payload: { packets } }]);
  }

  private async bootstrap(): Promise<void> {
    if (this.state.run.services.bootstrap !== null) return bootstrapWithService(this.serviceHost());
    // Without a bootstrap service a batch completes the bootstrap itself (run-batch.ts): this is a resume.
    await this.commit([{ type: 'bootstrap.completed', machine: 'workflow', workerId: null, payload: { phases: [], artifacts: {} } }]);
  }

  private async finish(): Promise<void> {
    await this.chain;
    await this.snapshotsStored;
    await this.stop();
    this.settle.resolve(this.state);
  }

  private async verify(workerId: string): Promise<void> {
    const abort = new AbortController();
    this.verifications.set(workerId, abort);
    try {
      await verifyWorker(workerId, this.state, { commit: (events) => this.commit(events), current: () => this.state, abort: abort.signal });
    } finally {
      if (this.verifications.get(workerId) === abort) this.verifications.delete(workerId);
    }
  }

  private async decideTrust(workerId: string): Promise<void> {
    const { session, host } = this.worker(workerId);
    if (session.decideTrust !== undefined) return session.decideTrust(host);
    const verdict = await host.policyVerdict();
    await host.report([{ type: 'trust.decided', payload: { decision: verdict.decision, source: verdict.source } }]);
  }

  private async startProcess(workerId: string): Promise<void> {
    if (this.state.workers[workerId] === undefined) return;
    const { session, host } = this.worker(workerId);
    const prepared = (await session.prepare?.(host)) ?? { ok: true };
    if (!prepared.ok) return host.report([{ type: 'process.spawn_failed', payload: { error: prepared.error } }]);
    if (!this.leaseStillValid()) return;
    return session.start(host);
  }

  /** A lane's work into its target, by its kind (only lanes merge: worker@2's `merging`). */
  private async mergeLane(workerId: string): Promise<void> {
    if (this.state.workers[workerId] === undefined) return;
    const { session, host } = this.worker(workerId);
    if (session.merge !== undefined) return session.merge(host);
    await host.report([{ type: 'lane.merged', payload: { mode: 'none', target: '', commit: null } }]);
  }

  private async killProcess(workerId: string, pid: number | null): Promise<void> {
    // A worker cancelled while its gates run: its own process has ended, its gate has not.
    this.verifications.get(workerId)?.abort();
    const { session, host } = this.worker(workerId);
    await session.kill(host.view(), pid);
  }

  /** A live process is not an effect in flight: `idle()` must not wait for workers to finish. */
  private watchExit(workerId: string, exited: Promise<WorkerExit | 'lost'>): void {
    exited
      .then(async (ended) => {
        if (ended === 'lost') return ended;
        const { session, host } = this.worker(workerId);
        return session.finish === undefined ? ended : session.finish(host, ended);
      })
      .then((exit) =>
        this.commit([
          exit === 'lost'
            ? { type: 'worker.lost', machine: 'worker', workerId, payload: { detail: 'the process is gone and left no exit status' } }
            : { type: 'process.exited', machine: 'worker', workerId, payload: { code: exit.code, signal: exit.signal } },
        ]),
      )
      .catch((error: unknown) => this.fail(error));
  }

  private syncTimers(): void {
    const pending = this.state.timers;
    for (const [key, handle] of this.armed) {
      if (!(key in pending)) {
        this.deps.clock.clearTimer(handle);
        this.armed.delete(key);
      }
    }
    if (this.failed) return;
    for (const [key, timer] of Object.entries(pending)) {
      if (this.armed.has(key)) continue;
      const fire = (): void => {
        this.armed.delete(key);
        void this.commit([{ type: 'timer.fired', machine: timer.machine, workerId: timer.workerId, payload: { timerId: timer.timerId, event: timer.event } }]).catch(() => undefined);
      };
      this.armed.set(key, this.deps.clock.setTimer(fire, timer.dueAt - this.deps.clock.now()));
    }
  }
}

/**
 * A process's start, of any kind, names the host it runs on: a pid means something only there, and
 * an engine taking the run over on another host records such a worker lost instead of reattaching.
 */
function withHost(event: WorkerReport): WorkerReport['payload'] {
  return event.type === 'process.started' ? { ...event.payload, host: hostId() } : event.payload;
}
