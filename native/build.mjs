// Compiles the native spawn server (spawn-server.c) into dist/native/ when a C compiler is there ($CC,
// else cc). Without one, or if it fails, the build goes on: Overseer then starts processes through its
// Perl spawn server, as before (src/os/fork-server-launcher.ts).
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const output = join(root, 'dist', 'native', 'spawn-server');
rmSync(output, { force: true });
mkdirSync(dirname(output), { recursive: true });
const compiler = process.env.CC ?? 'cc';
const built = spawnSync(compiler, ['-O2', '-Wall', '-Wextra', '-o', output, join(root, 'native', 'spawn-server.c')], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
if (built.status !== 0) {
  const why = built.error !== undefined ? built.error.message : (built.stderr.trim().split('\n')[0] ?? `exit ${String(built.status)}`);
  process.stdout.write(`native spawn server not built (${why}): processes will be started through Perl\n`);
}
