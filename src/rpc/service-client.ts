/**
 * A client for one long-lived stdio service speaking the seed's line-delimited JSON-RPC.
 *
 * Calls are concurrent: each gets its own id (`req_N`, as the seed numbers them) and its own timeout,
 * and replies are matched by id in whatever order they come. A service that handles one line at a
 * time simply answers them in turn.
 *
 * `call` never rejects for the service's sake: every failure is a `ServiceError` value with a code.
 * How each misbehaviour affects the client:
 * - a reply with a known id but the wrong shape, or an `error` reply: only that call fails;
 * - a timeout: only that call fails; its late reply, if one comes, is dropped (noted in the log);
 * - a call its caller abandons (aborts its `signal`): likewise, with `abandoned`; the service did
 *   nothing wrong, so a caller with a limit of its own (a worker's timeout) ends the call this way;
 * - a line that is not JSON, not a reply, or answers an id nobody asked: no call can be told from it,
 *   so every waiting call fails with `bad_reply` and the client is `broken` until `restart()`;
 * - the process exits: every waiting call fails (`exited`, or `spawn_failed` if it never answered
 *   a call), and so does every later call until `restart()`.
 * A call bound to an incarnation (it names what that process gave out) that finds another process,
 * or none, is not sent: `stale_incarnation`, which says nothing about the service.
 *
 * Starting is shared: callers that want the service at the same moment (`start`, `restart`, `ready`,
 * or an unbound `call` made meanwhile) wait for one process and get one outcome. Each process is an
 * incarnation (1, 2, …): a caller replaces the process it found unfit by naming it, so it never
 * replaces one a sibling has already put in its place, and what a service handed out (a worker id)
 * can be tied to the process that gave it.
 */
import { formatDuration } from '../os/duration.js';
import { setLongTimeout } from '../os/long-timeout.js';
import { encodeRequest, readReplyLine, type RpcErrorObject } from './rpc-messages.js';
import { spawnServiceProcess, type ServiceProcess } from './service-process.js';
import {
  describeExit,
  failed,
  ServiceError,
  shownLine,
  succeeded,
  type BadReplyReason,
  type ServiceExit,
  type ServiceResult,
} from './service-errors.js';

export interface ServiceClientOptions {
  /** How messages and the log name the service: `planner`, `bootstrap`, `worker service`. */
  name: string;
  /** Run with `/bin/sh -c`, as typed after `--planner` and friends. */
  command: string;
  cwd: string;
  /** Added to the host's environment. */
  env?: Record<string, string>;
  /** The service's stderr is appended here, with a line of Overseer's own at each start. */
  logFile: string;
  /** For calls that do not say otherwise. Default 30 s. */
  callTimeoutMs?: number;
  /** Between SIGTERM and SIGKILL when stopping. Default 2 s. */
  stopGraceMs?: number;
  /** `start()` waits this long for a service that exits at once, to report it then. Default 100 ms. */
  startupMs?: number;
  /** Also send `"jsonrpc":"2.0"` (for services built on a strict JSON-RPC 2.0 library). Default false: the seed's request shape. */
  jsonRpcField?: boolean;
  /** Sees every line sent and received (without its newline), e.g. for a debug transcript. */
  trace?: (direction: 'sent' | 'received', line: string) => void;
}

export interface CallOptions {
  /**
   * The call's limit; by default the client's per-call timeout. `null`: none, for a call that lasts
   * as long as work its caller bounds itself (run_worker, by its worker's timeout), ended by `signal`.
   */
  timeoutMs?: number | null;
  /** Aborting it ends the call at once with `abandoned`, and a reply that comes later is dropped. */
  signal?: AbortSignal;
  /**
   * The process the call is for: one whose params name what that process handed out (a worker id),
   * which any other process would take for something else or not know. Sent to that process only;
   * when it is no longer the one that runs (replaced, restarting, gone), the call is not sent and
   * fails at once with `stale_incarnation`. Unbound calls go to whichever process runs.
   */
  incarnation?: number;
}

