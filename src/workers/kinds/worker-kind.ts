/**
 * One seam for the ways a worker can run: a kind is one file behind this interface, and the registry
 * (worker-kinds.ts) picks the kind per packet. The engine performs the worker machine's effects
 * through the kind and knows nothing of any kind in particular; the kind reports back in worker
 * events, which the engine appends (write-ahead) and folds through the machine like any other.
 *
 * The worker machine's shape is fixed (worker@2): a kind only fills in its steps — trust (optional:
 * the run's policy decides by default), prepare and start (trusted → running), kill, reattach after
 * a crash, finish (after the process ended, before the exit is recorded) and, for a lane, merge.
 */
import type * as z from 'zod';
import type { LaneUsage, recordEventSchemas, TrustDecision, WorkerProcess, workerEventSchemas } from '../../../machines/events.js';
import type { WorkerExit } from '../worker-driver.js';
import type { LaneSettings } from '../../planning/agent-repository.js';

/** What a kind may say about its worker: the machine's worker events and the records kept beside them. */
type Schemas = typeof workerEventSchemas & typeof recordEventSchemas;
export type WorkerReport = { [K in keyof Schemas]: { type: K; payload: z.input<Schemas[K]> } }[keyof Schemas];

/** The fields of the run a kind may read (the run.started event has them all). */
export interface KindRun {
  runId: string;
  cwd: string;
  runDir: string;
  workerCommand: string | null;
  services: { workerService: string | null; callTimeoutMs: number };
  /** Agent lanes' repository, target branch and the run's budget; absent without lanes. */
  lanes?: LaneSettings | undefined;
}

/** The fields of a packet a kind chooses by; packets are loose, the rest rides along. */
export type KindPacket = { id: string; objective: string; command?: string | undefined } & Record<string, unknown>;

/** A worker as the kind sees it now: read afresh on every call (an attempt may have moved on). */
export interface WorkerView {
  workerId: string;
  /** The machine's state value ('trusted', 'running', …) and attempt number. */
  state: string;
  attempt: number;
  /** Who trusted it (`policy:…`, `cli:alice`), for kinds that pass it on. */
  trustSource: string | null;
  /** The process the log recorded for this attempt, if it started one. */
  process: WorkerProcess | null;
  /** The packet as planned, as the worker receives it. */
  packet: Record<string, unknown>;
  objective: string;
  /** The packet's command, else the run's `--worker`; null when neither was given. */
  command: string | null;
  /** Where the worker runs: the packet's cwd under the run's directory. */
  cwd: string;
  env: Record<string, string>;
  /** What the bootstrap phases produced. */
  artifacts: Record<string, unknown>;
  run: KindRun;
  /** An agent lane's record so far (src/fold/lane-record.ts); null before its first lane event. */
  lane: LaneView | null;
  /** Every lane's usage in the run, added up (for the run's budget). */
  runUsage: LaneUsage;
}

/** What the log says of a lane, as a kind reads it (src/fold/lane-record.ts folds it). */
export interface LaneView {
  worktree: string | null;
  branch: string | null;
  base: string | null;
  head: string | null;
  /** Every attempt's usage added up, the current one included. */
  usage: LaneUsage;
  /** The usage of attempts before `attempt`. */
  earlier: LaneUsage;
  attempt: number;
  turns: number;
  /** Bytes of the attempt's captured output already read into events. */
  offset: number;
  sessionId: string | null;
}

export interface TrustVerdict {
  decision: TrustDecision;
  source: string;
}

/** What the engine lends a kind for one worker. */
export interface WorkerHost {
  view(): WorkerView;
  /**
   * Appends the events (one atomic batch) and folds them in; resolves once they are stored. With
   * `shareAppend`, they may wait up to 25 ms for the next report to go into the same append (a process's
   * start: a short task's exit usually follows at once); later reports are still stored after them.
   */
  report(events: WorkerReport[], options?: { shareAppend?: boolean }): Promise<void>;
  /**
   * Records how the attempt's process ends (`process.exited`, or `worker.lost` when it left no status),
   * after the kind's `finish`. A live process is not an effect in flight: the engine does not wait for it.
   */
  watchExit(exited: Promise<WorkerExit | 'lost'>): void;
  /** The run's trust policy (or the caller's override), asked about this worker as this kind. */
  policyVerdict(): TrustVerdict | Promise<TrustVerdict>;
}

/** What `prepare` leaves for `start`: a place, or why there is none (a spawn failure). */
export type Prepared = { ok: true } | { ok: false; error: string };

/** A kind's part of one engine's run: what it keeps between calls (connections), stopped with the engine. */
export interface KindSession {
  /** Decides trust for a worker of a kind with `trust: 'session'`, and reports `trust.decided`. */
  decideTrust?(worker: WorkerHost): Promise<void>;
  /** Gets the worker's place ready before each attempt (a git worktree); a failure is a spawn failure. */
  prepare?(worker: WorkerHost): Promise<Prepared>;
  /**
   * Starts the attempt: reports `process.started` (or `process.spawn_failed`, `service.failed`) and
   * then how it ended, usually by handing the process's exit to `watchExit`. A process an earlier
   * engine started for this attempt is found again, not started twice.
   */
  start(worker: WorkerHost): Promise<void>;
  /** After an engine crash, for a worker recorded as running: how its process ends. */
  reattach(worker: WorkerHost, process: WorkerProcess): Promise<WorkerExit | 'lost'>;
  /**
   * Ends the attempt's process, the one the machine named by `pid` when it asked (a later process
   * that was given the same pid is left alone). Also called by `overseer cancel` with no engine alive,
   * on a session of its own.
   */
  kill(worker: WorkerView, pid: number | null): Promise<void>;
  /** After the process ended, before its exit is recorded (commit the work); may change the exit. */
  finish?(worker: WorkerHost, exit: WorkerExit): Promise<WorkerExit>;
  /**
   * For a lane, after its gates (worker@2's `merging`): puts its work into its target and reports
   * `lane.merged`, or `lane.conflicted`. Performed again after a crash: must be idempotent.
   */
  merge?(worker: WorkerHost): Promise<void>;
  /** Lets go of what the session holds (services it started); workers that run detached run on. */
  stop?(): Promise<void>;
}

export interface KindEnvironment {
  /** For back-off between retried calls; the engine's clock, so tests can fake it. */
  setTimer(fn: () => void, ms: number): unknown;
}

export interface WorkerKind {
  /** The name trust policies match (`worker:`) and the log's readers see. */
  readonly name: string;
  /** Whether this kind runs the packet; pure, so the fold decides the same live and on replay. */
  runs(packet: KindPacket, run: KindRun): boolean;
  /**
   * 'policy': the run's trust policy decides, at once in the batch that spawned the worker when it
   * can; 'session': the kind's session asks its own side first (`decideTrust`).
   */
  readonly trust: 'policy' | 'session';
  open(run: KindRun, environment: KindEnvironment): KindSession;
}
