/**
 * The two backends the bench measures, each with a raw client of the same driver kind beside the
 * Overseer store, and everything they create registered for cleanup.
 *
 * - Postgres: a fresh database `overseer_bench_<random>` on the server, created here and dropped
 *   (with force) at the end. Overseer opens it with `openStore(url, { owner: true })` (its own pg.Pool
 *   plus a LISTEN connection); the raw side is a `pg.Pool` with ONE connection to the same database.
 *   Appends are timed one call at a time, so the store's pool also uses one connection for them.
 * - PGlite: a fresh temp folder. Overseer opens `<tmp>/store` with `openStore(dir, { owner: true })`
 *   (as `overseer run` does: it also serves the folder on a socket). The store exposes no raw client,
 *   and two PGlite instances must never share a folder, so the raw side is a SECOND PGlite instance
 *   in `<tmp>/raw`, opened with the same PGlite version and the same int8 parser the store uses, and
 *   queried through PGlite's own `query(text, params)` — the call Kysely's PGlite dialect makes.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite, types } from '@electric-sql/pglite';
import { Kysely } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import type { EventStore } from '../../src/store/event-store.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { openStore } from '../../src/store/open-store.js';
import type { StoreDatabase } from '../../src/store/schema.js';

/** A raw SQL client: the baseline Overseer is compared against. */
export interface RawDb {
  query(text: string, params?: unknown[]): Promise<unknown[]>;
  close(): Promise<void>;
}

export interface BenchTarget {
  /** `postgres` or `pglite`. */
  readonly name: 'postgres' | 'pglite';
  /** What `--db` and `openStore` take. */
  readonly db: string;
  /** A folder for the CLI's working directory, plan files and logs. */
  readonly workDir: string;
  /** Opens the Overseer store (closed by the caller, and again at dispose if left open). */
  openStore(): Promise<EventStore>;
  /** Opens the raw client (closed by the caller, and again at dispose if left open). */
  openRaw(): Promise<RawDb>;
  /**
   * Where the raw side of the rebuild reads a run's events from: the store's own `events` table for
   * Postgres; for PGlite a copy of the run's rows in an identically defined `events` table in the raw
   * instance (the store's folder is held by the store). Returns the table name to select from.
   */
  prepareRawEvents(store: EventStore, raw: RawDb, runId: string): Promise<string>;
  dispose(): Promise<void>;
}

/** Closes and removes everything the bench created, newest first; safe to call twice. */
export class Cleanup {
  readonly #steps: { label: string; run: () => Promise<unknown> }[] = [];

  add(label: string, run: () => Promise<unknown>): void {
    this.#steps.push({ label, run });
  }

  async runAll(): Promise<void> {
    while (this.#steps.length > 0) {
      const step = this.#steps.pop();
      if (step === undefined) break;
      try {
        await step.run();
      } catch (error) {
        process.stderr.write(`bench cleanup: ${step.label}: ${String(error)}\n`);
      }
    }
  }
}

const pgliteParsers = { [types.INT8]: (value: string) => BigInt(value) };

function trackStores(cleanup: Cleanup) {
  return async (db: string): Promise<EventStore> => {
    const store = await openStore(db, { owner: true });
    // Closing an already closed store returns the same promise: harmless.
    cleanup.add(`close store ${db}`, () => store.close());
    return store;
  };
}

async function newWorkDir(cleanup: Cleanup, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanup.add(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
  return dir;
}

export async function postgresTarget(adminUrl: string, cleanup: Cleanup): Promise<BenchTarget> {
  const name = `overseer_bench_${randomBytes(6).toString('hex')}`;
  await withClient(adminUrl, (client) => client.query(`create database ${name}`));
  cleanup.add(`drop database ${name}`, () => withClient(adminUrl, (client) => client.query(`drop database if exists ${name} with (force)`)));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = url.toString();
  const workDir = await newWorkDir(cleanup, 'overseer-bench-pg-');
  const open = trackStores(cleanup);
  return {
    name: 'postgres',
    db,
    workDir,
    openStore: () => open(db),
    openRaw() {
      const pool = new pg.Pool({ connectionString: db, max: 1 });
      pool.on('error', () => undefined);
      let closed: Promise<void> | undefined;
      const raw: RawDb = {
        query: async (text, params) => (await pool.query(text, params)).rows as unknown[],
        close: () => (closed ??= pool.end()),
      };
      cleanup.add('close raw pg pool', () => raw.close());
      return Promise.resolve(raw);
    },
    // Same database: read the store's own table.
    prepareRawEvents: () => Promise.resolve('events'),
    dispose: () => Promise.resolve(),
  };
}

export async function pgliteTarget(cleanup: Cleanup): Promise<BenchTarget> {
  const root = await newWorkDir(cleanup, 'overseer-bench-pglite-');
  const db = join(root, 'store');
  const rawDir = join(root, 'raw');
  const workDir = join(root, 'work');
  await mkdir(workDir);
  const open = trackStores(cleanup);
  return {
    name: 'pglite',
    db,
    workDir,
    openStore: () => open(db),
    async openRaw() {
      const pglite = await PGlite.create({ dataDir: rawDir, parsers: pgliteParsers });
      // The same migrations as the store, so the raw side reads a table exactly like `events`.
      await migrateToLatest(new Kysely<StoreDatabase>({ dialect: new PGliteDialect(pglite) }), { serialize: false });
      let closed: Promise<void> | undefined;
      const raw: RawDb = {
        query: async (text, params) => (await pglite.query(text, params)).rows,
        close: () => (closed ??= pglite.close()),
      };
      cleanup.add('close raw PGlite', () => raw.close());
      return raw;
    },
    async prepareRawEvents(store, raw, runId) {
      const events = await store.readStream(runId);
      const columns = 10;
      for (let offset = 0; offset < events.length; offset += 500) {
        const slice = events.slice(offset, offset + 500);
        const params: unknown[] = [];
        const tuples = slice.map((event, index) => {
          params.push(
            event.streamId,
            event.version,
            event.type,
            JSON.stringify(event.payload),
            event.machine,
            event.workerId,
            event.stateAfter === null ? null : JSON.stringify(event.stateAfter),
            event.createdAt,
            event.hash,
            event.prevHash,
          );
          const base = index * columns;
          return `(${Array.from({ length: columns }, (_, column) => `$${String(base + column + 1)}`).join(', ')})`;
        });
        await raw.query(
          `insert into events (stream_id, version, type, payload, machine, worker_id, state_after, created_at, hash, prev_hash) values ${tuples.join(', ')}`,
          params,
        );
      }
      await raw.query('vacuum analyze events');
      return 'events';
    },
    dispose: () => Promise.resolve(),
  };
}

export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
