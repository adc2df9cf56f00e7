/**
 * Telling a process apart from a later one that reused its pid: the pid plus the process's start
 * time (field 22 of /proc/<pid>/stat, clock ticks since boot). Linux only; elsewhere the start time
 * is unknown (null) and liveness falls back to the pid alone.
 */
import { readIfPresent } from './read-if-present.js';

interface ProcStat {
  state: string;
  startTime: string;
}

function readProcStat(pid: number): ProcStat | null {
  // Most often asked of a worker that has just ended.
  const stat = readIfPresent(`/proc/${String(pid)}/stat`);
  if (stat === null) return null;
  // The command name (field 2) may hold spaces and parentheses; field 3 starts after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const startTime = fields[19];
  return state === undefined || startTime === undefined ? null : { state, startTime };
}

export function processStartTime(pid: number): string | null {
  return readProcStat(pid)?.startTime ?? null;
}

/** A zombie has finished: it counts as gone, whoever is (or is not) left to reap it. */
export function isSameProcessAlive(pid: number, startTime: string | null): boolean {
  const stat = readProcStat(pid);
  if (stat !== null) return stat.state !== 'Z' && stat.state !== 'X' && (startTime === null || stat.startTime === startTime);
  if (startTime !== null) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    if ((error as NodeJS.ErrnoException).code === 'EPERM') return true;
    throw error;
  }
}
