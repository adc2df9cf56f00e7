/**
 * What creating a file costs where the engine runs. The engine creates three per task (the attempt's
 * log, packet and process files) and the bare pool none, so rows 4 and 7 read high where creating
 * files is slow. On ext4 without a journal (this kind of machine) it is slow for up to six minutes
 * after many files were deleted (a test suite's stores, the last bench's folders): the allocator
 * passes over every inode deleted in that time, at 0.3-0.8 ms a file against ~20-60 us otherwise.
 * The bench waits for that to pass before it measures, as it would wait for a busy core.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

const FILES = 200;
/** Above this per file (settled here: 20-55 us), rows 4 and 7 measure the filesystem more than the engine (at 75-250 us row 7 read 2.6x). */
export const SLOW_FILE_CREATION_US = 60;
const SETTLE_LIMIT_MS = 6 * 60_000;
const PROBE_EVERY_MS = 15_000;

/** Microseconds per new small file in a new folder under `dir` (the files stay: deleting them would slow the next probe). */
export function fileCreationUs(dir: string): number {
  const folder = mkdtempSync(join(dir, 'file-creation-'));
  const start = performance.now();
  for (let index = 0; index < FILES; index += 1) writeFileSync(join(folder, `${String(index)}.status`), '0\n');
  return ((performance.now() - start) * 1000) / FILES;
}

export interface Settled {
  us: number;
  waitedMs: number;
}

/** Probes under `dir` until creating a file is no longer slow, or six minutes have passed. */
export async function settledFileCreation(dir: string, log: (line: string) => void): Promise<Settled> {
  const start = performance.now();
  for (;;) {
    const us = fileCreationUs(dir);
    const waitedMs = performance.now() - start;
    if (us <= SLOW_FILE_CREATION_US || waitedMs >= SETTLE_LIMIT_MS) return { us, waitedMs };
    log(`creating a file takes ${us.toFixed(0)} us here (many files were deleted lately): waiting for the filesystem to settle`);
    await sleep(PROBE_EVERY_MS);
  }
}
