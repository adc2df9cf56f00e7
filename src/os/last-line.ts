/** The last line a process wrote to its log, for saying why it failed in one line. */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const TAIL_BYTES = 4096;
const MAX_CHARS = 200;

/** The log's last non-empty line, cut to a line's worth; null when there is none or no log. */
export function lastLine(file: string): string | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    const line = buffer.toString('utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '').at(-1);
    if (line === undefined) return null;
    return line.length > MAX_CHARS ? `${line.slice(0, MAX_CHARS - 1)}…` : line;
  } finally {
    closeSync(fd);
  }
}
