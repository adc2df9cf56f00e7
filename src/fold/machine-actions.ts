/**
 * The effects the machines ask for, typed from the machine definitions themselves: each named action
 * with the params its `setup` declares, for the machine that declares it. A new action in a machine
 * is a new member here, and the tables that handle actions (run-batch.ts, the engine's effects) stop
 * compiling until it has a handler.
 */
import type { StateMachine } from 'xstate';
import type { workerMachine } from '../../machines/worker.js';
import type { workflowMachine } from '../../machines/workflow.js';

/** The `{ type, params }` of every action a machine's `setup({ actions })` names (xstate's own are timers: run-state.ts). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- only the actions parameter matters here
type Declared<M> = M extends StateMachine<any, any, any, any, infer A, any, any, any, any, any, any, any, any, any, any> ? A : never;

type Envelope<A, Machine extends string, WorkerId> = A extends { type: infer T; params: infer P } ? { machine: Machine; workerId: WorkerId; type: T; params: P } : never;

/** An effect a machine asked for, by name, with the worker it concerns (null for the workflow's). */
export type MachineAction = Envelope<Declared<typeof workflowMachine>, 'workflow', null> | Envelope<Declared<typeof workerMachine>, 'worker', string>;
export type ActionType = MachineAction['type'];
export type ActionOf<T extends ActionType> = Extract<MachineAction, { type: T }>;
