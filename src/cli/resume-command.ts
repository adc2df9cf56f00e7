/** `overseer resume RUN_ID`: rebuild a stopped or crashed run from its log and carry on. */
import { COMMANDS } from './command-table.js';
import { resumeRun } from '../engine/resume-run.js';
import { openCliStore } from './cli-store.js';
import { systemEngineDeps } from '../engine/system-deps.js';
import { followRun } from './follow-run.js';
import { parseFlags } from './parse-flags.js';
import { UsageError } from './usage-error.js';

const flags = COMMANDS.resume.flags;

export async function resumeCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('resume', args, flags);
  const [runId] = positionals;
  if (runId === undefined || positionals.length > 1) throw new UsageError('usage: overseer resume RUN_ID [--json] [--detach]');
  const store = await openCliStore(values.db, { create: true });
  const deps = systemEngineDeps(store);
  try {
    const engine = await resumeRun(deps, runId);
    return await followRun(engine, { json: values.json === true, detach: values.detach === true, resumed: true });
  } finally {
    deps.driver.close?.();
    await store.close();
  }
}
