/**
 * A run's diagram as the viewer draws it: the full diagram (`overseer viz`) has one arrow per
 * transition, guards included, and the cancel transitions from every state, which a browser-sized
 * drawing turns into a tangle. Here the arrows between the same two states become one, labelled with
 * the events that take it and how often it fired; guards are left out, and a from-any-state
 * transition is drawn only from the states where this run really took it.
 */
import type { DiagramTransition } from '../inspect/machine-diagram.js';
import { transitionLabel } from '../inspect/machine-diagram.js';
import type { RunDiagram } from '../inspect/run-diagram.js';

function trigger(transition: DiagramTransition): string {
  return transitionLabel({ ...transition, guard: null });
}

export function compactDiagram(diagram: RunDiagram): RunDiagram {
  const merged = new Map<string, { transition: DiagramTransition; triggers: string[]; fired: number }>();
  diagram.transitions.forEach((transition, index) => {
    const fired = diagram.fired[index] ?? 0;
    if (transition.fromAnyState && fired === 0) return;
    const key = `${transition.source}\u0000${transition.target}`;
    const entry = merged.get(key) ?? { transition, triggers: [], fired: 0 };
    const text = trigger(transition);
    if (!entry.triggers.includes(text)) entry.triggers.push(text);
    entry.fired += fired;
    merged.set(key, entry);
  });
  const entries = [...merged.values()];
  return {
    ...diagram,
    // The label is carried as the event: transitionLabel draws an event with no guard or delay as it is.
    transitions: entries.map(({ transition, triggers }) => ({ ...transition, event: triggers.join(', '), guard: null, delay: null })),
    fired: entries.map((e) => e.fired),
  };
}
