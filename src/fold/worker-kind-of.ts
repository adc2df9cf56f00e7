/**
 * Which kind runs a worker, and the worker as its kind sees it: facts about the run state, read the
 * same way live and on replay. The engine performs the worker's effects through this kind.
 */
import type { WorkerKind, WorkerView } from '../workers/kinds/worker-kind.js';
import type { WorkerKinds } from '../workers/kinds/worker-kinds.js';
import { packetCwd, packetOf, workerPacket } from './packet-spec.js';
import type { RunState } from './run-state.js';
import { runUsage } from './lane-record.js';

export function workerKindOf(state: RunState, workerId: string, kinds: WorkerKinds): WorkerKind {
  return kinds.kindFor(packetOf(state, workerId), state.run);
}

/** Null for a worker the run does not have. */
export function workerView(state: RunState, workerId: string): WorkerView | null {
  const worker = state.workers[workerId];
  if (worker === undefined) return null;
  const packet = packetOf(state, workerId);
  const { context } = worker;
  return {
    workerId,
    state: String(worker.value),
    attempt: context.attempt,
    trustSource: context.trustSource,
    process: context.process,
    packet: workerPacket(state.packets[workerId] as Record<string, unknown>),
    objective: packet.objective,
    command: packet.command ?? state.run.workerCommand,
    cwd: packetCwd(state.run, packet),
    env: packet.env ?? {},
    artifacts: state.artifacts,
    run: state.run,
    lane: state.lanes[workerId] ?? null,
    runUsage: runUsage(state.lanes),
  };
}
