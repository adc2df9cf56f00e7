/** `overseer status [RUN_ID] [--json]`: the runs newest first, or one run with its workers. */
import { COMMANDS } from './command-table.js';
import { objectiveText } from '../inspect/objective-line.js';
import { rebuildRun } from '../fold/rebuild-run.js';
import { runListEntry } from '../inspect/run-list-entry.js';
import { summarizeRun } from '../fold/run-status.js';
import type { RunRow } from '../store/event-store.js';
import { NoStoreError, withStore } from './cli-store.js';
import { flagValue, parseFlags, POSITIVE_WHOLE_NUMBER } from './parse-flags.js';
import { findRun } from './find-run.js';

const flags = COMMANDS.status.flags;

function printRuns(runs: readonly RunRow[], json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ runs: runs.map(runListEntry) })}\n`);
  } else if (runs.length === 0) {
    process.stdout.write('no runs yet\n');
  } else {
    for (const r of runs.map(runListEntry)) process.stdout.write(`${r.runId}  ${r.status.padEnd(9)}  ${r.createdAt}  ${r.objective}\n`);
  }
}

export async function statusCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('status', args, flags);
  const [runId] = positionals;
  if (runId === undefined) {
    const limit = flagValue('--limit', values.limit, POSITIVE_WHOLE_NUMBER) ?? 50;
    let runs: RunRow[];
    try {
      runs = await withStore(values.db, (store) => store.listRuns(limit));
    } catch (error) {
      // No store yet is no runs yet, not an error.
      if (!(error instanceof NoStoreError)) throw error;
      runs = [];
    }
    printRuns(runs, values.json === true);
    return 0;
  }
  return withStore(values.db, async (store) => {
    await findRun(store, runId);
    const summary = summarizeRun(await rebuildRun(store, runId));
    if (values.json === true) {
      process.stdout.write(`${JSON.stringify(summary)}\n`);
      return 0;
    }
    const t = summary.tasks;
    process.stdout.write(`run ${summary.runId}: ${summary.status} (${summary.workflow}) — ${objectiveText(summary.objective)}\n`);
    process.stdout.write(`tasks: ${Object.entries(t).map(([k, v]) => `${String(v)} ${k}`).join(', ')}\n`);
    if (summary.reason !== null) process.stdout.write(`reason: ${summary.reason}\n`);
    for (const w of summary.workers) {
      process.stdout.write(`  ${w.workerId.padEnd(16)} ${w.state.padEnd(14)} attempt ${String(w.attempt)}${w.failure === null ? '' : `  ${w.failure}`}${w.logFile === null ? '' : `  log ${w.logFile}`}\n`);
    }
    return 0;
  });
}
