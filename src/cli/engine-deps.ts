/** What an engine started from the command line runs with: the system clock and shell workers. */
import { systemClock } from '../runtime/clock.js';
import type { EngineDeps } from '../runtime/run-engine.js';
import type { EventStore } from '../store/event-store.js';
import { createShellDriver } from '../workers/shell-driver.js';

export function engineDeps(store: EventStore): Promise<EngineDeps> {
  return Promise.resolve({ store, clock: systemClock, driver: createShellDriver(), random: Math.random });
}
