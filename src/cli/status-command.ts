/** `overseer status [RUN_ID] [--json]`: the runs newest first, or one run with its workers. */
import { rebuildRun } from '../runtime/rebuild-run.js';
import { summarizeRun } from '../runtime/run-status.js';
import type { RunRow } from '../store/event-store.js';
import { NoStoreError, withStore } from './cli-store.js';
import { parseFlags } from './parse-flags.js';
import { findRun } from './find-run.js';

const flags = { db: { type: 'string' }, json: { type: 'boolean' }, limit: { type: 'string' } } as const;

function printRuns(runs: readonly RunRow[], json: boolean): void {
  if (json) {
    const rows = runs.map((r) => ({ runId: r.runId, status: r.status, objective: r.objective, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString() }));
    process.stdout.write(`${JSON.stringify({ runs: rows })}\n`);
  } else if (runs.length === 0) {
    process.stdout.write('no runs yet\n');
  } else {
    for (const r of runs) process.stdout.write(`${r.runId}  ${r.status.padEnd(9)}  ${r.createdAt.toISOString()}  ${r.objective}\n`);
  }
}

export async function statusCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('status', args, flags);
  const [runId] = positionals;
  if (runId === undefined) {
    let runs: RunRow[];
    try {
      runs = await withStore(values.db, (store) => store.listRuns(Number(values.limit ?? 50)));
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
    process.stdout.write(`run ${summary.runId}: ${summary.status} (${summary.workflow}) — ${summary.objective}\n`);
    process.stdout.write(`tasks: ${Object.entries(t).map(([k, v]) => `${String(v)} ${k}`).join(', ')}\n`);
    if (summary.reason !== null) process.stdout.write(`reason: ${summary.reason}\n`);
    for (const w of summary.workers) {
      process.stdout.write(`  ${w.workerId.padEnd(16)} ${w.state.padEnd(14)} attempt ${String(w.attempt)}${w.failure === null ? '' : `  ${w.failure}`}${w.logFile === null ? '' : `  log ${w.logFile}`}\n`);
    }
    return 0;
  });
}
