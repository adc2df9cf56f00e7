/**
 * The `overseer` command itself, for the detached processes Overseer starts (the store's keeper, an
 * engine that outlives the MCP client that started its run). This module runs from src/ (tests),
 * dist/src/ or dist/bundle/: the command is found from the package's root, not from this file's folder.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function overseerBin(): string {
  const here = fileURLToPath(import.meta.url);
  for (let dir = dirname(here); ; dir = dirname(dir)) {
    const bin = join(dir, 'bin', 'overseer.js');
    if (existsSync(bin) && existsSync(join(dir, 'package.json'))) return bin;
    if (dirname(dir) === dir) throw new Error(`cannot find bin/overseer.js above ${here}`);
  }
}
