/** `overseer cancel RUN_ID [--reason TEXT]`: stops a run cleanly; its workers and gates are killed and it ends cancelled. */
import { COMMANDS } from './command-table.js';
import { cancelRun } from '../engine/run-decisions.js';
import { withStore } from './cli-store.js';
import { findRun } from './find-run.js';
import { parseFlags } from './parse-flags.js';
import { UsageError } from './usage-error.js';

const flags = COMMANDS.cancel.flags;

export async function cancelCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('cancel', args, flags);
  const [runId] = positionals;
  if (runId === undefined || positionals.length > 1) throw new UsageError('usage: overseer cancel RUN_ID [--reason TEXT]');
  return withStore(values.db, async (store) => {
    await findRun(store, runId);
    await cancelRun(store, runId, { source: 'cli', reason: values.reason });
    process.stderr.write(`overseer: run ${runId} cancelled\n`);
    return 0;
  });
}
