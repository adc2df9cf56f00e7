/** `overseer approve RUN_ID WORKER_ID [--deny] [--reason TEXT]`: a person's answer at a trust gate or escalation. */
import { userInfo } from 'node:os';
import { COMMANDS } from './command-table.js';
import { approvalEvent } from '../engine/human-decisions.js';
import { writeToRun } from '../engine/write-to-run.js';
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
  const approve = values.deny !== true;
  return withStore(values.db, async (store) => {
    await findRun(store, runId);
    const { batch } = await writeToRun(store, runId, (state) => approvalEvent(state, workerId, approve, { by: userInfo().username, source: 'cli', reason: values.reason }));
    const decided = batch.committed[0];
    process.stderr.write(`overseer: ${decided?.type ?? 'decision'} recorded for ${workerId} of run ${runId}; it is now ${String(decided?.stateAfter)}\n`);
    return 0;
  });
}
