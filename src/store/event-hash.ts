import { createHash } from 'node:crypto';
import type { StoredEvent } from './event-store.js';

/** The fields an event's hash covers: everything the event says, and its predecessor's hash. */
export interface HashedFields {
  streamId: string;
  version: number;
  type: string;
  payload: unknown;
  machine: string;
  workerId: string | null;
  stateAfter: unknown;
  createdAt: Date;
  prevHash: string | null;
}

/**
 * JSON with object keys sorted at every depth. Values go through JSON first, so the text is the same
 * before and after a jsonb round trip (which reorders keys and drops `undefined`).
 */
export function canonicalJson(value: unknown): string {
  const json = JSON.stringify(value);
  return json === undefined ? 'null' : JSON.stringify(sortKeys(JSON.parse(json)));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) sorted[key] = sortKeys((value as Record<string, unknown>)[key]);
  return sorted;
}

/** sha256 (hex) of the canonical JSON of the event's fields; createdAt as an ISO string (ms). */
export function hashEvent(fields: HashedFields): string {
  const text = canonicalJson({
    streamId: fields.streamId,
    version: fields.version,
    type: fields.type,
    payload: fields.payload ?? null,
    machine: fields.machine,
    workerId: fields.workerId,
    stateAfter: fields.stateAfter ?? null,
    createdAt: fields.createdAt.toISOString(),
    prevHash: fields.prevHash,
  });
  return createHash('sha256').update(text).digest('hex');
}

export const CHAIN_BREAKS = ['version_gap', 'prev_hash_mismatch', 'hash_mismatch'] as const;
export type ChainBreakReason = (typeof CHAIN_BREAKS)[number];

export interface ChainBreak {
  event: StoredEvent;
  reason: ChainBreakReason;
}

/** The first event of a stream (read in version order) whose version, link or hash is wrong. */
export function findChainBreak(events: readonly StoredEvent[]): ChainBreak | null {
  let previous: StoredEvent | undefined;
  for (const [index, event] of events.entries()) {
    if (event.version !== index + 1) return { event, reason: 'version_gap' };
    if (event.prevHash !== (previous?.hash ?? null)) return { event, reason: 'prev_hash_mismatch' };
    if (event.hash !== hashEvent(event)) return { event, reason: 'hash_mismatch' };
    previous = event;
  }
  return null;
}

/** The first broken event of a stream, or null when the whole chain holds. */
export function verifyChain(events: readonly StoredEvent[]): StoredEvent | null {
  return findChainBreak(events)?.event ?? null;
}
