/** What an engine in an `overseer` process or a program's own runs with: the system clock and shell workers. */
import { systemClock } from './clock.js';
import type { EngineDeps } from './run-engine.js';
import type { EventStore } from '../store/event-store.js';
import { forkServerLauncher } from '../os/fork-server-launcher.js';
import { createShellDriver } from '../workers/shell-driver.js';

/** Workers start through a fork server (see fork-server-launcher.ts). Close the driver when done. */
export function systemEngineDeps(store: EventStore): EngineDeps {
  return { store, clock: systemClock, driver: createShellDriver({ launcher: forkServerLauncher() }), random: Math.random };
}
