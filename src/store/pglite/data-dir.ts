/**
 * Opening an embedded store's data folder, and making a brand-new one fast.
 *
 * initdb in PGlite takes 2.6–4.7 s; loading a dump of an already-initialised, migrated folder takes
 * well under a second. The first store built on a machine is dumped (`dumpDataDir`) into a template
 * in the user's cache folder, keyed by PGlite's version and the migration names, and every later new
 * store starts as a copy of it (`PGlite.create({ dataDir, loadDataDir })`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { PGlite, types } from '@electric-sql/pglite';
import { z } from 'zod';
import { MIGRATION_NAMES } from '../../../migrations/index.js';
import { StoreUnavailableError } from '../store-errors.js';

export interface OpenedDataDir {
  readonly pglite: PGlite;
  /** Call once the store is migrated: marks a new folder complete and, if it was built from scratch, keeps it as the template. */
  created(): Promise<void>;
}

const parsers = { [types.INT8]: (value: string) => BigInt(value) };

/** Opens (creating if needed) the folder. The caller holds the store's lock. */
export async function openDataDir(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<OpenedDataDir> {
  // Present while a new folder is being built: if we find it, the last build died half-way.
  const marker = `${dataDir}.creating`;
  if (existsSync(join(dataDir, 'PG_VERSION')) && !existsSync(marker)) {
    return { pglite: await PGlite.create({ dataDir, parsers }), created: () => Promise.resolve() };
  }
  if (existsSync(dataDir) && !existsSync(marker) && (await readdir(dataDir)).length > 0) {
    throw new StoreUnavailableError(`${dataDir} is not empty and is not an Overseer store`);
  }
  await mkdir(dirname(dataDir), { recursive: true });
  await writeFile(marker, String(process.pid));
  await rm(dataDir, { recursive: true, force: true });

  const templatePath = join(cacheDir(env), `pglite-${pgliteVersion()}-${migrationsKey()}.tar.gz`);
  // No template yet (or none readable): build from scratch, and leave one for next time.
  const template = await readFile(templatePath).catch(() => undefined);
  if (template !== undefined) {
    try {
      const pglite = await PGlite.create({ dataDir, parsers, loadDataDir: new Blob([template]) });
      return { pglite, created: () => unlink(marker) };
    } catch (error) {
      // A damaged template (disk trouble, a foreign file) must not stop a run: build from scratch.
      process.emitWarning(`overseer: discarding the store template ${templatePath}: ${String(error)}`);
      await rm(templatePath, { force: true });
      await rm(dataDir, { recursive: true, force: true });
    }
  }
  const pglite = await PGlite.create({ dataDir, parsers });
  return {
    pglite,
    async created() {
      await saveTemplate(pglite, templatePath);
      await unlink(marker);
    },
  };
}

/** Best effort: the template is an optimisation, and a read-only or full cache folder must not fail a run. */
async function saveTemplate(pglite: PGlite, templatePath: string): Promise<void> {
  try {
    const dump = await pglite.dumpDataDir('gzip');
    await mkdir(dirname(templatePath), { recursive: true });
    const temporary = `${templatePath}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await writeFile(temporary, Buffer.from(await dump.arrayBuffer()));
    await rename(temporary, templatePath);
  } catch (error) {
    process.emitWarning(`overseer: could not save the store template ${templatePath}: ${String(error)}`);
  }
}

export function cacheDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CACHE_HOME !== undefined && env.XDG_CACHE_HOME !== '' ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'overseer');
}

let version: string | undefined;
function pgliteVersion(): string {
  if (version === undefined) {
    const require = createRequire(import.meta.url);
    const packageJson = join(dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json');
    version = z.object({ version: z.string() }).parse(require(packageJson)).version;
  }
  return version;
}

function migrationsKey(): string {
  return createHash('sha256').update(MIGRATION_NAMES.join('\n')).digest('hex').slice(0, 12);
}
