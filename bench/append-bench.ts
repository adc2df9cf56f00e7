/**
 * Appends: Overseer's `EventStore.append` against raw parameterised INSERTs of the same rows.
 *
 * The raw table `raw_events` has the same columns as the store's `events` (bigint identity primary
 * key, text, int, jsonb payload, jsonb state, timestamptz, text hash) and nothing else: no unique
 * (stream_id, version) index, no (tx_id, position) index, no tx_id default, no NOTIFY trigger. Those,
 * plus Kysely, the hash chain (sha256 over canonical JSON) and the head cache, are what Overseer
 * costs over a bare INSERT, and the ratio measures exactly that. The raw side JSON-encodes each
 * payload per insert (any raw app must) but does not hash: it writes a constant 64-hex-char string.
 *
 * Both sides run autocommit statements one after another (no explicit transaction), through the
 * driver kind of their backend (see lib/targets.ts), with the same event per row.
 */
import { randomBytes } from 'node:crypto';
import type { EventStore, NewEvent } from '../src/store/event-store.js';
import { interleave, median, medianRatio, timeMs } from './lib/measure.js';
import type { RawDb } from './lib/targets.js';

export const RAW_TABLE_DDL = `
  create table raw_events (
    position bigint generated always as identity primary key,
    stream_id text not null,
    version int not null,
    type text not null,
    payload jsonb not null,
    machine text not null,
    worker_id text null,
    state_after jsonb null,
    created_at timestamptz not null,
    hash text not null,
    prev_hash text null
  )`;

const COLUMNS = ['stream_id', 'version', 'type', 'payload', 'machine', 'worker_id', 'state_after', 'created_at', 'hash', 'prev_hash'] as const;
const FAKE_HASH = 'f'.repeat(64);

export interface AppendFigures {
  /** Events per second, Overseer side (median over rounds). */
  overseerPerSec: number;
  /** Events per second, raw side (median over rounds). */
  rawPerSec: number;
  /** Median over rounds of Overseer throughput / raw throughput (>1: Overseer faster). */
  ratio: number;
  rounds: number;
}

/** A worker event the size of what the engine writes most (`process.started`). */
function benchEvent(index: number): NewEvent {
  const workerId = `task-${String(index % 500)}`;
  return {
    type: 'process.started',
    machine: 'worker',
    workerId,
    payload: {
      pid: 10_000 + index,
      processStartTime: String(8_000_000 + index),
      logFile: `/tmp/bench/.overseer/runs/r0b3nch/${workerId}.1.log`,
      statusFile: `/tmp/bench/.overseer/runs/r0b3nch/${workerId}.1.status`,
      attempt: 1,
    },
    stateAfter: 'running',
  };
}

function rawParams(streamId: string, version: number, event: NewEvent): unknown[] {
  return [
    streamId,
    version,
    event.type,
    JSON.stringify(event.payload),
    event.machine,
    event.workerId,
    JSON.stringify(event.stateAfter),
    new Date(),
    FAKE_HASH,
    version === 1 ? null : FAKE_HASH,
  ];
}

function insertText(rows: number): string {
  const tuples: string[] = [];
  for (let row = 0; row < rows; row += 1) {
    const base = row * COLUMNS.length;
    tuples.push(`(${COLUMNS.map((_, column) => `$${String(base + column + 1)}`).join(', ')})`);
  }
  return `insert into raw_events (${COLUMNS.join(', ')}) values ${tuples.join(', ')}`;
}

function streamName(kind: string, round: number): string {
  return `bench-${kind}-${String(round)}-${randomBytes(3).toString('hex')}`;
}

async function overseerAppends(store: EventStore, kind: string, round: number, calls: number, perCall: number): Promise<number> {
  const stream = streamName(kind, round);
  return timeMs(async () => {
    let version = 0;
    for (let call = 0; call < calls; call += 1) {
      const events: NewEvent[] = [];
      for (let i = 0; i < perCall; i += 1) events.push(benchEvent(version + i));
      const result = await store.append(stream, version, events);
      version = result.nextVersion;
    }
  });
}

async function rawInserts(raw: RawDb, kind: string, round: number, calls: number, perCall: number): Promise<number> {
  const stream = streamName(kind, round);
  const text = insertText(perCall);
  return timeMs(async () => {
    let version = 0;
    for (let call = 0; call < calls; call += 1) {
      const params: unknown[] = [];
      for (let i = 0; i < perCall; i += 1) {
        version += 1;
        params.push(...rawParams(stream, version, benchEvent(version - 1)));
      }
      await raw.query(text, params);
    }
  });
}

/**
 * `calls` calls of `perCall` events each, per side per round, after a short warm-up of both sides
 * (JIT, prepared plans, connections).
 */
export async function benchAppends(store: EventStore, raw: RawDb, options: { calls: number; perCall: number; rounds: number }): Promise<AppendFigures> {
  const { calls, perCall, rounds } = options;
  const kind = perCall === 1 ? 'single' : 'batch';
  const warmCalls = Math.max(2, Math.ceil(calls / 10));
  await overseerAppends(store, `${kind}-warm`, 0, warmCalls, perCall);
  await rawInserts(raw, `${kind}-warm`, 0, warmCalls, perCall);
  const events = calls * perCall;
  const measured = await interleave(
    rounds,
    (round) => overseerAppends(store, kind, round, calls, perCall),
    (round) => rawInserts(raw, kind, round, calls, perCall),
  );
  return {
    overseerPerSec: (events * 1000) / median(measured.overseerMs),
    rawPerSec: (events * 1000) / median(measured.rawMs),
    // Throughput ratio = raw time / Overseer time, per round.
    ratio: medianRatio(measured.rawMs, measured.overseerMs),
    rounds,
  };
}
