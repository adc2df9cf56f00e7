/**
 * `overseer worker [--db URL] [--lease DURATION] [--max-runs N]`: an engine that runs submitted runs
 * until it is stopped. SIGTERM (or SIGINT) drains it: it claims nothing more, hands back the runs
 * that wait for a person and finishes the others, then exits 0; a second signal hands back every run
 * at once. See docs/scaling.md.
 */
import { COMMANDS } from './command-table.js';
import { RunClaimer } from '../engine/run-claimer.js';
import { LEASE_TTL_MS } from '../engine/run-lease.js';
import { DURATION_HINT, parseDuration } from '../os/duration.js';
import { openCliStore } from './cli-store.js';
import { systemEngineDeps } from '../engine/system-deps.js';
import { flagValue, parseFlags, POSITIVE_WHOLE_NUMBER, type FlagValue } from './parse-flags.js';
import { UsageError } from './usage-error.js';

const flags = COMMANDS.worker.flags;

/** Below this a lease is renewed (every third of it) more often than a busy store answers reliably. */
const SHORTEST_LEASE_MS = 500;
const LEASE: FlagValue<number> = {
  expected: `${DURATION_HINT}, at least 500ms`,
  read: (text) => {
    const ms = parseDuration(text);
    return ms === null || ms < SHORTEST_LEASE_MS ? null : ms;
  },
};

export async function workerCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('worker', args, flags);
  if (positionals.length > 0) throw new UsageError(`overseer worker: unexpected argument ${JSON.stringify(positionals[0])}`);
  const leaseMs = flagValue('--lease', values.lease, LEASE) ?? LEASE_TTL_MS;
  const maxRuns = flagValue('--max-runs', values['max-runs'], POSITIVE_WHOLE_NUMBER) ?? null;
  const store = await openCliStore(values.db, { create: true });
  const deps = systemEngineDeps(store);
  const say = (line: string): void => void process.stderr.write(`${line}\n`);
  const claimer = new RunClaimer(deps, { leaseMs, maxRuns, say });
  let signals = 0;
  const onSignal = (): void => {
    signals += 1;
    if (signals === 1) say(`overseer worker: draining (${String(claimer.runIds.length)} runs): claiming nothing more; a second signal hands every run back now`);
    // Either way `claimer.done` settles once it holds no run; a failure there is what ends the command.
    (signals === 1 ? claimer.drain() : claimer.stop()).catch(() => undefined);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await claimer.start();
    say(`overseer worker: ${claimer.ownerId} waiting for runs (lease ${String(leaseMs)}ms${maxRuns === null ? '' : `, at most ${String(maxRuns)} at a time`})`);
    await claimer.done;
    say('overseer worker: stopped');
    return 0;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    deps.driver.close?.();
    await store.close();
  }
}
