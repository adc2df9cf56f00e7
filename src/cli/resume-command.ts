/** `overseer resume RUN_ID`: rebuild a stopped or crashed run from its log and carry on. */
import { RunNotFoundError } from '../fold/rebuild-run.js';
import { MachineVersionError } from '../fold/machine-set.js';
import { LogMismatchError } from '../fold/run-state.js';
import { resumeRun } from '../engine/resume-run.js';
import { LeaseHeldError } from '../engine/run-lease.js';
import { TruncatedLogError } from '../fold/truncated-log.js';
import { openCliStore } from './cli-store.js';
import { engineDeps } from './engine-deps.js';
import { followRun } from './follow-run.js';
import { parseFlags } from './parse-flags.js';
import { UsageError } from './usage-error.js';

const flags = { db: { type: 'string' }, json: { type: 'boolean' }, detach: { type: 'boolean' } } as const;

export async function resumeCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('resume', args, flags);
  const [runId] = positionals;
  if (runId === undefined || positionals.length > 1) throw new UsageError('usage: overseer resume RUN_ID [--json] [--detach]');
  const store = await openCliStore(values.db, { create: true });
  const deps = engineDeps(store);
  try {
    let engine;
    try {
      engine = await resumeRun(deps, runId);
    } catch (error) {
      if (error instanceof TruncatedLogError) throw new UsageError(`overseer resume: ${error.message}`);
      if (error instanceof RunNotFoundError || error instanceof MachineVersionError || error instanceof LogMismatchError || error instanceof LeaseHeldError) {
        throw new UsageError(error.message);
      }
      throw error;
    }
    return await followRun(engine, { json: values.json === true, detach: values.detach === true, resumed: true });
  } finally {
    deps.driver.close?.();
    await store.close();
  }
}
