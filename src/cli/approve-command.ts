/** `overseer approve RUN_ID WORKER_ID [--deny] [--reason TEXT]`: a person's answer at a trust gate or escalation. */
import { COMMANDS } from './command-table.js';
import { approve } from '../engine/run-decisions.js';
import { withStore } from './cli-store.js';
import { findRun } from './find-run.js';
import { parseFlags } from './parse-flags.js';
import { UsageError } from './usage-error.js';

const flags = COMMANDS.approve.flags;

export async function approveCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('approve', args, flags);
  const [runId, workerId, extra] = positionals;
  if (runId === undefined || workerId === undefined || extra !== undefined) {
    throw new UsageError('usage: overseer approve RUN_ID WORKER_ID [--deny] [--reason TEXT]');
  }
  return withStore(values.db, async (store) => {
    await findRun(store, runId);
    const decided = await approve(store, runId, workerId, { source: 'cli', reason: values.reason, deny: values.deny === true });
    process.stderr.write(`overseer: ${decided.decision} recorded for ${workerId} of run ${runId}; it is now ${decided.state}\n`);
    return 0;
  });
}
