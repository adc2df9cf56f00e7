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
 * - a line that is not JSON, not a reply, or answers an id nobody asked: no call can be told from it,
 *   so every waiting call fails with `bad_reply` and the client is `broken` until `restart()`;
 * - the process exits: every waiting call fails (`exited`, or `spawn_failed` if it never answered
 *   a call), and so does every later call until `restart()`.
 */
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
  timeoutMs?: number;
}

/** What typed facades need from a client; tests may stand in for it. */
export interface RpcCaller {
  readonly name: string;
  call(method: string, params: unknown, options?: CallOptions): Promise<ServiceResult<unknown>>;
}

/**
 * `idle` never started; `running` answering; `broken` alive but its output can no longer be trusted;
 * `exited` gone on its own (or it never came up); `stopped` by `stop()`.
 */
export type ServiceState = 'idle' | 'running' | 'broken' | 'exited' | 'stopped';

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
  private stopping: Promise<void> | null = null;
  private starting = false;
  private nextId = 0;

  constructor(private readonly options: ServiceClientOptions) {
    this.name = options.name;
  }

  get state(): ServiceState {
    const session = this.session;
    if (session === null) return this.stoppedByCaller ? 'stopped' : this.startFailure !== null ? 'exited' : 'idle';
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
   * Starts the service. `spawn_failed` when it cannot be started or exits within `startupMs`;
   * calling it while a process is running is a programming error (use `restart()`).
   */
  async start(): Promise<ServiceResult<{ pid: number }>> {
    if (this.session !== null || this.stopping !== null || this.starting) throw new Error(`${this.name}: already started; use restart()`);
    this.starting = true;
    try {
      return await this.startNow();
    } finally {
      this.starting = false;
    }
  }

  private async startNow(): Promise<ServiceResult<{ pid: number }>> {
    this.stoppedByCaller = false;
    this.startFailure = null;
    const session: Session = {
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
    if (this.stoppedByCaller) {
      // stop() came while the process was being spawned: it must not outlive that request.
      await spawned.process.stop(this.options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS);
      return failed(stoppedWhileStarting);
    }
    session.process = spawned.process;
    this.session = session;
    const exitedAtOnce = await spawned.process.waitForExit(this.options.startupMs ?? DEFAULT_STARTUP_MS);
    if (this.session !== session) return failed(stoppedWhileStarting);
    if (exitedAtOnce) return failed(this.exitError(session, null, session.exit ?? { exitCode: null, signal: null, lastStderrLine: null }));
    return succeeded({ pid: spawned.process.pid });
  }

  /** Sends one request and waits for its reply, its timeout, or the end of the service. */
  call(method: string, params: unknown, options: CallOptions = {}): Promise<ServiceResult<unknown>> {
    const session = this.session;
    if (session === null) {
      if (this.stoppedByCaller) return Promise.resolve(failed(this.stoppedError(method)));
      if (this.startFailure !== null) return Promise.resolve(failed(this.refusedAfterStartFailure(method)));
      throw new Error(`${this.name}: call(${method}) before start()`);
    }
    const refusal = this.refusal(session, method);
    if (refusal !== null) return Promise.resolve(failed(refusal));

    this.nextId += 1;
    const id = `req_${String(this.nextId)}`;
    // Encoded first: params that cannot be JSON are the caller's bug and throw here.
    const line = encodeRequest(id, method, params, this.options.jsonRpcField ?? false);
    const timeoutMs = options.timeoutMs ?? this.options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    return new Promise((resolve) => {
      // A run_worker call may last as long as the packet's timeout: weeks are a valid time limit.
      const timer = setLongTimeout(() => {
        session.pending.delete(id);
        remember(session.abandoned, id);
        session.process?.note(`${method} (${id}) got no reply within ${formatMs(timeoutMs)}`);
        resolve(failed(new ServiceError(this.name, method, { code: 'timeout', timeoutMs }, `${this.name} did not answer ${method} within ${formatMs(timeoutMs)}`)));
      }, timeoutMs);
      session.pending.set(id, {
        method,
        settle: (result) => {
          timer.clear();
          session.pending.delete(id);
          resolve(result);
        },
      });
      this.options.trace?.('sent', line.slice(0, -1));
      session.process?.write(line);
    });
  }

  /**
   * Stops the service: waiting calls fail with `stopped`; stdin is closed, then the process group
   * gets SIGTERM and, after `stopGraceMs`, SIGKILL. Safe to call at any time, and more than once.
   */
  stop(): Promise<void> {
    this.stoppedByCaller = true;
    this.stopping ??= this.stopNow().finally(() => {
      this.stopping = null;
    });
    return this.stopping;
  }

  /** Stops whatever runs (or ran) and starts the command again; ids keep counting up. */
  async restart(): Promise<ServiceResult<{ pid: number }>> {
    await this.stop();
    return this.start();
  }

  private async stopNow(): Promise<void> {
    const session = this.session;
    this.session = null;
    if (session === null) return;
    session.stopping = true;
    for (const call of [...session.pending.values()]) call.settle(failed(this.stoppedError(call.method)));
    await session.process?.stop(this.options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS);
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

  private stoppedError(method: string): ServiceError {
    return new ServiceError(this.name, method, { code: 'stopped' }, `${this.name} was stopped before it answered ${method}`);
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

function formatMs(ms: number): string {
  return ms < 1000 || ms % 1000 !== 0 ? `${String(ms)} ms` : `${String(ms / 1000)} s`;
}
