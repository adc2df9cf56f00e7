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
 * JSON with object keys sorted at every depth, following JSON.stringify's rules for everything else
 * (toJSON, undefined and functions dropped from objects and null in arrays, non-finite numbers as
 * null). So the text is the same before and after a jsonb round trip, which reorders keys and drops
 * what JSON cannot hold.
 */
export function canonicalJson(value: unknown): string {
  return write(value, '') ?? 'null';
}

function write(input: unknown, key: string): string | undefined {
  switch (typeof input) {
    case 'string':
      return JSON.stringify(input);
    case 'number':
      return Number.isFinite(input) ? String(input) : 'null';
    case 'boolean':
      return input ? 'true' : 'false';
    case 'bigint':
      throw new TypeError('an event cannot hold a BigInt: JSON has no such number');
    case 'object':
      return input === null ? 'null' : writeObject(input, key);
    default:
      // undefined, functions, symbols: JSON has no value for them.
      return undefined;
  }
}

function writeObject(input: object, key: string): string | undefined {
  if (typeof (input as { toJSON?: unknown }).toJSON === 'function') return write((input as { toJSON: (key: string) => unknown }).toJSON(key), key);
  if (input instanceof Number || input instanceof String || input instanceof Boolean) return write(input.valueOf(), key);
  if (Array.isArray(input)) {
    let text = '[';
    for (let index = 0; index < input.length; index += 1) {
      if (index > 0) text += ',';
      text += write(input[index], String(index)) ?? 'null';
    }
    return `${text}]`;
  }
  let text = '{';
  for (const name of Object.keys(input).sort()) {
    const member = write((input as Record<string, unknown>)[name], name);
    if (member === undefined) continue;
    if (text.length > 1) text += ',';
    text += `${JSON.stringify(name)}:${member}`;
  }
  return `${text}}`;
}

/** sha256 (hex) of the canonical JSON of the event's fields; createdAt as an ISO string (ms). */
export function hashEvent(fields: HashedFields): string {
  return hashEventJson({ ...fields, payloadJson: canonicalJson(fields.payload ?? null), stateAfterJson: canonicalJson(fields.stateAfter ?? null) });
}

/** The fields with payload and state already in canonical JSON, so an append serialises them once. */
export interface CanonicalFields extends Omit<HashedFields, 'payload' | 'stateAfter'> {
  payloadJson: string;
  stateAfterJson: string;
}

/** Same text as canonicalJson of the whole record, written directly with its keys in sorted order. */
export function hashEventJson(fields: CanonicalFields): string {
  const text =
    `{"createdAt":${JSON.stringify(fields.createdAt.toISOString())}` +
    `,"machine":${JSON.stringify(fields.machine)}` +
    `,"payload":${fields.payloadJson}` +
    `,"prevHash":${fields.prevHash === null ? 'null' : JSON.stringify(fields.prevHash)}` +
    `,"stateAfter":${fields.stateAfterJson}` +
    `,"streamId":${JSON.stringify(fields.streamId)}` +
    `,"type":${JSON.stringify(fields.type)}` +
    `,"version":${String(fields.version)}` +
    `,"workerId":${fields.workerId === null ? 'null' : JSON.stringify(fields.workerId)}}`;
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
