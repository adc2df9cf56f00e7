/** The golden logs of the released versions (test/golden/<version>/*.jsonl), for tests that replay each. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = new URL('../golden/', import.meta.url).pathname;

/** Each golden log's path under test/golden, as `<version>/<name>.jsonl`. */
export const GOLDEN_LOGS = readdirSync(ROOT, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) => readdirSync(join(ROOT, d.name)).filter((f) => f.endsWith('.jsonl')).map((f) => join(d.name, f)));

/** Where a golden log named as in GOLDEN_LOGS is. */
export const goldenLogPath = (file: string): string => join(ROOT, file);

/** The text of a golden log named as in GOLDEN_LOGS. */
export const goldenLog = (file: string): string => readFileSync(goldenLogPath(file), 'utf8');
