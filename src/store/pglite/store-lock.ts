/**
 * The lock file that makes one process at a time the holder of an embedded store. PGlite has no lock
 * of its own, and two processes writing one data folder lose writes (FACTS.md).
 *
 * The lock is `<dataDir>.lock`, beside the data folder, created with O_EXCL so exactly one process
 * creates it. It holds JSON: the holder's pid and process start time (so a dead holder, or a pid
 * reused by another program, is recognised), whether the holder is an engine, and once the holder
 * serves the store, the socket address other processes connect to.
 */
import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { z } from 'zod';
import { isSameProcessAlive } from '../../workers/process-identity.js';

const socketAddressSchema = z.union([
  z.object({ path: z.string().min(1) }),
  z.object({ host: z.string().min(1), port: z.number().int().positive() }),
]);
export type SocketAddress = z.infer<typeof socketAddressSchema>;

const lockInfoSchema = z.object({
  pid: z.number().int().positive(),
  processStartTime: z.string().nullable(),
  /** An engine (`overseer run`/`resume`): it serves the store for as long as it runs. */
  owner: z.boolean(),
  socket: socketAddressSchema.optional(),
});
export type LockInfo = z.infer<typeof lockInfoSchema>;

export type LockState =
  | { kind: 'free' }
  /** Just created and not yet written, or not a lock of ours; `ageMs` says how long it has been so. */
  | { kind: 'unreadable'; ageMs: number; text: string }
  | { kind: 'held'; info: LockInfo; alive: boolean; text: string };

export interface HeldLock {
  readonly path: string;
  /** Rewrites the lock's content (e.g. to publish the socket address); the file stays in place. */
  update(info: LockInfo): Promise<void>;
  /** Removes the lock if it is still ours. */
  release(): Promise<void>;
}

export function lockPathFor(dataDir: string): string {
  return `${dataDir}.lock`;
}

/** Creates the lock, or returns null when it exists. */
export async function tryAcquireLock(path: string, info: LockInfo): Promise<HeldLock | null> {
  let handle;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return null;
    throw error;
  }
  let text = JSON.stringify(info);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return {
    path,
    async update(next) {
      const nextText = JSON.stringify(next);
      // Written aside and renamed over the lock: readers see the old or the new content, whole.
      const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
      await writeWhole(temporary, nextText);
      await rename(temporary, path);
      text = nextText;
    },
    async release() {
      const current = await readFile(path, 'utf8').catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      });
      if (current === text) await unlink(path);
    },
  };
}

export async function readLock(path: string): Promise<LockState> {
  let text: string;
  let modified: number;
  try {
    [text, modified] = await Promise.all([readFile(path, 'utf8'), stat(path).then((s) => s.mtimeMs)]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'free' };
    throw error;
  }
  const parsed = lockInfoSchema.safeParse(parseJson(text));
  if (!parsed.success) return { kind: 'unreadable', ageMs: Date.now() - modified, text };
  const info = parsed.data;
  return { kind: 'held', info, alive: isSameProcessAlive(info.pid, info.processStartTime), text };
}

/**
 * Removes a lock whose holder is dead, unless it changed since it was read as `observedText`.
 * Renaming it aside first means two processes clearing the same stale lock cannot remove a fresh
 * lock one of them has just created: only one rename of the stale file succeeds, and a process that
 * finds it renamed someone's fresh lock links it back.
 */
export async function clearStaleLock(path: string, observedText: string): Promise<void> {
  const aside = `${path}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const taken = await readFile(aside, 'utf8');
  if (taken !== observedText) {
    try {
      await link(aside, path);
    } catch (error) {
      // EEXIST: yet another process locked meanwhile; the one we moved is lost either way.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  await unlink(aside);
}

async function writeWhole(path: string, text: string): Promise<void> {
  const handle = await open(path, 'w', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Half-written or foreign content: the caller treats it as unreadable.
    return undefined;
  }
}
