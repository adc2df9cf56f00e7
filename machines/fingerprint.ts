/**
 * A machine definition's fingerprint: what decides how a log folds — its states (kind, initial
 * child, entry and exit actions), every transition (event, guard, targets, actions, in order) and
 * the names of its guards, actions and delays — as plain JSON, from @xstate/graph's directed graph.
 * Implementations are left out on purpose: a function may be rewritten (faster, clearer) without a
 * new version as long as it decides the same; a renamed state, a new guard or a reordered
 * transition changes the fingerprint, and the committed fingerprints (fingerprints.json) then fail
 * a test until the definition gets a new version and a migration (docs/versions.md).
 */
import { toDirectedGraph, type DirectedGraphNode } from '@xstate/graph';
import type { AnyStateMachine } from 'xstate';

export interface TransitionPrint {
  event: string;
  guard: unknown;
  targets: string[];
  actions: unknown[];
  reenter: boolean;
}

export interface StatePrint {
  type: string;
  initial: string[] | null;
  entry: unknown[];
  exit: unknown[];
  transitions: TransitionPrint[];
}

export interface MachineFingerprint {
  id: string;
  states: Record<string, StatePrint>;
  guards: string[];
  actions: string[];
  delays: string[];
}

/** An action or guard by name and static params; params computed from context are marked as such. */
function named(item: unknown): unknown {
  if (item === undefined || item === null) return null;
  if (typeof item === 'string') return item;
  if (typeof item === 'function') return (item as { type?: string }).type ?? 'inline';
  const { type, params } = item as { type: unknown; params?: unknown };
  if (params === undefined) return type;
  return { type: named(type), params: typeof params === 'function' ? 'computed' : params };
}

interface TransitionLike {
  eventType: string;
  guard?: unknown;
  target?: readonly { id: string }[] | undefined;
  actions: readonly unknown[];
  reenter: boolean;
}

/** The parts of an xstate state node the fingerprint reads (its public fields). */
interface StateNodeLike {
  type: string;
  initial?: { target: readonly { id: string }[] } | undefined;
  entry: readonly unknown[];
  exit: readonly unknown[];
  /** Every transition by event, `after` ones included, in the order they are tried. */
  transitions: Map<string, TransitionLike[]>;
  always?: readonly TransitionLike[] | undefined;
}

function transitionPrint(t: TransitionLike): TransitionPrint {
  return { event: t.eventType, guard: named(t.guard), targets: (t.target ?? []).map((s) => s.id), actions: t.actions.map(named), reenter: t.reenter };
}

function walk(node: DirectedGraphNode, into: Record<string, StatePrint>): void {
  const state = node.stateNode as unknown as StateNodeLike;
  into[node.id] = {
    type: state.type,
    initial: state.initial === undefined ? null : state.initial.target.map((s) => s.id),
    entry: state.entry.map(named),
    exit: state.exit.map(named),
    // The graph's edges leave out targetless transitions (an assign on an event), which fold too.
    transitions: [...[...state.transitions.values()].flat(), ...(state.always ?? [])].map(transitionPrint),
  };
  for (const child of node.children) walk(child, into);
}

export function machineFingerprint(machine: AnyStateMachine): MachineFingerprint {
  const states: Record<string, StatePrint> = {};
  walk(toDirectedGraph(machine), states);
  const { guards, actions, delays } = machine.implementations;
  return { id: machine.id, states, guards: Object.keys(guards).sort(), actions: Object.keys(actions).sort(), delays: Object.keys(delays).sort() };
}
