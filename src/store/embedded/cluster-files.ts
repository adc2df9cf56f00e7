/**
 * Making a new cluster for an embedded store, fast, and telling a damaged one apart before Postgres
 * trips over it.
 *
 * initdb takes about a second (more on a busy disk). The first cluster made on a machine is also
 * copied, before it ever runs, into a template in the user's cache folder (keyed by the binaries'
 * version and our settings), and every later new store starts as a copy of it (`cp -Rp`, 0.15–1 s),
 * then synced to disk: a cluster's files must be durable before anything is committed in it.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { StoreUnavailableError } from '../store-errors.js';
import type { PostgresBinaries } from './postgres-binaries.js';
import { giveTo, spawnIdentity, type ServerUser } from './server-user.js';
import type { StoreLocation } from './store-location.js';

/**
 * Appended to a new cluster's postgresql.conf. Small memory (one store per project, often several
 * running); durability left at Postgres's defaults (fsync, synchronous_commit): it is the product.
 * The socket folder and `listen_addresses = ''` (no TCP) are given on the command line at each start.
 */
const SETTINGS = `
# Overseer's embedded store (docs/store.md)
shared_buffers = 16MB
max_connections = 100
min_wal_size = 32MB
max_wal_size = 256MB
unix_socket_permissions = 0700
log_checkpoints = off
${
  // Crash recovery first syncs the whole data folder: one syncfs() instead of a thousand fsync() calls.
  process.platform === 'linux' ? 'recovery_init_sync_method = syncfs\n' : ''
}`;
const INITDB_ARGS = ['-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C'];
/**
 * One syncfs() for the whole file system instead of a thousand fsync() calls: measured here 0.05–0.1 s
 * against 2–3 s on a busy disk. Linux only (Postgres offers it nowhere else).
 */
const SYNC_METHOD = process.platform === 'linux' ? ['--sync-method=syncfs'] : [];

export interface ClusterOptions {
  readonly binaries: PostgresBinaries;
  readonly user: ServerUser | undefined;
  readonly env: NodeJS.ProcessEnv;
}

/** Creates `location.dataDir` (the caller holds the start lock and found none). */
export async function createCluster(location: StoreLocation, options: ClusterOptions): Promise<void> {
  await mkdir(location.home, { recursive: true });
  await removeUnfinished(location.home);
  const building = join(location.home, `data.new-${randomBytes(4).toString('hex')}`);
  const template = join(cacheDir(options.env), `pg-${options.binaries.version}-${settingsKey()}`);
  try {
    if (!(await fromTemplate(template, building, options))) {
      await mkdir(building, { mode: 0o700 });
      await giveTo(options.user, building);
      await run(options.binaries.initdb, ['-D', building, '--no-sync', ...INITDB_ARGS], options.user);
      await appendFile(join(building, 'postgresql.conf'), SETTINGS);
      await saveTemplate(building, template);
    }
    await run(options.binaries.initdb, ['--sync-only', ...SYNC_METHOD, '-D', building], options.user);
    await rename(building, location.dataDir);
  } catch (error) {
    await rm(building, { recursive: true, force: true });
    throw error;
  }
}

/** Throws a one-line StoreUnavailableError when the cluster is missing or plainly damaged. */
export async function checkCluster(location: StoreLocation, binaries: PostgresBinaries): Promise<void> {
  const { storeDir, dataDir } = location;
  const damaged = (what: string) =>
    new StoreUnavailableError(`the store ${storeDir} is damaged: ${what} — restore ${dataDir} from a backup, or move ${location.home === storeDir ? storeDir : `${storeDir} and ${location.home}`} aside to start an empty store`);
  if (!existsSync(dataDir)) throw damaged(`its cluster folder ${dataDir} is missing`);
  let version: string;
  try {
    version = (await readFile(join(dataDir, 'PG_VERSION'), 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw damaged(`${dataDir} has no PG_VERSION`);
    throw error;
  }
  if (/^\d+$/.test(version) && version !== binaries.major) {
    throw new StoreUnavailableError(
      `the store ${storeDir} was made by Postgres ${version} and this Overseer runs Postgres ${binaries.major}; open it with the Overseer that made it (overseer export RUN_ID), or name another folder with --db`,
    );
  }
  if (version !== binaries.major) throw damaged(`${join(dataDir, 'PG_VERSION')} holds "${version.slice(0, 40)}", not a Postgres version`);
  if (!existsSync(join(dataDir, 'global', 'pg_control'))) throw damaged(`${join(dataDir, 'global', 'pg_control')} is missing`);
}

/** Copies the template into `building`; false when there is none or it cannot be used. */
async function fromTemplate(template: string, building: string, options: ClusterOptions): Promise<boolean> {
  if (!existsSync(join(template, 'PG_VERSION')) || !existsSync(join(template, 'global', 'pg_control'))) return false;
  try {
    await run('cp', ['-Rp', template, building], undefined);
    // As root cp -p keeps the owner: the template's files belong to whoever ran its initdb.
    const user = options.user;
    if (user !== undefined && (await stat(building)).uid !== user.uid) await run('chown', ['-R', `${String(user.uid)}:${String(user.gid)}`, building], undefined);
    return true;
  } catch (error) {
    // A damaged template must not stop a run: build from scratch, and the template is rebuilt.
    process.emitWarning(`overseer: discarding the store template ${template}: ${String(error)}`);
    await rm(template, { recursive: true, force: true });
    await rm(building, { recursive: true, force: true });
    return false;
  }
}

/** Best effort: the template is an optimisation, and a read-only or full cache folder must not fail a run. */
async function saveTemplate(cluster: string, template: string): Promise<void> {
  const temporary = `${template}.new-${randomBytes(4).toString('hex')}`;
  try {
    await mkdir(join(template, '..'), { recursive: true });
    await run('cp', ['-Rp', cluster, temporary], undefined);
    await rename(temporary, template);
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    // Another process saved one first (the rename found it): that is as good as ours.
    if (!existsSync(join(template, 'PG_VERSION'))) process.emitWarning(`overseer: could not save the store template ${template}: ${String(error)}`);
  }
}

/** A start or creation that died half-way leaves `data.new-*`: never used, safe to remove. */
async function removeUnfinished(home: string): Promise<void> {
  for (const name of await readdir(home)) {
    if (name.startsWith('data.new-')) await rm(join(home, name), { recursive: true, force: true });
  }
}

export function cacheDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CACHE_HOME !== undefined && env.XDG_CACHE_HOME !== '' ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'overseer');
}

function settingsKey(): string {
  return createHash('sha256').update(`${INITDB_ARGS.join(' ')}\n${SETTINGS}`).digest('hex').slice(0, 12);
}

/** Runs a program to its end; a failure is a StoreUnavailableError with the program's first complaint. */
function run(file: string, args: string[], user: ServerUser | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    // cwd '/': the server user may not be allowed into ours, and initdb refuses to start then.
    const child = spawn(file, args, { ...spawnIdentity(user), cwd: '/', stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => reject(new StoreUnavailableError(`cannot run ${file}: ${error.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      const complaint = stderr.split('\n').find((line) => line.trim() !== '') ?? `exit ${String(code ?? signal)}`;
      reject(new StoreUnavailableError(`${file.split('/').pop() ?? file} failed: ${complaint}`));
    });
  });
}
