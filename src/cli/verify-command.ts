/**
 * `overseer verify RUN_ID [--json]`: checks the run's stream (src/inspect/verify-run.ts) and names the
 * first event that breaks it, or the events removed from its end. Exit 0 when all of it holds, 1 when
 * not.
 */
import { COMMANDS } from './command-table.js';
import { checkRunLog } from '../inspect/verify-run.js';
import { withStore } from './cli-store.js';
import { findRun } from './find-run.js';
import { parseFlags } from './parse-flags.js';
import { EXIT, UsageError } from './usage-error.js';

const flags = COMMANDS.verify.flags;

export async function verifyCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('verify', args, flags);
  const [runId, extra] = positionals;
  if (runId === undefined || extra !== undefined) throw new UsageError('overseer verify: usage: overseer verify RUN_ID [--json]');
  return withStore(values.db, async (store) => {
    const run = await findRun(store, runId);
    // The caches before the log (see src/fold/truncated-log.ts): a run still going is not taken for a cut one.
    const snapshot = await store.loadSnapshot(runId);
    const events = await store.readStream(runId);
    const { broken, truncated, problems } = checkRunLog(runId, events, { snapshot, run });
    if (values.json === true) {
      const first = broken === null ? null : { position: broken.event.position.toString(), version: broken.event.version, type: broken.event.type, reason: broken.reason };
      process.stdout.write(`${JSON.stringify({ runId, events: events.length, intact: problems.length === 0, broken: first, truncated })}\n`);
    }
    if (problems.length === 0) {
      if (values.json !== true) process.stdout.write(`run ${runId}: ${String(events.length)} events, hash chain and versions intact\n`);
      return 0;
    }
    for (const line of problems) {
      if (values.json === true) process.stderr.write(`overseer verify: ${line}\n`);
      else process.stdout.write(`${line}\n`);
    }
    return EXIT.failed;
  });
}
