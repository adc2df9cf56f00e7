import type { StoredEvent } from '../store/event-store.js';

/** Where an event stands and what it is: the fields every JSON view of an event starts with. */
export function eventHeader(e: StoredEvent) {
  return {
    position: e.position.toString(),
    version: e.version,
    at: e.createdAt.toISOString(),
    type: e.type,
    machine: e.machine,
    workerId: e.workerId,
  };
}
