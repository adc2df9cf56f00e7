/**
 * The run's events as the page lists them: by range of stream versions, a page at a time, each with
 * a one-line preview of its payload; the payload itself only when asked for (a run's first events
 * carry every packet of the plan, megabytes for a fleet).
 */
import { stateText } from '../fold/state-value.js';
import type { MachineKind, StoredEvent } from '../store/event-store.js';

export interface EventView {
  version: number;
  /** Global position, as a string (JSON has no 64-bit integers). */
  position: string;
  at: string;
  type: string;
  machine: MachineKind;
  workerId: string | null;
  stateAfter: string;
  /** The payload as JSON, cut to PREVIEW_CHARS. */
  preview: string;
  payload?: unknown;
}

export const EVENT_PAGE_MAX = 500;
const PREVIEW_CHARS = 120;

function preview(payload: unknown): string {
  const text = JSON.stringify(payload) ?? '';
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS - 1)}…` : text;
}

export function eventView(event: StoredEvent, withPayload: boolean): EventView {
  return {
    version: event.version,
    position: event.position.toString(),
    at: event.createdAt.toISOString(),
    type: event.type,
    machine: event.machine,
    workerId: event.workerId,
    stateAfter: stateText(event.stateAfter),
    preview: preview(event.payload),
    ...(withPayload ? { payload: event.payload } : {}),
  };
}
