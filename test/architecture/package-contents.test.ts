/**
 * What `npm install overseer` (from a packed tarball) gets: the built CLI and library, the viewer's
 * page and the docs, but not the tests or the sources tsc builds from. A tarball install runs no
 * `prepare`, so a package without `dist/` installs an `overseer` that cannot start.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

async function packedFiles(): Promise<string[]> {
  const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT });
  const [pack] = JSON.parse(stdout) as [{ files: { path: string }[] }];
  return pack.files.map((f) => f.path);
}

describe('the published package', () => {
  it('holds what the CLI, the library and the viewer load at run time, and no tests', async () => {
    const files = await packedFiles();
    for (const needed of ['bin/overseer.js', 'dist/bundle/main.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/migrations/index.js', 'src/web/static/run.html', 'README.md']) {
      expect(files).toContain(needed);
    }
    expect(files.filter((f) => f.startsWith('test/') || f.startsWith('dist/bench/') || (f.startsWith('src/') && f.endsWith('.ts')))).toEqual([]);
  });
});
