/**
 * `overseer verify RUN_ID [--json]`: checks the run's stream — versions 1, 2, 3 … without a gap, each
 * event linked to the previous one's hash, each hash over the event as stored — and names the first
 * event that breaks it; then holds the log's end against what the run's snapshot and runs row say it
 * reached, since events removed from the end leave the chain intact. Exit 0 when all of it holds, 1
 * when not.
 */
import { findTruncation, logEndOfEvents, truncationText } from '../fold/truncated-log.js';
import { findChainBreak, type ChainBreakReason } from '../store/event-hash.js';
import { withStore } from './cli-store.js';
import { findRun } from './find-run.js';
import { parseFlags } from './parse-flags.js';
import { EXIT, UsageError } from './usage-error.js';

const flags = { db: { type: 'string' }, json: { type: 'boolean' } } as const;

const REASONS: Record<ChainBreakReason, string> = {
  version_gap: 'its version does not follow the previous event (an event is missing or out of place)',
  prev_hash_mismatch: 'it does not link to the previous event (an event before it was removed, added or replaced)',
  hash_mismatch: 'its content does not match its hash (it was changed after it was written)',
};

export async function verifyCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('verify', args, flags);
  const [runId, extra] = positionals;
  if (runId === undefined || extra !== undefined) throw new UsageError('overseer verify: usage: overseer verify RUN_ID [--json]');
  return withStore(values.db, async (store) => {
    const run = await findRun(store, runId);
    // The caches before the log (see truncated-log.ts): a run still going is not taken for a cut one.
    const snapshot = await store.loadSnapshot(runId);
    const events = await store.readStream(runId);
    const broken = findChainBreak(events);
    const truncated = findTruncation(logEndOfEvents(events), { snapshot, run });
    const problems: string[] = [];
    if (broken !== null) {
      const e = broken.event;
      problems.push(`run ${runId}: chain broken at position ${e.position.toString()} (version ${String(e.version)}, ${e.type}): ${REASONS[broken.reason]} [${broken.reason}]`);
    }
    if (truncated !== null) problems.push(`run ${runId}: truncated: ${truncationText(truncated)} (events were removed from its end) [truncated]`);
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
