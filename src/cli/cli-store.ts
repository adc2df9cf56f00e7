/** Opens the store a command was pointed at (--db, OVERSEER_DB, or ./.overseer/db). */
import { openStore, resolveDbTarget } from '../store/open-store.js';
import type { EventStore } from '../store/event-store.js';
import { StoreUnavailableError } from '../store/store-errors.js';
import { UsageError } from './usage-error.js';

export async function openCliStore(db: string | undefined, options: { owner?: boolean } = {}): Promise<EventStore> {
  const target = resolveDbTarget(db, process.env, process.cwd());
  try {
    return await openStore(target, options);
  } catch (error) {
    if (error instanceof StoreUnavailableError) throw new UsageError(error.message);
    throw error;
  }
}

/** Runs `fn` with an open store and always closes it. */
export async function withStore<T>(db: string | undefined, fn: (store: EventStore) => Promise<T>): Promise<T> {
  const store = await openCliStore(db);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
