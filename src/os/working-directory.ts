/** Whether a process can start in a folder, said in words before spawning it. */
import { statSync } from 'node:fs';

/**
 * Null when `cwd` is a folder, else why not. Node reports a missing cwd as `spawn /bin/sh ENOENT`,
 * which points at the wrong thing.
 */
export function checkDirectory(cwd: string): string | null {
  try {
    return statSync(cwd).isDirectory() ? null : `working directory ${cwd} is not a directory`;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return `working directory ${cwd} does not exist`;
    return `working directory ${cwd}: ${error instanceof Error ? error.message : String(error)}`;
  }
}
