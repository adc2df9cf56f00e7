/**
 * Stopping a worker and everything it started. Workers run in their own process group, so the group
 * id is the worker's pid and one signal reaches its children and grandchildren.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { isSameProcessAlive, processStartTime } from './process-identity.js';

export interface KillOptions {
  /** How long the tree gets to exit after SIGTERM before SIGKILL. */
  graceMs: number;
  /** How often to look whether the tree is gone. */
  pollMs?: number;
}

/** How long a process group gets between SIGTERM and SIGKILL unless a caller says otherwise. */
export const DEFAULT_KILL_GRACE_MS = 2000;

/** Which signal it took: `none` when the tree was already gone. */
export type KillOutcome = 'none' | 'SIGTERM' | 'SIGKILL';

/** After SIGKILL the kernel needs a moment; a process stuck in the kernel may take longer, and we stop waiting. */
const AFTER_SIGKILL_MS = 2000;

export async function killProcessTree(pid: number, options: KillOptions): Promise<KillOutcome> {
  // kill(-1) and kill(-0) signal every process we may signal, or our own group: never.
  if (!Number.isInteger(pid) || pid <= 1) throw new RangeError(`not a worker process group: ${String(pid)}`);
  const pollMs = options.pollMs ?? 25;
  if (!signalGroup(pid, 'SIGTERM')) return 'none';
  if (await waitUntilGone(pid, options.graceMs, pollMs)) return 'SIGTERM';
  if (!signalGroup(pid, 'SIGKILL')) return 'SIGTERM';
  await waitUntilGone(pid, AFTER_SIGKILL_MS, pollMs);
  return 'SIGKILL';
}

/** The process that leads a group, as its pid file or the log recorded it. */
export interface GroupLeader {
  pid: number;
  /** Null when it could not be read: then a group whose leader is gone is left alone. */
  processStartTime: string | null;
}

/**
 * Stops what is left of a worker's or gate's process group, whether or not its leader (the wrapper
 * shell) still runs: what the command started in the background does not outlive it. A group id is
 * its leader's pid, and Linux does not hand out a pid still in use as a group id; so once the pid
 * belongs to another process the old group is empty and the id may be someone else's: then, and when
 * the leader is gone and its identity unknown, nothing is signalled.
 */
export async function stopProcessGroup(leader: GroupLeader, options: KillOptions): Promise<KillOutcome> {
  if (leader.processStartTime === null) return isSameProcessAlive(leader.pid, null) ? killProcessTree(leader.pid, options) : 'none';
  const now = processStartTime(leader.pid);
  if (now !== null && now !== leader.processStartTime) return 'none';
  return killProcessTree(leader.pid, options);
}

/** False when no process is left in the group. */
function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

async function waitUntilGone(pgid: number, timeoutMs: number, pollMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!isGroupAlive(pgid)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/**
 * Zombies still count for kill(-pgid, 0), and a grandchild orphaned by the kill is reaped only if
 * pid 1 reaps (in many containers it does not), so on Linux the group is alive only while a member
 * is not a zombie.
 */
export function isGroupAlive(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  const members = groupMemberStates(pgid);
  return members === null || members.some((state) => state !== 'Z' && state !== 'X');
}

/** States of the processes in a group, from /proc; null where there is no /proc. */
function groupMemberStates(pgid: number): string[] | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const states: string[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch (error) {
      // A process that exited while we looked is simply not a member any more.
      if (['ENOENT', 'ESRCH'].includes((error as NodeJS.ErrnoException).code ?? '')) continue;
      throw error;
    }
    // The command name may hold spaces and parentheses; fields resume after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid) states.push(fields[0] ?? '');
  }
  return states;
}
