/**
 * How the runtime starts, stops and finds again the processes behind workers. The shell driver is the
 * default; tests and the worker service (JSON-RPC) provide their own.
 */
import type { WorkerProcess } from '../../machines/events.js';
import type { ProcessExit } from '../os/process-launcher.js';

/** How a worker's process ended: the launcher's exit, read the same way from its files after a crash. */
export type WorkerExit = ProcessExit;

export interface StartSpec {
  runId: string;
  workerId: string;
  attempt: number;
  command: string;
  cwd: string;
  env: Record<string, string>;
  packet: Record<string, unknown>;
  objective: string;
  logDir: string;
}

/** `exited` settles once the worker has ended and what it left running in its process group is stopped. */
export type StartResult =
  | { ok: true; process: WorkerProcess; exited: Promise<WorkerExit | 'lost'> }
  | { ok: false; error: string };

export interface WorkerDriver {
  start(spec: StartSpec): Promise<StartResult>;
  /**
   * Kills the worker's whole process tree; a process already gone is not an error, and a later
   * process that was given its pid (its start time differs from the recorded one) is left alone.
   */
  kill(process: WorkerProcess): Promise<void>;
  /**
   * For a process started by an engine that crashed: waits for it if it is still alive, then reads
   * the exit status its wrapper wrote, and stops what it left running. `lost` when it is gone without a status.
   */
  reattach(process: WorkerProcess): Promise<WorkerExit | 'lost'>;
  /**
   * The process an earlier engine started for this attempt, if it got that far before it crashed
   * (the start was not yet recorded); resume reattaches to it instead of starting a second one.
   */
  find(spec: Pick<StartSpec, 'workerId' | 'attempt' | 'logDir'>): Promise<WorkerProcess | null>;
  /** Lets go of whatever the driver keeps running for itself (a process launcher); workers run on. */
  close?(): void;
}
