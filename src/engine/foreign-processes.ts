/**
 * Which of a run's running workers were started on another host: an engine that takes a run over
 * from an engine elsewhere cannot wait for, find or kill those processes (their pids mean nothing
 * here), so it records them lost and the `worker_lost` recipe decides (retry, by default). Workers of
 * its own host it reattaches to, as after a crash. A process recorded without a host (logs written
 * before hosts were) counts as this host's, as it always did.
 */
import type { RunState } from '../fold/run-state.js';
import { hostId } from '../os/host-id.js';
import type { EventStore } from '../store/event-store.js';

/** Worker id → the other host its current process runs on. */
export async function foreignProcesses(store: EventStore, state: RunState): Promise<Map<string, string>> {
  const running = Object.entries(state.workers).filter(([, worker]) => worker.status === 'active' && worker.value === 'running' && worker.context.process !== null);
  const foreign = new Map<string, string>();
  if (running.length === 0) return foreign;
  const hosts = new Map<string, string | undefined>();
  // The whole log (a rebuild may have started from a snapshot, which keeps no hosts), with only process.started's payloads.
  for (const event of await store.readStream(state.run.runId, { payloadTypes: ['process.started'] })) {
    if (event.type !== 'process.started' || event.workerId === null) continue;
    const host = (event.payload as { host?: unknown } | null)?.host;
    hosts.set(event.workerId, typeof host === 'string' ? host : undefined);
  }
  const here = hostId();
  for (const [workerId] of running) {
    const host = hosts.get(workerId);
    if (host !== undefined && host !== here) foreign.set(workerId, host);
  }
  return foreign;
}
