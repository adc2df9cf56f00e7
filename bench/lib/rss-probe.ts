/**
 * Loaded with `node --import` into a process the bench measures: at exit it reports the process's
 * peak resident set size on stderr, as one line the bench looks for.
 */
import { writeSync } from 'node:fs';

export const RSS_LINE = 'overseer-bench-peak-rss-kib';

process.on('exit', () => {
  writeSync(2, `${RSS_LINE} ${String(process.resourceUsage().maxRSS)}\n`);
});
