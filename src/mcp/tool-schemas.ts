/**
 * What each MCP tool takes and gives, in zod: the SDK turns these into the tools' JSON Schemas, checks
 * every call's arguments against the input and every result against the output. Outputs are the
 * shapes the CLI prints with --json (docs/mcp.md), loose where a later Overseer may add fields.
 */
import * as z from 'zod';
import { RUN_STATUSES } from '../store/event-store.js';

const runId = z.string().min(1).describe('the run, as start_run or list_runs gave it');
const workerList = z.union([z.string().min(1), z.array(z.string().min(1))]);

export const startRunInput = {
  plan: z.union([z.string(), z.looseObject({})]).optional().describe('the plan: YAML or JSON text (or an object) with packets, defaults, policy, bootstrap'),
  planFile: z.string().min(1).optional().describe('or the path of a plan file (relative to cwd)'),
  objective: z.string().min(1).optional().describe("what the run is for (default: the plan's objective)"),
  autoApprove: z.boolean().optional().describe("trust every packet the policy's deny rules do not refuse"),
  policy: z.union([z.string().min(1), z.looseObject({})]).optional().describe("trust rules, or a policy file's path; wins over the plan's policy"),
  cwd: z.string().min(1).optional().describe("where the packets' commands run, an absolute path (default: the server's working directory)"),
  concurrency: z.number().int().positive().optional().describe("how many workers run at once (default: the plan's, else 4)"),
};

const engine = {
  enginePid: z.number().int().describe("the detached engine's process id"),
  engineLog: z.string().describe("the detached engine's output"),
};

export const startRunOutput = { runId: z.string(), status: z.enum(RUN_STATUSES), ...engine };

export const runListEntry = z.looseObject({
  runId: z.string(),
  status: z.enum(RUN_STATUSES),
  objective: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const listRunsInput = { limit: z.number().int().positive().max(1000).optional().describe('how many runs, newest first (default 50)') };
export const listRunsOutput = { runs: z.array(runListEntry) };

export const runIdInput = { runId };

/** `overseer status RUN --json`. */
export const runSummary = z.looseObject({
  runId: z.string(),
  status: z.enum(RUN_STATUSES),
  workflow: z.string(),
  objective: z.string(),
  reason: z.string().nullable(),
  tasks: z.looseObject({ total: z.number() }),
  workers: z.array(
    z.looseObject({
      workerId: z.string(),
      state: z.string(),
      attempt: z.number(),
      failure: z.string().nullable(),
      logFile: z.string().nullable(),
    }),
  ),
});

export const runEventsInput = {
  runId,
  since: z.union([z.string().min(1), z.number().int().nonnegative()]).optional().describe('only events from this global position (or ISO time) on'),
  type: workerList.optional().describe('only events whose type starts so (e.g. trust.); one or several'),
  worker: workerList.optional().describe("only these workers' events (worker or packet ids)"),
};

/** One line of `overseer events RUN --json` (docs/inspect.md). */
export const eventLine = z.looseObject({
  position: z.string(),
  version: z.number(),
  at: z.string(),
  type: z.string(),
  machine: z.enum(['workflow', 'worker']),
  workerId: z.string().nullable(),
  stateAfter: z.unknown(),
  payload: z.unknown(),
  hash: z.string(),
});
export const runEventsOutput = { events: z.array(eventLine) };

export const approveWorkerInput = {
  runId,
  worker: z.string().min(1).describe('the worker waiting for a person, or its packet id'),
  reason: z.string().optional().describe('why, recorded with the decision'),
  deny: z.boolean().optional().describe('refuse instead (at an escalation: give up)'),
};
export const approveWorkerOutput = {
  runId: z.string(),
  workerId: z.string(),
  decision: z.string().describe('trust.approved, trust.denied, human.retry or human.abandon'),
  state: z.string().describe("the worker's state after it"),
};

export const cancelRunInput = { runId, reason: z.string().optional().describe('why, recorded with the cancel') };
export const cancelRunOutput = { runId: z.string(), status: z.enum(RUN_STATUSES) };

export const resumeRunOutput = { runId: z.string(), ...engine };
