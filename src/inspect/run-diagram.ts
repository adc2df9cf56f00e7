/**
 * A run drawn on its machines' diagrams: which state each machine instance (the workflow, each
 * worker) is in now, and how many times each transition fired. Both come from the log alone: each
 * instance's sequence of recorded `state_after` values, with the event between two of them saying
 * which transition it was. One event can cross several transitions (task.finished in dispatching, then
 * eventless ones to verifying and completed); those are found by a search over the diagram.
 */
import type { MachineRegistry } from '../../machines/versions.js';
import { currentVersion, machinesFor, type MachineSet } from '../fold/machine-set.js';
import type { StoredEvent } from '../store/event-store.js';
import { machineDiagram, type MachineDiagram } from './machine-diagram.js';
import { foldFirst } from '../fold/rebuild-run.js';
import { stateText } from '../fold/state-value.js';

export interface RunDiagram extends MachineDiagram {
  /** For each state id, the instances in it now: `workflow`, or worker ids. */
  current: Record<string, string[]>;
  /** How many times each transition fired, index for index with `transitions`. */
  fired: number[];
  /** How many instances of the machine the run created (each entered the initial state once). */
  started: number;
  /** State changes in the log that no path of the diagram explains (a log of other machines). */
  unexplained: number;
}

/** The event a machine saw: a fired timer delivers the event it carries. */
export function machineEventType(event: Pick<StoredEvent, 'type' | 'payload'>): string {
  if (event.type !== 'timer.fired') return event.type;
  const carried = (event.payload as { event?: { type?: unknown } } | null)?.event?.type;
  return typeof carried === 'string' ? carried : event.type;
}

/**
 * The transitions from `from` to `to` for one event: one transition the event triggers, then any
 * eventless ones the machine took before it settled. Shortest first; null when there is none.
 */
export function transitionPath(diagram: MachineDiagram, from: string, to: string, eventType: string): number[] | null {
  const queue: Array<{ at: string; path: number[] }> = [];
  diagram.transitions.forEach((t, index) => {
    if (t.source === from && t.event === eventType) queue.push({ at: t.target, path: [index] });
  });
  const seen = new Set<string>();
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    if (next.at === to) return next.path;
    if (seen.has(next.at)) continue;
    seen.add(next.at);
    const { at, path } = next;
    diagram.transitions.forEach((t, index) => {
      if (t.source === at && t.event === null && t.target !== at) queue.push({ at: t.target, path: [...path, index] });
    });
  }
  return null;
}

function instanceKey(event: StoredEvent): string {
  return event.machine === 'workflow' ? 'workflow' : `worker:${event.workerId ?? ''}`;
}

/** The diagram of `machine` ('workflow' or 'worker') with this run's events laid over it. */
export function runDiagram(diagram: MachineDiagram, events: readonly StoredEvent[]): RunDiagram {
  const kind = diagram.machine;
  const fired = diagram.transitions.map(() => 0);
  const last = new Map<string, { name: string; state: string }>();
  let started = 0;
  let unexplained = 0;
  for (const event of events) {
    if (event.machine !== kind) continue;
    const key = instanceKey(event);
    const state = stateText(event.stateAfter);
    const previous = last.get(key);
    last.set(key, { name: event.workerId ?? 'workflow', state });
    if (previous === undefined) {
      started += 1;
      continue;
    }
    const path = transitionPath(diagram, previous.state, state, machineEventType(event));
    if (path === null) {
      // Records (recovery.attempted …) restate the state they happened in: no transition at all.
      if (previous.state !== state) unexplained += 1;
      continue;
    }
    for (const index of path) fired[index] = (fired[index] ?? 0) + 1;
  }
  const current: Record<string, string[]> = {};
  for (const { name, state } of last.values()) (current[state] ??= []).push(name);
  return { ...diagram, current, fired, started, unexplained };
}

export const MACHINE_NAMES = ['workflow', 'worker'] as const;
export type MachineName = (typeof MACHINE_NAMES)[number];

/** The diagram of one of Overseer's machines, from its current definition unless told which. */
export function overseerDiagram(name: MachineName, machines: MachineSet = machinesFor(currentVersion())): MachineDiagram {
  return machineDiagram(machines[name]);
}

/**
 * A run's workflow and worker diagrams with its events laid over them, drawn from the definitions the
 * run has at its end: those it recorded, or those its last `machines.migrated` moved it to. Refuses
 * (MachineVersionError, LogMismatchError) a run recorded under machines this build does not know.
 */
export function runDiagrams(events: readonly StoredEvent[], registry?: MachineRegistry): RunDiagram[] {
  const recorded = foldFirst(events[0], registry).state.machines;
  const migrated = events.filter((e) => e.type === 'machines.migrated').at(-1)?.payload as { to: string } | undefined;
  const machines = migrated === undefined ? recorded : machinesFor(migrated.to, registry);
  return MACHINE_NAMES.map((name) => runDiagram(overseerDiagram(name, machines), events));
}
