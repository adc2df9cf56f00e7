/** Opens the store a command was pointed at (--db, OVERSEER_DB, or ./.overseer/pg). */
import { existsSync } from 'node:fs';
import { isPostgresUrl, openStore, resolveDbTarget } from '../store/open-store.js';
import type { EventStore } from '../store/event-store.js';
import { UsageError } from './usage-error.js';

/** A command that only reads or answers (not run, resume, serve) found no embedded store at all. */
export class NoStoreError extends UsageError {}

/** The store's folder or URL, or NoStoreError when looking (`create` unset) finds no embedded store. */
export function cliStoreTarget(db: string | undefined, options: { create?: boolean } = {}): string {
  const target = resolveDbTarget(db, process.env, process.cwd());
  // Looking must not create: `overseer status` in the wrong folder should say so, not build a store there.
  if (options.create !== true && !isPostgresUrl(target) && !existsSync(target)) {
    throw new NoStoreError(`no Overseer store at ${target} (nothing has run here; --db or OVERSEER_DB name another)`);
  }
  return target;
}

/** `create`: an engine or the viewer, which make the embedded store when there is none. */
export async function openCliStore(db: string | undefined, options: { create?: boolean } = {}): Promise<EventStore> {
  return openStore(cliStoreTarget(db, options));
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
