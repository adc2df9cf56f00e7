/**
 * The launcher an engine starts its workers with. A spawn from Node forks the whole process first:
 * from an engine of ~130 MB (a run of a few thousand tasks) that is ~1.6 ms of system time per spawn,
 * during which its event loop is blocked. So the engine hands spawns to a spawn server, a small
 * process that starts them on the other core while the engine appends: the native one where it was
 * built (posix_spawn, no fork at all: native-spawn-server.ts), else the one written in Perl where there
 * is a `perl` (its forks are cheaper than Node's, see perl-spawn-server.ts), else one in Node; and
 * should none start, the engine spawns itself.
 */
import { directLauncher, type ProcessLauncher } from './process-launcher.js';
import { nativeSpawnServer, nativeSpawnServerPath } from './native-spawn-server.js';
import { nodeSpawnServer } from './node-spawn-server.js';
import { perlOnPath, perlSpawnServer } from './perl-spawn-server.js';
import { spawnServerLauncher } from './spawn-server.js';

/** The Node spawn server, spawning directly should it not start. */
export function nodeServerLauncher(): ProcessLauncher {
  return spawnServerLauncher(nodeSpawnServer(), () => directLauncher);
}

/** The Perl spawn server where there is a perl, else the Node one. */
export function perlServerLauncher(): ProcessLauncher {
  const perl = perlOnPath();
  return perl === null ? nodeServerLauncher() : spawnServerLauncher(perlSpawnServer(perl), nodeServerLauncher);
}

export function forkServerLauncher(): ProcessLauncher {
  const native = nativeSpawnServerPath();
  return native === null ? perlServerLauncher() : spawnServerLauncher(nativeSpawnServer(native), perlServerLauncher);
}
