/**
 * The MCP tools: start a run (handed to a detached engine, so it outlives the client), list runs, a
 * run's status and events, approve or deny a worker, cancel, resume. Each result is structured content
 * checked against its output schema, plus a short text for people. Anything that cannot be done (an
 * unknown run or worker, a plan with problems, a decision that does not apply) is a tool error
 * (`isError`) with nothing written, never a protocol failure.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { resumeRunDetached, startRunDetached } from '../engine/detached-engine.js';
import { approve, cancelRun } from '../engine/run-decisions.js';
import { RunRequestError } from '../engine/run-request.js';
import { parseSince, SINCE_HINT } from '../inspect/event-filter.js';
import { listRuns, readEvents, runStatus } from '../inspect/run-reads.js';
import type { EventStore } from '../store/event-store.js';
import * as schema from './tool-schemas.js';

export interface ToolContext {
  store: EventStore;
  /** The store target, for the detached engines (a URL or an absolute folder). */
  db: string;
  /** Where relative plan and policy paths are taken from, and a run's commands run by default. */
  cwd: string;
  /** After a run was started here: its resource list changed. */
  onRunStarted(runId: string): void;
}

const SOURCE = 'mcp';

function result(structuredContent: Record<string, unknown>, text: string): CallToolResult {
  return { structuredContent, content: [{ type: 'text', text }] };
}

function toolError(text: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text }] };
}

/** Every problem on its own line, with its path, so an agent can fix them all in one go. */
function requestProblems(error: RunRequestError): string {
  const lines = error.problems.map((p) => `- ${p.path === '' ? '' : `${p.path}: `}${p.message}`);
  return `${error.source} has ${String(lines.length)} problem${lines.length === 1 ? '' : 's'}; nothing was started:\n${lines.join('\n')}`;
}

/** Expected refusals become tool errors; the SDK does the same for anything else thrown. */
async function answer(work: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof RunRequestError) return toolError(requestProblems(error));
    throw error;
  }
}

const list = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

export function registerRunTools(server: McpServer, context: ToolContext): void {
  const { store } = context;
  // `by` is the user the server runs as (the decision's person is behind the client).
  const decider = (reason: string | undefined) => ({ source: SOURCE, reason });

  server.registerTool(
    'start_run',
    {
      title: 'Start a run',
      description:
        'Starts a run of a plan (YAML or JSON text, or planFile) and returns its runId at once; the run goes on in a detached engine after this client disconnects. Workers that need a person wait at their trust gate: see run_status, then approve_worker.',
      inputSchema: schema.startRunInput,
      outputSchema: schema.startRunOutput,
    },
    (input) =>
      answer(async () => {
        const started = await startRunDetached(store, context.db, input, context.cwd);
        context.onRunStarted(started.runId);
        return result({ runId: started.runId, status: 'running', enginePid: started.pid, engineLog: started.logFile }, `run ${started.runId} started (engine pid ${String(started.pid)}, log ${started.logFile})`);
      }),
  );

  server.registerTool(
    'list_runs',
    { title: 'List runs', description: 'The runs in the store, newest first.', inputSchema: schema.listRunsInput, outputSchema: schema.listRunsOutput },
    (input) =>
      answer(async () => {
        const runs = await listRuns(store, input.limit ?? 50);
        const text = runs.length === 0 ? 'no runs yet' : runs.map((r) => `${r.runId}  ${r.status}  ${r.objective}`).join('\n');
        return result({ runs }, text);
      }),
  );

  server.registerTool(
    'run_status',
    {
      title: 'Run status',
      description: 'A run with its workers and their states (as `overseer status RUN --json`).',
      inputSchema: schema.runIdInput,
      outputSchema: schema.runSummary.shape,
    },
    (input) =>
      answer(async () => {
        const summary = await runStatus(store, input.runId);
        const workers = summary.workers.map((w) => `${w.workerId}: ${w.state}`).join(', ');
        return result({ ...summary }, `run ${summary.runId}: ${summary.status} (${summary.workflow})${workers === '' ? '' : ` — ${workers}`}`);
      }),
  );

  server.registerTool(
    'run_events',
    {
      title: 'Run events',
      description: "A run's log (as `overseer events RUN --json`), optionally from a position on, of some types or workers.",
      inputSchema: schema.runEventsInput,
      outputSchema: schema.runEventsOutput,
    },
    (input) =>
      answer(async () => {
        const since = input.since === undefined ? null : parseSince(String(input.since));
        if (input.since !== undefined && since === null) return toolError(`since: expected ${SINCE_HINT}, got ${JSON.stringify(input.since)}`);
        const events = await readEvents(store, input.runId, { workers: list(input.worker), types: list(input.type), since });
        return result({ events }, `${String(events.length)} event${events.length === 1 ? '' : 's'} of run ${input.runId}`);
      }),
  );

  server.registerTool(
    'approve_worker',
    {
      title: 'Approve a worker',
      description: 'Approves (or with deny: refuses) a worker waiting at its trust gate, or retries (gives up on) one escalated to a person. Recorded with source mcp.',
      inputSchema: schema.approveWorkerInput,
      outputSchema: schema.approveWorkerOutput,
    },
    (input) =>
      answer(async () => {
        const decided = await approve(store, input.runId, input.worker, { ...decider(input.reason), deny: input.deny });
        return result({ ...decided }, `${decided.decision} recorded for ${decided.workerId} of run ${decided.runId}; it is now ${decided.state}`);
      }),
  );

  server.registerTool(
    'cancel_run',
    { title: 'Cancel a run', description: 'Stops a run: its workers and gates are killed and it ends cancelled.', inputSchema: schema.cancelRunInput, outputSchema: schema.cancelRunOutput },
    (input) =>
      answer(async () => {
        await cancelRun(store, input.runId, decider(input.reason ?? 'cancelled over MCP'));
        return result({ runId: input.runId, status: 'cancelled' }, `run ${input.runId} cancelled`);
      }),
  );

  server.registerTool(
    'resume_run',
    {
      title: 'Resume a run',
      description: 'Hands a stopped or crashed run to a new detached engine, which carries on from its log. Refused while a live engine owns the run.',
      inputSchema: schema.runIdInput,
      outputSchema: schema.resumeRunOutput,
    },
    (input) =>
      answer(async () => {
        const engine = await resumeRunDetached(store, context.db, input.runId);
        return result({ runId: input.runId, enginePid: engine.pid, engineLog: engine.logFile }, `run ${input.runId} resumed (engine pid ${String(engine.pid)}, log ${engine.logFile})`);
      }),
  );
}
