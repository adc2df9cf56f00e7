/** What an engine started from the command line runs with: the system clock, shell workers, the trust policy. */
import { systemClock } from '../runtime/clock.js';
import type { EngineDeps } from '../runtime/run-engine.js';
import type { EventStore } from '../store/event-store.js';
import { defaultTrustResolver } from '../gates/trust-resolver.js';
import { createShellDriver } from '../workers/shell-driver.js';

export function engineDeps(store: EventStore, _policy: unknown): Promise<EngineDeps> {
  return Promise.resolve({ store, clock: systemClock, driver: createShellDriver(), trust: defaultTrustResolver, random: Math.random });
}
