/** `overseer events RUN_ID [--json]`: the run's log, one event per line. */
import type { StoredEvent } from '../store/event-store.js';
import { withStore } from './cli-store.js';
import { findRun } from './find-run.js';
import { parseFlags } from './parse-flags.js';
import { UsageError } from './usage-error.js';

const flags = { db: { type: 'string' }, json: { type: 'boolean' } } as const;

function short(payload: unknown): string {
  const text = JSON.stringify(payload);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function eventJson(e: StoredEvent) {
  return {
    position: e.position.toString(),
    version: e.version,
    at: e.createdAt.toISOString(),
    type: e.type,
    machine: e.machine,
    workerId: e.workerId,
    stateAfter: e.stateAfter,
    payload: e.payload,
    hash: e.hash,
  };
}

export async function eventsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('events', args, flags);
  const [runId] = positionals;
  if (runId === undefined) throw new UsageError('overseer events: which run? usage: overseer events RUN_ID [--json]');
  return withStore(values.db, async (store) => {
    await findRun(store, runId);
    const events = await store.readStream(runId);
    for (const e of events) {
      if (values.json === true) process.stdout.write(`${JSON.stringify(eventJson(e))}\n`);
      else
        process.stdout.write(
          `${e.position.toString().padStart(6)}  ${e.createdAt.toISOString().slice(11, 23)}  ${(e.workerId ?? 'workflow').padEnd(14)} ${e.type.padEnd(20)} ${String(JSON.stringify(e.stateAfter)).padEnd(16)} ${short(e.payload)}\n`,
        );
    }
    return 0;
  });
}
