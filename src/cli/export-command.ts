/**
 * `overseer export RUN_ID [--db URL|DIR]`: the run's whole log on stdout in the export format
 * (src/inspect/event-line.ts, docs/inspect.md), which `overseer import` loads into another store.
 */
import { eventLine } from '../inspect/event-line.js';
import { withStore } from './cli-store.js';
import { findRun } from './find-run.js';
import { COMMANDS } from './command-table.js';
import { parseFlags } from './parse-flags.js';
import { UsageError } from './usage-error.js';

const flags = COMMANDS.export.flags;

export async function exportCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('export', args, flags);
  const [runId, extra] = positionals;
  if (runId === undefined || extra !== undefined) throw new UsageError('overseer export: usage: overseer export RUN_ID [--db URL|DIR]');
  return withStore(values.db, async (store) => {
    await findRun(store, runId);
    for (const e of await store.readStream(runId)) process.stdout.write(`${JSON.stringify(eventLine(e))}\n`);
    return 0;
  });
}
