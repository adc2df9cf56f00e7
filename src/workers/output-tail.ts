/**
 * Follows a file another process writes (an agent's captured output) from a byte offset, handing on
 * each complete line with the offset just past it: a reader stopped at any point (an engine killed)
 * starts again exactly after the last line it handed on. A partial last line waits for its newline,
 * or for `drain()` once the writer has ended.
 */
import { open } from 'node:fs/promises';

export interface OutputTail {
  /** Reads what is left (the writer has ended, so a last line without newline counts), then stops. */
  drain(): Promise<void>;
  /** Stops following without reading further. */
  stop(): void;
}

const CHUNK = 64 * 1024;

export function followOutput(
  file: string,
  from: number,
  onLines: (lines: string[], offset: number) => Promise<void>,
  options: { pollMs?: number; onError: (error: unknown) => void },
): OutputTail {
  const pollMs = options.pollMs ?? 100;
  // Errors of the reads that follow the file go to onError; drain() rejects with its own.
  const followed = (read: Promise<void>): Promise<void> => read.catch((error: unknown) => { stopped = true; options.onError(error); });
  let offset = from;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let reading: Promise<void> = Promise.resolve();
  // One buffer for the tail's life: reads never overlap, and what is kept of a read is copied out.
  const buffer = Buffer.alloc(CHUNK);

  async function readOnce(final: boolean): Promise<void> {
    let handle;
    try {
      handle = await open(file, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    try {
      let pending = Buffer.alloc(0);
      let position = offset;
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, CHUNK, position);
        if (bytesRead === 0) break;
        position += bytesRead;
        pending = Buffer.concat([pending, buffer.subarray(0, bytesRead)]);
        const end = pending.lastIndexOf(0x0a);
        if (end === -1) continue;
        const lines = pending.subarray(0, end).toString('utf8').split('\n');
        offset += end + 1;
        pending = pending.subarray(end + 1);
        await onLines(lines, offset);
      }
      if (final && pending.length > 0) {
        offset += pending.length;
        await onLines([pending.toString('utf8')], offset);
      }
    } finally {
      await handle.close();
    }
  }

  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      reading = followed(reading.then(() => readOnce(false))).finally(schedule);
    }, pollMs);
  };
  reading = followed(readOnce(false)).finally(schedule);

  return {
    async drain() {
      stopped = true;
      clearTimeout(timer);
      await reading;
      reading = readOnce(true);
      await reading;
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
