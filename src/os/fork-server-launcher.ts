/**
 * The launcher an engine starts its workers with. A spawn from Node forks the whole process first:
 * from an engine of ~130 MB (a run of a few thousand tasks) that is ~1.6 ms of system time per spawn,
 * during which its event loop is blocked. So the engine hands spawns to a spawn server, a small
 * process that starts them on the other core while the engine appends: the native one where it was
 * built (posix_spawn, no fork at all: native-spawn-server.ts), else the one written in Perl where there
 * is a `perl` (its forks are cheaper than Node's, see perl-spawn-server.ts), else one in Node; a server
 * that never gets ready hands its launches to the next, and should none start, the engine spawns itself.
 */
import { directLauncher, type ProcessLauncher } from './process-launcher.js';
import { nativeSpawnServer, nativeSpawnServerPath } from './native-spawn-server.js';
import { nodeSpawnServer } from './node-spawn-server.js';
import { perlOnPath, perlSpawnServer } from './perl-spawn-server.js';
import { spawnServerLauncher, type SpawnServer } from './spawn-server.js';

type Servers = readonly (() => SpawnServer | null)[];

/** Best first; each is looked for only once the ones before it are out (null: not on this machine). */
const SERVERS: Servers = [
  () => {
    const path = nativeSpawnServerPath();
    return path === null ? null : nativeSpawnServer(path);
  },
  () => {
    const perl = perlOnPath();
    return perl === null ? null : perlSpawnServer(perl);
  },
  nodeSpawnServer,
];

/** The first server of `servers` this machine has, and those after it. */
function firstOf(servers: Servers): { server: SpawnServer; rest: Servers } | null {
  for (const [index, find] of servers.entries()) {
    const server = find();
    if (server !== null) return { server, rest: servers.slice(index + 1) };
  }
  return null;
}

/** Launches through the first server of `servers` this machine has, handing on down the list. */
function launcherOver(servers: Servers): ProcessLauncher {
  const first = firstOf(servers);
  return first === null ? directLauncher : spawnServerLauncher(first.server, () => launcherOver(first.rest));
}

/** The spawn server an engine here starts its workers through, unless it fails to start. */
export function preferredSpawnServer(): SpawnServer {
  return firstOf(SERVERS)?.server ?? nodeSpawnServer();
}

/** The Node spawn server, spawning directly should it not start. */
export function nodeServerLauncher(): ProcessLauncher {
  return launcherOver([nodeSpawnServer]);
}

export function forkServerLauncher(): ProcessLauncher {
  return launcherOver(SERVERS);
}
