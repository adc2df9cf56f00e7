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
import { parseRunEvent, storedRunEvent, type RunEvent } from './run-events.js';
import type { ActionOf, ActionType, MachineAction } from './machine-actions.js';
import { applyEvent, LogMismatchError, type RunState, type WorkerJournal, type WorkerSnapshot } from './run-state.js';

export interface CommittedEvent extends RunEvent {
  stateAfter: unknown;
  at: Date;
}

/**
 * What a batch folded, before it is stored. A batch works on a shallow copy of the state, so the
 * state it was built from stays as it was until the batch is adopted — but for the workers: copying
 * every worker per batch made a run quadratic in its workers, so the batch changes the shared workers
 * object while it folds and then puts it back (`settle`), keeping its own snapshots in `workers`.
 */
export interface Batch {
  /** The state after the batch, except its workers object: that one holds `workers` only once adopted. */
  state: RunState;
  /** The worker snapshots the batch created or changed. */
  workers: Map<string, WorkerSnapshot>;
  events: NewEvent[];
  committed: CommittedEvent[];
  /** Effects for the engine to perform once the batch is stored. */
  effects: EngineAction[];
}

/** How a batch decides trust: the run's recorded policy unless a caller overrides it. */
export type TrustFor = (state: RunState) => TrustResolver;
const recordedPolicy: TrustFor = (state) => trustResolverFor(state.run);

/**
 * Effects whose outcome is known at once go in the same batch as what asked for them, instead of one
 * append each: a trust decision the resolver can make at once (a policy, a flag), and a bootstrap with
 * no bootstrap service. One that needs a service (a promise) stays an effect.
 */
function settleNow(action: MachineAction, state: RunState, trustFor: TrustFor, kinds: WorkerKinds): RunEvent[] | null {
  if (action.type === 'startBootstrap') {
    if (state.run.services.bootstrap !== null) return null;
    return [{ type: 'bootstrap.completed', machine: 'workflow', workerId: null, payload: { phases: [], artifacts: {} } }];
  }
  if (action.type !== 'decideTrust') return null;
  const workerId = action.workerId;
  const kind = workerKindOf(state, workerId, kinds);
  if (kind.trust !== 'policy') return null;
  const verdict = trustFor(state)(trustInput(state, workerId, kind.name));
  if (verdict instanceof Promise) return null;
  return [{ type: 'trust.decided', machine: 'worker', workerId, payload: { decision: verdict.decision, source: verdict.source } }];
}

/**
 * Events built here from values already checked, whose payload parseRunEvent would only rebuild key
 * by key: a worker.spawned carries the packet's recipes (nine records of six fields), read from the
 * packet by packetOf with the same schemas, so parsing it again was most of the cost of folding one.
 */
const builtChecked = new WeakSet<RunEvent>();

/** The event that creates a task's worker, as the workflow's `spawnWorkers` asks for it. */
export function spawnEvent(taskId: string, state: RunState, random: () => number): RunEvent {
  const packet = packetOf(state, taskId);
  const event: RunEvent = {
    type: 'worker.spawned',
    machine: 'worker',
    workerId: taskId,
    payload: {
      input: {
        workerId: taskId,
        timeoutMs: packet.timeoutMs ?? null,
        hasGates: requiredGates(packet as GreenContractPacket).length > 0,
        ...(packet.agent === undefined ? {} : { lane: true }),
        ...(packet.recipes === undefined ? {} : { recipes: packet.recipes }),
        seed: Math.floor(random() * 2 ** 31),
      },
    },
  };
  builtChecked.add(event);
  return event;
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
  mergeLane: 'effect',
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

/** A batch over a shallow copy of `state`, and the journal of the workers it replaces. */
function draft(state: RunState): { batch: Batch; journal: WorkerJournal } {
  return { batch: { state: { ...state }, workers: new Map(), events: [], committed: [], effects: [] }, journal: new Map() };
}

/** Puts the shared workers object back as it was and keeps the batch's own workers aside. */
function settle(batch: Batch, journal: WorkerJournal): void {
  const workers = batch.state.workers;
  for (const [workerId, before] of journal) {
    batch.workers.set(workerId, workers[workerId] as WorkerSnapshot);
    if (before === undefined) delete workers[workerId];
    else workers[workerId] = before;
  }
}

/**
 * The whole state after a stored batch: its workers written into the shared workers object. From
 * then on that object is this state's: the state the batch was built from is superseded.
 */
export function adoptBatch(batch: Batch): RunState {
  for (const [workerId, worker] of batch.workers) batch.state.workers[workerId] = worker;
  return batch.state;
}

/**
 * Folds each commit's inputs and their follow-ups, one commit after the other, into one batch (one
 * append); inputs that change nothing (a late timer) are dropped.
 */
export function buildBatches(
  state: RunState,
  commits: readonly (readonly RunEvent[])[],
  at: Date,
  random: () => number,
  trustFor: TrustFor = recordedPolicy,
  kinds: WorkerKinds = DEFAULT_KINDS,
): Batch {
  const { batch, journal } = draft(state);
  try {
    for (const inputs of commits) {
      const queue = [...inputs];
      for (let next = 0; next < queue.length; next++) {
        const input = queue[next] as RunEvent;
        const event = builtChecked.has(input) ? input : parseRunEvent(input);
        const applied = applyEvent(batch.state, event, at, journal);
        if (applied === null) continue;
        batch.events.push({ ...event, stateAfter: applied.stateAfter, createdAt: at });
        batch.committed.push({ ...event, stateAfter: applied.stateAfter, at });
        for (const action of applied.actions) {
          const settled = settleNow(action, batch.state, trustFor, kinds);
          if (settled !== null) queue.push(...settled);
          else if (isEffect(action)) batch.effects.push(action);
          else queue.push(...followUps(action, batch.state, random));
        }
      }
    }
  } finally {
    settle(batch, journal);
  }
  return batch;
}

/** Folds the inputs and their follow-ups, as one commit (see buildBatches). */
export function buildBatch(
  state: RunState,
  inputs: readonly RunEvent[],
  at: Date,
  random: () => number,
  trustFor: TrustFor = recordedPolicy,
  kinds: WorkerKinds = DEFAULT_KINDS,
): Batch {
  return buildBatches(state, [inputs], at, random, trustFor, kinds);
}

/** Folds events another process stored; their follow-ups are already among them. */
export function absorbStored(state: RunState, stored: readonly StoredEvent[]): Batch {
  const { batch, journal } = draft(state);
  try {
    for (const event of stored) {
      const input = storedRunEvent({ type: event.type, payload: event.payload as Record<string, unknown>, machine: event.machine, workerId: event.workerId });
      const applied = applyEvent(batch.state, input, event.createdAt, journal);
      if (applied === null) throw new LogMismatchError(`event ${String(event.position)} (${event.type}) written by another process does not fit this run`);
      batch.committed.push({ ...input, stateAfter: applied.stateAfter, at: event.createdAt });
      batch.effects.push(...applied.actions.filter(isEffect));
    }
  } finally {
    settle(batch, journal);
  }
  return batch;
}
