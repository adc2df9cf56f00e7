/** Typed store failures: callers branch on `code`, never on message text. */
export class ConcurrencyError extends Error {
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

export class StoreUnavailableError extends Error {
  readonly code = 'STORE_UNAVAILABLE' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

export class StoreLockedError extends Error {
  readonly code = 'STORE_LOCKED' as const;
  constructor(message: string) {
    super(message);
    this.name = 'StoreLockedError';
  }
}
