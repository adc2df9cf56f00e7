/**
 * What creating a file costs in the folder the engine runs in. The engine creates four per task (the
 * attempt's log, packet, pid and status files) and the bare pool none, so rows 4 and 7 read high where
 * creating files is slow. On ext4 without a journal (this kind of machine), it is slow for up to six
 * minutes after many files were deleted (the test suite's stores, say): the allocator passes over
 * every inode deleted in that time, at 0.3-0.7 ms a file against ~20 us otherwise.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const FILES = 500;

/** Microseconds per new small file in a new folder under `dir` (the files stay: `dir` is the bench's to remove). */
export function fileCreationUs(dir: string): number {
  const folder = mkdtempSync(join(dir, 'file-creation-'));
  const start = performance.now();
  for (let index = 0; index < FILES; index += 1) writeFileSync(join(folder, `${String(index)}.status`), '0\n');
  return ((performance.now() - start) * 1000) / FILES;
}

/** Above this, the note says why rows 4 and 7 may read high. */
export const SLOW_FILE_CREATION_US = 150;