/** What typed facades need from a client; tests may stand in for it. */
export interface RpcCaller {
  readonly name: string;
  call(method: string, params: unknown, options?: CallOptions): Promise<ServiceResult<unknown>>;
}

/**
 * `idle` never started; `starting` a start or restart is under way (calls wait for it); `running`
 * answering; `broken` alive but its output can no longer be trusted; `exited` gone on its own (or it
 * never came up); `stopped` by `stop()`.
 */
export type ServiceState = 'idle' | 'starting' | 'running' | 'broken' | 'exited' | 'stopped';

/**
 * A started process. `incarnation` counts the processes this client has started (1, 2, …): what a
 * service hands out (a worker id) belongs to one incarnation and means nothing to the next.
 */
export interface StartedService {
  pid: number;
  incarnation: number;
}

export const DEFAULT_CALL_TIMEOUT_MS = 30_000;
export const DEFAULT_STOP_GRACE_MS = 2_000;
export const DEFAULT_STARTUP_MS = 100;
/** Ids of timed-out calls remembered so their late replies are dropped quietly. */
const ABANDONED_IDS_KEPT = 1000;

interface PendingCall {
  method: string;
  settle(result: ServiceResult<unknown>): void;
}

/** One process's worth of state: a restart starts a fresh one, so nothing leaks across processes. */
interface Session {
  incarnation: number;
  process: ServiceProcess | null;
  pending: Map<string, PendingCall>;
  abandoned: Set<string>;
  answeredAny: boolean;
  /** Why calls are refused: the protocol violation that broke it, or its exit. */
  broken: { reason: BadReplyReason; line: string; problem: string } | null;
  exit: ServiceExit | null;
  stopping: boolean;
}

export class ServiceClient implements RpcCaller {
  readonly name: string;
  private session: Session | null = null;
  private startFailure: ServiceError | null = null;
  private stoppedByCaller = false;
  /** Counts `stop()` calls: a start under way when one comes must not leave its process running. */
  private stopRequests = 0;
  /** The process being stopped (by `stop()` or a restart), awaited by whoever comes next. */
  private stopping: Promise<void> | null = null;
  /**
   * The one start or restart under way. Every caller that wants the service while it comes up shares
   * it, so a service is started once however many callers ask at the same moment.
   */
  private transition: Promise<ServiceResult<StartedService>> | null = null;
  private incarnations = 0;
  private nextId = 0;

  constructor(private readonly options: ServiceClientOptions) {
    this.name = options.name;
  }

  get state(): ServiceState {
    const session = this.session;
    if (session === null) {
      if (this.transition !== null) return 'starting';
      return this.stoppedByCaller ? 'stopped' : this.startFailure !== null ? 'exited' : 'idle';
    }
    if (session.exit !== null) return 'exited';
    return session.broken !== null ? 'broken' : 'running';
  }

  /** The service's pid, which is also its process group id; null when no process runs. */
  get pid(): number | null {
    const session = this.session;
    if (session === null || session.exit !== null) return null;
    return session.process?.pid ?? null;
  }

  get logFile(): string {
    return this.options.logFile;
  }

  /**
   * Starts the service, unless it is started or starting already: callers at the same moment share
   * one start and its outcome, and a caller after it gets the outcome of the process that runs.
   * `spawn_failed` when it cannot be started or exits within `startupMs`.
   */
  start(): Promise<ServiceResult<StartedService>> {
    if (this.transition !== null) return this.transition;
    const session = this.session;
    if (session !== null) return Promise.resolve(this.outcome(session));
    return this.begin(async (stopRequests) => {
      await this.stopping;
      return this.startNow(stopRequests);
    });
  }

  /**
   * Stops whatever runs (or ran) and starts the command again; ids keep counting up. Callers at the
   * same moment share one restart. With `replacing`, only the process of that incarnation is
   * replaced: when another caller has replaced it already, the process that runs now is kept.
   */
  restart(replacing?: number): Promise<ServiceResult<StartedService>> {
    if (this.transition !== null) return this.transition;
    if (replacing !== undefined && this.session?.incarnation !== replacing) return this.start();
    return this.begin(async (stopRequests) => {
      await this.stopSession('restarted');
      return this.startNow(stopRequests);
    });
  }

