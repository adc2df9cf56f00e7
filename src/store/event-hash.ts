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
 *
 * Every event is hashed and stored as this text, so it is on the append hot path: values of the
 * usual depth are written by plain recursion, which allocates a fraction of what the general
 * writer's frames, stack and cycle set do (a tenth of an engine's garbage for a run of short tasks).
 * A value nested deeper than FAST_DEPTH (or a cycle, which never ends) is written by the general
 * writer, which has a stack of its own, not recursion: a value nested deeper than the call stack
 * allows (a few thousand levels) still hashes, so verifying a stored run can never overflow. How
 * deep data may come in at all is limited where it enters (see src/rpc/json-nesting.ts).
 */
export function canonicalJson(value: unknown): string {
  const root = resolve(value, '');
  if (typeof root !== 'object') return root ?? 'null';
  try {
    return writeNested(root, 0);
  } catch (error) {
    if (error !== TOO_DEEP) throw error;
    return writeByStack(root);
  }
}

const FAST_DEPTH = 64;
const TOO_DEEP = new Error('nested deeper than the recursive writer goes');

/** canonicalJson of an array or object (already resolved), by recursion; throws TOO_DEEP past FAST_DEPTH. */
function writeNested(source: object, depth: number): string {
  if (depth > FAST_DEPTH) throw TOO_DEEP;
  if (Array.isArray(source)) {
    let text = '[';
    for (let index = 0; index < source.length; index++) {
      const member = resolve(source[index], String(index));
      text += `${index > 0 ? ',' : ''}${typeof member === 'object' ? writeNested(member, depth + 1) : (member ?? 'null')}`;
    }
    return `${text}]`;
  }
  const keys = sortedKeys(source);
  let text = '{';
  let written = false;
  for (const key of keys) {
    const member = resolve((source as Record<string, unknown>)[key], key);
    const memberText = typeof member === 'object' ? writeNested(member, depth + 1) : member;
    if (memberText === undefined) continue;
    text += `${written ? ',' : ''}${quotedKey(key)}:${memberText}`;
    written = true;
  }
  return `${text}}`;
}

/**
 * The object's keys in the order `sort()` gives (UTF-16 code units, as `<` compares strings); small
 * objects, the usual case, are sorted in place without the temporary storage `sort()` allocates.
 */
function sortedKeys(source: object): string[] {
  const keys = Object.keys(source);
  if (keys.length > 16) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i] as string;
    let j = i - 1;
    while (j >= 0 && (keys[j] as string) > key) {
      keys[j + 1] = keys[j] as string;
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
}

/** Event payloads and states use few distinct keys: each is quoted once. */
const quotedKeys = new Map<string, string>();
const MAX_QUOTED_KEYS = 4096;

function quotedKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = JSON.stringify(key);
    if (quotedKeys.size < MAX_QUOTED_KEYS) quotedKeys.set(key, quoted);
  }
  return quoted;
}

/** canonicalJson of an array or object (already resolved), with a stack of its own: any depth. */
function writeByStack(root: object): string {
  const stack = [openFrame(root)];
  const path = new Set<object>([root]);
  for (;;) {
    const top = stack[stack.length - 1] as Frame;
    const keys = top.keys;
    if (top.next < (keys === null ? (top.source as unknown[]).length : keys.length)) {
      const index = top.next++;
      const key = keys === null ? String(index) : (keys[index] as string);
      const member = resolve(keys === null ? (top.source as unknown[])[index] : (top.source as Record<string, unknown>)[key], key);
      if (typeof member !== 'object') {
        append(top, key, member);
        continue;
      }
      // JSON.stringify refuses a cycle; written by hand, it would never end.
      if (path.has(member)) throw new TypeError('an event cannot hold a cycle: JSON has no such value');
      path.add(member);
      top.pendingKey = key;
      stack.push(openFrame(member));
      continue;
    }
    stack.pop();
    path.delete(top.source);
    const text = `${top.text}${keys === null ? ']' : '}'}`;
    const parent = stack[stack.length - 1];
    if (parent === undefined) return text;
    append(parent, parent.pendingKey, text);
  }
}

/** An array or object being written: its text so far and the next member to write. */
interface Frame {
  source: object;
  /** The object's keys, sorted; null for an array. */
  keys: string[] | null;
  next: number;
  written: number;
  text: string;
  /** The key of the member whose frame is above this one on the stack. */
  pendingKey: string;
}

function openFrame(source: object): Frame {
  const keys = Array.isArray(source) ? null : sortedKeys(source);
  return { source, keys, next: 0, written: 0, text: keys === null ? '[' : '{', pendingKey: '' };
}

/** A member's text: in an array what JSON cannot hold is null, in an object it is left out. */
function append(frame: Frame, key: string, text: string | undefined): void {
  if (frame.keys === null) {
    frame.text += `${frame.written++ > 0 ? ',' : ''}${text ?? 'null'}`;
  } else if (text !== undefined) {
    frame.text += `${frame.written++ > 0 ? ',' : ''}${quotedKey(key)}:${text}`;
  }
}

/**
 * A value's JSON text, or undefined where JSON has no value for it; an array or object (after toJSON
 * and unboxing) comes back as itself, to be written member by member.
 */
function resolve(input: unknown, key: string): string | undefined | object {
  let value = input;
  for (;;) {
    switch (typeof value) {
      case 'string':
        return JSON.stringify(value);
      case 'number':
        return Number.isFinite(value) ? String(value) : 'null';
      case 'boolean':
        return value ? 'true' : 'false';
      case 'bigint':
        throw new TypeError('an event cannot hold a BigInt: JSON has no such number');
      case 'object':
        if (value === null) return 'null';
        if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
          value = (value as { toJSON: (key: string) => unknown }).toJSON(key);
        } else if (value instanceof Number || value instanceof String || value instanceof Boolean) {
          value = value.valueOf();
        } else {
          return value;
        }
        continue;
      default:
        // undefined, functions, symbols: JSON has no value for them.
        return undefined;
    }
  }
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
