/**
 * The exit status a worker's wrapper leaves behind, so a supervisor that crashed and restarted can
 * learn how a process that outlived it ended. The wrapper appends the code as the last line of its
 * process file (after the pid line), or, before the process file, wrote it alone to a status file.
 * Each line is one short write(2), so the last line is absent or whole.
 */
import { readIfPresent } from './read-if-present.js';

/**
 * The command's exit code (above 128: killed by signal code - 128, as the shell reports it), or null
 * when the command has not finished, or its wrapper was killed before it could write.
 */
export function readExitStatus(statusFile: string): number | null {
  const text = readIfPresent(statusFile);
  if (text === null) return null;
  // Only the wrapper writes here, and the exit code is a whole integer on a line of its own; the pid
  // line before it is JSON.
  const last = text.trimEnd().split('\n').at(-1)?.trim() ?? '';
  return /^\d+$/.test(last) ? Number(last) : null;
}
