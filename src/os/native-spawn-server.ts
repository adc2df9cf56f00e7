/**
 * The native spawn server (native/spawn-server.c), built into dist/native/ by `npm run build` where a C
 * compiler is. It starts processes with posix_spawn, which copies no page tables and makes no page
 * copy-on-write: on a paravirtualised 2-core VM, where page faults are dear, 200 x `sleep 0.1` at
 * conc. 8 took 3.7-4.0 s of wall time and 4.5-5.3 s of CPU through it, against 4.5-4.8 s and 7.4-8.0 s
 * through the Perl server (which forks). It speaks the Perl server's protocol (line-spawn-protocol.ts).
 */
import { join } from 'node:path';
import { isExecutable } from './is-executable.js';
import { lineSpawnServer } from './line-spawn-protocol.js';
import { overseerPackageDir } from './overseer-bin.js';
import type { SpawnServer } from './spawn-server.js';

/** The built server, or null where none was built (no C compiler at build time). */
export function nativeSpawnServerPath(): string | null {
  const path = join(overseerPackageDir(), 'dist', 'native', 'spawn-server');
  return isExecutable(path) ? path : null;
}

export function nativeSpawnServer(path: string): SpawnServer {
  return lineSpawnServer('native', path, []);
}
