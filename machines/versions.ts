/**
 * Every released machine definition, addressed by `name@N`, and the migrations between consecutive
 * versions. A run records the versions it started under (`workflow@1+worker@1`); it is folded with
 * those definitions for as long as it lives, and resumed under newer ones only after its state went
 * through each step N → N+1 (the fold applies them at a `machines.migrated` event).
 *
 * Released definitions never change (fingerprints.json holds them to it): a change is a new version,
 * kept beside the old one (machines/vN/ once there are two), with a migration step from the last.
 */
import type { AnyStateMachine } from 'xstate';
import { DEFAULT_RECIPES } from './recovery.js';
import { workerMachine as workerMachineV1 } from './v1/worker.js';
import { workerMachine } from './worker.js';
import { workflowMachine } from './workflow.js';

export const MACHINE_NAMES = ['workflow', 'worker'] as const;
export type MachineName = (typeof MACHINE_NAMES)[number];

/** Which version of each machine: what a run records (as text, see versionText). */
export type VersionSet = Readonly<Record<MachineName, number>>;

/** A machine's persisted state as a migration step sees it: the state value and the context. */
export interface MachineState {
  value: unknown;
  context: Record<string, unknown>;
}

/** Pure: maps a state of `name@N` to the state of `name@N+1` it stands for. */
export type MigrationStep = (state: MachineState) => MachineState;

export interface MachineRegistry {
  /** Every released definition, by `name@N`. */
  definitions: Readonly<Record<string, AnyStateMachine>>;
  /** By `name@N`: the step from N to N+1. */
  migrations: Readonly<Record<string, MigrationStep>>;
  /** The versions new runs start under and resumed runs are migrated to. */
  current: VersionSet;
}

/** What this build knows: every release so far. */
export const RELEASED: MachineRegistry = Object.freeze({
  definitions: Object.freeze({ 'workflow@1': workflowMachine, 'worker@1': workerMachineV1, 'worker@2': workerMachine }),
  migrations: Object.freeze({ 'worker@1': workerOneToTwo }),
  current: Object.freeze({ workflow: 1, worker: 2 }),
});

/**
 * worker@1 → worker@2: every state keeps its name; a worker@1 worker was never an agent lane (it
 * does not merge), and its recipes gain the defaults of the failure kinds worker@2 added.
 */
function workerOneToTwo({ value, context }: MachineState): MachineState {
  const recipes = { ...DEFAULT_RECIPES, ...(context['recipes'] as object | undefined) };
  return { value, context: { ...context, lane: false, recipes } };
}

export function definitionKey(name: MachineName, version: number): string {
  return `${name}@${String(version)}`;
}

/** The recorded form, e.g. `workflow@1+worker@1`. */
export function versionText(versions: VersionSet): string {
  return MACHINE_NAMES.map((name) => definitionKey(name, versions[name])).join('+');
}

/** The versions a recorded text names; null when it is not of the recorded form. */
export function parseVersionText(text: string): VersionSet | null {
  const match = /^workflow@([1-9]\d*)\+worker@([1-9]\d*)$/.exec(text);
  return match === null ? null : { workflow: Number(match[1]), worker: Number(match[2]) };
}

/** The steps taking `name` from version `from` to `to` (empty when equal); null when one is missing or `to` is older. */
export function migrationPath(registry: MachineRegistry, name: MachineName, from: number, to: number): MigrationStep[] | null {
  if (to < from) return null;
  const steps: MigrationStep[] = [];
  for (let n = from; n < to; n++) {
    const step = registry.migrations[definitionKey(name, n)];
    if (step === undefined) return null;
    steps.push(step);
  }
  return steps;
}
