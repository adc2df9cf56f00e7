import { isAbsolute, join, resolve } from 'node:path';
import type { EventStore } from './event-store.js';
import { openPgStore } from './pg/open-pg-store.js';
import { openEmbeddedStore } from './pglite/open-embedded-store.js';

export interface OpenStoreOptions {
  /**
   * An engine (`overseer run`/`resume`): it keeps the embedded store open for as long as it runs and
   * serves it to other overseer processes. Ignored for a Postgres server.
   */
  owner?: boolean;
}

/**
 * Opens the event store at `db`: a `postgres://` or `postgresql://` URL is a Postgres server, anything
 * else the folder of an embedded PGlite store. Fails with StoreUnavailableError when a server cannot be
 * reached (within about 3 s), and StoreLockedError only when an embedded store stays busy for 5 s.
 */
export async function openStore(db: string, options: OpenStoreOptions = {}): Promise<EventStore> {
  if (isPostgresUrl(db)) return openPgStore(db);
  return openEmbeddedStore(resolve(db), { owner: options.owner ?? false });
}

/** `--db`, else `OVERSEER_DB`, else `<cwd>/.overseer/db`; a relative folder is taken from `cwd`. */
export function resolveDbTarget(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string {
  const chosen = nonEmpty(flag) ?? nonEmpty(env.OVERSEER_DB);
  if (chosen === undefined) return join(cwd, '.overseer', 'db');
  if (isPostgresUrl(chosen) || isAbsolute(chosen)) return chosen;
  return resolve(cwd, chosen);
}

export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
