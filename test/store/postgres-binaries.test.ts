/**
 * As root the embedded server runs as the `postgres` user. A clone inside a folder that user cannot
 * enter (a `mktemp -d` folder is 0700, as a fresh CI clone can be) hides node_modules from it: the
 * binaries must then be run from a copy it can reach.
 */
import { spawnSync } from 'node:child_process';
import { chmod, cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { postgresBinaries, reachableBinaries } from '../../src/store/embedded/postgres-binaries.js';
import { serverUser, spawnIdentity } from '../../src/store/embedded/server-user.js';

describe.runIf(process.getuid?.() === 0)('the Postgres binaries for a server user', () => {
  const made: string[] = [];
  afterAll(async () => {
    await Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('are copied where that user can run them when the installed ones sit inside a folder it cannot enter', async () => {
    const installed = await postgresBinaries();
    const user = serverUser();
    const hidden = await mkdtemp(join(tmpdir(), 'overseer-hidden-'));
    const base = await mkdtemp(join(tmpdir(), 'overseer-shared-'));
    made.push(hidden, base);
    await chmod(hidden, 0o700);
    await chmod(base, 0o755);
    const nativeDir = dirname(dirname(installed.postgres));
    await cp(nativeDir, join(hidden, 'native'), { recursive: true, verbatimSymlinks: true });
    const inHidden = (path: string) => join(hidden, 'native', relative(nativeDir, path));
    const hiddenBinaries = { ...installed, postgres: inHidden(installed.postgres), initdb: inHidden(installed.initdb) };
    const runs = (path: string) => spawnSync(path, ['--version'], { ...spawnIdentity(user), cwd: '/', encoding: 'utf8' });

    expect(runs(hiddenBinaries.postgres).status).not.toBe(0);
    const reachable = await reachableBinaries(hiddenBinaries, user, base);
    expect(reachable.postgres.startsWith(base)).toBe(true);
    expect(runs(reachable.postgres).stdout).toContain(`PostgreSQL) ${installed.major}`);
    expect(runs(reachable.initdb).status).toBe(0);
    // A second asker finds the copy in place.
    expect(await reachableBinaries(hiddenBinaries, user, base)).toEqual(reachable);
  });
});