  /**
   * A process to call: joins a start or restart under way, starts a service that has not run (or
   * could not start), restarts one that exited or broke, and with `replacing` one whose caller found
   * it unfit (a call timed out). One process comes up however many callers ask at once. A service
   * stopped with `stop()` stays stopped: `stopped`.
   */
  ready(replacing?: number): Promise<ServiceResult<StartedService>> {
    if (this.transition !== null) return this.transition;
    if (this.stoppedByCaller) return Promise.resolve(failed(new ServiceError(this.name, null, { code: 'stopped' }, `${this.name} was stopped`)));
    const session = this.session;
    if (session === null) return this.start();
    if (session.exit !== null || session.broken !== null || session.incarnation === replacing) return this.restart(session.incarnation);
    return Promise.resolve(this.outcome(session));
  }

  /** Runs `step` as the one transition under way; it learns how many stops had been asked for when it began. */
  private begin(step: (stopRequests: number) => Promise<ServiceResult<StartedService>>): Promise<ServiceResult<StartedService>> {
    this.stoppedByCaller = false;
    const transition: Promise<ServiceResult<StartedService>> = step(this.stopRequests).finally(() => {
      if (this.transition === transition) this.transition = null;
    });
    this.transition = transition;
    return transition;
  }

  private outcome(session: Session): ServiceResult<StartedService> {
    if (session.exit !== null) return failed(this.exitError(session, null, session.exit));
    return succeeded({ pid: session.process?.pid ?? 0, incarnation: session.incarnation });
  }

  private async startNow(stopRequests: number): Promise<ServiceResult<StartedService>> {
    this.startFailure = null;
    this.incarnations += 1;
    const session: Session = {
      incarnation: this.incarnations,
      process: null,
      pending: new Map(),
      abandoned: new Set(),
      answeredAny: false,
      broken: null,
      exit: null,
      stopping: false,
    };
    const { name, command, cwd, env, logFile } = this.options;
    const spawned = await spawnServiceProcess(
      { name, command, cwd, logFile, ...(env === undefined ? {} : { env }) },
      { onLine: (line) => this.readLine(session, line), onExit: (exit) => this.exited(session, exit) },
    );
    if (!spawned.ok) {
      const exit: ServiceExit = { exitCode: null, signal: null, lastStderrLine: null };
      this.startFailure = new ServiceError(name, null, { code: 'spawn_failed', ...exit }, `${name} could not be started: ${spawned.reason}`);
      return failed(this.startFailure);
    }
    const stoppedWhileStarting = new ServiceError(name, null, { code: 'stopped' }, `${name} was stopped while it started`);
    if (this.stopRequests !== stopRequests) {
      // stop() came while the process was being spawned: it must not outlive that request.
      await spawned.process.stop(this.options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS);
      return failed(stoppedWhileStarting);
    }
    session.process = spawned.process;
    this.session = session;
    const exitedAtOnce = await spawned.process.waitForExit(this.options.startupMs ?? DEFAULT_STARTUP_MS);
    if (this.session !== session) return failed(stoppedWhileStarting);
    if (exitedAtOnce) return failed(this.exitError(session, null, session.exit ?? { exitCode: null, signal: null, lastStderrLine: null }));
    return succeeded({ pid: spawned.process.pid, incarnation: session.incarnation });
  }

