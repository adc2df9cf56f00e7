/** How rss-probe.ts reports a peak RSS (in KiB) on stderr, for processes.ts to find. */
export const RSS_LINE = 'overseer-bench-peak-rss-kib';
