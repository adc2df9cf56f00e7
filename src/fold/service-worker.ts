import { packetOf } from './packet-spec.js';
import type { RunState } from './run-state.js';

/** A packet with no command of its own goes to the worker service, when the run has one. */
export function isServiceWorker(state: RunState, workerId: string): boolean {
  const packet = packetOf(state, workerId);
  return packet.command === undefined && state.run.services.workerService !== null;
}
