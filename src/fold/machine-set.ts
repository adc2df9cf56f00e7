/**
 * The machine definitions a run is folded with: those its `run.started` recorded, looked up in a
 * registry of released versions (machines/versions.ts), until a `machines.migrated` event moves the
 * run to newer ones. The registry rides in the fold's state so a replay, a rebuild and the live
 * engine resolve versions the same way; tests hand in a registry with versions this build lacks.
 */
import { OverseerError } from '../errors.js';
import type { RunEvent } from './run-events.js';
import type { workerMachine } from '../../machines/worker.js';
import type { workflowMachine } from '../../machines/workflow.js';
import {
  definitionKey,
  MACHINE_NAMES,
  migrationPath,
  parseVersionText,
  RELEASED,
  versionText,
  type MachineName,
  type MachineRegistry,
  type MachineState,
  type VersionSet,
} from '../../machines/versions.js';

// Typed as the current definitions: older ones are folded with the same code, which reads only what
// every version's snapshot has (value, status); code that reads a context reads a migrated run's.
type WorkflowMachine = typeof workflowMachine;
type WorkerMachine = typeof workerMachine;

export interface MachineSet {
  registry: MachineRegistry;
  /** As recorded: `workflow@N+worker@M`. */
  version: string;
  versions: VersionSet;
  workflow: WorkflowMachine;
  worker: WorkerMachine;
}

export class MachineVersionError extends OverseerError {
  readonly code = 'MACHINE_VERSION' as const;
}

/** The definitions of a recorded version; refuses one this build (or the given registry) does not know. */
export function machinesFor(version: string, registry: MachineRegistry = RELEASED): MachineSet {
  const versions = parseVersionText(version);
  const workflow = versions === null ? undefined : registry.definitions[definitionKey('workflow', versions.workflow)];
  const worker = versions === null ? undefined : registry.definitions[definitionKey('worker', versions.worker)];
  if (versions === null || workflow === undefined || worker === undefined) {
    throw new MachineVersionError(`machines ${version}, which this Overseer does not know (it knows ${Object.keys(registry.definitions).join(', ')})`);
  }
  return { registry, version, versions, workflow: workflow as WorkflowMachine, worker: worker as WorkerMachine };
}

/** The version new runs start under and resumed runs are migrated to. */
export function currentVersion(registry: MachineRegistry = RELEASED): string {
  return versionText(registry.current);
}

/**
 * One machine's persisted snapshot carried from its set's version to the target's, step by step;
 * undefined when a step is missing (the log asks for a migration this build cannot make).
 */
export function migrateSnapshot(registry: MachineRegistry, name: MachineName, from: number, to: number, persisted: object): object | undefined {
  const steps = migrationPath(registry, name, from, to);
  if (steps === null) return undefined;
  const { value, context } = persisted as MachineState;
  const migrated = steps.reduce<MachineState>((state, step) => step(state), { value, context });
  return { ...persisted, value: migrated.value, context: migrated.context };
}

/**
 * The event `resume` records to move a run folded with `machines` on to the registry's current
 * versions; null when it is there already. MachineVersionError when a step is missing.
 */
export function migrationEvent(machines: MachineSet): RunEvent | null {
  const to = currentVersion(machines.registry);
  if (machines.version === to) return null;
  for (const name of MACHINE_NAMES) {
    if (migrationPath(machines.registry, name, machines.versions[name], machines.registry.current[name]) === null) {
      throw new MachineVersionError(`machines ${machines.version} cannot be migrated to ${to}: a step from ${definitionKey(name, machines.versions[name])} is missing`);
    }
  }
  return { type: 'machines.migrated', machine: 'workflow', workerId: null, payload: { from: machines.version, to } };
}
