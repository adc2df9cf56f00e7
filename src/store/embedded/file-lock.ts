/**
 * Lock files that make one process at a time do something to an embedded store: start its server
 * (`start.lock`), or watch it for idleness (`keeper.lock`).
 *
 * A lock is created with O_EXCL, so exactly one process creates it, and holds JSON with the holder's
 * pid and process start time, so a dead holder, or a pid reused by another program, is recognised and
 * its lock taken over. Postgres keeps its own lock on the data folder (`postmaster.pid`): these locks
 * only keep Overseer's processes from tripping over each other, never guard the data.
 */
import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import * as z from 'zod';
import { isSameProcessAlive, processStartTime } from '../../os/process-identity.js';

const holderSchema = z.object({ pid: z.number().int().positive(), processStartTime: z.string().nullable() });
export type LockHolder = z.infer<typeof holderSchema>;

export type LockState =
  | { kind: 'free' }
  /** Just created and not yet written, or not a lock of ours; `ageMs` says how long it has been so. */
  | { kind: 'unreadable'; ageMs: number; text: string }
  | { kind: 'held'; holder: LockHolder; alive: boolean; text: string };

export interface HeldLock {
  /** Removes the lock if it is still ours. */
  release(): Promise<void>;
  /**
   * Makes the process `pid` (a child just spawned) the lock's holder, in one rename, so that the lock
   * is never free or unreadable between us and it. The child takes it up with `adoptLock`.
   */
  handOver(pid: number): Promise<void>;
}

/** A lock file created but still empty belongs to a process between open() and write(). */
const UNWRITTEN_LOCK_GRACE_MS = 2000;
const RETRY_MS = 25;

export function me(): LockHolder {
  return { pid: process.pid, processStartTime: processStartTime(process.pid) };
}

/** Takes the lock, waiting for a live holder for up to `waitMs`; null when it is still held then. */
export async function acquireLock(path: string, waitMs: number): Promise<HeldLock | null> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const lock = await tryTakeLock(path);
    if (lock !== null) return lock;
    if (Date.now() >= deadline) return null;
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}

/** Takes the lock if it is free or its holder is gone; null when a live process holds it. */
export async function tryTakeLock(path: string): Promise<HeldLock | null> {
  for (;;) {
    const lock = await tryCreateLock(path);
    if (lock !== null) return lock;
    const state = await readLock(path);
    if (state.kind === 'free') continue;
    const stale = state.kind === 'held' ? !state.alive : state.ageMs > UNWRITTEN_LOCK_GRACE_MS;
    if (!stale) return null;
    await clearStaleLock(path, state.text);
  }
}

async function tryCreateLock(path: string): Promise<HeldLock | null> {
  let handle;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return null;
    throw error;
  }
  const text = JSON.stringify(me());
  try {
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
  return heldAs(path, text);
}

/**
 * The lock as handed to this process by its parent (`HeldLock.handOver`), waiting while it still
 * names the parent (the hand-over follows the spawn by moments); null when it names anyone else.
 */
export async function adoptLock(path: string): Promise<HeldLock | null> {
  const self = me();
  // A parent whose hand-over failed keeps the lock: this child then gives up instead of waiting forever.
  const deadline = Date.now() + UNWRITTEN_LOCK_GRACE_MS;
  for (;;) {
    const state = await readLock(path);
    if (state.kind !== 'held') return null;
    const { pid, processStartTime: started } = state.holder;
    if (pid === self.pid && started === self.processStartTime) return heldAs(path, state.text);
    if (pid !== process.ppid || !state.alive || Date.now() >= deadline) return null;
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}

function heldAs(path: string, text: string): HeldLock {
  return {
    async release() {
      const current = await readFile(path, 'utf8').catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      });
      if (current === text) await unlink(path);
    },
    async handOver(pid) {
      const aside = `${path}.${String(pid)}.${randomBytes(4).toString('hex')}`;
      await writeFile(aside, JSON.stringify({ pid, processStartTime: processStartTime(pid) } satisfies LockHolder), { mode: 0o600 });
      await rename(aside, path);
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
  const parsed = holderSchema.safeParse(parseJson(text));
  if (!parsed.success) return { kind: 'unreadable', ageMs: Date.now() - modified, text };
  const holder = parsed.data;
  return { kind: 'held', holder, alive: isSameProcessAlive(holder.pid, holder.processStartTime), text };
}

/**
 * Removes a lock whose holder is dead, unless it changed since it was read as `observedText`.
 * Renaming it aside first means two processes clearing the same stale lock cannot remove a fresh
 * lock one of them has just created: only one rename of the stale file succeeds, and a process that
 * finds it renamed someone's fresh lock links it back.
 */
async function clearStaleLock(path: string, observedText: string): Promise<void> {
  const aside = `${path}.stale.${String(process.pid)}.${randomBytes(4).toString('hex')}`;
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

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Half-written or foreign content: the caller treats it as unreadable.
    return undefined;
  }
}
