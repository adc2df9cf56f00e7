/**
 * `overseer store status|stop [--db URL|DIR]`: where the store is and who uses it; stopping the
 * embedded server (refused while clients are connected, unless --force).
 *
 * `overseer store keep` is the embedded server's idle keeper, started by Overseer itself (see
 * src/store/embedded/idle-keeper.ts); it is not meant to be typed.
 */
import { resolve } from 'node:path';
import { COMMANDS } from './command-table.js';
import { isPostgresUrl } from '../store/open-store.js';
import {
  describeConnectError,
  embeddedStoreStatus,
  KEEPER_APPLICATION_NAME,
  keepStore,
  redactUrl,
  serverActivity,
  stopStoreServer,
  type EmbeddedStoreStatus,
  type ServerClient,
} from '../store/store-admin.js';
import { cliStoreTarget } from './cli-store.js';
import { flagValue, parseFlags, POSITIVE_WHOLE_NUMBER } from './parse-flags.js';
import { UsageError } from './usage-error.js';

const USAGE = 'usage: overseer store status|stop [--db URL|DIR] [--json] [--force]';
const flags = COMMANDS.store.flags;

export async function storeCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('store', args, flags);
  const [action, ...rest] = positionals;
  if (rest.length > 0 || (action !== 'keep' && values.idle !== undefined)) throw new UsageError(USAGE);
  if (action === 'status') return status(values.db, values.json === true);
  if (action === 'stop') return stop(values.db, values.force === true);
  if (action === 'keep' && values.db !== undefined) {
    await keepStore(resolve(values.db), flagValue('--idle', values.idle, POSITIVE_WHOLE_NUMBER) ?? 1);
    return 0;
  }
  throw new UsageError(USAGE);
}

async function status(db: string | undefined, json: boolean): Promise<number> {
  const target = cliStoreTarget(db);
  if (isPostgresUrl(target)) return serverStatus(target, json);
  const found = await embeddedStoreStatus(target);
  if (json) process.stdout.write(`${JSON.stringify({ kind: 'embedded', ...found })}\n`);
  else process.stdout.write(describe(found));
  return 0;
}

function describe(found: EmbeddedStoreStatus): string {
  const lines = [`store    ${found.storeDir} (embedded Postgres)`];
  lines.push(`data     ${found.dataDir}${found.pointerFile === null ? '' : ` (the server's user cannot enter the project; pointer: ${found.pointerFile})`}`);
  const server = found.server;
  if (server === null) lines.push('server   not running (the next overseer command starts it)');
  else {
    lines.push(`server   ${server.status === 'ready' ? 'running' : server.status}, pid ${String(server.pid)} since ${server.startedAt.toISOString()}, socket ${server.socket}`);
    if (server.clients !== null) lines.push(`clients  ${describeClients(server.clients.filter((c) => c.name !== KEEPER_APPLICATION_NAME))}`);
    lines.push(found.keeperPid === null ? 'idle     no keeper: it runs until overseer store stop' : `idle     stops by itself when no client is left for a while (keeper pid ${String(found.keeperPid)})`);
  }
  lines.push(`size     ${megabytes(found.sizeBytes)}`, `log      ${found.logFile}`);
  return `${lines.join('\n')}\n`;
}

async function serverStatus(url: string, json: boolean): Promise<number> {
  const activity = await serverActivity({ connectionString: url }).catch((error: unknown) => {
    throw new UsageError(`cannot reach database ${redactUrl(url)}: ${describeConnectError(error)}`);
  });
  if (json) process.stdout.write(`${JSON.stringify({ kind: 'server', url: redactUrl(url), ...activity })}\n`);
  else {
    process.stdout.write(`store    ${redactUrl(url)} (a Postgres server; Overseer neither starts nor stops it)\n`);
    process.stdout.write(`clients  ${describeClients(activity.clients)}\nsize     ${megabytes(activity.databaseBytes)} (this database)\n`);
  }
  return 0;
}

async function stop(db: string | undefined, force: boolean): Promise<number> {
  const target = cliStoreTarget(db);
  if (isPostgresUrl(target)) throw new UsageError(`overseer store stop: ${redactUrl(target)} is a server Overseer did not start; stop it the way it was started`);
  const found = await embeddedStoreStatus(target);
  const users = (found.server?.clients ?? []).filter((c) => c.name !== KEEPER_APPLICATION_NAME);
  if (users.length > 0 && !force) {
    throw new UsageError(
      `overseer store stop: the store ${target} is in use (${describeClients(users)}); stop those first, or --force to cut them off (engines stop; overseer resume RUN_ID goes on later)`,
    );
  }
  const outcome = await stopStoreServer(target);
  process.stdout.write(outcome.stopped ? `stopped the store server for ${target} (pid ${String(outcome.pid)})\n` : `the store server for ${target} is not running\n`);
  return 0;
}

function describeClients(clients: readonly ServerClient[]): string {
  if (clients.length === 0) return 'none';
  return clients.map((c) => `${c.name}${c.connections > 1 ? ` (${String(c.connections)} connections)` : ''}`).join(', ');
}

function megabytes(bytes: number): string {
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}
