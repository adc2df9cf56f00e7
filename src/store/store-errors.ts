/** Typed store failures: callers branch on `code`, never on message text. */
import { OverseerError } from '../errors.js';

export class ConcurrencyError extends OverseerError {
  readonly code = 'CONCURRENCY' as const;
  constructor(
    readonly streamId: string,
    readonly expected: number | 'no_stream' | 'any',
    readonly actual: number | null,
  ) {
    super(`stream ${streamId}: expected version ${String(expected)}, found ${actual === null ? 'no stream' : String(actual)}`);
    this.name = 'ConcurrencyError';
  }
}

/**
 * An append refused because the writer's lease epoch is no longer the run's: another engine took the
 * run over. A fenced engine stops working on the run; a writer without a lease (approve, cancel)
 * reads the new epoch and writes again.
 */
export class FencedError extends OverseerError {
  readonly code = 'FENCED' as const;
  constructor(
    readonly streamId: string,
    readonly epoch: bigint,
  ) {
    super(`run ${streamId} was taken over by another engine (this writer's lease epoch ${epoch.toString()} is over)`);
    this.name = 'FencedError';
  }
}

export class StoreUnavailableError extends OverseerError {
  readonly code = 'STORE_UNAVAILABLE' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

export class StoreLockedError extends OverseerError {
  readonly code = 'STORE_LOCKED' as const;
  constructor(message: string) {
    super(message);
    this.name = 'StoreLockedError';
  }
}

/**
 * How many times a writer that lost an append race (a ConcurrencyError, or an `any` append whose head
 * moved) reads again and retries before it gives up: far above what real contention needs.
 */
export const CONFLICT_RETRIES = 20;

/** Socket errors, and Postgres 57P03: the server is shutting down or still starting. */
const GONE_CODES: ReadonlySet<string> = new Set(['ENOENT', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', '57P03']);

/**
 * The database server behind the connection has gone away or is not there yet (not a failed
 * statement): the caller opens the store again, which starts an embedded server again.
 */
export function isGoneServer(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && GONE_CODES.has(code)) return true;
  return /Connection terminated|not queryable|Client was closed/i.test(error instanceof Error ? error.message : String(error));
}
