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
import { defaultWorkerKinds, type WorkerKinds } from '../workers/kinds/worker-kinds.js';
import { trustInput, trustResolverFor } from './run-trust.js';
import { workerKindOf } from './worker-kind-of.js';
import { parseRunEvent, type RunEvent } from './run-events.js';
import type { ActionOf, ActionType, MachineAction } from './machine-actions.js';
import { applyEvent, cloneRunState, LogMismatchError, type RunState } from './run-state.js';

export interface CommittedEvent extends RunEvent {
  stateAfter: unknown;
  at: Date;
}

export interface Batch {
  state: RunState;
  events: NewEvent[];
  committed: CommittedEvent[];
  /** Effects for the engine to perform once the batch is stored. */
  effects: EngineAction[];
}

/** How a batch decides trust: the run's recorded policy unless a caller overrides it. */
export type TrustFor = (state: RunState) => TrustResolver;
const recordedPolicy: TrustFor = (state) => trustResolverFor(state.run);

/**
 * A trust decision the resolver can make at once (a policy, a flag) is appended in the same batch as
 * the worker it concerns; one that needs a service (a promise) stays an effect.
 */
function decideNow(action: ActionOf<'decideTrust'>, state: RunState, trustFor: TrustFor, kinds: WorkerKinds): RunEvent[] | null {
  const workerId = action.workerId;
  const kind = workerKindOf(state, workerId, kinds);
  if (kind.trust !== 'policy') return null;
  const verdict = trustFor(state)(trustInput(state, workerId, kind.name));
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

/** Events an action stands for, appended in the same batch as the event that asked for it. */
export type FollowUp<T extends ActionType> = (action: ActionOf<T>, state: RunState, random: () => number) => RunEvent[];

/** A place for every action the machines declare (see ACTION_ROUTES). */
export type ActionRoutes = { [T in ActionType]: FollowUp<T> | 'effect' | 'context' };

/**
 * Where each action the machines declare is handled: expanded into events here (a function), performed
 * by the engine once the batch is stored ('effect'), or nowhere outside the machine, because it only
 * assigns to the machine's context inside the transition ('context'). Exhaustive: a new machine action
 * does not compile until it is given a place, and an 'effect' until the engine has a handler for it.
 */
const ACTION_ROUTES = {
  startPlanning: 'effect',
  startBootstrap: 'effect',
  runFinished: 'effect',
  decideTrust: 'effect',
  startProcess: 'effect',
  killProcess: 'effect',
  runGates: 'effect',
  markDispatched: 'context',
  recordFailure: 'context',
  spawnWorkers: (action, state, random) => action.params.taskIds.map((taskId) => spawnEvent(taskId, state, random)),
  cancelWorkers: (action, state) =>
    action.params.taskIds
      .filter((id) => state.workers[id]?.status === 'active')
      .map((id) => ({ type: 'worker.cancel', machine: 'worker', workerId: id, payload: { reason: 'the run stopped' } })),
  announce: (action) => {
    const { type, ...payload } = action.params;
    return type === null ? [] : [{ type, machine: action.machine, workerId: action.workerId, payload }];
  },
  reportOutcome: (action, state) => {
    const failure = state.workers[action.workerId]?.context.failure ?? null;
    return [
      {
        type: 'task.finished',
        machine: 'workflow',
        workerId: null,
        payload: {
          taskId: action.workerId,
          outcome: action.params.outcome,
          escalation: action.params.escalation,
          detail: failure === null ? null : `${failure.kind}: ${failure.detail}`,
        },
      },
    ];
  },
} as const satisfies ActionRoutes;

type Routes = typeof ACTION_ROUTES;
/** The actions the engine performs (src/engine/run-engine.ts has one handler for each). */
export type EffectType = { [T in ActionType]: Routes[T] extends 'effect' ? T : never }[ActionType];
export type EngineAction = ActionOf<EffectType>;

export function isEffect(action: MachineAction): action is EngineAction {
  return ACTION_ROUTES[action.type] === 'effect';
}

/** The events an expanded action stands for; none for an effect (and for a context-only action, which never leaves its machine). */
function followUps(action: MachineAction, state: RunState, random: () => number): RunEvent[] {
  const route = ACTION_ROUTES[action.type];
  // The table's key is the action's own type, so its handler takes exactly this action.
  return typeof route === 'function' ? (route as (action: MachineAction, state: RunState, random: () => number) => RunEvent[])(action, state, random) : [];
}

const DEFAULT_KINDS = defaultWorkerKinds();

/** Folds the inputs and their follow-ups; inputs that change nothing (a late timer) are dropped. */
export function buildBatch(
  state: RunState,
  inputs: readonly RunEvent[],
  at: Date,
  random: () => number,
  trustFor: TrustFor = recordedPolicy,
  kinds: WorkerKinds = DEFAULT_KINDS,
): Batch {
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
      const decided = action.type === 'decideTrust' ? decideNow(action, batch.state, trustFor, kinds) : null;
      if (decided !== null) queue.push(...decided);
      else if (isEffect(action)) batch.effects.push(action);
      else queue.push(...followUps(action, batch.state, random));
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
    batch.effects.push(...applied.actions.filter(isEffect));
  }
  return batch;
}
