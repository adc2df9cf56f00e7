import { isAbsolute, join, resolve } from 'node:path';
import type { EventStore } from './event-store.js';
import { openEmbeddedStore } from './embedded/open-embedded-store.js';
import { openPgStore } from './pg/open-pg-store.js';

export interface OpenStoreOptions {
  /** Read for the embedded server's settings (OVERSEER_STORE_IDLE); process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** Ignored (every process is an equal client of a server); kept until the bench stops passing it. */
  owner?: boolean;
  /** The schema of the tables and channels (`--schema`); default `env.OVERSEER_SCHEMA`, then `public`. */
  schema?: string;
}

/**
 * Opens the event store at `db`: a `postgres://` or `postgresql://` URL is a Postgres server, anything
 * else the folder of an embedded store, whose server is started when it does not run. Fails with a
 * one-line StoreUnavailableError when a server cannot be reached (within about 3 s), or an embedded
 * store cannot be made, is damaged, or its server will not start.
 */
export async function openStore(db: string, options: OpenStoreOptions = {}): Promise<EventStore> {
  const env = options.env ?? process.env;
  const schema = nonEmpty(options.schema) ?? nonEmpty(env.OVERSEER_SCHEMA) ?? null;
  if (isPostgresUrl(db)) return openPgStore(db, schema);
  return openEmbeddedStore(resolve(db), env, schema);
}

/** `--db`, else `OVERSEER_DB`, else `<cwd>/.overseer/pg`; a relative folder is taken from `cwd`. */
export function resolveDbTarget(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string {
  const chosen = nonEmpty(flag) ?? nonEmpty(env.OVERSEER_DB);
  if (chosen === undefined) return join(cwd, '.overseer', 'pg');
  if (isPostgresUrl(chosen) || isAbsolute(chosen)) return chosen;
  return resolve(cwd, chosen);
}

export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
