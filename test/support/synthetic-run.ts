/**
 * A run's log written by hand, for tests of what is drawn or printed from a log without a store:
 * `logOf([['workflow', null, 'run.started', 'planning'], ...])`. Hashes are placeholders.
 */
import type { MachineKind, StoredEvent } from '../../src/store/event-store.js';

export type LogLine = [machine: MachineKind, workerId: string | null, type: string, stateAfter: unknown, payload?: unknown];

export function logOf(lines: readonly LogLine[], streamId = 'synthetic'): StoredEvent[] {
  return lines.map(([machine, workerId, type, stateAfter, payload], index) => ({
    position: BigInt(index + 1),
    txId: String(index + 1),
    streamId,
    version: index + 1,
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, index)),
    hash: `hash-${String(index + 1)}`,
    prevHash: index === 0 ? null : `hash-${String(index)}`,
    epoch: 0n,
    type,
    payload: payload ?? {},
    machine,
    workerId,
    stateAfter,
  }));
}

/** A worker that fails once, waits out its back-off, and succeeds; `id` may be any text a plan allows. */
export function retriedWorker(id: string): LogLine[] {
  return [
    ['worker', id, 'worker.spawned', 'spawned'],
    ['worker', id, 'trust.decided', 'trusted'],
    ['worker', id, 'process.started', 'running'],
    ['worker', id, 'process.exited', 'retrying'],
    ['worker', id, 'recovery.attempted', 'retrying'],
    ['worker', id, 'timer.fired', 'trusted', { timerId: 'xstate.after.retryBackoff.worker.retrying', event: { type: 'xstate.after.retryBackoff.worker.retrying' } }],
    ['worker', id, 'process.started', 'running'],
    ['worker', id, 'process.exited', 'done'],
  ];
}

/** Ids a plan may give its packets that mean something in Mermaid or DOT. */
export const AWKWARD_IDS = ['say "hi"; drop', 'a --> b %% c', 'back\\slash\nnew line', '#35; {x} <b>', 'état:1'] as const;
