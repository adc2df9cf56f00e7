/** The CLI as a user runs it: dist/bench/lib/overseer-bin.js → <repo>/bin/overseer.js (the built bundle). */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const OVERSEER_BIN = resolve(fileURLToPath(import.meta.url), '..', '..', '..', '..', 'bin', 'overseer.js');
