/**
 * Where Overseer's own package is, and the `overseer` command in it, for the processes Overseer starts
 * (the store's keeper, an engine that outlives the MCP client that started its run, the native spawn
 * server). This module runs from src/ (tests), dist/src/ or dist/bundle/: files are found from the
 * package's root, not from this file's folder.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's folder: the nearest one above this module with bin/overseer.js and a package.json. */
export function overseerPackageDir(): string {
  const here = fileURLToPath(import.meta.url);
  for (let dir = dirname(here); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'bin', 'overseer.js')) && existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`cannot find bin/overseer.js above ${here}`);
  }
}

export function overseerBin(): string {
  return join(overseerPackageDir(), 'bin', 'overseer.js');
}
