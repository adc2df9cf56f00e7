/**
 * A machine's states and transitions, read from its definition with @xstate/graph's
 * `toDirectedGraph` — never a hand-kept copy — for `overseer viz`, the viewer and their renderers.
 *
 * Two things the directed graph leaves to its reader: it has no edges for eventless (`always`)
 * transitions, which we take from the same state nodes; and the root's own transitions (`run.cancel`,
 * `worker.cancel`) apply in every state that does not handle the event itself, so they are drawn from
 * each such top-level state rather than from a root that no diagram draws.
 */
import { toDirectedGraph, type DirectedGraphNode } from '@xstate/graph';
import type { AnyStateMachine, AnyStateNode, TransitionDefinition } from 'xstate';

export interface DiagramState {
  /** The state's path from the root, dotted (`running`, or `verifying.gates` for a nested one). */
  id: string;
  key: string;
  /** The enclosing state's id; null for a top-level state. */
  parent: string | null;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  /** Whether its parent (or the machine) starts in it. */
  initial: boolean;
}

export interface DiagramTransition {
  source: string;
  target: string;
  /** The event type; null for an eventless (`always`) transition. */
  event: string | null;
  /** The guard as written: `allSettled`, `canRetry(exit_nonzero)`, `exitedClean && hasGates`. */
  guard: string | null;
  /** The named delay of an `after` transition (its event is `xstate.after.<delay>.<state id>`). */
  delay: string | null;
  /** Declared on the machine itself: taken in any state that does not handle the event. */
  fromAnyState: boolean;
  /** No target: the machine stays where it is (context may change). */
  targetless: boolean;
}

export interface MachineDiagram {
  machine: string;
  states: DiagramState[];
  transitions: DiagramTransition[];
}

type GuardLike = string | { type: string; params?: unknown } | ((...args: never[]) => unknown) | undefined;

function isPlain(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function paramsText(params: unknown): string {
  if (params === undefined || params === null) return '';
  if (isPlain(params)) return String(params);
  const values = typeof params === 'object' ? Object.values(params) : [];
  return values.length > 0 && values.every(isPlain) ? values.map(String).join(', ') : JSON.stringify(params);
}

/** xstate's and/or/not are functions carrying their operands in `guards`. */
export function guardText(guard: GuardLike): string | null {
  if (guard === undefined) return null;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') {
    // Nested and/or are bracketed, so `and(a, or(b, c))` reads `a && (b || c)`.
    const operands = ((guard as { guards?: GuardLike[] }).guards ?? []).map((g) => {
      const text = guardText(g) ?? '?';
      return typeof g === 'function' && (g.name === 'and' || g.name === 'or') ? `(${text})` : text;
    });
    if (guard.name === 'and') return operands.join(' && ');
    if (guard.name === 'or') return operands.join(' || ');
    if (guard.name === 'not') return `!${operands.join('')}`;
    return guard.name === '' ? 'guard' : guard.name;
  }
  const params = paramsText(guard.params);
  return params === '' ? guard.type : `${guard.type}(${params})`;
}

function pathOf(node: AnyStateNode): string {
  return node.path.join('.');
}

function transitionOf(source: AnyStateNode, target: AnyStateNode, definition: TransitionDefinition<never, never>, delays: Map<string, string>): DiagramTransition {
  const event = (definition.eventType as string) === '' ? null : definition.eventType;
  return {
    source: pathOf(source),
    target: pathOf(target),
    event,
    guard: guardText(definition.guard),
    delay: event === null ? null : (delays.get(event) ?? null),
    fromAnyState: false,
    targetless: definition.target === undefined,
  };
}

function delaysOf(node: AnyStateNode): Map<string, string> {
  return new Map(node.after.map((t): [string, string] => [String(t.eventType), String(t.delay)]));
}

function collect(node: DirectedGraphNode, states: DiagramState[], transitions: DiagramTransition[]): void {
  const stateNode = node.stateNode;
  const parent = stateNode.parent;
  if (parent !== undefined) {
    const initialOfParent = parent.initial?.target.includes(stateNode) ?? false;
    states.push({ id: pathOf(stateNode), key: stateNode.key, parent: parent.parent === undefined ? null : pathOf(parent), type: stateNode.type, initial: initialOfParent });
    const delays = delaysOf(stateNode);
    for (const edge of node.edges) transitions.push(transitionOf(edge.source, edge.target, edge.transition as TransitionDefinition<never, never>, delays));
    for (const always of stateNode.always ?? []) {
      for (const target of always.target ?? [stateNode]) transitions.push(transitionOf(stateNode, target, always as TransitionDefinition<never, never>, delays));
    }
  }
  for (const child of node.children) collect(child, states, transitions);
}

/** Root transitions drawn from every top-level state that is not final and does not take the event itself. */
function expandRootTransitions(root: DirectedGraphNode, states: DiagramState[], own: DiagramTransition[]): DiagramTransition[] {
  const expanded: DiagramTransition[] = [];
  for (const edge of root.edges) {
    const template = transitionOf(edge.source, edge.target, edge.transition as TransitionDefinition<never, never>, new Map());
    for (const state of states) {
      if (state.parent !== null || state.type === 'final') continue;
      if (own.some((t) => t.source === state.id && t.event === template.event)) continue;
      expanded.push({ ...template, source: state.id, target: template.targetless ? state.id : template.target, fromAnyState: true });
    }
  }
  return expanded;
}

export function machineDiagram(machine: AnyStateMachine): MachineDiagram {
  const graph = toDirectedGraph(machine);
  const states: DiagramState[] = [];
  const transitions: DiagramTransition[] = [];
  collect(graph, states, transitions);
  return { machine: machine.id, states, transitions: [...transitions, ...expandRootTransitions(graph, states, transitions)] };
}

/** The label a transition is drawn with: `after attemptTimeout`, `always`, or the event, then the guard. */
export function transitionLabel(transition: DiagramTransition): string {
  const trigger = transition.delay !== null ? `after ${transition.delay}` : (transition.event ?? 'always');
  return transition.guard === null ? trigger : `${trigger} [${transition.guard}]`;
}