  /**
   * Sends one request and waits for its reply, its timeout, or the end of the service. An unbound call
   * made while the service starts or restarts is sent once it is up; a bound one never waits for a
   * process other than its own.
   */
  call(method: string, params: unknown, options: CallOptions = {}): Promise<ServiceResult<unknown>> {
    const session = this.session;
    const bound = options.incarnation;
    // A stopped service says so (`stopped`), bound or not: the caller is shutting down, not to go again.
    if (bound !== undefined && session?.incarnation !== bound && !this.stoppedByCaller) return Promise.resolve(failed(this.staleError(method, bound)));
    if (session === null) {
      if (this.transition !== null) return this.transition.then(() => this.call(method, params, options));
      if (this.stoppedByCaller) return Promise.resolve(failed(this.stoppedError(method, 'stopped')));
      if (this.startFailure !== null) return Promise.resolve(failed(this.refusedAfterStartFailure(method)));
      throw new Error(`${this.name}: call(${method}) before start()`);
    }
    const refusal = this.refusal(session, method);
    if (refusal !== null) return Promise.resolve(failed(refusal));
    const { signal } = options;
    if (signal?.aborted === true) return Promise.resolve(failed(this.abandonedError(method)));

    this.nextId += 1;
    const id = `req_${String(this.nextId)}`;
    // Encoded first: params that cannot be JSON are the caller's bug and throw here.
    const line = encodeRequest(id, method, params, this.options.jsonRpcField ?? false);
    const timeoutMs = options.timeoutMs === undefined ? (this.options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS) : options.timeoutMs;
    return new Promise((resolve) => {
      let timer: { clear(): void } | undefined;
      const settle = (result: ServiceResult<unknown>): void => {
        timer?.clear();
        signal?.removeEventListener('abort', abandon);
        session.pending.delete(id);
        resolve(result);
      };
      // A call given up on is remembered, so its late reply is dropped quietly.
      const giveUp = (why: string, error: ServiceError): void => {
        remember(session.abandoned, id);
        session.process?.note(`${method} (${id}) ${why}`);
        settle(failed(error));
      };
      const abandon = (): void => giveUp('was abandoned by its caller', this.abandonedError(method));
      if (timeoutMs !== null) {
        // --service-timeout may be set in weeks: a long limit must not fire at once.
        timer = setLongTimeout(() => {
          const error = new ServiceError(this.name, method, { code: 'timeout', timeoutMs }, `${this.name} did not answer ${method} within ${formatDuration(timeoutMs)}`);
          giveUp(`got no reply within ${formatDuration(timeoutMs)}`, error);
        }, timeoutMs);
      }
      signal?.addEventListener('abort', abandon, { once: true });
      session.pending.set(id, { method, settle });
      this.options.trace?.('sent', line.slice(0, -1));
      session.process?.write(line);
    });
  }

  /**
   * Stops the service: waiting calls fail with `stopped`; stdin is closed, then the process group
   * gets SIGTERM and, after `stopGraceMs`, SIGKILL. A start under way is undone. Safe to call at any
   * time, and more than once.
   */
  async stop(): Promise<void> {
    this.stoppedByCaller = true;
    this.stopRequests += 1;
    const transition = this.transition;
    await this.stopSession('stopped');
    // A start under way sees the request and stops what it spawned.
    await transition;
  }

  /** Stops the current process, if any; resolves when the last process being stopped is gone. */
  private stopSession(why: 'stopped' | 'restarted'): Promise<void> {
    const session = this.session;
    if (session !== null) {
      this.session = null;
      session.stopping = true;
      for (const call of [...session.pending.values()]) call.settle(failed(this.stoppedError(call.method, why)));
      const stopped: Promise<void> = (session.process?.stop(this.options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS) ?? Promise.resolve()).then(() => {
        if (this.stopping === stopped) this.stopping = null;
      });
      this.stopping = stopped;
    }
    return this.stopping ?? Promise.resolve();
  }

