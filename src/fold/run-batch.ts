/**
 * Turns input events into the batch one append writes: each event is folded, and the actions that
 * only produce more events (spawn, cancel, task.finished, announcements) are expanded into the same
 * batch, so a cause and its consequences are one atomic append. Whoever writes to a run — its engine,
 * or `approve`/`cancel` from another process — builds batches this way; a reader of a batch someone
 * else wrote therefore only performs its effects and never expands it again.
 */
import type { NewEvent, StoredEvent } from '../store/event-store.js';
import { requiredGates, type GreenContractPacket } from '../gates/quality-gates.js';
import type { TrustResolver } from '../gates/trust-resolver.js';
import { packetOf } from './packet-spec.js';
import { trustInput, trustResolverFor } from './run-trust.js';
import { isServiceWorker } from './service-worker.js';
import { parseRunEvent, type RunEvent } from './run-events.js';
import { applyEvent, cloneRunState, LogMismatchError, type MachineAction, type RunState } from './run-state.js';

export interface CommittedEvent extends RunEvent {
  stateAfter: unknown;
  at: Date;
}

export interface Batch {
  state: RunState;
  events: NewEvent[];
  committed: CommittedEvent[];
  /** Effects for the engine to perform once the batch is stored. */
  effects: MachineAction[];
}

const EXPANDED = new Set(['spawnWorkers', 'cancelWorkers', 'reportOutcome', 'announce']);

/** How a batch decides trust: the run's recorded policy unless a caller overrides it. */
export type TrustFor = (state: RunState) => TrustResolver;
const recordedPolicy: TrustFor = (state) => trustResolverFor(state.run);

/**
 * A trust decision the resolver can make at once (a policy, a flag) is appended in the same batch as
 * the worker it concerns; one that needs a service (a promise) stays an effect.
 */
function decideNow(action: MachineAction, state: RunState, trustFor: TrustFor): RunEvent[] | null {
  const workerId = action.workerId as string;
  if (isServiceWorker(state, workerId)) return null;
  const verdict = trustFor(state)(trustInput(state, workerId, 'shell'));
  if (verdict instanceof Promise) return null;
  return [{ type: 'trust.decided', machine: 'worker', workerId, payload: { decision: verdict.decision, source: verdict.source } }];
}

/** The event that creates a task's worker, as the workflow's `spawnWorkers` asks for it. */
export function spawnEvent(taskId: string, state: RunState, random: () => number): RunEvent {
  const packet = packetOf(state, taskId);
  return {
    type: 'worker.spawned',
    machine: 'worker',
    workerId: taskId,
    payload: {
      input: {
        workerId: taskId,
        timeoutMs: packet.timeoutMs ?? null,
        hasGates: requiredGates(packet as GreenContractPacket).length > 0,
        ...(packet.recipes === undefined ? {} : { recipes: packet.recipes }),
        seed: Math.floor(random() * 2 ** 31),
      },
    },
  };
}

function followUps(action: MachineAction, state: RunState, random: () => number): RunEvent[] {
  switch (action.type) {
    case 'spawnWorkers':
      return (action.params['taskIds'] as string[]).map((taskId) => spawnEvent(taskId, state, random));
    case 'cancelWorkers':
      return (action.params['taskIds'] as string[])
        .filter((id) => state.workers[id]?.status === 'active')
        .map((id) => ({ type: 'worker.cancel', machine: 'worker', workerId: id, payload: { reason: 'the run stopped' } }));
    case 'announce': {
      const { type, ...payload } = action.params as { type: string | null } & Record<string, unknown>;
      return type === null ? [] : [{ type, machine: action.machine, workerId: action.workerId, payload }];
    }
    case 'reportOutcome': {
      const failure = action.workerId === null ? null : (state.workers[action.workerId]?.context.failure ?? null);
      return [
        {
          type: 'task.finished',
          machine: 'workflow',
          workerId: null,
          payload: {
            taskId: action.workerId,
            outcome: action.params['outcome'],
            escalation: action.params['escalation'],
            detail: failure === null ? null : `${failure.kind}: ${failure.detail}`,
          },
        },
      ];
    }
    default:
      return [];
  }
}

/** Folds the inputs and their follow-ups; inputs that change nothing (a late timer) are dropped. */
export function buildBatch(state: RunState, inputs: readonly RunEvent[], at: Date, random: () => number, trustFor: TrustFor = recordedPolicy): Batch {
  const queue = [...inputs];
  // One copy per batch, then changed in place: the engine keeps its own state until the append succeeds.
  const batch: Batch = { state: cloneRunState(state), events: [], committed: [], effects: [] };
  while (queue.length > 0) {
    const event = parseRunEvent(queue.shift() as RunEvent);
    const applied = applyEvent(batch.state, event, at, { inPlace: true });
    if (applied === null) continue;
    batch.state = applied.state;
    batch.events.push({ ...event, stateAfter: applied.stateAfter, createdAt: at });
    batch.committed.push({ ...event, stateAfter: applied.stateAfter, at });
    for (const action of applied.actions) {
      const decided = action.type === 'decideTrust' ? decideNow(action, batch.state, trustFor) : null;
      if (decided !== null) queue.push(...decided);
      else if (EXPANDED.has(action.type)) queue.push(...followUps(action, batch.state, random));
      else batch.effects.push(action);
    }
  }
  return batch;
}

/** Folds events another process stored; their follow-ups are already among them. */
export function absorbStored(state: RunState, stored: readonly StoredEvent[]): Batch {
  const batch: Batch = { state: cloneRunState(state), events: [], committed: [], effects: [] };
  for (const event of stored) {
    const input = parseRunEvent({ type: event.type, payload: event.payload as Record<string, unknown>, machine: event.machine, workerId: event.workerId });
    const applied = applyEvent(batch.state, input, event.createdAt, { inPlace: true });
    if (applied === null) throw new LogMismatchError(`event ${String(event.position)} (${event.type}) written by another process does not fit this run`);
    batch.state = applied.state;
    batch.committed.push({ ...input, stateAfter: applied.stateAfter, at: event.createdAt });
    batch.effects.push(...applied.actions.filter((a) => !EXPANDED.has(a.type)));
  }
  return batch;
}
