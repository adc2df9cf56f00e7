import type { Kysely } from 'kysely';
import type { StoreDatabase } from './schema.js';

/**
 * What a backend folder provides to the one shared store implementation: a Kysely instance over
 * its database, and its way of hearing about commits. Like a Kysely dialect, a backend is a small
 * factory; nothing above src/store sees it.
 */
export interface StoreBackend {
  readonly name: 'pg' | 'embedded';
  readonly db: Kysely<StoreDatabase>;
  /** Default polling interval for subscriptions (they poll even when notifications work). */
  readonly pollMs: number;
  /** The schema the tables live in (`--schema`), or null for the connection's default (`public`). */
  readonly schema: string | null;
  /**
   * Starts calling `wake` with each notification's payload on `channel` (see `storeChannels`), and
   * resolves to the function that stops it. A backend that cannot listen resolves to a no-op.
   */
  listen(channel: string, wake: (payload: string) => void): Promise<() => Promise<void>>;
  /**
   * One SELECT whose rows come back as arrays of column values, in the order of its select list: the
   * read of a whole stream, where the driver building an object per row (what Kysely asks for) cost a
   * third of the read. Connection retries and lost-server errors as for Kysely's queries.
   */
  selectArrays(text: string, values: readonly unknown[]): Promise<unknown[][]>;
  /**
   * selectArrays, each row handed to `each` as it arrives and then dropped: a whole fleet's log is
   * never held as rows at once (kept until the end, they were most of what the collector copied).
   * Once `each` throws it is called no more, and the query fails with that error when it ends.
   */
  eachArray(text: string, values: readonly unknown[], each: (row: unknown[]) => void): Promise<void>;
  /** Releases everything the backend holds (its pool and LISTEN connection). */
  close(): Promise<void>;
}
