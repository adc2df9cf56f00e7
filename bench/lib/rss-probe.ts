/**
 * Loaded with `node --import` into a process the bench measures (never imported by the bench): at
 * exit it reports the process's peak resident set size on stderr, as one line the bench looks for.
 */
import { writeSync } from 'node:fs';
import { RSS_LINE } from './rss-line.js';

process.on('exit', () => {
  writeSync(2, `${RSS_LINE} ${String(process.resourceUsage().maxRSS)}\n`);
});
