/**
 * What can go wrong when Overseer talks to a service, as a small set of codes. A misbehaving service
 * is an expected failure, so calls hand these back as values (`ServiceResult`) instead of rejecting;
 * `ServiceError` is still an `Error`, so a caller that prefers to throw can.
 */
import { OverseerError } from '../errors.js';
import type { RpcErrorObject } from './rpc-messages.js';

export const SERVICE_ERROR_CODES = ['spawn_failed', 'exited', 'timeout', 'bad_reply', 'error_reply', 'stopped', 'abandoned', 'stale_incarnation'] as const;
export type ServiceErrorCode = (typeof SERVICE_ERROR_CODES)[number];

/** Why a line from the service was not an acceptable reply. */
export const BAD_REPLY_REASONS = ['not_json', 'unknown_id', 'wrong_shape'] as const;
export type BadReplyReason = (typeof BAD_REPLY_REASONS)[number];

/** One thing wrong with a result, at a path into it: `result[1].objective`, `result.worker_id`. */
export interface ReplyProblem {
  path: string;
  message: string;
}

/** How a service process ended, with the last line it wrote to stderr (usually the reason). */
export interface ServiceExit {
  exitCode: number | null;
  signal: string | null;
  lastStderrLine: string | null;
}

export type ServiceErrorDetail =
  /** It could not be started, or it exited before it answered any call. */
  | ({ code: 'spawn_failed' } & ServiceExit)
  /** It exited after answering at least one call, with this call (or a later one) unanswered. */
  | ({ code: 'exited' } & ServiceExit)
  | { code: 'timeout'; timeoutMs: number }
  /**
   * `line` is what the service printed (or the result it sent), quoted and cut to a readable length;
   * `problems` lists, field by field, what was wrong with a result that had the wrong shape.
   */
  | { code: 'bad_reply'; reason: BadReplyReason; line: string; problems?: ReplyProblem[] }
  | { code: 'error_reply'; error: RpcErrorObject }
  /** The client was stopped (or restarted) while the call waited. */
  | { code: 'stopped' }
  /** The caller stopped waiting (its `signal` was aborted): nothing is said about the service. */
  | { code: 'abandoned' }
  /**
   * The call was for the process of `incarnation` (it names what that process gave out, a worker id),
   * and another process runs now, or none: it was not sent. Nothing is said about the service.
   */
  | { code: 'stale_incarnation'; incarnation: number };

export class ServiceError extends OverseerError<ServiceErrorCode> {
  override readonly name = 'ServiceError';
  readonly code: ServiceErrorCode;

  constructor(
    /** The service's name as the caller gave it: `planner`, `bootstrap`, `worker service`. */
    readonly service: string,
    /** The method of the failed call; null for a failure outside any call (start). */
    readonly method: string | null,
    readonly detail: ServiceErrorDetail,
    message: string,
  ) {
    super(message);
    this.code = detail.code;
  }
}

export type ServiceResult<T> = { ok: true; value: T } | { ok: false; error: ServiceError };

export function succeeded<T>(value: T): ServiceResult<T> {
  return { ok: true, value };
}

export function failed<T = never>(error: ServiceError): ServiceResult<T> {
  return { ok: false, error };
}

/** The description of an exit used in messages: `exit code 1: ValueError: boom`. */
export function describeExit(exit: ServiceExit): string {
  const how = exit.signal !== null ? `signal ${exit.signal}` : `exit code ${String(exit.exitCode)}`;
  return exit.lastStderrLine === null ? how : `${how}: ${exit.lastStderrLine}`;
}

const SHOWN_LINE_CHARS = 200;

/**
 * A line as shown in a message: cut to a readable length, control characters escaped, so a message
 * stays one line whatever the service printed.
 */
export function shownLine(line: string): string {
  const cut = line.length > SHOWN_LINE_CHARS ? `${line.slice(0, SHOWN_LINE_CHARS)}…` : line;
  // eslint-disable-next-line no-control-regex -- the control characters are what is being escaped
  return cut.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));
}
