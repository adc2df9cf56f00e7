/**
 * The two stores the bench measures, each with a raw SQL client beside it where one can be had, and
 * everything they create registered for cleanup. Overseer's side always goes through the generic
 * `openStore(db)` and the CLI's `--db`, whatever the store is behind them.
 *
 * - postgres: a fresh database `overseer_bench_<random>` on the server, created here and dropped
 *   (with force) at the end. The raw side is a `pg.Pool` with ONE connection to the same database.
 * - embedded: a fresh store folder (`--db <folder>`), removed at the end. Its raw side is a `pg.Pool`
 *   with one connection to the embedded server, found with `overseer store status --json`; a store
 *   that names no server socket there has no raw side, and the rows that need one say so.
 *   `overseer store stop` is asked to stop its server at the end.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import pg from 'pg';
import type { EventStore } from '../../src/store/event-store.js';
import { openStore } from '../../src/store/open-store.js';
import { OVERSEER_BIN } from './overseer-bin.js';

/** A raw SQL client: the baseline Overseer is compared against. */
export interface RawDb {
  query(text: string, params?: unknown[]): Promise<unknown[]>;
  close(): Promise<void>;
}

export interface BenchTarget {
  readonly name: 'postgres' | 'embedded';
  /** What `--db` and `openStore` take. */
  readonly db: string;
  /** A folder for the CLI's working directory, plan files and logs. */
  readonly workDir: string;
  /** Opens the Overseer store (closed by the caller, and again at cleanup if left open). */
  openStore(): Promise<EventStore>;
  /** A raw client on the store's own database, or null when this store offers no way in. */
  openRaw(): Promise<RawDb | null>;
  /** A Postgres URL for a peer (DBOS) beside this store, on the same server; null when there is none. */
  peerDatabaseUrl(): Promise<string | null>;
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

function trackStores(cleanup: Cleanup) {
  return async (db: string): Promise<EventStore> => {
    const store = await openStore(db);
    // Closing an already closed store returns the same promise: harmless.
    cleanup.add(`close store ${db}`, () => store.close());
    return store;
  };
}

export async function newWorkDir(cleanup: Cleanup, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanup.add(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
  return dir;
}

function rawPool(config: pg.PoolConfig, cleanup: Cleanup): RawDb {
  const pool = new pg.Pool({ ...config, max: 1 });
  pool.on('error', () => undefined);
  let closed: Promise<void> | undefined;
  const raw: RawDb = {
    query: async (text, params) => (await pool.query(text, params)).rows as unknown[],
    close: () => (closed ??= pool.end()),
  };
  cleanup.add('close raw pg pool', () => raw.close());
  return raw;
}

export async function createDatabase(adminUrl: string, name: string, cleanup: Cleanup): Promise<string> {
  await withClient(adminUrl, (client) => client.query(`create database ${name}`));
  cleanup.add(`drop database ${name}`, () => withClient(adminUrl, (client) => client.query(`drop database if exists ${name} with (force)`)));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function postgresTarget(adminUrl: string, cleanup: Cleanup): Promise<BenchTarget> {
  const name = `overseer_bench_${randomBytes(6).toString('hex')}`;
  const db = await createDatabase(adminUrl, name, cleanup);
  const workDir = await newWorkDir(cleanup, 'overseer-bench-pg-');
  const open = trackStores(cleanup);
  let peer: Promise<string> | undefined;
  return {
    name: 'postgres',
    db,
    workDir,
    openStore: () => open(db),
    openRaw: () => Promise.resolve(rawPool({ connectionString: db }, cleanup)),
    // A database of its own: DBOS migrates its system tables into it.
    peerDatabaseUrl: () => (peer ??= createDatabase(adminUrl, `${name}_dbos`, cleanup)),
  };
}

export async function embeddedTarget(cleanup: Cleanup): Promise<BenchTarget> {
  const root = await newWorkDir(cleanup, 'overseer-bench-embedded-');
  const db = join(root, 'store');
  const workDir = join(root, 'work');
  await mkdir(workDir);
  // Registered after the folder's removal, so it runs before it: a server must not outlive its folder.
  cleanup.add(`stop the store server of ${db}`, async () => {
    await runOverseer(['store', 'stop', '--db', db], workDir);
    // As root the cluster of a store in a 0700 temp folder lives in /var/lib/overseer/<hash>, named by
    // the store's pointer file (src/store/embedded/store-location.ts): it goes with the store.
    const home = (await readFile(join(db, 'location'), 'utf8').catch(() => '')).trim();
    if (isAbsolute(home)) await rm(home, { recursive: true, force: true });
  });
  const open = trackStores(cleanup);
  return {
    name: 'embedded',
    db,
    workDir,
    openStore: () => open(db),
    async openRaw() {
      const socket = await serverSocket(db, workDir);
      if (socket === null) return null;
      return rawPool({ host: dirname(socket), port: Number(basename(socket).split('.').pop()), user: 'postgres', database: 'postgres' }, cleanup);
    },
    peerDatabaseUrl: () => Promise.resolve(null),
  };
}

/** Where the embedded store's server listens, as `overseer store status --json` says; null if it says nothing of the kind. */
async function serverSocket(db: string, cwd: string): Promise<string | null> {
  const { code, stdout } = await runOverseer(['store', 'status', '--db', db, '--json'], cwd);
  if (code !== 0) return null;
  try {
    const status = JSON.parse(stdout) as { server?: { socket?: unknown } | null };
    return typeof status.server?.socket === 'string' ? status.server.socket : null;
  } catch {
    return null;
  }
}

function runOverseer(args: readonly string[], cwd: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [OVERSEER_BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (stdout += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout }));
  });
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
