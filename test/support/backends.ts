/**
 * The store backends every store-backed test runs against: the embedded Postgres always (a fresh
 * store folder per target, its cluster copied from the cached template, its server stopped on
 * dispose), a Postgres server whenever OVERSEER_TEST_DATABASE_URL names one (a fresh database per
 * target, dropped on dispose). Under CI a missing server fails the run instead of quietly skipping
 * half the suite.
 *
 *   describe.each(testBackends())('$name', (backend) => { ... target = await backend.newTarget() ... })
 *
 * Pass `target.db` to the CLI as `--db`.
 */
import { afterAll, beforeAll } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ensureServer, stopStoreServer } from '../../src/store/embedded/embedded-server.js';
import { locateStore, SOCKET_PORT } from '../../src/store/embedded/store-location.js';
import type { EventStore } from '../../src/store/event-store.js';
import { openStore } from '../../src/store/open-store.js';

export interface TestTarget {
  /** What `--db` / `openStore` takes: a folder, or a postgres:// URL. */
  db: string;
  open(): Promise<EventStore>;
  /** Raw SQL on the target's database, for tests that inspect or tamper behind the store's back. */
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
  /** A connected client of the target's database, for tests that hold a transaction open; the caller ends it. */
  client(): Promise<pg.Client>;
  /** Closes stores this target opened and left open, then removes the store (its server stopped) or drops the database. */
  dispose(): Promise<void>;
}

export interface TestBackend {
  name: 'embedded' | 'pg';
  newTarget(): Promise<TestTarget>;
}

export const TEST_DATABASE_URL_VARIABLE = 'OVERSEER_TEST_DATABASE_URL';

export function testBackends(env: NodeJS.ProcessEnv = process.env): TestBackend[] {
  const backends: TestBackend[] = [{ name: 'embedded', newTarget: newEmbeddedTarget }];
  const url = env[TEST_DATABASE_URL_VARIABLE];
  if (url !== undefined && url !== '') {
    backends.push({ name: 'pg', newTarget: () => newPgTarget(url) });
  } else if (env.CI === 'true') {
    throw new Error(`${TEST_DATABASE_URL_VARIABLE} must name a Postgres server under CI (e.g. postgres://postgres@127.0.0.1:5432/postgres)`);
  }
  return backends;
}

function tracking(db: string, query: TestTarget['query'], client: TestTarget['client'], remove: () => Promise<void>): TestTarget {
  const opened = new Set<EventStore>();
  return {
    db,
    query,
    client,
    async open() {
      const store = await openStore(db);
      opened.add(store);
      return store;
    },
    async dispose() {
      // Closing twice is harmless; a test that failed half-way may have left stores open.
      await Promise.all([...opened].map((store) => store.close()));
      opened.clear();
      await remove();
    },
  };
}

/** A store folder in a new temporary folder (mode 0700: as root its cluster lives elsewhere, pointed to). */
export async function newEmbeddedTarget(): Promise<TestTarget> {
  const parent = await mkdtemp(join(tmpdir(), 'overseer-store-'));
  const db = join(parent, 'store');
  return tracking(db, (text, params) => queryEmbedded(db, text, params), () => embeddedClient(db), () => removeEmbeddedStore(db, parent));
}

async function embeddedClient(db: string): Promise<pg.Client> {
  const { server } = await ensureServer(db, { env: process.env });
  const client = new pg.Client({ host: server.socketDir, port: SOCKET_PORT, user: 'postgres', database: 'postgres' });
  await client.connect();
  return client;
}

/** Stops the store's server and removes its folder, its relocated home (if any) and `parent`. */
export async function removeEmbeddedStore(db: string, parent: string): Promise<void> {
  const location = await locateStore(db);
  await stopStoreServer(db);
  // The stop ends the store's keeper too, so nothing writes in the folder once it returns.
  if (location.home !== db) await rm(location.home, { recursive: true, force: true });
  await rm(parent, { recursive: true, force: true });
}

async function queryEmbedded<R>(db: string, text: string, params: unknown[] = []): Promise<R[]> {
  const client = await embeddedClient(db);
  try {
    return (await client.query(text, params)).rows as R[];
  } finally {
    await client.end();
  }
}

async function newPgTarget(adminUrl: string): Promise<TestTarget> {
  const name = `overseer_t_${randomBytes(6).toString('hex')}`;
  await withClient(adminUrl, (client) => client.query(`create database ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = url.toString();
  return tracking(
    db,
    (text, params) => withClient(db, async (client) => (await client.query(text, params)).rows as never[]),
    async () => {
      const client = new pg.Client({ connectionString: db, connectionTimeoutMillis: 3000 });
      await client.connect();
      return client;
    },
    () => withClient(adminUrl, async (client) => void (await client.query(`drop database if exists ${name} with (force)`))),
  );
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * One store for a describe block: a fresh target opened before its tests, closed and dropped after.
 * Read `.store` and `.target` inside tests (they are set once the block's beforeAll has run).
 */
export function useStore(backend: TestBackend): { readonly store: EventStore; readonly target: TestTarget } {
  const held: { store?: EventStore; target?: TestTarget } = {};
  beforeAll(async () => {
    held.target = await backend.newTarget();
    held.store = await held.target.open();
  });
  afterAll(async () => {
    await held.target?.dispose();
  });
  return {
    get store() {
      if (held.store === undefined) throw new Error('useStore: the store opens in beforeAll');
      return held.store;
    },
    get target() {
      if (held.target === undefined) throw new Error('useStore: the target is made in beforeAll');
      return held.target;
    },
  };
}
