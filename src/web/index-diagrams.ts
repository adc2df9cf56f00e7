/**
 * The run's two diagrams at a position, from its index: where each instance is (its lane's state
 * then) and how often each transition fired (each event's step, found by `transitionPath` as
 * `runDiagram` does, remembered per kind of step). A state holding more than a few workers names how
 * many, not who: a fleet's names do not fit in a box.
 */
import { currentVersion, machinesFor, MachineVersionError, type MachineSet } from '../fold/machine-set.js';
import { toMermaid } from '../inspect/diagram-mermaid.js';
import { machineDiagram, type MachineDiagram } from '../inspect/machine-diagram.js';
import { transitionPath, type RunDiagram } from '../inspect/run-diagram.js';
import { compactDiagram } from './compact-diagram.js';
import type { RunIndex } from './run-index.js';

export interface DiagramsView {
  version: number;
  /** Mermaid `stateDiagram-v2` text (compacted for a page), current states marked (classDef `current`). */
  diagrams: { workflow: string; worker: string };
  /** Null, or why the run's machines are not this Overseer's (the diagrams are then the current ones). */
  foldError: string | null;
}

const NAMED_IN_A_STATE = 3;

const drawn = new Map<string, { workflow: MachineDiagram; worker: MachineDiagram; paths: Map<string, number[] | null> }>();
function machineDiagrams(machines: MachineSet): { workflow: MachineDiagram; worker: MachineDiagram; paths: Map<string, number[] | null> } {
  let diagrams = drawn.get(machines.version);
  if (diagrams === undefined) {
    diagrams = { workflow: machineDiagram(machines.workflow), worker: machineDiagram(machines.worker), paths: new Map() };
    drawn.set(machines.version, diagrams);
  }
  return diagrams;
}

/** Left to right: both machines read as a flow from start to finish, and fit a page's width. */
function pageDiagram(diagram: RunDiagram): string {
  return toMermaid([compactDiagram(diagram)]).replace(/^stateDiagram-v2\n/, 'stateDiagram-v2\n  direction LR\n');
}

function named(current: Map<string, string[]>): Record<string, string[]> {
  const shown: Record<string, string[]> = {};
  for (const [state, names] of current) shown[state] = names.length <= NAMED_IN_A_STATE ? names : [`${names.length.toLocaleString('en-US')} workers`];
  return shown;
}

export function diagramsView(index: RunIndex, version: number): DiagramsView {
  let machines: MachineSet;
  let foldError: string | null = null;
  try {
    machines = machinesFor(index.machineVersionAt(index.version));
  } catch (error) {
    if (!(error instanceof MachineVersionError)) throw error;
    foldError = `run ${index.runId} was recorded with ${error.message}`;
    machines = machinesFor(currentVersion());
  }
  const { workflow, worker, paths } = machineDiagrams(machines);
  const fired = { workflow: workflow.transitions.map(() => 0), worker: worker.transitions.map(() => 0) };
  const started = { workflow: 0, worker: 0 };
  const unexplained = { workflow: 0, worker: 0 };
  index.events.forEachStep(version, (kind, before, state, machineEvent) => {
    if (before === null) {
      started[kind] += 1;
      return;
    }
    const key = `${kind}\u0000${before}\u0000${state}\u0000${machineEvent}`;
    let path = paths.get(key);
    if (path === undefined) {
      path = transitionPath(kind === 'workflow' ? workflow : worker, before, state, machineEvent);
      paths.set(key, path);
    }
    if (path === null) {
      // Records (recovery.attempted …) restate the state they happened in: no transition at all.
      if (before !== state) unexplained[kind] += 1;
      return;
    }
    for (const step of path) fired[kind][step] = (fired[kind][step] ?? 0) + 1;
  });
  const workers = new Map<string, string[]>();
  for (const { lane, entry } of index.lanesAt(version)) {
    const names = workers.get(entry.state) ?? [];
    names.push(lane.workerId);
    workers.set(entry.state, names);
  }
  const workflowState = index.workflowStateAt(version);
  const runDiagrams = {
    workflow: { ...workflow, current: { [workflowState]: ['workflow'] }, fired: fired.workflow, started: started.workflow, unexplained: unexplained.workflow },
    worker: { ...worker, current: named(workers), fired: fired.worker, started: started.worker, unexplained: unexplained.worker },
  };
  return { version, diagrams: { workflow: pageDiagram(runDiagrams.workflow), worker: pageDiagram(runDiagrams.worker) }, foldError };
}
