/**
 * xstate's pure `initialTransition` and `transition`, minus a cost the fold cannot afford: each call
 * builds a throwaway actor as its scope, and that actor's constructor computes the machine's whole
 * initial snapshot (for the worker machine, without an input, so it throws and catches a TypeError).
 * That was more than half of every fold. These do the same — the machine's own `getInitialSnapshot`
 * and `transition` with an inert scope that only collects the actions — with one scope per machine.
 * Our machines spawn and invoke nothing, so nothing is ever registered in the scope's system.
 */
import { createActor, type AnyStateMachine, type EventFromLogic, type InputFrom, type SnapshotFrom } from 'xstate';

type ScopeOf<M extends AnyStateMachine> = Parameters<M['transition']>[2];

interface InertScope<M extends AnyStateMachine> {
  scope: ScopeOf<M>;
  collected: unknown[];
}

const scopes = new WeakMap<AnyStateMachine, InertScope<AnyStateMachine>>();

function scopeOf<M extends AnyStateMachine>(machine: M, input: unknown): InertScope<M> {
  let inert = scopes.get(machine) as InertScope<M> | undefined;
  if (inert === undefined) {
    const self = createActor(machine as AnyStateMachine, { input });
    const collected: unknown[] = [];
    const scope = {
      self,
      id: '',
      sessionId: '',
      logger: () => undefined,
      defer: () => undefined,
      emit: () => undefined,
      stopChild: () => undefined,
      system: self.system,
      actionExecutor: (action: unknown) => collected.push(action),
    } as ScopeOf<M>;
    inert = { scope, collected };
    scopes.set(machine, inert);
  }
  return inert;
}

/** The snapshot and the actions a step asked for; the actions are collected, never executed. */
function collecting<S>(inert: InertScope<AnyStateMachine>, step: () => S): [S, unknown[]] {
  inert.collected.length = 0;
  try {
    const snapshot = step();
    return [snapshot, inert.collected.splice(0)];
  } finally {
    inert.collected.length = 0;
  }
}

export function initialStep<M extends AnyStateMachine>(machine: M, input: InputFrom<M>): [SnapshotFrom<M>, unknown[]] {
  const inert = scopeOf(machine, input);
  return collecting(inert, () => machine.getInitialSnapshot(inert.scope, input) as SnapshotFrom<M>);
}

export function step<M extends AnyStateMachine>(machine: M, snapshot: SnapshotFrom<M>, event: EventFromLogic<M>): [SnapshotFrom<M>, unknown[]] {
  const inert = scopeOf(machine, undefined);
  return collecting(inert, () => machine.transition(snapshot, event, inert.scope) as SnapshotFrom<M>);
}
