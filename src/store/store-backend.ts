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
  /**
   * Starts calling `wake` after commits of events (the `overseer_events` notification), and
   * resolves to the function that stops it. A backend that cannot listen resolves to a no-op.
   */
  listen(wake: () => void): Promise<() => Promise<void>>;
  /** Releases everything the backend holds (its pool and LISTEN connection). */
  close(): Promise<void>;
}
