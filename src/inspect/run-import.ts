/**
 * `overseer import`: a run's exported log (event-line.ts) loaded into a store as it was — its run id,
 * its events in order with their times and hashes. All of it is checked before anything is written,
 * and the first problem is named by its line: a line that is not an event, a broken hash chain, a
 * run this store already has, machines this build does not know, or events the machines would not
 * have recorded. Global positions are the store's own: they are assigned anew, in the log's order.
 */
import type { MachineRegistry } from '../../machines/versions.js';
import { MachineVersionError } from '../fold/machine-set.js';
import { InvalidEventError } from '../fold/run-events.js';
import { LogMismatchError, type RunState } from '../fold/run-state.js';
import { deriveRunStatus } from '../fold/run-status.js';
import { findChainBreak } from '../store/event-hash.js';
import type { EventStore, RunStatus, StoredEvent } from '../store/event-store.js';
import { ConcurrencyError } from '../store/store-errors.js';
import { eventLineSchema } from './event-line.js';
import { replaySteps } from './replay.js';

export class ImportError extends Error {
  readonly code = 'IMPORT' as const;
  constructor(
    readonly line: number,
    detail: string,
  ) {
    super(`line ${String(line)}: ${detail}`);
  }
}

const BREAKS = {
  version_gap: 'its version does not follow the previous line (an event is missing or out of place)',
  prev_hash_mismatch: 'it does not link to the previous event',
  hash_mismatch: 'its content does not match its hash (it was changed after it was written)',
} as const;

export interface ImportedRun {
  runId: string;
  events: number;
  status: RunStatus;
}

interface ParsedLine {
  line: number;
  event: StoredEvent;
}

function parseLines(text: string): ParsedLine[] {
  const lines = text.split('\n');
  // The trailing newline of the last line is not a line of its own.
  if (lines.at(-1) === '') lines.pop();
  if (lines.length === 0) throw new ImportError(1, 'the file holds no events');
  const parsed: ParsedLine[] = [];
  let runId = '';
  for (const [index, text] of lines.entries()) {
    const line = index + 1;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new ImportError(line, `not JSON (${error instanceof Error ? error.message : String(error)})`);
    }
    const result = eventLineSchema.safeParse(json);
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new ImportError(line, `not an event: ${issue?.path.join('.') || '(the line)'}: ${issue?.message ?? 'invalid'}`);
    }
    const e = result.data;
    if (index === 0) {
      const id = (e.payload as { runId?: unknown } | null)?.runId;
      if (e.type !== 'run.started' || typeof id !== 'string' || id === '') throw new ImportError(line, 'a run\'s log starts with its run.started event');
      runId = id;
    }
    parsed.push({
      line,
      event: {
        position: BigInt(e.position),
        txId: '0',
        streamId: runId,
        version: e.version,
        createdAt: new Date(e.at),
        type: e.type,
        machine: e.machine,
        workerId: e.workerId,
        stateAfter: e.stateAfter ?? null,
        payload: e.payload ?? null,
        hash: e.hash,
        // Epochs count claims in the store that wrote them; here the run has not been claimed yet.
        epoch: 0n,
        // The export leaves the link out: it is the hash of the line before, which the chain check holds it to.
        prevHash: index === 0 ? null : (parsed[index - 1]?.event.hash ?? null),
      },
    });
  }
  return parsed;
}

/** The run the log folds to, through replay (every recorded state checked); the failing line is named. */
function foldLog(parsed: readonly ParsedLine[], registry: MachineRegistry | undefined): RunState {
  let state: RunState | undefined;
  let folded = 0;
  try {
    // A file is input from outside: every payload is parsed, as for anything the engine takes in.
    for (const step of replaySteps(parsed.map((p) => p.event), registry, 'outside')) {
      state = step.state;
      folded++;
    }
  } catch (error) {
    if (error instanceof LogMismatchError || error instanceof MachineVersionError || error instanceof InvalidEventError) {
      throw new ImportError(parsed[folded]?.line ?? 1, error.message);
    }
    throw error;
  }
  return state as RunState;
}

/** Checks the whole log, then writes the run and all its events in one statement; ImportError otherwise. */
export async function importRun(store: EventStore, text: string, registry?: MachineRegistry): Promise<ImportedRun> {
  const parsed = parseLines(text);
  const events = parsed.map((p) => p.event);
  const broken = findChainBreak(events);
  if (broken !== null) {
    const at = parsed[events.indexOf(broken.event)]?.line ?? 1;
    throw new ImportError(at, `hash chain broken at version ${String(broken.event.version)} (${broken.event.type}): ${BREAKS[broken.reason]} [${broken.reason}]`);
  }
  const state = foldLog(parsed, registry);
  const runId = state.run.runId;
  const present = `run ${runId} is already in this store`;
  if ((await store.getRun(runId)) !== undefined) throw new ImportError(1, present);
  const status = deriveRunStatus(state);
  try {
    // The store links and hashes what it is given exactly as the log did: same fields, same chain.
    await store.startRun(
      { runId, objective: state.run.objective, cwd: state.run.cwd, machineVersion: state.run.machineVersion, status },
      events.map((e) => ({ type: e.type, payload: e.payload, machine: e.machine, workerId: e.workerId, stateAfter: e.stateAfter, createdAt: e.createdAt })),
    );
  } catch (error) {
    if (error instanceof ConcurrencyError) throw new ImportError(1, present);
    throw error;
  }
  return { runId, events: events.length, status };
}
