/**
 * Who the embedded server runs as. Postgres refuses to run as root, so when Overseer runs as root (CI,
 * containers) the server runs as the unprivileged `postgres` user, created when there is none; its
 * folders are given to that user. Anyone else runs the server as themselves.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chown } from 'node:fs/promises';
import { StoreUnavailableError } from '../store-errors.js';

export const SERVER_USER_NAME = 'postgres';

export interface ServerUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

export function runsAsRoot(): boolean {
  return process.getuid?.() === 0;
}

/** The user to run the server as, or undefined for "this process's own user". */
export function serverUser(): ServerUser | undefined {
  if (!runsAsRoot()) return undefined;
  const found = lookUpUser(SERVER_USER_NAME);
  if (found !== undefined) return found;
  try {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', SERVER_USER_NAME], { stdio: 'pipe' });
  } catch (error) {
    const why = error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error);
    throw new StoreUnavailableError(
      `Postgres will not run as root and there is no "${SERVER_USER_NAME}" user to run it as; creating one failed (${why}) — create it (useradd --system ${SERVER_USER_NAME}) or run overseer as another user`,
    );
  }
  const created = lookUpUser(SERVER_USER_NAME);
  if (created === undefined) throw new StoreUnavailableError(`created the user "${SERVER_USER_NAME}" for the store server but cannot find it`);
  return created;
}

/** The `uid`/`gid` options for spawning as the server user (none when it is us). */
export function spawnIdentity(user: ServerUser | undefined): { uid?: number; gid?: number } {
  return user === undefined ? {} : { uid: user.uid, gid: user.gid };
}

export async function giveTo(user: ServerUser | undefined, path: string): Promise<void> {
  if (user !== undefined) await chown(path, user.uid, user.gid);
}

/** Whether the server user can reach `dir` (search permission on it and every folder above it). */
export function canEnter(user: ServerUser | undefined, dir: string): boolean {
  if (user === undefined) return true;
  return spawnSync('test', ['-x', dir], { ...spawnIdentity(user), cwd: '/', stdio: 'ignore' }).status === 0;
}

/** /etc/passwd first (no process to start); `id` for users that come from elsewhere (NSS). */
function lookUpUser(name: string): ServerUser | undefined {
  const line = readPasswd()
    .split('\n')
    .find((entry) => entry.startsWith(`${name}:`));
  const fields = line?.split(':');
  if (fields !== undefined && fields.length >= 4) return { name, uid: Number(fields[2]), gid: Number(fields[3]) };
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return Number.isInteger(uid) && Number.isInteger(gid) ? { name, uid, gid } : undefined;
  } catch {
    // `id` exits non-zero for an unknown user: there is none.
    return undefined;
  }
}

function readPasswd(): string {
  try {
    return readFileSync('/etc/passwd', 'utf8');
  } catch {
    // No passwd file (some minimal containers): `id` decides.
    return '';
  }
}
