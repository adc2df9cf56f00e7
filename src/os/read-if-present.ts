/**
 * A small file's text, or null when it is not there (or was gone by the time it was read). It is
 * looked for first: what is asked for this way is usually absent (the pid file before a start, /proc
 * of a worker that has just ended), and a failed read costs an exception where a look does not.
 */
import { existsSync, readFileSync } from 'node:fs';

export function readIfPresent(path: string): string | null {
  if (!existsSync(path)) return null;
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    // ESRCH: a /proc entry whose process ended between the look and the read.
    if (['ENOENT', 'ESRCH'].includes((error as NodeJS.ErrnoException).code ?? '')) return null;
    throw error;
  }
}