  private readLine(session: Session, line: string): void {
    this.options.trace?.('received', line);
    const reply = readReplyLine(line);
    if (reply.kind === 'unreadable') {
      this.violated(session, reply.reason, line, reply.problem);
      return;
    }
    const key = typeof reply.id === 'string' ? reply.id : null;
    const call = key === null ? undefined : session.pending.get(key);
    if (call === undefined) {
      if (key !== null && session.abandoned.has(key)) {
        session.process?.note(`dropped a late reply to ${key}`);
        return;
      }
      const waiting = [...session.pending.keys()];
      const expected = waiting.length === 0 ? 'no call was waiting' : `waiting for ${waiting.join(', ')}`;
      this.violated(session, 'unknown_id', line, `a reply to unknown id ${JSON.stringify(reply.id)} (${expected})`);
      return;
    }
    if (reply.kind === 'malformed') {
      call.settle(failed(this.badReply(call.method, 'wrong_shape', line, `${this.name} answered ${call.method} with ${reply.problem}`)));
      return;
    }
    session.answeredAny = true;
    if (reply.outcome.ok) call.settle(succeeded(reply.outcome.result));
    else call.settle(failed(this.errorReply(call.method, reply.outcome.error)));
  }

  /** No call can be told from the line, so none can trust what comes next: fail them all. */
  private violated(session: Session, reason: BadReplyReason, line: string, problem: string): void {
    session.process?.note(`bad output on stdout (${problem}): ${shownLine(line)}`);
    session.broken ??= { reason, line, problem };
    for (const call of [...session.pending.values()]) {
      call.settle(failed(this.badReply(call.method, reason, line, `${this.name} printed ${problem} while ${call.method} was waiting`)));
    }
  }

  private exited(session: Session, exit: ServiceExit): void {
    session.exit = exit;
    if (session.stopping) return;
    session.process?.note(`exited (${describeExit(exit)})`);
    for (const call of [...session.pending.values()]) call.settle(failed(this.exitError(session, call.method, exit)));
  }

  private refusal(session: Session, method: string): ServiceError | null {
    if (session.exit !== null) return this.exitError(session, method, session.exit);
    const broken = session.broken;
    if (broken === null) return null;
    return this.badReply(method, broken.reason, broken.line, `${this.name} cannot be trusted since it printed ${broken.problem}; restart it`);
  }

  private exitError(session: Session, method: string | null, exit: ServiceExit): ServiceError {
    const during = method === null ? '' : ` (${method} unanswered)`;
    if (!session.answeredAny) {
      const message = `${this.name} exited before answering any call${during}: ${describeExit(exit)}`;
      return new ServiceError(this.name, method, { code: 'spawn_failed', ...exit }, message);
    }
    return new ServiceError(this.name, method, { code: 'exited', ...exit }, `${this.name} exited${during}: ${describeExit(exit)}`);
  }

  private refusedAfterStartFailure(method: string): ServiceError {
    const cause = this.startFailure;
    if (cause === null) throw new Error('unreachable: no start failure');
    return new ServiceError(this.name, method, cause.detail, cause.message);
  }

  private stoppedError(method: string, why: 'stopped' | 'restarted'): ServiceError {
    return new ServiceError(this.name, method, { code: 'stopped' }, `${this.name} was ${why} before it answered ${method}`);
  }

  private staleError(method: string, incarnation: number): ServiceError {
    const message = `${this.name}: ${method} was meant for process ${String(incarnation)}, which no longer runs; not sent`;
    return new ServiceError(this.name, method, { code: 'stale_incarnation', incarnation }, message);
  }

  private abandonedError(method: string): ServiceError {
    return new ServiceError(this.name, method, { code: 'abandoned' }, `the wait for ${this.name} to answer ${method} was abandoned by its caller`);
  }

  private badReply(method: string, reason: BadReplyReason, line: string, message: string): ServiceError {
    const shown = shownLine(line);
    return new ServiceError(this.name, method, { code: 'bad_reply', reason, line: shown }, `${message}: ${shown}`);
  }

  private errorReply(method: string, error: RpcErrorObject): ServiceError {
    const code = error.code === null ? '' : ` (code ${String(error.code)})`;
    return new ServiceError(this.name, method, { code: 'error_reply', error }, `${this.name} answered ${method} with an error: ${error.message}${code}`);
  }
}

function remember(ids: Set<string>, id: string): void {
  ids.add(id);
  if (ids.size > ABANDONED_IDS_KEPT) {
    const oldest = ids.values().next();
    if (oldest.done !== true) ids.delete(oldest.value);
  }
}
