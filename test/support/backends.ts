/**
 * The store backends every store-backed test runs against: PGlite always (a fresh folder per target,
 * quick thanks to the store template), Postgres whenever OVERSEER_TEST_DATABASE_URL names a server
 * (a fresh database per target, dropped on dispose). Under CI a missing Postgres fails the run
 * instead of quietly skipping half the suite.
 *
 *   describe.each(testBackends())('$name', (backend) => { ... target = await backend.newTarget() ... })
 *
 * Pass `target.db` to the CLI as `--db`.
 */
import { afterAll, beforeAll } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { EventStore } from '../../src/store/event-store.js';
import { openStore } from '../../src/store/open-store.js';
import { lockPathFor, readLock, tryAcquireLock } from '../../src/store/pglite/store-lock.js';
import { processStartTime } from '../../src/workers/process-identity.js';

export interface TestTarget {
  /** What `--db` / `openStore` takes: a folder, or a postgres:// URL. */
  db: string;
  open(options?: { owner?: boolean }): Promise<EventStore>;
  /** Raw SQL on the target's database, for tests that inspect or tamper behind the store's back. */
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
  /** Closes stores this target opened and left open, then deletes the folder or drops the database. */
  dispose(): Promise<void>;
}

export interface TestBackend {
  name: 'pglite' | 'pg';
  newTarget(): Promise<TestTarget>;
}

export const TEST_DATABASE_URL_VARIABLE = 'OVERSEER_TEST_DATABASE_URL';

export function testBackends(env: NodeJS.ProcessEnv = process.env): TestBackend[] {
  const backends: TestBackend[] = [{ name: 'pglite', newTarget: newPgliteTarget }];
  const url = env[TEST_DATABASE_URL_VARIABLE];
  if (url !== undefined && url !== '') {
    backends.push({ name: 'pg', newTarget: () => newPgTarget(url) });
  } else if (env.CI === 'true') {
    throw new Error(`${TEST_DATABASE_URL_VARIABLE} must name a Postgres server under CI (e.g. postgres://postgres@127.0.0.1:5432/postgres)`);
  }
  return backends;
}

function tracking(db: string, query: TestTarget['query'], remove: () => Promise<void>): TestTarget {
  const opened = new Set<EventStore>();
  return {
    db,
    query,
    async open(options = {}) {
      const store = await openStore(db, options);
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

async function newPgliteTarget(): Promise<TestTarget> {
  const parent = await mkdtemp(join(tmpdir(), 'overseer-store-'));
  const db = join(parent, 'db');
  return tracking(db, (text, params) => queryFolder(db, text, params), () => rm(parent, { recursive: true, force: true }));
}

/** Through the holder's socket when a store serves the folder, else on the folder itself under its lock. */
async function queryFolder<R>(db: string, text: string, params: unknown[] = []): Promise<R[]> {
  const state = await readLock(lockPathFor(db));
  if (state.kind === 'held' && state.alive && state.info.socket !== undefined) {
    const socket = state.info.socket;
    const client = new pg.Client(
      'path' in socket
        ? { host: dirname(socket.path), port: 5432, user: 'postgres', database: 'postgres' }
        : { ...socket, user: 'postgres', database: 'postgres' },
    );
    await client.connect();
    try {
      return (await client.query(text, params)).rows as R[];
    } finally {
      await client.end();
    }
  }
  const lock = await tryAcquireLock(lockPathFor(db), { pid: process.pid, processStartTime: processStartTime(process.pid), owner: false });
  if (lock === null) throw new Error(`test query: ${db} is held by a store that does not serve it; close it first`);
  try {
    const pglite = await PGlite.create({ dataDir: db });
    try {
      return (await pglite.query<R>(text, params)).rows;
    } finally {
      await pglite.close();
    }
  } finally {
    await lock.release();
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
    held.store = await held.target.open({ owner: true });
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
