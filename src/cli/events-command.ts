/**
 * `overseer events RUN_ID [--worker ID] [--type PREFIX] [--since POSITION|ISO-TIME] [--follow] [--json]`:
 * the run's log, one event per line (a table, or one JSON object per line); --follow keeps printing
 * new events until the run ends.
 */
import { COMMANDS } from './command-table.js';
import { endsRun } from '../fold/run-end.js';
import { eventLine as exportLine } from '../inspect/event-line.js';
import type { StoredEvent } from '../store/event-store.js';
import { withStore } from './cli-store.js';
import { matchesFilter } from '../inspect/event-filter.js';
import { checkWorkers, parseEventFilter } from './event-filter.js';
import { findRun } from './find-run.js';
import { followEvents, interruption } from './follow-events.js';
import { parseFlags } from './parse-flags.js';
import { EXIT, UsageError } from './usage-error.js';

const flags = COMMANDS.events.flags;

const USAGE = 'usage: overseer events RUN_ID [--worker ID] [--type PREFIX] [--since POSITION|ISO-TIME] [--follow] [--json]';

function short(payload: unknown): string {
  const text = JSON.stringify(payload);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function eventLine(e: StoredEvent, json: boolean): string {
  if (json) return `${JSON.stringify(exportLine(e))}\n`;
  return `${e.position.toString().padStart(6)}  ${e.createdAt.toISOString().slice(11, 23)}  ${(e.workerId ?? 'workflow').padEnd(14)} ${e.type.padEnd(20)} ${String(JSON.stringify(e.stateAfter)).padEnd(16)} ${short(e.payload)}\n`;
}

export async function eventsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('events', args, flags);
  const [runId, extra] = positionals;
  if (runId === undefined) throw new UsageError(`overseer events: which run? ${USAGE}`);
  if (extra !== undefined) throw new UsageError(`overseer events: one run at a time, got "${extra}" too; ${USAGE}`);
  const filter = parseEventFilter(values);
  const json = values.json === true;
  const print = (e: StoredEvent) => {
    if (matchesFilter(filter, e)) process.stdout.write(eventLine(e, json));
  };
  const interrupted = values.follow === true ? interruption() : undefined;
  const read = await withStore(values.db, async (store) => {
    await findRun(store, runId);
    const events = await store.readStream(runId);
    checkWorkers(filter, runId, events);
    for (const e of events) print(e);
    return { version: events.at(-1)?.version ?? 0, ended: events.some(endsRun) };
  });
  if (interrupted === undefined) return 0;
  if (read.ended) {
    interrupted.dispose();
    return 0;
  }
  const end = await followEvents(values.db, runId, read.version, print, interrupted);
  return end === 'interrupted' ? EXIT.interrupted : 0;
}
