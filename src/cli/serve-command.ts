/**
 * `overseer serve [--port N]`: the web viewer on 127.0.0.1 until Ctrl-C. Changing requests need the
 * token printed at start-up (see src/web/request-guard.ts). Like an engine it makes the embedded store
 * when there is none; while it runs it is one of the store server's clients, so the server stays up.
 */
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import { COMMANDS } from './command-table.js';
import { startViewer, type Viewer } from '../web/viewer-server.js';
import { ViewerStore } from '../web/viewer-store.js';
import { openCliStore } from './cli-store.js';
import { flagValue, parseFlags, PORT } from './parse-flags.js';
import { UsageError } from './usage-error.js';

const flags = COMMANDS.serve.flags;
const DEFAULT_PORT = 4680;
const HOST = '127.0.0.1';

function warn(message: string): void {
  process.stderr.write(`overseer serve: ${message}\n`);
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
  const store = new ViewerStore(() => openCliStore(values.db, { create: true }), warn);
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
    return 0;
  } finally {
    await viewer?.close();
    await store.close();
  }
}
