/**
 * The one base of Overseer's expected failures: each has a `code` from the small set below, and the
 * callers branch on the code (the CLI's exit code and message: src/cli/cli-failure.ts), never on
 * message text. Every folder of src/ may import this module (import-rules.js).
 */

export const ERROR_CODES = [
  /** Bad usage or bad input, said in one line. */
  'USAGE',
  /** No such run. */
  'NOT_FOUND',
  /** A decision that does not apply to the run as it is (not waiting, already over). */
  'NOT_APPLICABLE',
  /** An append lost a race with another writer (expected version). */
  'CONCURRENCY',
  /** A log the machines do not accept (tampered, or of other machines). */
  'LOG_MISMATCH',
  /** An event whose payload does not fit the event catalogue. */
  'INVALID_EVENT',
  /** A run recorded with machine definitions this Overseer does not have. */
  'MACHINE_VERSION',
  /** A log cut short at its end. */
  'TRUNCATED',
  /** Another live engine owns the run. */
  'LEASE_HELD',
  /** An append under a lease epoch the run has moved past: another engine took the run over. */
  'FENCED',
  /** The store cannot be reached or opened. */
  'STORE_UNAVAILABLE',
  /** The embedded store's folder is locked by another process. */
  'STORE_LOCKED',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** `C` is ErrorCode but for ServiceError, whose codes (recorded in events) say how a service misbehaved. */
export abstract class OverseerError<C extends string = ErrorCode> extends Error {
  abstract readonly code: C;
}
