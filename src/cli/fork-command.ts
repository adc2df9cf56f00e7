/**
 * `overseer fork RUN_ID --at POSITION`: a new run from RUN_ID's state at that event, its finished
 * work kept and its workers in flight started afresh (src/inspect/run-fork.ts), carried on like a
 * resumed run. The source's settings are kept unless --auto-approve, --policy or --concurrency say
 * otherwise. Bad input — a position not in the run among it — is one line, exit 2, nothing written.
 */
import { COMMANDS } from './command-table.js';
import { resumeRun } from '../engine/resume-run.js';
import { newRunId } from '../engine/run-id.js';
import { loadPolicy } from '../gates/policy-file.js';
import { ForkError, forkRun, type ForkOverrides } from '../inspect/run-fork.js';
import { openCliStore } from './cli-store.js';
import { systemEngineDeps } from '../engine/system-deps.js';
import { findRun } from './find-run.js';
import { followRun } from './follow-run.js';
import { flagValue, LOG_POSITION, parseFlags, POSITIVE_WHOLE_NUMBER } from './parse-flags.js';
import { UsageError } from './usage-error.js';

const flags = COMMANDS.fork.flags;
const USAGE = 'usage: overseer fork RUN_ID --at POSITION [--auto-approve] [--policy FILE] [--concurrency N] [--detach] [--json]';

async function overrides(values: { 'auto-approve'?: boolean; policy?: string; concurrency?: string }): Promise<ForkOverrides> {
  const chosen: ForkOverrides = {};
  if (values['auto-approve'] === true) chosen.autoApprove = true;
  const concurrency = flagValue('--concurrency', values.concurrency, POSITIVE_WHOLE_NUMBER);
  if (concurrency !== undefined) chosen.concurrency = concurrency;
  if (values.policy !== undefined) {
    const loaded = await loadPolicy(values.policy, process.cwd());
    if (!loaded.ok) throw new UsageError(loaded.message);
    chosen.policy = { name: loaded.name, policy: loaded.policy };
  }
  return chosen;
}

export async function forkCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('fork', args, flags);
  const [runId, extra] = positionals;
  if (runId === undefined || extra !== undefined) throw new UsageError(`overseer fork: ${USAGE}`);
  if (values.at === undefined) throw new UsageError(`overseer fork: where from? --at POSITION is required; ${USAGE}`);
  const at = flagValue('--at', values.at, LOG_POSITION) as bigint;
  const chosen = await overrides(values);
  const store = await openCliStore(values.db);
  const deps = systemEngineDeps(store);
  try {
    await findRun(store, runId);
    let forked;
    try {
      forked = await forkRun(store, runId, at, { overrides: chosen, newRunId, now: new Date(deps.clock.now()), random: deps.random });
    } catch (error) {
      if (error instanceof ForkError) throw new UsageError(`overseer fork: ${error.message}`);
      throw error;
    }
    const engine = await resumeRun(deps, forked.runId);
    return await followRun(engine, { json: values.json === true, detach: values.detach === true, forkedFrom: forked.forkedFrom });
  } finally {
    deps.driver.close?.();
    await store.close();
  }
}
