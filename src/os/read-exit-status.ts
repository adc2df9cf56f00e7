/**
 * The exit status a worker's wrapper leaves behind, so a supervisor that crashed and restarted can
 * learn how a process that outlived it ended. The wrapper writes the code with one short write(2), so
 * the file is absent, empty (not written yet: the wrapper is still alive) or whole.
 */
import { readIfPresent } from './read-if-present.js';

/**
 * The command's exit code (above 128: killed by signal code - 128, as the shell reports it), or null
 * when the command has not finished, or its wrapper was killed before it could write.
 */
export function readExitStatus(statusFile: string): number | null {
  const text = readIfPresent(statusFile);
  if (text === null) return null;
  // Only the wrapper writes here, and only whole integers; anything else is not a status of ours.
  const trimmed = text.trim();
  return /^\d+$/.test(trimmed) ? Number(trimmed) : null;
}
