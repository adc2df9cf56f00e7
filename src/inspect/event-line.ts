/**
 * The export format: one JSON object per line per event, in version order — what `overseer events
 * RUN --json` and `overseer export RUN` print and `overseer import` reads back (docs/inspect.md).
 * Stable: fields may be added, never renamed or dropped, and every earlier release's lines import.
 * The run id is not repeated per line: it is the `runId` of the first line's `run.started` payload.
 */
import * as z from 'zod';
import type { StoredEvent } from '../store/event-store.js';
import { eventHeader } from './event-header.js';

export function eventLine(e: StoredEvent) {
  return { ...eventHeader(e), stateAfter: e.stateAfter, payload: e.payload, hash: e.hash, epoch: Number(e.epoch) };
}

export const eventLineSchema = z.object({
  position: z.string().regex(/^[1-9]\d*$/, 'expected a whole number as text'),
  version: z.number().int().positive(),
  at: z.iso.datetime(),
  type: z.string().min(1),
  machine: z.enum(['workflow', 'worker']),
  workerId: z.string().nullable(),
  stateAfter: z.unknown(),
  payload: z.unknown(),
  hash: z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 in hex'),
  /** The lease epoch it was written under; lines of earlier releases have none. Not read back: see run-import.ts. */
  epoch: z.number().int().nonnegative().optional(),
});
export type EventLine = z.infer<typeof eventLineSchema>;
