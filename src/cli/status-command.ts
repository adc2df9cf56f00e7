/** `overseer status [RUN_ID] [--json]`: the runs newest first, or one run with its workers. */
import { rebuildRun } from '../runtime/rebuild-run.js';
import { summarizeRun } from '../runtime/run-status.js';
import { withStore } from './cli-store.js';
import { parseFlags } from './parse-flags.js';
import { findRun } from './find-run.js';

const flags = { db: { type: 'string' }, json: { type: 'boolean' }, limit: { type: 'string' } } as const;

export async function statusCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('status', args, flags);
  const [runId] = positionals;
  return withStore(values.db, async (store) => {
    if (runId === undefined) {
      const runs = await store.listRuns(Number(values.limit ?? 50));
      if (values.json === true) {
        const rows = runs.map((r) => ({ runId: r.runId, status: r.status, objective: r.objective, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString() }));
        process.stdout.write(`${JSON.stringify({ runs: rows })}\n`);
      } else if (runs.length === 0) {
        process.stdout.write('no runs yet\n');
      } else {
        for (const r of runs) process.stdout.write(`${r.runId}  ${r.status.padEnd(9)}  ${r.createdAt.toISOString()}  ${r.objective}\n`);
      }
      return 0;
    }
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
