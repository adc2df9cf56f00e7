/**
 * `overseer serve [--port N]`: the web viewer on 127.0.0.1 until Ctrl-C. Changing requests need the
 * token printed at start-up (see src/web/request-guard.ts).
 *
 * On an embedded store serve opens the folder as an engine does (`owner: true`): when it is the first
 * to hold the folder it serves it on the socket, so `overseer run` started later connects through it
 * instead of waiting for a lock that serve never lets go. When an engine already holds the folder,
 * serve connects through that engine's socket and opens the folder again once the engine exits.
 */
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import { engineIsLive } from '../runtime/run-lease.js';
import { isPostgresUrl, resolveDbTarget } from '../store/open-store.js';
import { lockPathFor, readLock } from '../store/pglite/store-lock.js';
import { startViewer, type Viewer } from '../web/viewer-server.js';
import { ViewerStore } from '../web/viewer-store.js';
import { openCliStore } from './cli-store.js';
import { flagValue, parseFlags, PORT } from './parse-flags.js';
import { UsageError } from './usage-error.js';

const flags = { port: { type: 'string' }, db: { type: 'string' } } as const;
const DEFAULT_PORT = 4680;
const HOST = '127.0.0.1';

function warn(message: string): void {
  process.stderr.write(`overseer serve: ${message}\n`);
}

/** Whether this process holds the embedded store at `db` and serves it to other processes. */
async function servesEmbeddedStore(db: string | undefined): Promise<boolean> {
  const target = resolveDbTarget(db, process.env, process.cwd());
  if (isPostgresUrl(target)) return false;
  const lock = await readLock(lockPathFor(target));
  return lock.kind === 'held' && lock.info.pid === process.pid && lock.info.socket !== undefined;
}

/**
 * Engines started while serve held the embedded store reach it through serve's socket, and lose it
 * when serve stops (docs/store.md): say which runs they were working on, and how to go on with them.
 * Those are the runs an engine holds the lease of; a run left waiting after `--detach` has no engine
 * (its lease was released), and nothing of it stops with serve.
 */
async function warnOfClients(store: ViewerStore, db: string | undefined): Promise<void> {
  if (!(await servesEmbeddedStore(db))) return;
  const now = new Date();
  const live = (await store.use((s) => s.listRuns(50))).filter((r) => r.owner !== null && engineIsLive(r.owner, now));
  if (live.length === 0) return;
  const ids = live.map((r) => r.runId).join(', ');
  warn(`stopping; engines that reached the store through this viewer stop with it (runs not finished: ${ids}) — continue one with: overseer resume RUN_ID`);
}

function stopSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

export async function serveCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('serve', args, flags);
  if (positionals.length > 0) throw new UsageError('usage: overseer serve [--port N] [--db URL|DIR]');
  const port = flagValue('--port', values.port, PORT) ?? DEFAULT_PORT;
  const token = randomBytes(16).toString('hex');
  const store = new ViewerStore(() => openCliStore(values.db, { owner: true }), warn);
  let viewer: Viewer | undefined;
  try {
    // Open now: a store that cannot be opened is a start-up error, not an error page later.
    await store.get();
    viewer = await startViewer({ store, host: HOST, port, token, decidedBy: userInfo().username, onWarning: warn }).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new UsageError(`overseer serve: port ${String(port)} is in use; choose another with --port N (0 picks a free one)`);
      throw error;
    });
    process.stderr.write(`overseer: serving ${viewer.url} — token ${token}\n`);
    process.stderr.write(`overseer: open ${viewer.url}#token=${token} to approve and deny from the page; Ctrl-C stops\n`);
    await stopSignal();
    await warnOfClients(store, values.db).catch((error: unknown) => warn(`could not check for runs still using the store: ${String(error)}`));
    return 0;
  } finally {
    await viewer?.close();
    await store.close();
  }
}
